#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# helper/holders.c through tests/unit/holders-test.c: which of a process's
# cwd, root, exe, fds and maps are on an overlay, found by the device and
# mount of what each magic link leads to, never by comparing path strings.

load helpers

OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"
HOLDERS_TEST="$OH_BUILD/holders-test"
PY=/usr/bin/python3

setup_file() {
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$HOLDERS_TEST" >&2
}

# An overlay on $T/m; lower, upper and work all on $T's tmpfs (one fs).
mount_overlay() {
    mkdir -p "$T/upper" "$T/work" "$T/m"
    echo data > "$T/lower/file"
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/upper,workdir=$T/work" "$T/m"
}

comm_is() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

# Starts CMD... in the background (without bats' fd 3), tracked for teardown;
# sets $pid and waits until its comm is COMM.
start() {
    local comm=$1
    shift
    "$@" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until comm_is "$pid" "$comm"
}

# The driver's output without the unit column, which depends on the host:
# "PID COMM REFS...". Fails if the driver does.
holders() {
    local out rc
    out=$("$HOLDERS_TEST" "$@")
    rc=$?
    printf '%s\n' "$out" | awk '$2 == "ESRCH" || $2 == "EACCES" || $2 == "error:" { print; next }
        { $3 = ""; sub(/  /, " "); sub(/ $/, ""); print }'
    return "$rc"
}

# Asserts WANT from the driver with PROCMAP_QUERY and with the text of maps.
assert_both_maps_readers() {
    local want=$1
    shift
    run holders "$@"
    assert_success
    assert_output "$want"
    OVERLAY_HELPER_NO_PROCMAP_QUERY=1 run holders "$@"
    assert_success
    assert_output "$want"
}

@test "holders: cwd inside the overlay" {
    mount_overlay
    start sleep bash -c "cd '$T/m' && exec sleep 300"
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid sleep cwd"
}

@test "holders: an open fd names its number and path" {
    mount_overlay
    start sleep bash -c "exec sleep 300 5<'$T/m/file'"
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid sleep fd:5:$T/m/file"
}

@test "holders: 2000 open fds (several getdents64 calls) are all found" {
    mount_overlay
    start python3 "$PY" -c "
import os, resource, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
fds = [os.open('$T/m/file', os.O_RDONLY) for _ in range(2000)]
open('$T/ready', 'w').close()
time.sleep(300)"
    wait_until test -e "$T/ready"
    run holders "$T/m" "$pid"
    assert_success
    local refs
    refs=$(printf '%s\n' "$output" | tr ' ' '\n' | grep -c "^fd:[0-9]*:$T/m/file\$")
    [ "$refs" -eq 2000 ]
}

@test "holders: an fd on a deleted file keeps the kernel's (deleted) suffix" {
    mount_overlay
    start sleep bash -c "exec sleep 300 7<'$T/m/file'"
    rm "$T/m/file"
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid sleep fd:7:$T/m/file (deleted)"
}

@test "holders: a file mapped in several segments is one mmap ref" {
    mount_overlay
    head -c 65536 /dev/zero > "$T/m/file"
    # Two mappings of different parts, then every fd >= 3 closed (mmap
    # keeps a dup of the fd): only the maps hold the file.
    start python3 "$PY" -c "
import mmap, os, time
f = open('$T/m/file', 'rb')
a = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)
b = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ, offset=32768)
os.closerange(3, 1024)
open('$T/ready', 'w').close()
time.sleep(300)"
    wait_until test -e "$T/ready"
    [ "$(grep -c " $T/m/file\$" "/proc/$pid/maps")" -ge 2 ]
    assert_both_maps_readers "$pid python3 mmap:$T/m/file" "$T/m" "$pid"
    rm "$T/m/file"
    assert_both_maps_readers "$pid python3 mmap:$T/m/file (deleted)" "$T/m" "$pid"
}

