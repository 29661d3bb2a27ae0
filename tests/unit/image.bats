#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Image lowers: one read-only loop device per image, shared, released by the
# last user; writers, read-write attachments and stale views refused; what
# holds a device after the unmount named; kill -9 at each step recovered.

load helpers

# make_image KIND: an image of $T/src at $T/base.KIND.
make_image() {
    mkdir -p "$T/src/etc"
    echo "from image" > "$T/src/hello.txt"
    echo "v1" > "$T/src/etc/version"
    case "$1" in
    erofs) mkfs.erofs --quiet "$T/base.erofs" "$T/src" ;;
    squashfs) mksquashfs "$T/src" "$T/base.squashfs" -quiet -no-progress >/dev/null ;;
    ext4) mkfs.ext4 -q -d "$T/src" "$T/base.ext4" 4M ;;
    esac
}

# image_instance NAME IMAGE [MORE CONF LINES]
image_instance() {
    printf '[Overlay]\nLower=%s\n%s' "$2" "${3:-}" | write_conf "$1"
}

# The loop devices backing file $1 (by its inode, as the kernel reports it).
devices_of() {
    losetup -n -O NAME -j "$1" 2>/dev/null || true
}

n_devices_of() {
    devices_of "$1" | grep -c . || true
}

# Waits (up to ~2 s) until no loop device backs $1.
wait_no_device() {
    for _ in $(seq 100); do
        [ "$(n_devices_of "$1")" -eq 0 ] && return 0
        sleep 0.02
    done
    echo "still attached to $1:" >&2
    losetup -l -j "$1" >&2
    return 1
}

# No mount of ours is left beneath the runtime dir's images/.
refute_image_mounts() {
    if grep -q " $T/run/images/" /proc/self/mountinfo; then
        grep " $T/run/images/" /proc/self/mountinfo >&2
        return 1
    fi
}


# kill_at SYSCALL WHEN VERB: runs the helper's VERB on web under strace,
# killed at the WHEN-th SYSCALL.
kill_at() {
    strace -f -qq -o /dev/null -e trace="$1" -e inject="$1:signal=KILL:when=$2" \
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$3" web >/dev/null 2>&1 || true
}

@test "an erofs image lower: attached read-only and autoclear, no image mount left, released by the unmount" {
    make_image erofs
    image_instance web "$T/base.erofs"
    run oh mount web
    assert_success
    assert_output --partial "attached image $T/base.erofs read-only as /dev/loop"
    [ "$(cat "$T/state/web/merged/hello.txt")" = "from image" ]
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    dev=$(devices_of "$T/base.erofs")
    [ "$(losetup -n -O RO,AUTOCLEAR,PARTSCAN "$dev" | tr -s ' ')" = " 1 1 0" ] ||
        [ "$(losetup -n -O RO,AUTOCLEAR,PARTSCAN "$dev" | tr -s ' ')" = "1 1 0" ]
    refute_image_mounts
    # writes go to Upper, the image stays as it was
    echo new > "$T/state/web/merged/etc/version"
    [ "$(cat "$T/state/web/upper/etc/version")" = new ]
    run oh umount web
    assert_success
    assert_output --partial "is released"
    wait_no_device "$T/base.erofs"
}

@test "squashfs and ext4 images work as lowers too" {
    make_image squashfs
    make_image ext4
    image_instance sq "$T/base.squashfs"
    image_instance ex "$T/base.ext4"
    oh mount sq
    oh mount ex
    [ "$(cat "$T/state/sq/merged/hello.txt")" = "from image" ]
    [ "$(cat "$T/state/ex/merged/hello.txt")" = "from image" ]
    oh umount sq
    oh umount ex
    wait_no_device "$T/base.squashfs"
    wait_no_device "$T/base.ext4"
}

