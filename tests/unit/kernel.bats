#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel decides whether Upper and Work are still in use (an index=on
# superblock made on them, never attached, fails with EBUSY while any live
# overlay uses them): shapes that no mount table or process scan shows.

load helpers

M() { echo "$T/state/web/merged"; }

# An overlay at $T/n/m whose lower is inside web's Merged: the kernel keeps a
# private clone of web's mount for it, in no mount table.
nested_overlay() {
    mkdir -p "$(M)/sub" "$T/n/u" "$T/n/w" "$T/n/m"
    mount -t overlay overlay -o "lowerdir=$(M)/sub,upperdir=$T/n/u,workdir=$T/n/w" "$T/n/m"
}

# Upper's root xattrs and Work's entries, as a check must leave them.
traces() {
    python3 -c 'import os, sys
print(sorted(os.listxattr(sys.argv[1])), sorted(os.listdir(sys.argv[2])))' \
        "$T/state/web/upper" "$T/state/web/work"
}

# The running kernel's mount-API flavour for overlayfs: "6.1" (before 6.5:
# the VFS's legacy adapter), "6.5" (6.5, 6.6: overlayfs's own parser, no
# lowerdir+) or "6.7" (lowerdir+).
native_api() {
    local major minor
    IFS=. read -r major minor _ <<< "$(uname -r)"
    if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 5 ]; }; then
        echo 6.1
    elif [ "$major" -eq 6 ] && [ "$minor" -lt 7 ]; then
        echo 6.5
    else
        echo 6.7
    fi
}

# The flavours without lowerdir+ this kernel can stand in for: its own, and
# the older ones strace can make it look like (never a newer one).
old_apis() {
    case "$(native_api)" in
    6.1) echo 6.1 ;;
    *) echo 6.5 6.1 ;;
    esac
}

