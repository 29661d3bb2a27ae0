#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# probe IMAGE and probe /dev/loopN: why a loop device over an image stays
# attached, which `losetup -d` (it only defers the detach of a busy device)
# and `fuser` (fds only) do not say. Each test attaches its own devices to
# images on its tmpfs $T; loop devices are the host's, so teardown detaches
# every device backed by a file under $T and checks `losetup -l` shows none.

# shellcheck disable=SC2030,SC2031 # each test is a subshell of its own: $pid is per test
load helpers

# "overlay SOURCE", as a device user is named: statmount() from 6.8 to 6.12
# gives no source, and the scan reads tables with it there.
ovl_named() {
    if kernel_at_least 6 8 && ! kernel_at_least 6 13; then echo overlay; else echo "overlay $1"; fi
}

# the shared teardown, kept under another name: ours detaches after it
eval "helpers_$(declare -f teardown)"

# Loop devices backed by files under $T, one a line (NAME BACK-FILE).
test_loops() {
    losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v t="$T/" 'index($2, t) == 1 { print $1 }'
}

# Kills the test's processes, unmounts what is beneath $T (not $T: the
# images live there), detaches every device backed by a file under $T and
# waits until `losetup -l` shows none; then the shared teardown. A device
# left attached fails the test.
teardown() {
    [ -n "${T:-}" ] || return 0
    local pid dev m left
    while read -r pid; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done < "$T/pids"
    while read -r pid; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done < "$T/pids"
    : > "$T/pids"
    while read -r m; do
        umount "$m" 2>/dev/null
    done < <(findmnt -R -n -l -o TARGET "$T" | tail -n +2 | sort -r)
    for _ in $(seq 50); do
        left=$(test_loops)
        [ -z "$left" ] && break
        for dev in $left; do
            losetup -d "$dev" 2>/dev/null
        done
        sleep 0.1
    done
    helpers_teardown
    if [ -n "$left" ]; then
        echo "teardown: loop devices still attached: $left" >&2
        return 1
    fi
}

requires_tools() {
    for c in losetup mkfs.erofs mkfs.ext4; do
        command -v "$c" >/dev/null || skip "$c not installed"
    done
}

# An erofs image $T/img.erofs of $T/lower.
make_erofs() {
    requires_tools
    IMG=$T/img.erofs
    mkfs.erofs --quiet "$IMG" "$T/lower"
}

# Attaches $IMG read-only (read-write with "rw"); sets $dev.
attach() {
    local ro=-r
    [ "${1:-}" != rw ] || ro=
    dev=$(losetup $ro -f --show "$IMG") || skip "no loop device to be had"
}

# Probes TARGET until it exits 0 (a namespace's mounts go with its last
# process, a moment after it is reaped), up to 5 s; leaves `run`'s result.
probe_until_free() {
    for _ in $(seq 50); do
        run oh probe "$1"
        [ "$status" -eq 0 ] && return 0
        sleep 0.1
    done
    echo "probe $1 never said free: $output" >&2
    return 1
}

# Starts "sleep 1000" with FILE open on fd FD (reading; ">>" for
# appending), tracked for teardown; sets $pid once it runs as sleep.
hold_file() {
    if [ "$3" = ">>" ]; then
        sh -c "exec $2>>'$1'; exec sleep 1000" 3>&- &
    else
        sh -c "exec $2<'$1'; exec sleep 1000" 3>&- &
    fi
    pid=$!
    track_pid "$pid"
    wait_until sh -c "[ \"\$(cat /proc/$pid/comm)\" = sleep ]"
}

# KEY of image.h: "MAJOR.MINOR-INODE" of the image file.
image_key() {
    stat -c '%Hd.%Ld-%i' "$1"
}

@test "an image no loop device backs: exit 0, says so" {
    make_erofs
    run oh probe "$IMG"
    assert_success
    assert_output --partial "$IMG: free: no loop device backs it (the image is not attached)"
    run oh probe "$IMG" --json
    assert_success
    [ "$(json 'd["free"], d["loop_devices"], d["device_users"], d["writers"], d["device_claimed"]')" = "True [] [] [] None" ]
}

@test "attached, nothing holds it: exit 0, the device and its flags listed" {
    make_erofs
    attach
    run oh probe "$IMG"
    assert_success
    assert_output --partial "free: nothing holds $dev, and the kernel reports it unclaimed"
    assert_output --regexp "loop device $dev backs it: ro offset=0( diskseq=[0-9]+)? tag="
    run oh probe "$IMG" --json
    assert_success
    [ "$(json 'd["free"], d["device_claimed"], len(d["loop_devices"])')" = "True False 1" ]
}