@test "an image stacks with dir lowers, and an instance mounted so is recognised as already mounted" {
    make_image erofs
    mkdir -p "$T/mods"
    echo mod > "$T/mods/mod.txt"
    printf '[Overlay]\nLower=%s\nLower=%s\n' "$T/mods" "$T/base.erofs" | write_conf stack
    oh mount stack
    [ "$(cat "$T/state/stack/merged/mod.txt")" = mod ]
    [ "$(cat "$T/state/stack/merged/hello.txt")" = "from image" ]
    run oh mount stack
    assert_success
    assert_output --partial "already mounted"
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    oh umount stack
    wait_no_device "$T/base.erofs"
}

@test "two instances share one device; the first unmount leaves it, the last releases it" {
    make_image erofs
    image_instance a "$T/base.erofs"
    image_instance b "$T/base.erofs"
    oh mount a
    run oh mount b
    assert_success
    refute_output --partial "attached image"
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    run oh umount a
    assert_success
    assert_output --partial "still used by other overlays"
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    [ "$(cat "$T/state/b/merged/hello.txt")" = "from image" ]
    run oh umount b
    assert_success
    assert_output --partial "released"
    wait_no_device "$T/base.erofs"
}

@test "without layer fds or the new mount API, an image layer mounts the same and is recognised" {
    make_image erofs
    image_instance web "$T/base.erofs"
    for env in OVERLAY_HELPER_NO_LAYER_FDS OVERLAY_HELPER_NO_NEW_MOUNT_API; do
        run env "$env=1" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" mount web
        assert_success
        [ "$(cat "$T/state/web/merged/hello.txt")" = "from image" ]
        grep " $T/state/web/merged " /proc/self/mountinfo | grep -q "lowerdir.*=$T/run/images/"
        refute_image_mounts
        run env "$env=1" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" mount web
        assert_success
        assert_output --partial "already mounted"
        env "$env=1" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" umount web
        wait_no_device "$T/base.erofs"
    done
}

@test "a read-only device someone else attached is shared, and left to them" {
    make_image erofs
    image_instance web "$T/base.erofs"
    dev=$(losetup -r -f --show "$T/base.erofs")
    run oh mount web
    assert_success
    refute_output --partial "attached image"
    [ "$(devices_of "$T/base.erofs")" = "$dev" ]
    run oh umount web
    assert_success
    refute_output --partial "released"
    [ "$(devices_of "$T/base.erofs")" = "$dev" ]
    losetup -d "$dev"
}

@test "8 instances mounting one image at once end with exactly one loop device" {
    make_image erofs
    printf '[Overlay]\nLower=%s\n' "$T/base.erofs" | write_conf "game@"
    local pids=()
    for i in 1 2 3 4 5 6 7 8; do
        oh mount "game@$i" > "$T/out.$i" 2>&1 &
        pids+=("$!")
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for i in 1 2 3 4 5 6 7 8; do
        is_mounted "$T/state/game@$i/merged" || { cat "$T/out.$i"; false; }
    done
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    [ "$(cat "$T"/out.* | grep -c 'attached image')" -eq 1 ]
    refute_image_mounts
    for i in 1 2 3 4 5 6 7 8; do oh umount "game@$i"; done
    wait_no_device "$T/base.erofs"
}

@test "the same image through a hard link or a bind mount is the same device" {
    make_image erofs
    ln "$T/base.erofs" "$T/link.erofs"
    mkdir -p "$T/bind"
    mount --bind "$T" "$T/bind"
    image_instance a "$T/base.erofs"
    image_instance b "$T/link.erofs"
    image_instance c "$T/bind/base.erofs"
    oh mount a
    oh mount b
    oh mount c
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    oh umount a
    oh umount b
    oh umount c
    wait_no_device "$T/base.erofs"
    umount "$T/bind"
}

@test "a copy of the image is another image: its own device" {
    make_image erofs
    cp "$T/base.erofs" "$T/copy.erofs"
    image_instance a "$T/base.erofs"
    image_instance b "$T/copy.erofs"
    oh mount a
    oh mount b
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    [ "$(n_devices_of "$T/copy.erofs")" -eq 1 ]
    oh umount a
    oh umount b
    wait_no_device "$T/base.erofs"
    wait_no_device "$T/copy.erofs"
}

