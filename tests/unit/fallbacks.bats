#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel's newer interfaces refused: by a seccomp filter (systemd 252's
# SystemCallFilter= and the container runtimes answer syscalls newer than
# their tables with EPERM), by an older kernel (ENOSYS), or injected with
# strace. Every verb must still give the right answer and exit code through
# its fallback (mountinfo and libmount, the /proc scan, mount(2),
# /proc/PID/maps, O_NOFOLLOW opens), and say once, at debug level, why.
#
# strace 6.1 (Debian 12) knows neither statmount (457) nor listmount (458)
# by name or number, so those two are refused by a real seccomp filter,
# installed by the few lines of Python below, as systemd would install it.

# shellcheck disable=SC2030,SC2031 # bats' run sets $status in each test's subshell
load helpers

M() { echo "$T/state/s/merged"; }

# SPEC is ERRNO:NR[,NR...]; the filter answers those syscalls with ERRNO
# (KILL: kills the caller with SIGSYS, as systemd's filter does without
# SystemCallErrorNumber=) and lets every other through, for CMD and
# everything it starts.
SECCOMP_PY=$(cat <<'EOF'
import ctypes, os, struct, sys
err, nrs = sys.argv[1].split(':')
nrs = [int(n) for n in nrs.split(',')]
n = len(nrs)
ld_nr = [(0x20, 0, 0, 0)]                                   # A = seccomp_data.nr
tests = [(0x15, n - i, 0, nr) for i, nr in enumerate(nrs)]  # A == nr: to ERRNO
action = 0x80000000 if err == 'KILL' else 0x00050000 | {'EPERM': 1, 'ENOSYS': 38}[err]
rets = [(0x06, 0, 0, 0x7fff0000), (0x06, 0, 0, action)]    # ALLOW, the refusal
prog = ld_nr + tests + rets
buf = ctypes.create_string_buffer(b''.join(struct.pack('HBBI', *i) for i in prog))
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
fprog = Fprog(len(prog), ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
    sys.exit('seccomp: ' + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])
EOF
)

STATMOUNT=457
LISTMOUNT=458

setup_file() {
    command -v strace >/dev/null || skip "needs strace"
    command -v python3 >/dev/null || skip "needs python3 (the seccomp filter)"
}

filtered() {
    python3 -c "$SECCOMP_PY" "$@"
}

# ohf SPEC ARGS...: the helper under a seccomp filter.
ohf() {
    local spec=$1
    shift
    filtered "$spec" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$@"
}

# ohs SYSCALLS ARGS...: the helper with strace answering SYSCALLS (comma
# separated) with EPERM; the trace of just those lands in $T/trace.
ohs() {
    local calls=$1
    shift
    strace -f -qq -o "$T/trace" -e trace="$calls" -e inject="$calls":error=EPERM \
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$@"
}

# The injection really happened: NAME was called and answered EPERM.
assert_injected() {
    if ! grep -Eq "^[0-9]+ +$1\(.*= -1 EPERM .*\(INJECTED\)" "$T/trace"; then
        echo "no $1() was refused by strace; trace:" >&2
        cat "$T/trace" >&2
        return 1
    fi
}

mount_s() {
    simple_instance s
    oh mount s
}

@test "the filter refuses statmount and listmount to the helper" {
    mount_s
    run filtered "EPERM:$STATMOUNT,$LISTMOUNT" strace -f -qq -o "$T/trace" \
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" umount s
    assert_success
    # strace 6.1 names them by number: 457 = 0x1c9
    grep -Eq '^[0-9]+ +syscall_0x1c9\(.*= -1 EPERM' "$T/trace"
    refute_mounted "$(M)"
}

@test "statmount and listmount refused (EPERM): mount, status and umount still work" {
    simple_instance s
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" mount s
    assert_success
    is_mounted "$(M)"
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" status s
    assert_success
    assert_output --partial "s: mounted"
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" mount s
    assert_success
    [ "$(overlay_copies_here "$T/state/s/upper")" -eq 1 ]
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" umount s
    assert_success
    refute_mounted "$(M)"
    [ ! -e "$T/state/s/work/work" ]
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" status s
    assert_success
    assert_output --partial "s: not mounted"
}

