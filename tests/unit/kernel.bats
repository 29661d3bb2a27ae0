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
    run oh umount web --wait 10
    assert_success
    wait
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
    track_loop "$dev"
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
    assert_success
    assert_output --partial "free as far as the scan sees"
    assert_output --partial "another overlay-helper run holds the check lock"
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