@test "an image open for writing is refused (exit 3, naming the writer); nothing is attached" {
    make_image erofs
    image_instance web "$T/base.erofs"
    # shellcheck disable=SC2016
    bash -c 'exec 7>>"$1"; exec sleep 1000' _ "$T/base.erofs" &
    writer=$!
    track_pid "$writer"
    wait_until grep -qx sleep "/proc/$writer/comm"
    run oh mount web
    assert_failure 3
    assert_output --partial "image $T/base.erofs is open for writing by $writer(sleep)"
    refute_mounted "$T/state/web/merged"
    [ "$(n_devices_of "$T/base.erofs")" -eq 0 ]
    kill_wait "$writer"
    run oh mount web
    assert_success
    oh umount web
    wait_no_device "$T/base.erofs"
}

@test "an image attached read-write elsewhere is refused, naming the device" {
    make_image erofs
    image_instance web "$T/base.erofs"
    dev=$(losetup -f --show "$T/base.erofs")
    run oh mount web
    assert_failure 3
    assert_output --partial "$dev (attached read-write)"
    refute_mounted "$T/state/web/merged"
    losetup -d "$dev"
}

@test "an image changed while attached is a stale view: refused until every user is gone" {
    make_image erofs
    image_instance a "$T/base.erofs"
    image_instance b "$T/base.erofs"
    oh mount a
    echo v2 > "$T/src/etc/version"
    # rewritten in place (same inode), as a careless update would
    mkfs.erofs --quiet "$T/new.erofs" "$T/src"
    cat "$T/new.erofs" > "$T/base.erofs"
    run oh mount b
    assert_failure 3
    assert_output --partial "stale view"
    assert_output --partial "on $T/state/a/merged in mnt:["
    assert_output --partial "unmount every instance using it"
    refute_mounted "$T/state/b/merged"
    run oh status a
    assert_output --partial "STALE"
    oh umount a
    wait_no_device "$T/base.erofs"
    run oh mount b
    assert_success
    [ "$(cat "$T/state/b/merged/etc/version")" = v2 ]
    oh umount b
    wait_no_device "$T/base.erofs"
}

@test "a mount of the device in another namespace blocks the release, is named, and waited for" {
    make_image erofs
    image_instance web "$T/base.erofs"
    oh mount web
    dev=$(devices_of "$T/base.erofs")
    mkdir -p "$T/peek"
    # a namespace of its own, without the overlay's copy: only the device
    holder=$(in_ns private sh -c "umount $T/state/web/merged && mount -o ro $dev $T/peek && exec sleep 1000")
    run oh umount web
    assert_failure 3
    assert_output --partial "its overlay is gone, but $dev (image $T/base.erofs) is still held"
    assert_output --partial "$holder sleep"
    refute_mounted "$T/state/web/merged"
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    # the next run finishes the job once the holder is gone, waiting for it
    (sleep 0.5; kill "$holder") &
    run oh umount web --wait 10
    assert_success
    assert_output --partial "released"
    wait_no_device "$T/base.erofs"
}

@test "instances sharing an image unmounted all at once all exit 0, and the device goes" {
    make_image erofs
    printf '[Overlay]\nLower=%s\n' "$T/base.erofs" | write_conf "game@"
    for round in 1 2 3; do
        for i in 1 2 3 4; do oh -q mount "game@$i"; done
        local pids=()
        for i in 1 2 3 4; do
            oh umount "game@$i" > "$T/out.$i" 2>&1 &
            pids+=("$!")
        done
        for i in 1 2 3 4; do
            wait "${pids[$((i - 1))]}" || { echo "round $round, game@$i:"; cat "$T/out.$i"; false; }
        done
        wait_no_device "$T/base.erofs"
        refute_image_mounts
    done
}

