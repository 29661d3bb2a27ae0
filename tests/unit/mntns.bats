#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# helper/mntns.c through tests/unit/mntns-test.c: every mount namespace is
# found once, with or without a process in it, on the statmount path and on
# the /proc path (OVERLAY_HELPER_NO_STATMOUNT=1). Each scenario leaves a copy
# of a tmpfs at $T/x alive only in another namespace (a ghost), after the
# test's own namespace, PID 1's, has unmounted it.

load helpers

OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"
MNTNS_TEST="$OH_BUILD/mntns-test"

setup_file() {
    # The drivers are built by the Makefile, with the project's flags.
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$MNTNS_TEST" \
        "$OH_BUILD/mntns-test-asan" >&2
}

# Runs the driver on the path the test asked for: NOSM=1 forces /proc.
mt() {
    OVERLAY_HELPER_NO_STATMOUNT="${NOSM:-0}" "$MNTNS_TEST" "$@"
}

ns_ino() {
    stat -L -c %i "/proc/$1/ns/mnt"
}

# Waits (up to 5 s) until PID has left our mount namespace.
wait_ns_left() {
    local i ours
    ours=$(readlink /proc/self/ns/mnt)
    for i in $(seq 500); do
        case "$(readlink "/proc/$1/ns/mnt" 2>/dev/null)" in
        "" | "$ours") sleep 0.01 ;;
        *) return 0 ;;
        esac
    done
    echo "process $1 never left our mount namespace" >&2
    return 1
}

# A private namespace with a sleep in it; sets $pid.
start_private_ns() {
    unshare --mount --propagation private sleep "${1:-300}" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_ns_left "$pid"
}

fd_is() {
    [ "$(readlink "/proc/$1/fd/$2" 2>/dev/null)" = "$3" ]
}

# pin_ns (helpers.bash): a namespace no process is in, pinned by a bind mount.

# A private tmpfs at $T/pins (the kernel refuses a namespace file bind on a
# shared mount) with empty files to bind onto.
make_pins_dir() {
    mkdir "$T/pins"
    mount -t tmpfs pins "$T/pins"
    mount --make-private "$T/pins"
    for f in "$@"; do touch "$T/pins/$f"; done
}

mount_x() {
    mkdir "$T/x"
    mount -t tmpfs ghost-x "$T/x"
}

# The scan found exactly one copy of $T/x, in namespace $1, and checks the
# path the driver says it used.
assert_one_copy_in() {
    local want=1 source=ghost-x
    { [ "${NOSM:-0}" = 1 ] || ! kernel_at_least 6 8; } && want=0
    # statmount() names no source before 6.13 (the scan has no use for it)
    if [ "$want" = 1 ] && ! kernel_at_least 6 13; then source=; fi
    assert_success
    assert_line --partial "statmount=$want "
    assert_line --regexp "^ns ino=$1 id=[0-9]+ init=0 pid=[0-9]+ mounts=[1-9][0-9]* kept=1\$"
    assert_line --regexp "^  mount ns=$1 id=[0-9]+ parent=[0-9]+ dev=[0-9]+:[0-9]+ type=tmpfs source=$source at=$T/x root=/ "
    [ "$(printf '%s\n' "$output" | grep -c '^  mount ')" -eq 1 ]
    refute_line --regexp "^ns ino=[0-9]+ id=[0-9]+ init=1 .* kept=[1-9]"
    [ "$(printf '%s\n' "$output" | grep -c "^ns ino=$1 ")" -eq 1 ]
}

ghost_in_process_ns() {
    mount_x
    start_private_ns
    umount "$T/x"
    run mt scan "$T/x"
    assert_one_copy_in "$(ns_ino "$pid")"
    assert_line --regexp "^ns ino=$(ns_ino 1) id=[0-9]+ init=1 "
}

@test "a ghost in a process's private namespace (statmount)" {
    ghost_in_process_ns
}

@test "a ghost in a process's private namespace (/proc)" {
    NOSM=1 ghost_in_process_ns
    assert_line --regexp "^ns ino=$(ns_ino "$pid") id=[0-9]+ init=0 pid=$pid "
}

ghost_in_pinned_ns() {
    mount_x
    make_pins_dir ns
    pin_ns "$T/pins/ns"
    umount "$T/x"
    pinned=$(stat -c %i "$T/pins/ns")
    run mt scan "$T/x"
    assert_one_copy_in "$pinned"
    assert_line --regexp "^ns ino=$pinned id=[0-9]+ init=0 pid=0 "
    assert_line "pin ino=$pinned in=$(ns_ino 1) at=$T/pins/ns"
}

@test "a ghost in a namespace no process is in, pinned by a bind mount (statmount)" {
    ghost_in_pinned_ns
}

@test "a ghost in a namespace no process is in, pinned by a bind mount (/proc)" {
    NOSM=1 ghost_in_pinned_ns
}