@test "the image is known by its device and inode: a hard link finds its device" {
    make_erofs
    attach
    ln "$IMG" "$T/link.erofs"
    hold_file "$dev" 0
    # sysfs names the device's file $IMG: a path string never matches the link
    run oh probe "$T/link.erofs" --json
    assert_failure 3
    [ "$(json 'd["target"], d["device_users"], [s.split()[0] for s in d["loop_devices"]]')" = "$T/link.erofs ['$pid(sleep) fd 0'] ['$dev']" ]
}

@test "mounted in a private nested namespace: exit 3 naming the mount and the process" {
    make_erofs
    attach
    mkdir "$T/m"
    pid=$(in_ns private sh -c "mount -o ro '$dev' '$T/m' && exec sleep 1000")
    wait_until sh -c "grep -q ' $T/m ' /proc/$pid/mountinfo"
    refute_mounted "$T/m"   # private: not here
    for target in "$IMG" "$dev"; do
        run oh probe "$target"
        assert_failure 3
        assert_output --partial "held by 1 process (mounted only in other namespaces)"
        assert_output --partial "mounted on $T/m"
        assert_output --regexp "$pid +sleep"
        run oh probe "$target" --json
        assert_failure 3
        [ "$(json '[(c["mountpoint"], [p["pid"] for p in c["processes"]]) for c in d["copies"]], d["device_claimed"]')" = "[('$T/m', [$pid])] True" ]
    done
    kill_wait "$pid"
    probe_until_free "$dev"
}

@test "a process with the device node open: exit 3 naming it (fd 0)" {
    make_erofs
    attach
    hold_file "$dev" 0
    run oh probe "$dev"
    assert_failure 3
    assert_output --partial "busy: $dev is kept attached by $pid(sleep) fd 0"
    assert_output --partial "$pid(sleep) fd 0 keeps $dev open"
    run oh probe "$IMG" --json
    assert_failure 3
    [ "$(json 'd["device_users"], d["device_claimed"], d["copies"]')" = "['$pid(sleep) fd 0'] False []" ]
    kill_wait "$pid"
    probe_until_free "$IMG"
}

# What the helper does with an image lower: mount the device on
# RUNTIME_DIR/images/KEY, mount the overlay on it, take the image mount away.
# Then only the overlay's private clone holds the device. Sets $M.
overlay_on_image() {
    local key
    key=$(image_key "$IMG")
    mkdir -p "$T/run/images/$key" "$T/up" "$T/work" "$T/merged"
    mount -o ro "$dev" "$T/run/images/$key"
    mount -t overlay overlay -o "lowerdir=$T/run/images/$key,upperdir=$T/up,workdir=$T/work" \
        "$T/merged"
    umount "$T/run/images/$key"
    M=$T/merged
}

@test "an overlay whose image mount is gone holds the device: exit 3 naming the overlay" {
    make_erofs
    attach
    overlay_on_image
    [ "$(cat "$M/hello.txt")" = "from lower" ]
    ns=$(readlink /proc/self/ns/mnt | tr -dc 0-9)
    run oh probe "$IMG"
    assert_failure 3
    assert_output --partial "busy: $dev is kept attached by $(ovl_named overlay) on $M in mnt:[$ns]"
    assert_output --partial "keeps $dev attached: it took the image's mount as a lower"
    run oh probe "$dev" --json
    assert_failure 3
    [ "$(json 'd["device_users"], d["device_claimed"], d["copies"], d["free"]')" = "['$(ovl_named overlay) on $M in mnt:[$ns]'] True [] False" ]
    umount "$M"
    probe_until_free "$dev"
}

