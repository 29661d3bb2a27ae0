# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared setup for the unit suites. tests/run starts every file in private
# mount and PID namespaces; each test here gets its own tmpfs at $T, made
# shared on purpose (as / is on a systemd host) so that nested namespaces
# made with --propagation slave receive mounts and unmounts from it.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

OVERLAY_HELPER_BIN="${OVERLAY_HELPER_BIN:-$BATS_TEST_DIRNAME/../../build/overlay-helper}"

# kernel_at_least MAJOR MINOR: whether the running kernel is that release or
# later. For what cannot be tried from a test without a kernel of each kind
# (statmount arrived in 6.8, lowerdir+ in 6.7, layers by fd in 6.13).
kernel_at_least() {
    local major minor
    IFS=. read -r major minor _ <<< "$(uname -r)"
    [ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "${minor%%[!0-9]*}" -ge "$2" ]; }
}

requires_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (mounts overlays)"
}

requires_private_ns() {
    # Guard against ever running the helper in the host's namespaces.
    [ "$(readlink /proc/1/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] ||
        skip "not started by tests/run in a private mount namespace"
    [ "$(cat /proc/1/comm)" != systemd ] || skip "PID 1 is the host's init: run via tests/run"
}

setup() {
    requires_root
    requires_private_ns
    T=$(mktemp -d /tmp/oh-test.XXXXXX)
    mount -t tmpfs -o mode=0755 oh-test "$T"
    mount --make-shared "$T"
    mkdir -p "$T/etc" "$T/state" "$T/run" "$T/lower"
    chmod 0755 "$T/etc"
    echo "from lower" > "$T/lower/hello.txt"
    : > "$T/pids"
    export T
}

# Kills what the test started (recorded with track_pid), then unmounts
# everything beneath $T, deepest first, and removes it.
teardown() {
    [ -n "${T:-}" ] || return 0
    local pid
    while read -r pid; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done < "$T/pids"
    while read -r pid; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done < "$T/pids"
    # loop devices are the host's: detach every one backed by a file
    # beneath $T (by its backing file, never by a number recorded earlier:
    # an autoclear device's number may be another job's by now)
    local dev backing
    for dev in /sys/block/loop*; do
        backing=$(cat "$dev/loop/backing_file" 2>/dev/null) || continue
        case "$backing" in "$T"/*) losetup -d "/dev/${dev##*/}" 2>/dev/null ;; esac
    done
    umount -R "$T" 2>/dev/null || umount -R -l "$T" 2>/dev/null
    rmdir "$T" 2>/dev/null || true
}

track_pid() {
    echo "$1" >> "$T/pids"
}

# Runs "$@" in the background inside a new mount namespace with the given
# propagation, tracked for teardown; prints its PID once the command runs.
in_ns() {
    local prop=$1; shift
    # stdout too: $(in_ns ...) must not wait for the command to finish
    unshare --mount --propagation "$prop" "$@" >/dev/null 2>&1 3>&- &
    local pid=$!
    track_pid "$pid"
    # wait until the namespace exists and the command has exec'd
    for _ in $(seq 100); do
        [ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] &&
            [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != unshare ] && break
        sleep 0.02
    done
    sleep 0.1
    echo "$pid"
}


oh() {
    "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$@"
}

write_conf() {
    cat > "$T/etc/$1.conf"
    chmod 0644 "$T/etc/$1.conf"
}

# A minimal instance NAME with one lower ($T/lower) and default dirs.
simple_instance() {
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf "$1"
}

is_mounted() {
    mountpoint -q "$1"
}

# How many mount entries in this namespace are the overlay whose upperdir is $1.
overlay_copies_here() {
    grep -c "upperdir=$1[,\ ]" /proc/self/mountinfo || true
}

# bats ignores a failing "! cmd" unless it is the test's last command.
refute_mounted() {
    if mountpoint -q "$1"; then
        echo "expected $1 not to be a mount point:" >&2
        findmnt "$1" >&2 || true
        return 1
    fi
}

# Waits until PID (not necessarily our child) is gone or a zombie.
wait_gone() {
    local st
    for _ in $(seq 300); do
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
        [ "$st" = Z ] && return 0
        sleep 0.01
    done
    echo "wait_gone: $1 still alive" >&2
    return 1
}

# Kills PID (not necessarily our child) and waits until it is gone or a zombie.
kill_wait() {
    kill "$1" 2>/dev/null || return 0
    wait_gone "$1"
}

# Polls (up to 5 s) until the command succeeds.
wait_until() {
    for _ in $(seq 500); do
        "$@" && return 0
        sleep 0.01
    done
    echo "timed out waiting for: $*" >&2
    return 1
}

# json QUERY: print(QUERY), QUERY python over the JSON in $output (the last
# `run`) as d; "a, b" prints "A B".
json() {
    python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
exec("print(" + sys.argv[1] + ")")' "$1" <<< "${output:?json: no output to read}"
}

# wait_link LINK OP VALUE: waits until `[ "$(readlink LINK)" OP VALUE ]`
# (wait_until would expand the readlink once, before it starts waiting).
wait_link() {
    for _ in $(seq 500); do
        test "$(readlink "$1" 2>/dev/null)" "$2" "$3" && return 0
        sleep 0.01
    done
    echo "timed out waiting for: readlink $1 $2 $3 (it is $(readlink "$1" 2>&1))" >&2
    return 1
}

# valgrind's --track-fds report lists every fd open at exit; the ones bats
# gave us say "<inherited from parent>", any other one is ours and leaked.
refute_fd_leaks() {
    local leaked
    # shellcheck disable=SC2154 # bats' run sets $output
    leaked=$(printf '%s\n' "$output" | awk '
        /Open (file|AF_UNIX socket) descriptor/ { pending = $0; next }
        pending != "" { if ($0 !~ /inherited from parent/) print pending; pending = "" }')
    if [ -n "$leaked" ]; then
        echo "leaked fds: $leaked" >&2
        return 1
    fi
}

# Starts a sleep whose cwd is DIR, tracked for teardown; sets $pid once it
# is there. (Not in $(...): the process must not be a subshell's child.)
hold_cwd() {
    (cd "$1" && exec sleep 300) 3>&- &
    pid=$!
    track_pid "$pid"
    wait_for_cwd "$pid" "$1"
}

# Waits until process PID has its cwd at DIR (a subshell's cd is not instant).
wait_for_cwd() {
    for _ in $(seq 300); do
        [ "$(readlink "/proc/$1/cwd")" = "$2" ] && return 0
        sleep 0.01
    done
    echo "wait_for_cwd: $1 never entered $2" >&2
    return 1
}

# A mount namespace no process is in, pinned by a bind mount of its file at
# $1 (then runs the rest of the arguments in it). The kernel refuses the bind
# (EINVAL) unless the new namespace's id is above the binder's, and 6.18 hands
# ids out in per-CPU batches, so on the wrong CPU a new namespace can get a
# lower id: try each CPU.
pin_ns() {
    local c file=$1
    shift
    for c in $(seq 0 $(($(nproc) - 1))); do
        taskset -c "$c" unshare --mount="$file" --propagation private "${@:-true}" \
            2>/dev/null && return 0
    done
    unshare --mount="$file" --propagation private "${@:-true}"
}