# Two levels: namespace A is pinned in ours, B is pinned inside A only, and
# only B still holds $T/x. Reaching B means entering A first.
ghost_in_nested_pinned_ns() {
    mount_x
    make_pins_dir a b
    pin_ns "$T/pins/a"
    nsenter --mount="$T/pins/a" bash -c "$(declare -f pin_ns); pin_ns '$T/pins/b'"
    a=$(stat -c %i "$T/pins/a")
    b=$(nsenter --mount="$T/pins/a" stat -c %i "$T/pins/b")
    [ "$(stat -c %i "$T/pins/b")" != "$b" ]
    nsenter --mount="$T/pins/a" umount "$T/x"
    umount "$T/x"
    run mt scan "$T/x"
    assert_one_copy_in "$b"
    assert_line --regexp "^ns ino=$a id=[0-9]+ init=0 pid=0 mounts=[0-9]+ kept=0\$"
    assert_line "pin ino=$a in=$(ns_ino 1) at=$T/pins/a"
    assert_line "pin ino=$b in=$a at=$T/pins/b"
}

@test "a ghost in a namespace pinned inside another pinned namespace (statmount)" {
    ghost_in_nested_pinned_ns
}

@test "a ghost in a namespace pinned inside another pinned namespace (/proc)" {
    NOSM=1 ghost_in_nested_pinned_ns
}

ghost_in_fd_pinned_ns() {
    mount_x
    start_private_ns 1000
    ino=$(ns_ino "$pid")
    sleep 1000 7<"/proc/$pid/ns/mnt" 3>&- &
    holder=$!
    track_pid "$holder"
    # The background job opens fd 7 on its own time: not before it, the kill.
    wait_until fd_is "$holder" 7 "mnt:[$ino]"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    umount "$T/x"
    run mt scan "$T/x"
    assert_one_copy_in "$ino"
    assert_line --regexp "^ns ino=$ino id=[0-9]+ init=0 pid=0 "
    run mt fdpins "$ino"
    assert_success
    assert_output "fd:$holder:7"
}

@test "a ghost in a namespace held only by an open fd (statmount)" {
    ghost_in_fd_pinned_ns
}

@test "a ghost in a namespace held only by an open fd (/proc)" {
    NOSM=1 ghost_in_fd_pinned_ns
}

ghost_in_many_ns() {
    local p inos=()
    mount_x
    for _ in $(seq 20); do
        start_private_ns
        inos+=("$(ns_ino "$pid")")
    done
    # One more process in one of them: still one namespace, found once.
    nsenter --mount="/proc/$pid/ns/mnt" sleep 300 3>&- &
    track_pid $!
    umount "$T/x"
    run mt scan "$T/x"
    assert_success
    [ "$(printf '%s\n' "$output" | grep -c '^  mount .* at='"$T/x ")" -eq 20 ]
    for p in "${inos[@]}"; do
        [ "$(printf '%s\n' "$output" | grep -c "^ns ino=$p .* kept=1\$")" -eq 1 ]
    done
    [ "$(printf '%s\n' "${inos[@]}" | sort -u | wc -l)" -eq 20 ]
    # No namespace is listed twice.
    [ -z "$(printf '%s\n' "$output" | grep '^ns ino=' | cut -d' ' -f2 | sort | uniq -d)" ]
}

@test "twenty namespaces with a ghost each are each found once (statmount)" {
    ghost_in_many_ns
}

@test "twenty namespaces with a ghost each are each found once (/proc)" {
    NOSM=1 ghost_in_many_ns
}

@test "pid map: every process in the test's PID namespace, with its namespace" {
    start_private_ns
    run mt pids
    assert_success
    assert_output --regexp '^pids=[0-9]+ unreadable=0 '
    n=$(ls -d /proc/[0-9]* | wc -l)
    got=$(printf '%s\n' "$output" | sed -E 's/^pids=([0-9]+) .*/\1/')
    # Processes come and go (ls, sed): within a few of each other.
    [ $((got - n)) -le 3 ] && [ $((n - got)) -le 3 ]
}

@test "without CAP_SYS_ADMIN: the /proc path, counting what it could not read" {
    command -v setpriv >/dev/null || skip "setpriv not installed"
    start_private_ns
    run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        "$MNTNS_TEST" scan /nonexistent
    [ "$status" -ne 126 ] || skip "build/mntns-test not executable by nobody"
    assert_success
    assert_line --partial "statmount=0 "
    assert_line --regexp "unreadable=[1-9]"
}

# Ghosts in a namespace pinned by a bind mount and in one held by an fd, so
# that the children, the pins and the fd walk all run; sets $held.
leak_scenario() {
    mount_x
    make_pins_dir ns
    pin_ns "$T/pins/ns"
    start_private_ns 1000
    held=$(ns_ino "$pid")
    sleep 1000 7<"/proc/$pid/ns/mnt" 3>&- &
    track_pid $!
    wait_until fd_is $! 7 "mnt:[$held]"
    kill "$pid"
    umount "$T/x"
}