@test "holders: root inside the overlay (chroot)" {
    mount_overlay
    # python has everything it needs loaded before it chroots, so nothing of
    # the host has to be copied in; its cwd stays outside.
    start python3 "$PY" -c "
import os, time
os.chroot('$T/m')
open('/ready', 'w').close()
time.sleep(300)"
    wait_until test -e "$T/m/ready"
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid python3 root"
    # Inside with both, as chroot(1) leaves it: refs come cwd first.
    start python3 "$PY" -c "
import os, time
os.chdir('$T/m')
os.chroot('.')
open('/ready2', 'w').close()
time.sleep(300)"
    wait_until test -e "$T/m/ready2"
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid python3 cwd root"
}

@test "holders: exe inside the overlay (loader and libc outside)" {
    cp /bin/sleep "$T/lower/sleep"
    mount_overlay
    start sleep "$T/m/sleep" 300
    assert_both_maps_readers "$pid sleep exe mmap:$T/m/sleep" "$T/m" "$pid"
}

@test "holders: a process with nothing inside has no refs" {
    mount_overlay
    start sleep sleep 300
    run holders "$T/m" "$pid"
    assert_success
    assert_output "$pid sleep"
}

@test "holders: a vanished pid is ESRCH" {
    mount_overlay
    true &
    local gone=$!
    wait "$gone"
    run holders "$T/m" "$gone"
    assert_success
    assert_output "$gone ESRCH"
}

@test "holders: the unit column is a unit or -" {
    mount_overlay
    run "$HOLDERS_TEST" "$T/m" $$
    assert_success
    [[ "$output" =~ ^$$\ [^\ ]+\ (-|[^\ ]+\.(service|scope|slice))$ ]]
}

@test "holders: unit_if_held finds the same refs" {
    mount_overlay
    start sleep bash -c "cd '$T/m' && exec sleep 300"
    local holder=$pid
    start sleep sleep 300
    run "$HOLDERS_TEST" --unit-if-held "$T/m" "$holder" "$pid"
    assert_success
    assert_line --regexp "^$holder sleep [^ ]+ cwd\$"
    # Holding nothing: no unit looked up.
    assert_line "$pid sleep -"
}

@test "holders: 50 holders at once are all found" {
    mount_overlay
    local pids=() i
    for i in $(seq 50); do
        start sleep bash -c "cd '$T/m' && exec sleep 300 4<'$T/m/file'"
        pids+=("$pid")
    done
    run holders "$T/m" "${pids[@]}"
    assert_success
    for pid in "${pids[@]}"; do
        assert_line "$pid sleep cwd fd:4:$T/m/file"
    done
    [ "${#lines[@]}" -eq 50 ]
}

@test "holders: layers on two filesystems: fds and exe found by mount id" {
    # Upper on its own tmpfs and xino off: the kernel then stats files (not
    # dirs) with a per-layer pseudo device instead of the overlay's.
    mkdir -p "$T/up" "$T/m"
    mount -t tmpfs up "$T/up"
    mkdir "$T/up/upper" "$T/up/work"
    echo data > "$T/lower/file"
    cp /bin/sleep "$T/lower/sleep"
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/up/upper,workdir=$T/up/work,xino=off" "$T/m"
    echo new > "$T/m/newfile"
    [ "$(stat -c %d "$T/m/file")" != "$(stat -c %d "$T/m")" ]
    start sleep bash -c "cd '$T/m' && exec '$T/m/sleep' 300 5<'$T/m/file' 6<'$T/m/newfile'"
    local want="$pid sleep cwd exe fd:5:$T/m/file fd:6:$T/m/newfile mmap:$T/m/sleep"
    assert_both_maps_readers "$want" "$T/m" "$pid"
    run holders --mountinfo-ids "$T/m" "$pid"
    assert_success
    assert_output "$want"
    # Why the ids are needed: the device alone finds only dirs and maps
    # (before 6.8 not even maps: only map_files' link leads to the overlay's
    # file, and its device is the per-layer one too).
    run holders --dev-only "$T/m" "$pid"
    assert_success
    if kernel_at_least 6 8; then
        assert_output "$pid sleep cwd mmap:$T/m/sleep"
    else
        assert_output "$pid sleep cwd"
    fi
}