@test "an overlay on the image in another namespace is found there too" {
    make_erofs
    attach
    key=$(image_key "$IMG")
    mkdir -p "$T/run/images/$key" "$T/up" "$T/work" "$T/merged"
    pid=$(in_ns private sh -c "mount -o ro '$dev' '$T/run/images/$key' &&
        mount -t overlay overlay -o 'lowerdir=$T/run/images/$key,upperdir=$T/up,workdir=$T/work' '$T/merged' &&
        umount '$T/run/images/$key' && exec sleep 1000")
    wait_until sh -c "grep -q ' $T/merged ' /proc/$pid/mountinfo"
    ns=$(readlink "/proc/$pid/ns/mnt" | tr -dc 0-9)
    run oh probe "$IMG" --json
    assert_failure 3
    [ "$(json 'd["device_users"]')" = "['$(ovl_named overlay) on $T/merged in mnt:[$ns]']" ]
}

@test "claimed with no holder to be found: the kernel's word is reported" {
    make_erofs
    attach
    # an overlay on a mount of the device elsewhere than the images dir,
    # that mount then gone: only the kernel knows
    mkdir -p "$T/m" "$T/up" "$T/work" "$T/merged"
    mount -o ro "$dev" "$T/m"
    mount -t overlay overlay -o "lowerdir=$T/m,upperdir=$T/up,workdir=$T/work" "$T/merged"
    umount "$T/m"
    run oh probe "$dev"
    assert_failure 3
    assert_output --partial "the kernel reports $dev claimed (mounted or held) but no holder was found"
    run oh probe "$IMG" --json
    assert_failure 3
    [ "$(json 'd["device_claimed"], d["device_users"], d["free"]')" = "True [] False" ]
}

@test "a writer of the image is warned about, not a holder" {
    make_erofs
    attach
    hold_file "$IMG" 7 ">>"
    run oh probe "$IMG"
    assert_success
    assert_output --partial "WARNING: $pid(sleep) has $IMG open for writing (fd 7) while it is attached: the loop device caches blocks; writes to the file corrupt what the overlays see"
    run oh probe "$dev" --json
    assert_success
    [ "$(json 'd["writers"], d["free"]')" = "['$pid(sleep) fd 7 (write)'] True" ]
    # a reader is no writer
    kill_wait "$pid"
    hold_file "$IMG" 0
    run oh probe "$IMG" --json
    [ "$(json 'd["writers"]')" = "[]" ]
}

@test "a shared writable mapping of the image is a writer" {
    make_erofs
    attach
    python3 -c 'import mmap, sys, time
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
f.close()
print("mapped", flush=True)
time.sleep(1000)' "$IMG" > "$T/mapped" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until grep -q mapped "$T/mapped"
    run oh probe "$IMG" --json
    assert_success
    # (python's mmap keeps a dup of the fd as well)
    [ "$(json '[w for w in d["writers"] if "mmap" in w]')" = "['$pid(python3) mmap (shared, writable)']" ]
    run oh probe "$IMG"
    assert_output --partial "WARNING: $pid(python3) has $IMG open for writing (a shared writable mapping) while it is attached"
}

@test "a device attached read-write is listed as rw; an ext4 image with two devices lists both" {
    requires_tools
    mkfs.ext4 -q -d "$T/lower" "$T/img.ext4" 4M
    IMG=$T/img.ext4
    attach rw
    rw=$dev
    run oh probe "$IMG" --json
    assert_success
    [ "$(json '[s.split()[:2] for s in d["loop_devices"]]')" = "[['$rw', 'rw']]" ]
    attach
    ro=$dev
    # the read-only one at offset 0 is the one probed; a mount of the
    # other is a user of the image's devices
    mkdir "$T/m"
    mount "$rw" "$T/m"
    run oh probe "$IMG" --json
    assert_failure 3
    [ "$(json 'sorted(s.split()[1] for s in d["loop_devices"]), d["copies"]')" = "['ro', 'rw'] []" ]
    ns=$(readlink /proc/self/ns/mnt | tr -dc 0-9)
    [ "$(json 'd["device_users"]')" = "['$rw mounted on $T/m in mnt:[$ns]']" ]
    run oh probe "$IMG"
    assert_output --partial "loop device $rw backs it: rw offset=0"
    assert_output --partial "loop device $ro backs it: ro offset=0"
    umount "$T/m"
}

@test "--json carries the new keys for every target, and --watch each round" {
    make_erofs
    attach
    run oh probe "$T/lower" --json
    [ "$(json 'd["loop_devices"], d["device_users"], d["writers"], d["device_claimed"]')" = "[] [] [] None" ]
    hold_file "$dev" 0
    ( sleep 1; kill "$pid" ) 3>&- &
    run oh probe "$dev" --watch --interval 0.2 --timeout 10
    assert_success
    assert_output --partial "device_users=1 claimed=N"
    assert_output --partial "device_users=0 claimed=N"
}