vg() {
    run env OVERLAY_HELPER_NO_STATMOUNT=1 valgrind --quiet --leak-check=full \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=9 \
        --track-fds=yes --child-silent-after-fork=yes "$MNTNS_TEST" "$@"
    assert_success
    refute_fd_leaks
}

@test "valgrind: no leaks, errors or fd leaks on the /proc path with mountinfo" {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    leak_scenario
    vg scan "$T/x"
    assert_line --partial "statmount=0 "
    [ "$(printf '%s\n' "$output" | grep -c '^  mount ')" -eq 2 ]
    vg fdpins "$held"
    assert_line --regexp '^fd:[0-9]+:7$'
    vg pids
}

asan() {
    run env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        OVERLAY_HELPER_NO_STATMOUNT="${NOSM:-0}" "$MNTNS_TEST-asan" "$@"
    assert_success
}

@test "ASan and UBSan: no leaks or errors with statmount tables, nor on the /proc path" {
    [ -x "$MNTNS_TEST-asan" ] || skip "no -fsanitize=address build (libasan missing?)"
    leak_scenario
    for NOSM in 0 1; do
        asan scan "$T/x"
        if kernel_at_least 6 8; then
            assert_line --partial "statmount=$((1 - NOSM)) "
        else
            assert_line --partial "statmount=0 "
        fi
        [ "$(printf '%s\n' "$output" | grep -c '^  mount ')" -eq 2 ]
    done
    asan fdpins "$held"
    assert_line --regexp '^fd:[0-9]+:7$'
    asan pids
}

# A dir with a 1000-character path beneath $T, and the commands that stack
# 100 tmpfs on it in the namespace they run in: over 100 KB of mountinfo,
# more than a pipe holds (64 KiB), so a child sending it must block. Only
# the last one, big-last, is scanned for: seen, the table was read to its end.
long_dir() {
    local c d=$T
    for c in d e f g; do d=$d/$(head -c 250 /dev/zero | tr '\0' "$c"); done
    mkdir -p "$d"
    printf '%s\n' "$d"
}
# shellcheck disable=SC2016 # expanded by the sh that runs it
STACK_100='for i in $(seq 99); do mount -t tmpfs big "$0" || exit 1; done
mount -t tmpfs big-last "$0"'

# Namespace Y (big table) pinned at pins/y, X at pins/ns, then Y bound on
# top of X: the table lists the pins Y, X, Y in that order, and the path
# pins/ns reaches Y only. So the child sent for X enters Y, which the
# parent already knows: it closes the pipe with most of Y's table unread.
@test "a child whose table the parent stops reading ends at once, not at its 5 s alarm (/proc)" {
    d=$(long_dir)
    make_pins_dir y ns
    pin_ns "$T/pins/y" sh -c "$STACK_100" "$d"
    pin_ns "$T/pins/ns"
    mount --bind "$T/pins/y" "$T/pins/ns"
    start=$(date +%s%N)
    OVERLAY_HELPER_NO_STATMOUNT=1 run timeout 20 "$MNTNS_TEST" scan big-last
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    assert_success
    assert_line --regexp '^statmount=0 .* unreadable=0$'
    [ "$(printf '%s\n' "$output" | grep -c '^  mount .* source=big-last ')" -eq 1 ]
    [ "$ms" -lt 3000 ]
}

# Runs "$@" with SIGALRM blocked (HOW=block) or ignored (HOW=ignore): exec
# keeps both, and strace passes them on to what it starts.
with_alrm() {
    local how=$1
    shift
    case "$how" in
    ignore) bash -c 'trap "" ALRM; exec "$@"' with_alrm "$@" ;;
    block) python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
os.execvp(sys.argv[1], sys.argv[1:])' "$@" ;;
    esac
}

# The child's own deadline: strace holds the scan for 8 s on its way out of
# the fork of the child for a pinned namespace with a big table, so nobody
# reads the pipe and the child blocks on it. Whatever SIGALRM state the scan
# inherited, the child's 5 s alarm must end it meanwhile, and the scan then
# counts that namespace as unreadable; a child still alive would instead
# finish its table once the scan reads again. (Not a stop: a signal sent at
# the fork's entry restarts it, so no child would exist yet.)
child_alarm_with_alrm() {
    d=$(long_dir)
    make_pins_dir ns
    pin_ns "$T/pins/ns" sh -c "$STACK_100" "$d"
    OVERLAY_HELPER_NO_STATMOUNT=1 run with_alrm "$1" strace -o "$T/strace.log" -e trace=clone,clone3 \
        -e inject=clone,clone3:delay_exit=8s:when=1 "$MNTNS_TEST" scan big-last
    assert_success
    assert_line --regexp '^statmount=0 namespaces=[0-9]+ pins=1 unreadable=1$'
    refute_line --partial 'source=big-last '
}

@test "a stuck child dies of its alarm with SIGALRM blocked by the caller (/proc)" {
    child_alarm_with_alrm block
}

@test "a stuck child dies of its alarm with SIGALRM ignored by the caller (/proc)" {
    child_alarm_with_alrm ignore
}