@test "holders: a bind mount of a subdir counts by device, and by mountinfo id" {
    mount_overlay
    mkdir -p "$T/m/sub" "$T/b"
    echo x > "$T/m/sub/f"
    mount --bind "$T/m/sub" "$T/b"
    start sleep bash -c "cd '$T/b' && exec sleep 300 5<'$T/b/f'"
    run holders --mountinfo-ids "$T/m" "$pid"
    assert_success
    assert_output "$pid sleep cwd fd:5:$T/b/f"
}

@test "holders: as a non-root user, a root process is EACCES, not a crash" {
    command -v setpriv >/dev/null || skip "setpriv not installed"
    mount_overlay
    # The driver must be reachable by nobody: $T is a 0755 tmpfs.
    cp "$HOLDERS_TEST" "$T/holders-test"
    start sleep bash -c "cd '$T/m' && exec sleep 300"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/holders-test" "$T/m" "$pid"
    assert_success
    assert_output --regexp "^$pid EACCES\$"
    # ... while its own processes it may read.
    start sleep setpriv --reuid=nobody --regid=nogroup --clear-groups \
        bash -c "cd '$T/m' && exec sleep 300"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/holders-test" "$T/m" "$pid"
    assert_success
    assert_output --regexp "^$pid sleep [^ ]+ cwd\$"
}

@test "holders: kernel threads are told from processes" {
    run "$HOLDERS_TEST" --kthread $$ 1
    assert_success
    assert_output "$$ process
1 process"
    # tests/run's PID namespace hides kernel threads; look if one is visible.
    [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] || skip "no kernel thread visible in this PID namespace"
    run "$HOLDERS_TEST" --kthread 2
    assert_output "2 kthread"
}

@test "holders: valgrind finds no leak, bad access or fd leak" {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    cp /bin/sleep "$T/lower/sleep"
    mount_overlay
    local pids=()
    start sleep bash -c "cd '$T/m' && exec sleep 300 5<'$T/m/file'"
    pids+=("$pid")
    start sleep "$T/m/sleep" 300
    pids+=("$pid")
    true &
    pids+=("$!")
    wait "$!"
    run valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --track-fds=yes \
        --error-exitcode=9 "$HOLDERS_TEST" "$T/m" "${pids[@]}" 1
    assert_success
    assert_line --partial "${pids[0]} sleep"
    assert_line "${pids[2]} ESRCH"
    refute_output --partial "error:"
    # --track-fds lists every fd open at exit; only inherited ones may remain.
    local leaked
    leaked=$(printf '%s\n' "$output" | awk '
        /Open (file|AF_UNIX socket) descriptor/ { pending = $0; next }
        pending != "" { if ($0 !~ /inherited from parent/) print pending; pending = "" }')
    [ -z "$leaked" ] || { echo "leaked fds: $leaked" >&2; return 1; }
}

@test "holders: on the /proc path the walk reads each fd table once; probe does not read it again" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    oh mount web
    local m=$T/state/web/merged
    echo data > "$m/held"
    # a slave copy, which receives the unmount: only references hold it, so
    # every process in it and in PID 1's namespace is looked at for them
    pid=$(in_ns slave sh -c "exec 7<'$m/held'; exec sleep 300")
    run strace -f -qq -e trace=openat -o "$T/trace" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" probe web
    assert_failure 3
    assert_output --regexp " $pid +sleep +- +fd:7:"
    # the walk: "/proc/PID/fd" once per process; then "fd" (through
    # /proc/PID) only for the strings of the one holder, not for every
    # process looked at
    [ "$(grep -cE 'openat\([0-9]+, "[0-9]+/fd",' "$T/trace")" -ge 3 ]
    [ "$(grep -cE 'openat\([0-9]+, "fd",' "$T/trace")" -eq 1 ]
    kill_wait "$pid"
}