@test "statmount refused: -v says once, at debug level, why the fallback was taken" {
    mount_s
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" -v status s
    assert_success
    # before 6.8 statmount's ids are missing first, and that is what is said
    local why='statmount unavailable (Operation not permitted)'
    kernel_at_least 6 8 || why='STATX_MNT_ID_UNIQUE unavailable (Operation not supported)'
    [ "$(grep -c "$why" <<< "$output")" -eq 1 ]
    # without -v, not a word of it
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" status s
    refute_output --partial "unavailable"
    # and with nothing refused, no fallback for our own namespace (the walk
    # of all namespaces is refused here: tests/run's PID namespace is not
    # the initial one)
    run oh -v status s
    refute_output --partial "statmount unavailable"
    refute_output --partial "listmount unavailable"
}

@test "a caller without privilege over other namespaces keeps statmount for its own" {
    mount_s
    chmod 0755 "$T" "$T/state" "$T/state/s"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$OVERLAY_HELPER_BIN" -v probe "$(M)"
    [ "$status" -eq 3 ]
    refute_output --partial "statmount unavailable"
    refute_output --partial "listmount unavailable"
}

@test "statmount and listmount refused: a holder in a slave namespace is named, exit 3" {
    mount_s
    pid=$(in_ns slave sh -c "cd '$(M)' && exec sleep 300")
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" umount s
    assert_failure 3
    assert_output --partial "$pid sleep (cwd)"
    is_mounted "$(M)"
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" probe s
    assert_failure 3
    assert_output --partial "$pid"
    kill_wait "$pid"
    run ohf "EPERM:$STATMOUNT,$LISTMOUNT" umount s
    assert_success
    refute_mounted "$(M)"
}

ghost_refused() {
    local spec=$1 pid
    mount_s
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run ohf "$spec" probe s
    assert_failure 3
    assert_output --partial "$pid"
    run ohf "$spec" umount s
    assert_failure 3
    assert_output --partial ghost
    assert_output --partial "$pid sleep (cwd)"
    refute_mounted "$(M)"
    [ -d "$T/state/s/work/work" ]
    run ohf "$spec" mount s
    assert_failure 3
    assert_output --partial "$pid sleep"
    refute_mounted "$(M)"
    run ohf "$spec" probe s
    assert_failure 3
    assert_output --partial "$pid"
    kill_wait "$pid"
    run ohf "$spec" probe s
    assert_success
    run ohf "$spec" umount s
    assert_success
    [ ! -e "$T/state/s/work/work" ]
}

@test "statmount and listmount refused (EPERM): a ghost in a private namespace is found and refused" {
    ghost_refused "EPERM:$STATMOUNT,$LISTMOUNT"
}

@test "listmount alone refused: the ghost is still found" {
    ghost_refused "EPERM:$LISTMOUNT"
}

@test "statmount and listmount missing (ENOSYS, an older kernel): the ghost is still found" {
    ghost_refused "ENOSYS:$STATMOUNT,$LISTMOUNT"
}

@test "a filter that kills callers of statmount and listmount (SIGSYS): no verb dies of it" {
    # the filter does kill
    run filtered "KILL:$STATMOUNT" python3 -c 'import ctypes; ctypes.CDLL(None).syscall(457, 0, 0, 0, 0)'
    [ "$status" -eq $((128 + 31)) ]
    simple_instance s
    run ohf "KILL:$STATMOUNT,$LISTMOUNT" -v mount s
    assert_success
    assert_output --partial "a seccomp filter kills"
    is_mounted "$(M)"
    run ohf "KILL:$STATMOUNT,$LISTMOUNT" status s
    assert_success
    assert_output --partial "s: mounted"
    run ohf "KILL:$LISTMOUNT" status s
    assert_success
    assert_output --partial "s: mounted"
    run ohf "KILL:$STATMOUNT,$LISTMOUNT" umount s
    assert_success
    refute_mounted "$(M)"
}