@test "a process that only has the device open does not fail the unmount: autoclear takes it at its close" {
    make_image erofs
    image_instance web "$T/base.erofs"
    oh mount web
    dev=$(devices_of "$T/base.erofs")
    sleep 1000 7< "$dev" &
    opener=$!
    track_pid "$opener"
    run oh umount web
    assert_success
    assert_output --partial "$dev (image $T/base.erofs) is used by no overlay or mount, but open by $opener(sleep) fd 7"
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    kill_wait "$opener"
    wait_no_device "$T/base.erofs"
}

@test "purge with the device still open empties the dirs, and says who has it open" {
    make_image erofs
    image_instance web "$T/base.erofs"
    oh mount web
    echo x > "$T/state/web/merged/x"
    dev=$(devices_of "$T/base.erofs")
    sleep 1000 7< "$dev" &
    opener=$!
    track_pid "$opener"
    run oh purge web
    assert_success
    assert_output --partial "open by $opener(sleep)"
    [ ! -e "$T/state/web/upper/x" ]
    kill_wait "$opener"
    wait_no_device "$T/base.erofs"
}

@test "a hard link made or a chmod done while attached is no stale view; a rewrite is" {
    make_image erofs
    image_instance a "$T/base.erofs"
    image_instance b "$T/base.erofs"
    image_instance c "$T/base.erofs"
    oh mount a
    ln "$T/base.erofs" "$T/link.erofs"
    chmod 0600 "$T/base.erofs"
    run oh mount b
    assert_success
    # the same contents written again: the mtime moves, and that is refused
    cp "$T/base.erofs" "$T/same.erofs"
    cat "$T/same.erofs" > "$T/base.erofs"
    run oh mount c
    assert_failure 3
    assert_output --partial "its mtime (it was written)"
    oh umount a
    oh umount b
    wait_no_device "$T/base.erofs"
}

@test "an image renamed over while mounted: status still shows the device in use, umount releases it" {
    make_image erofs
    image_instance web "$T/base.erofs"
    oh mount web
    dev=$(devices_of "$T/base.erofs")
    echo v2 > "$T/src/etc/version"
    mkfs.erofs --quiet "$T/new.erofs" "$T/src"
    mv "$T/new.erofs" "$T/base.erofs"
    run oh status web
    assert_output --partial "on $dev (read-only"
    assert_output --partial "STALE"
    # a mount now names what is there: its own overlay with the old image
    run oh mount web
    assert_failure 1
    assert_output --partial "this instance's own overlay with other lower layers"
    run oh umount web
    assert_success
    [ -z "$(losetup -n -O NAME,BACK-FILE | grep "^$dev " | grep "$T/" || true)" ]
    run oh mount web
    assert_success
    [ "$(cat "$T/state/web/merged/etc/version")" = v2 ]
    oh umount web
    wait_no_device "$T/base.erofs"
}

@test "an image mount a killed run left is taken off even after the image was renamed over" {
    make_image erofs
    image_instance web "$T/base.erofs"
    kill_at umount2 1 mount
    grep -q " $T/run/images/" /proc/self/mountinfo
    mkfs.erofs --quiet "$T/new.erofs" "$T/src"
    mv "$T/new.erofs" "$T/base.erofs"
    run oh umount web
    assert_success
    refute_image_mounts
    [ -z "$(losetup -n -O BACK-FILE | grep "$T/base.erofs" || true)" ]
}

@test "one image named twice (a hard link) is a config error" {
    make_image erofs
    ln "$T/base.erofs" "$T/link.erofs"
    printf '[Overlay]\nLower=%s\nLower=%s\n' "$T/base.erofs" "$T/link.erofs" | write_conf twice
    run oh mount twice
    assert_failure 2
    assert_output --partial "are the same image file"
    [ "$(n_devices_of "$T/base.erofs")" -eq 0 ]
}

@test "status and --json show an image layer, its device and its disk sequence number" {
    make_image erofs
    image_instance web "$T/base.erofs"
    run oh status web
    assert_output --partial "image:  $T/base.erofs: no loop device attached"
    oh mount web
    dev=$(devices_of "$T/base.erofs")
    seq=$(cat "/sys/block/${dev#/dev/}/diskseq")
    run oh status web
    assert_output --partial "image:  $T/base.erofs on $dev (read-only, diskseq $seq)"
    run oh --json status web
    assert_success
    [ "$(json 'd["instances"][0]["images"][0]["device"]')" = "$dev" ]
    [ "$(json 'd["instances"][0]["images"][0]["diskseq"]')" = "$seq" ]
    [ "$(json 'd["instances"][0]["images"][0]["read_only"]')" = True ]
    oh umount web
    wait_no_device "$T/base.erofs"
}