# Runs the helper as a kernel without lowerdir+ makes it run, strace
# answering for the kernel where it is newer: "6.5" refuses the lowerdir+
# key, the second fsconfig() of a run after the probe for the legacy
# adapter; "6.1" takes that probe's unknown flag, as the VFS's legacy
# adapter takes any key. On a kernel of that flavour, nothing is injected:
# the second fsconfig() there is already the check's own.
oh_kernel() {
    local inject
    case "$1" in
    6.7) inject= ;;
    6.5) inject=fsconfig:error=EINVAL:when=2 ;;
    6.1) inject=fsconfig:retval=0:when=1 ;;
    *) echo "oh_kernel: unknown kernel $1" >&2; return 1 ;;
    esac
    if [ "$1" = "$(native_api)" ]; then
        shift
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" "$@"
        return
    fi
    case "$1/$(native_api)" in
    6.7/* | 6.5/6.1) echo "oh_kernel: a $(native_api) kernel cannot stand in for $1" >&2; return 1 ;;
    esac
    shift
    strace -f -o /dev/null -e trace=fsconfig -e inject="$inject" "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" "$@"
}

@test "kernel: a free instance is free, and the check leaves no trace" {
    simple_instance web
    oh mount web
    oh umount web
    before=$(traces)
    run oh probe web --json
    assert_success
    assert_output --partial '"kernel_in_use":false'
    [ "$(traces)" = "$before" ]
    [ ! -e "$T/state/web/work/work" ] && [ ! -e "$T/state/web/work/index" ]
    # a fresh Upper, never mounted: the check writes nothing to it
    rm -rf "$T/state/web"
    mkdir -p "$T/state/web/upper" "$T/state/web/work"
    run oh probe web --json
    assert_success
    assert_output --partial '"kernel_in_use":false'
    [ "$(traces)" = "[] []" ]
    run oh mount web
    assert_success
}

@test "kernel: another overlay on the same Upper through an alias path refuses mount" {
    simple_instance web
    oh mount web
    oh umount web
    mkdir -p "$T/alias" "$T/other"
    mount --bind "$T/state" "$T/alias"
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/alias/web/upper,workdir=$T/alias/web/work" "$T/other"
    run oh mount web
    assert_failure 3
    assert_output --partial "the kernel reports its Upper"
    refute_mounted "$(M)"
    run oh probe web
    assert_failure 3
    umount "$T/other"
    umount "$T/alias"
    run oh mount web
    assert_success
}

@test "kernel: another instance on the same Upper with its own Work refuses mount" {
    simple_instance web
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' "$T/lower" \
        "$T/state/web/upper" "$T/state/twin-work" "$T/state/twin" | write_conf twin
    oh mount twin
    run oh mount web
    assert_failure 3
    assert_output --partial "in use by a live overlay"
    refute_mounted "$(M)"
    oh umount twin
    run oh mount web
    assert_success
}

@test "kernel: a nested overlay's hidden clone keeps the instance alive: umount exits 3, Work untouched" {
    simple_instance web
    oh mount web
    nested_overlay
    run oh umount web
    assert_failure 3
    assert_output --partial "the kernel reports its Upper or Work in use by a live overlay this scan cannot see"
    [ -e "$T/state/web/work/work" ]
    run oh mount web
    assert_failure 3
    refute_mounted "$(M)"
    run oh probe web
    assert_failure 3
    assert_output --partial "busy: the kernel reports Upper or Work in use"
    run oh purge web
    assert_failure 3
    [ -e "$T/state/web/upper" ]
    umount "$T/n/m"
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
    run oh mount web
    assert_success
}

@test "kernel: --wait on an invisible holder waits, then exits 3; freed meanwhile, exits 0" {
    simple_instance web
    oh mount web
    nested_overlay
    start=$(date +%s%N)
    run oh umount web --wait 1
    end=$(date +%s%N)
    assert_failure 3
    [ $(( (end - start) / 1000000 )) -ge 900 ]
    (sleep 0.5 && umount "$T/n/m") &
    local freer=$!
    run oh umount web --wait 10
    assert_success
    # not a bare wait: with BATS_TEST_TIMEOUT set (the VM tier), bats's
    # watchdog is a background job of this shell too
    wait "$freer"
}

@test "kernel: the read-only fallback (Upper's filesystem out of inodes) is undone and refused" {
    mkdir -p "$T/small"
    # root, web, upper, work, merged: every inode in use, none for Work/work
    mount -t tmpfs -o nr_inodes=5 small "$T/small"
    mkdir -p "$T/small/web/upper" "$T/small/web/work" "$T/small/web/merged"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' "$T/lower" \
        "$T/small/web/upper" "$T/small/web/work" "$T/small/web/merged" | write_conf web
    run oh mount web
    assert_failure 1
    assert_output --partial "Read-only file system"
    assert_output --partial "fell back to a read-only overlay"
    assert_output --partial "Upper's filesystem has no free inodes (0 of 5 free)"
    refute_mounted "$T/small/web/merged"
    run oh status --json web
    assert_output --partial '"mounted":false'
}

@test "kernel: a bind mount of Merged's subdir elsewhere is named before and after the unmount" {
    simple_instance web
    oh mount web
    mkdir -p "$(M)/sub" "$T/elsewhere"
    mount --bind "$(M)/sub" "$T/elsewhere"
    run oh probe web
    assert_failure 3
    assert_output --partial "mounted in PID 1's namespace at 2 places"
    assert_output --partial "$T/elsewhere"
    run oh umount web
    assert_failure 3
    assert_output --partial "in PID 1's namespace mounted on $T/elsewhere"
    [ -e "$T/state/web/work/work" ]
    run oh probe web
    assert_failure 3
    assert_output --partial "mounted in PID 1's namespace elsewhere: at $T/elsewhere"
    run oh mount web
    assert_failure 3
    umount "$T/elsewhere"
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
}

@test "kernel: a loop device backed by a file inside Merged is named as the holder" {
    command -v losetup >/dev/null || skip "losetup not installed"
    simple_instance web
    oh mount web
    truncate -s 1M "$(M)/disk.img"
    dev=$(losetup -f --show "$(M)/disk.img") || skip "no loop device to be had"
    run oh probe web
    assert_failure 3
    assert_output --partial "held by loop device $dev (backing $(M)/disk.img)"
    run oh probe web --json
    assert_output --partial "\"loops\":[\"$dev (backing $(M)/disk.img)\"]"
    run oh umount web
    assert_failure 3
    assert_output --partial "loop device $dev (backing $(M)/disk.img)"
    is_mounted "$(M)"
    losetup -d "$dev"
    wait_until sh -c "! losetup '$dev' >/dev/null 2>&1"
    run oh umount web
    assert_success
}

@test "kernel: an alias overlay mounted over ours (no in-use mark of its own) still blocks umount" {
    simple_instance web
    oh mount web
    mkdir -p "$T/alias" "$T/other"
    mount --bind "$T/state" "$T/alias"
    # the kernel only warns: the mark stays with our superblock
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/alias/web/upper,workdir=$T/alias/web/work" "$T/other"
    run oh umount web
    assert_failure 3
    [ -e "$T/state/web/work/work" ]
    run oh mount web
    assert_failure 3
    run oh probe web
    assert_failure 3
    umount "$T/other"
    umount "$T/alias"
    run oh umount web
    assert_success
}

@test "kernel: probe --watch never calls a busy instance free between its checks" {
    simple_instance web
    oh mount web
    nested_overlay
    run oh umount web
    assert_failure 3
    run oh probe web --watch --interval 0.05 --timeout 2.5
    assert_failure 3
    refute_output --partial "free"
    umount "$T/n/m"
}

@test "kernel: with the check lock held by another run, probe says it could not ask" {
    simple_instance web
    oh mount web
    oh umount web
    mkdir -p "$T/run"
    python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK if hasattr(fcntl, "F_OFD_SETLK") else 37, bytes(32)) if False else fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)' "$T/run/.kernel-check.lock" "$T/locked" 3>&- &
    track_pid $!
    wait_until test -e "$T/locked"
    run oh probe web
    assert_failure 1
    assert_output --partial "cannot tell whether it is free"
    assert_output --partial "another overlay-helper run holds the check lock"
    run oh probe web --json
    assert_failure 1
    assert_output --partial '"free":false,"kernel_in_use":null'

}

@test "threads: a thread with a cwd of its own (CLONE_FS) inside Merged is named" {
    simple_instance web
    oh mount web
    python3 -c 'import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def thread():
    if libc.unshare(0x200) != 0:   # CLONE_FS: a cwd of its own
        raise OSError(ctypes.get_errno(), "unshare")
    os.chdir(sys.argv[1])
    open(sys.argv[2], "w").write(str(threading.get_native_id()))
    time.sleep(300)
threading.Thread(target=thread, daemon=True).start()
time.sleep(300)' "$(M)" "$T/tid" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until test -s "$T/tid"
    tid=$(cat "$T/tid")
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3 (thread:$tid:cwd)"
    run oh probe web --json
    assert_output --partial "\"thread:$tid:cwd\""
    kill -9 "$pid"
    wait_gone "$pid"
    run oh umount web
    assert_success
}

@test "kernel: without lowerdir+ (6.1 to 6.6) the check names Work in lowerdir=: busy and free" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    for k in $(old_apis); do
        oh mount web
        oh umount web
        before=$(traces)
        run oh_kernel "$k" -v probe web --json
        assert_success
        assert_output --partial '"kernel_in_use":false'
        if [ "$k" = 6.5 ]; then
            assert_output --partial "fsconfig lowerdir+ unavailable"
        else
            assert_output --partial "fsconfig (the VFS's legacy adapter) unavailable"
        fi
        [ "$(traces)" = "$before" ]
        [ ! -e "$T/state/web/work/work" ] && [ ! -e "$T/state/web/work/index" ]
        oh mount web
        nested_overlay
        run oh_kernel "$k" umount web
        assert_failure 3
        assert_output --partial "the kernel reports its Upper or Work in use by a live overlay"
        [ -e "$T/state/web/work/work" ]
        run oh_kernel "$k" mount web
        assert_failure 3
        refute_mounted "$(M)"
        run oh_kernel "$k" probe web --json
        assert_failure 3
        assert_output --partial '"kernel_in_use":true'
        umount "$T/n/m"
        run oh_kernel "$k" umount web
        assert_success
        [ ! -e "$T/state/web/work/work" ]
    done
}

@test "kernel: without lowerdir+, odd paths are asked about escaped; one the check cannot carry is unknown, never free" {
    command -v strace >/dev/null || skip "strace not installed"
    mkdir -p "$T/u,1:x" "$T/w,1:x" "$T/u\\2" "$T/w\\2"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/u,1:x" "$T/w,1:x" | write_conf odd
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/u\\2" "$T/w\\2" | write_conf bs
    # what overlayfs makes of bs's paths if their '\'s reach it unescaped:
    # busy, so a check asked about them would say so
    mkdir -p "$T/u2" "$T/w2" "$T/dm"
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/u2,workdir=$T/w2" "$T/dm"
    for k in $(old_apis); do
        if [ "$k" = 6.5 ]; then
            # overlayfs's own parser takes ',' and an escaped ':'
            run oh_kernel 6.5 probe odd --json
            assert_success
            assert_output --partial '"kernel_in_use":false'
        else
            # the legacy adapter refuses a ',' in any value, escaped or not
            run oh_kernel 6.1 probe odd
            assert_failure 1
            assert_output --partial "cannot tell whether it is free"
            assert_output --partial "kernel could not be asked"
        fi
        # a '\' goes in escaped, so the check is about bs's own dirs
        run oh_kernel "$k" probe bs --json
        assert_success
        assert_output --partial '"kernel_in_use":false'
    done
    umount "$T/dm"
    # and bs's own dirs in use (by a nested overlay's hidden clone) are
    # reported so
    oh mount bs
    mkdir -p "$T/state/bs/merged/sub" "$T/n/u" "$T/n/w" "$T/n/m"
    mount -t overlay overlay -o "lowerdir=$T/state/bs/merged/sub,upperdir=$T/n/u,workdir=$T/n/w" "$T/n/m"
    run oh umount bs
    assert_failure 3
    for k in $(old_apis); do
        run oh_kernel "$k" probe bs --json
        assert_failure 3
        assert_output --partial '"kernel_in_use":true'
    done
    umount "$T/n/m"
    oh umount bs
    [ ! -e "$T/w,1:x/work" ] && [ ! -e "$T/w\\2/work" ]
}

@test "kernel: layers given as path strings: an Upper swapped during the check is never called free" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    oh mount web
    nested_overlay
    run oh umount web
    assert_failure 3
    # lowerdir+ strings where this kernel has lowerdir+ (6.7 to 6.12 pass
    # them so), lowerdir= before
    export OVERLAY_HELPER_NO_LAYER_FDS=1
    local k pid
    for k in $(native_api) $(old_apis); do
        [ "$k" != 6.7 ] || [ "$(native_api)" = 6.7 ] || continue
        # the check's fsopen (the first is the API probe's): Upper and Work
        # are open already; the strings the kernel gets name a fresh dir
        pid=$(paused_fsopen "$k" probe web --json)
        mv "$T/state/web/upper" "$T/state/web/upper.real"
        mv "$T/state/web/work" "$T/state/web/work.real"
        mkdir "$T/state/web/upper" "$T/state/web/work"
        resume_run "$pid"
        echo "$k: $output"
        [ "$rc" -eq 1 ]
        [[ $output == *'"free":false,"kernel_in_use":null'* ]]
        rm -rf "$T/state/web/upper" "$T/state/web/work"
        mv "$T/state/web/upper.real" "$T/state/web/upper"
        mv "$T/state/web/work.real" "$T/state/web/work"
        run oh_kernel "$k" probe web --json
        assert_failure 3
        assert_output --partial '"kernel_in_use":true'
    done
    umount "$T/n/m"
    for k in $(native_api) $(old_apis); do
        run oh_kernel "$k" probe web --json
        assert_success
        assert_output --partial '"kernel_in_use":false'
    done
}

# start_paused N STRACE_ARG(N of them)... HELPER_ARG...: starts a helper run
# under strace with those arguments (its output in $T/out, then its exit
# status in $T/rc), and waits until one of them has stopped it with SIGSTOP.
# Prints its PID.
start_paused() {
    local n=$1 log=$T/strace.pause pid
    shift
    local strace_args=("${@:1:n}")
    shift "$n"
    : > "$log"
    rm -f "$T/rc"
    (strace -f -o "$log" "${strace_args[@]}" "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" "$@" \
        > "$T/out" 2>&1; echo $? > "$T/rc") > /dev/null 2>&1 3>&- &
    track_pid $!
    wait_until grep -q -- '--- stopped by SIGSTOP ---' "$log" || { cat "$T/out" >&2; return 1; }
    pid=$(awk '/--- stopped by SIGSTOP ---/ { print $1; exit }' "$log")
    track_pid "$pid"
    echo "$pid"
}

# paused_run CALLS HELPER_ARG...: stopped at its first call of CALLS (a
# comma-separated list).
paused_run() {
    local calls=$1
    shift
    start_paused 4 -e trace="$calls" -e inject="$calls":signal=STOP:when=1 "$@"
}

# paused_run for a kernel of flavour K (as oh_kernel runs it) at the
# check's own fsopen(), the second of a run. Prints its PID.
paused_fsopen() {
    local k=$1 inject=()
    shift
    [ "$k" = "$(native_api)" ] || case "$k" in
    6.5) inject=(-e inject=fsconfig:error=EINVAL:when=2) ;;
    6.1) inject=(-e inject=fsconfig:retval=0:when=1) ;;
    esac
    start_paused $((4 + ${#inject[@]})) -e trace=fsopen,fsconfig "${inject[@]}" \
        -e inject=fsopen:signal=STOP:when=2 "$@"
}

# Lets paused run PID go on; its exit status in $rc, its output in $output.
resume_run() {
    kill -CONT "$1"
    wait_until test -s "$T/rc"
    rc=$(cat "$T/rc")
    output=$(cat "$T/out")
}

@test "kernel: a busy that only the kernel reports is asked again after a pause before exit 3" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    oh mount web
    nested_overlay
    # the hidden clone goes while umount pauses: the second answer decides
    pid=$(paused_run clock_nanosleep,nanosleep umount web)
    [ -e "$T/state/web/work/work" ]
    umount "$T/n/m"
    resume_run "$pid"
    echo "$output"
    [ "$rc" -eq 0 ]
    [[ $output == *"removed overlayfs's leftover"* ]]
    [ ! -e "$T/state/web/work/work" ]
    # the same for mount, refused at first by the kernel alone
    oh mount web
    nested_overlay
    run oh umount web
    assert_failure 3
    pid=$(paused_run clock_nanosleep,nanosleep mount web)
    umount "$T/n/m"
    resume_run "$pid"
    echo "$output"
    [ "$rc" -eq 0 ]
    is_mounted "$(M)"
    # still busy after the pause: exit 3, after one pause only
    nested_overlay
    run strace -f -o "$T/strace.count" -e trace=clock_nanosleep,nanosleep "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" umount web
    assert_failure 3
    [ "$(grep -c nanosleep "$T/strace.count")" -eq 1 ]
    umount "$T/n/m"
}

# The effective capabilities of PID, in hex, as /proc shows them.
cap_eff() {
    awk '/^CapEff:/ { print $2 }' "/proc/$1/status"
}

@test "probe: what the kernel check needs more (chown, fowner, dac_override) is effective for it alone" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    oh mount web
    oh umount web
    local extra=$(( (1 << 0) | (1 << 1) | (1 << 3) )) eff
    # the scan, before the check: its walk of /proc
    pid=$(paused_run getdents64 probe web)
    eff=$(cap_eff "$pid")
    prm=$(awk '/^CapPrm:/ { print $2 }' "/proc/$pid/status")
    resume_run "$pid"
    [ "$rc" -eq 0 ]
    [ $(( 0x$eff & extra )) -eq 0 ]
    [ $(( 0x$prm & extra )) -eq "$extra" ]
    # the check: its first fsopen()
    pid=$(paused_run fsopen probe web)
    eff=$(cap_eff "$pid")
    resume_run "$pid"
    [ "$rc" -eq 0 ]
    [ $(( 0x$eff & extra )) -eq "$extra" ]
    # after it: the report's write
    pid=$(paused_run write probe web)
    eff=$(cap_eff "$pid")
    resume_run "$pid"
    [ "$rc" -eq 0 ]
    [[ $output == *"free: not mounted"* ]]
    [ $(( 0x$eff & extra )) -eq 0 ]
}

@test "status: an instance mounted nowhere whose Upper the kernel reports in use is never free" {
    simple_instance web
    simple_instance idle
    oh mount idle
    oh umount idle
    oh mount web
    nested_overlay
    run oh umount web
    assert_failure 3
    run oh status --json web
    assert_success
    assert_output --partial '"mounted":false,"free":false'
    run oh status web
    assert_success
    assert_output --partial "web: not mounted here, but in use: the kernel reports"
    assert_output --partial "held:   by a live overlay no scan can see"
    # an instance beside it, unmounted and unused, stays free
    run oh status --json
    assert_success
    assert_output --partial '"instance":"idle","mounted":false,"free":true'
    assert_output --partial '"instance":"web","mounted":false,"free":false'
    umount "$T/n/m"
    run oh status --json web
    assert_output --partial '"mounted":false,"free":true'
}

@test "kernel: probe --watch of a path (an overlay named by its mount) is never free while the kernel says in use" {
    simple_instance web
    oh mount web
    nested_overlay
    # the target is resolved while mounted: its mount names Upper and Work
    oh probe "$(M)" --watch --json --timeout 3 > "$T/watch.json" 3>&- &
    watch=$!
    track_pid "$watch"
    wait_until test -s "$T/watch.json"
    umount "$(M)"
    rc=0
    wait "$watch" || rc=$?
    [ "$rc" -eq 3 ]
    run tail -1 "$T/watch.json"
    assert_output --partial '"free":false,"kernel_in_use":true'
    # once the nested overlay goes, the kernel's word makes it free
    umount "$T/n/m"
    run oh umount web
    assert_success
}