@test "a filter that kills callers of statmount and listmount: the ghost is still found" {
    ghost_refused "KILL:$STATMOUNT,$LISTMOUNT"
}

@test "ioctl refused (NS_* ioctls, PROCMAP_QUERY): holders, mmaps and ghosts still found" {
    mount_s
    head -c 8192 /dev/urandom > "$T/lower/blob"
    pid=$(in_ns slave python3 -c "
import mmap, time
f = open('$(M)/blob', 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); f.close()
open('$T/ready', 'w').close()
time.sleep(300)")
    wait_until test -e "$T/ready"
    run ohs ioctl probe s
    assert_failure 3
    assert_output --partial "mmap:$(M)/blob"
    assert_injected ioctl
    run ohs ioctl umount s
    assert_failure 3
    assert_output --partial "$pid"
    is_mounted "$(M)"
    kill_wait "$pid"
    ghost=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run ohs ioctl umount s
    assert_failure 3
    assert_output --partial ghost
    assert_output --partial "$ghost sleep (cwd)"
    assert_injected ioctl
    run ohs ioctl mount s
    assert_failure 3
    kill_wait "$ghost"
    run ohs ioctl umount s
    assert_success
}

@test "fsopen refused: mount falls back to mount(2), and umount still works" {
    simple_instance s
    run ohs fsopen mount s
    assert_success
    assert_injected fsopen
    is_mounted "$(M)"
    # mount(2) passes the layers as one lowerdir= string
    grep -q "upperdir=$T/state/s/upper" /proc/self/mountinfo
    grep "upperdir=$T/state/s/upper" /proc/self/mountinfo | grep -q "lowerdir=$T/lower"
    run ohs fsopen status s
    assert_success
    assert_output --partial "s: mounted"
    run ohs fsopen umount s
    assert_success
    refute_mounted "$(M)"
}

@test "fsmount and move_mount refused: mount falls back to mount(2) before making a superblock" {
    simple_instance s
    if ! kernel_at_least 6 7; then
        # no lowerdir+: mount(2) is this kernel's way, fsmount() never called
        run ohs fsmount,move_mount mount s
        assert_success
        is_mounted "$(M)"
        ! grep -Eq '^[0-9]+ +fsmount\(' "$T/trace"
        oh umount s
        return
    fi
    run ohs fsmount,move_mount mount s
    assert_success
    assert_injected fsmount
    is_mounted "$(M)"
    grep "upperdir=$T/state/s/upper" /proc/self/mountinfo | grep -q "lowerdir=$T/lower"
    oh umount s
    run ohs move_mount mount s
    assert_success
    assert_injected move_mount
    is_mounted "$(M)"
    oh umount s
}

@test "fsconfig refused: mount falls back to mount(2)" {
    simple_instance s
    run ohs fsconfig mount s
    assert_success
    assert_injected fsconfig
    is_mounted "$(M)"
    grep "upperdir=$T/state/s/upper" /proc/self/mountinfo | grep -q "lowerdir=$T/lower"
    oh umount s
}

@test "open_tree and fspick refused: mount, status and umount never need them" {
    simple_instance s
    run ohs open_tree,fspick mount s
    assert_success
    is_mounted "$(M)"
    run ohs open_tree,fspick status s
    assert_output --partial "s: mounted"
    run ohs open_tree,fspick umount s
    assert_success
    refute_mounted "$(M)"
}

@test "openat2 refused: purge still empties the dirs, never leaving them" {
    mount_s
    mkdir -p "$(M)/sub/deeper"
    echo data > "$(M)/sub/deeper/file"
    mkdir -p "$T/victim"
    echo precious > "$T/victim/file"
    ln -s "$T/victim" "$(M)/sub/link"
    oh umount s
    run ohs openat2 purge s
    assert_success
    assert_injected openat2
    [ -z "$(ls -A "$T/state/s/upper")" ]
    [ "$(cat "$T/victim/file")" = precious ]
}

# Merged replaced by a symlink to another dir on which the instance's
# overlay is mounted (a bind of it): umount2(UMOUNT_NOFOLLOW) acts on the
# symlink, so a lookup that followed it would answer "mounted" forever.
symlinked_merged() {
    mount_s
    mkdir "$T/elsewhere"
    mount --bind "$(M)" "$T/elsewhere"
    umount "$(M)"
    rmdir "$(M)"
    ln -s ../../elsewhere "$(M)"
}

umount_symlinked_merged() {
    symlinked_merged
    run timeout 10 strace -f -qq -o "$T/trace" -e trace=umount2 "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" umount s
    [ "$status" -ne 0 ]
    [ "$status" -ne 124 ] # not the timeout
    is_mounted "$T/elsewhere"
    [ "$(grep -c 'umount2(' "$T/trace")" -le 3 ]
    # Merged is a symlink, no mount point: nothing to take off it
    if grep -q "umount2(\"$(M)\"" "$T/trace"; then
        cat "$T/trace" >&2
        return 1
    fi
    run oh status s
    assert_output --partial "s: not mounted"
}

@test "Merged became a symlink to a mount point: umount stops at once, unmounts nothing (statmount)" {
    umount_symlinked_merged
}

@test "Merged became a symlink to a mount point: umount stops at once, unmounts nothing (mountinfo)" {
    export OVERLAY_HELPER_NO_STATMOUNT=1
    umount_symlinked_merged
}

@test "Merged a symlink to a foreign mount: neither path reports it or unmounts it" {
    simple_instance s
    mkdir -p "$T/state/s" "$T/other"
    mount -t tmpfs other "$T/other"
    ln -s ../../other "$(M)"
    for off in 0 1; do
        run env OVERLAY_HELPER_NO_STATMOUNT=$off timeout 10 "$OVERLAY_HELPER_BIN" \
            --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" status s
        assert_output --partial "s: not mounted"
        run env OVERLAY_HELPER_NO_STATMOUNT=$off timeout 10 "$OVERLAY_HELPER_BIN" \
            --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" umount s
        [ "$status" -ne 124 ]
        refute_output --partial "tmpfs"
        is_mounted "$T/other"
    done
}

@test "-v says once, at debug level, which fast paths the run went without and why" {
    simple_instance web
    run env OVERLAY_HELPER_NO_STATMOUNT=1 OVERLAY_HELPER_NO_NEW_MOUNT_API=1 \
        "$OVERLAY_HELPER_BIN" -v --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" mount web
    assert_success
    assert_output --partial "statmount switched off by its OVERLAY_HELPER_NO_* variable: took the fallback"
    assert_output --partial "fsopen switched off by its OVERLAY_HELPER_NO_* variable: took the fallback"
    [ "$(grep -c "statmount switched off" <<< "$output")" -eq 1 ]
    # without -v, nothing about it
    run env OVERLAY_HELPER_NO_STATMOUNT=1 "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" umount web
    assert_success
    refute_output --partial "fallback"
}

@test "mountinfo path: layers with ',' and ' ' in their paths are still the instance's (status, umount)" {
    # libmount hands back super options unescaped: a ',' in Upper once split
    # the upperdir option, and umount left its own overlay alone, exit 1.
    mkdir -p "$T/st a,b" "$T/low,er 1"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/low,er 1" "$T/st a,b/upper" \
        "$T/st a,b/work" | write_conf web
    export OVERLAY_HELPER_NO_STATMOUNT=1
    oh mount web
    run oh status web --json
    assert_success
    assert_output --partial '"same_layers":true'
    run oh umount web
    assert_success
    assert_output --partial "unmounted web"
    refute_mounted "$T/state/web/merged"
}