@test "a file that holds no layer filesystem is refused before anything is attached" {
    head -c 1M /dev/urandom > "$T/junk.img"
    image_instance web "$T/junk.img"
    run oh mount web
    assert_failure 1
    assert_output --partial "image $T/junk.img of web holds"
    [ "$(n_devices_of "$T/junk.img")" -eq 0 ]
    refute_mounted "$T/state/web/merged"
}

# The index of the first LOOP_CONFIGURE among a mount run's ioctls.
configure_index() {
    strace -f -qq -o "$T/ioctls" -e trace=ioctl "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" mount web >/dev/null 2>&1
    oh umount web >/dev/null 2>&1
    wait_no_device "$T/base.erofs"
    grep ' ioctl(' "$T/ioctls" | grep -n 'LOOP_CONFIGURE' | head -1 | cut -d: -f1
}

@test "LOOP_CONFIGURE refused (a kernel before 5.8): LOOP_SET_FD and LOOP_SET_STATUS64 instead" {
    make_image erofs
    image_instance web "$T/base.erofs"
    # the count moves when other loop devices come and go (they are the
    # host's): counted again, and tried again, until the refusal lands on it
    for _ in 1 2 3 4 5; do
        configure=$(configure_index)
        [ -n "$configure" ]
        run strace -f -qq -o "$T/trace" -e trace=ioctl \
            -e inject="ioctl:error=EINVAL:when=$configure" "$OVERLAY_HELPER_BIN" \
            --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" mount web
        grep -q 'LOOP_CONFIGURE.*(INJECTED)' "$T/trace" && break
        oh umount web >/dev/null 2>&1 || true
    done
    assert_success
    grep -q 'LOOP_CONFIGURE.*(INJECTED)' "$T/trace"
    grep -q 'LOOP_SET_FD' "$T/trace"
    grep -q 'LOOP_SET_STATUS64' "$T/trace"
    dev=$(devices_of "$T/base.erofs")
    [ "$(losetup -n -O RO,AUTOCLEAR "$dev" | tr -d ' ')" = 11 ]
    [ "$(cat "$T/state/web/merged/hello.txt")" = "from image" ]
    oh umount web
    wait_no_device "$T/base.erofs"
}

# Recovers from whatever a killed run left: mount and umount succeed, and
# no device or image mount is left behind.
assert_recovers() {
    run oh mount web
    assert_success
    [ "$(cat "$T/state/web/merged/hello.txt")" = "from image" ]
    [ "$(n_devices_of "$T/base.erofs")" -eq 1 ]
    refute_image_mounts
    run oh umount web
    assert_success
    wait_no_device "$T/base.erofs"
    refute_image_mounts
}

@test "kill -9 at each step of the attach and the mount: a rerun recovers, no device leaks" {
    make_image erofs
    image_instance web "$T/base.erofs"
    configure=$(configure_index)
    [ -n "$configure" ]
    for step in "ioctl $configure" "ioctl $((configure + 1))" "fsopen 1" "move_mount 1" \
                "move_mount 2" "umount2 1"; do
        # shellcheck disable=SC2086
        kill_at ${step% *} ${step#* } mount
        assert_recovers
    done
}

@test "kill -9 in the unmount: a rerun finishes it, no device leaks" {
    make_image erofs
    image_instance web "$T/base.erofs"
    for step in "umount2 1" "fsopen 1"; do
        oh mount web
        # shellcheck disable=SC2086
        kill_at ${step% *} ${step#* } umount
        run oh umount web
        assert_success
        wait_no_device "$T/base.erofs"
        refute_image_mounts
    done
}
