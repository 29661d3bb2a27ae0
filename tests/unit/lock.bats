#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The per-instance lock: one run at a time, holder named, kill -9 recovered.

load helpers

# Whether PID is alive (not gone, not a zombie).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}

# The system calls that mark STAGE, the first successful one in a run
# (check with strace -f on the binary; calls that fail, such as probes of
# what the kernel supports, do not count):
#   locked   the holder's PID written into the lock file (pwrite64: the
#            binary's only pwrite), just after the lock is taken
#   mounted  the overlay attached at Merged (move_mount(2); mount(2) where
#            the new mount API is missing), before the .mounted record
#   purging  purge's first removal (unlinkat(2)), after all its checks
stage_syscalls() {
    case "$1" in
    locked) echo pwrite64 ;;
    mounted) echo move_mount,mount ;;
    purging) echo unlinkat ;;
    *) echo "stalled_run: unknown stage $1" >&2; return 1 ;;
    esac
}

# For each group stop in strace log $1 so far: its number, the PID stopped,
# and 1 if that PID's last traced call succeeded (0 if it failed). strace
# logs the stop itself, so a process merely paused at a traced call (state
# t as well) is not taken for stopped.
strace_stops() {
    awk '/ = -1 / { ok[$1] = 0; next }
         / = [0-9]/ { ok[$1] = 1; next }
         /--- stopped by SIGSTOP ---/ { print ++n, $1, ok[$1] + 0 }' "$1"
}

# Starts a helper run that strace stops (SIGSTOP) at STAGE while it holds
# the lock, and waits until it is stopped. Prints the helper's PID. strace
# sends the signal as each call of the stage's kind starts and the kernel
# delivers it as the call returns, so the call itself has been made; a stop
# at a call that failed is resumed at once, and so is every later call of
# that kind once the run is resumed. The helper is strace's child: both PIDs
# are tracked for teardown, and $T/tracer.PID names the strace of helper
# PID. kill -9 of the helper ends strace too.
stalled_run() {
    local stage=$1 calls log tracer pid="" n ok seen=0
    shift
    calls=$(stage_syscalls "$stage") || return 1
    # The instance lock's PID is the first pwrite64; later ones (the kernel
    # check's lock) must not stop it again once it is let go.
    local when=""
    [ "$stage" = locked ] && when=":when=1"
    log=$(mktemp "$T/strace.$stage.XXXXXX")
    # exec: $! must be strace itself, not a subshell around it
    (exec strace -f -o "$log" -e trace="$calls" -e inject="$calls:signal=STOP$when" \
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$@" >/dev/null 2>&1 3>&-) &
    tracer=$!
    track_pid "$tracer"
    for _ in $(seq 500); do
        read -r n pid ok < <(strace_stops "$log" | tail -n 1) || true
        if [ -n "${n:-}" ] && [ "$n" -gt "$seen" ]; then
            seen=$n
            grep -qx "$pid" "$T/pids" || track_pid "$pid"
            [ "$ok" = 1 ] && break
            kill -CONT "$pid"
        fi
        pid=""
        alive "$tracer" || break
        sleep 0.02
    done
    if [ -z "$pid" ]; then
        echo "stalled_run: the helper never stopped at $stage ($calls):" >&2
        cat "$log" >&2
        return 1
    fi
    echo "$tracer" > "$T/tracer.$pid"
    echo "$pid"
}

@test "a second run exits 3 at once, naming the PID that holds the lock" {
    simple_instance web
    pid=$(stalled_run locked mount web)
    run oh mount web
    assert_failure 3
    assert_output --partial "locked by PID $pid"
    kill -9 "$pid"
}

@test "--wait waits for the holder, then exits 3 if it still holds the lock" {
    simple_instance web
    pid=$(stalled_run locked mount web)
    start=$(date +%s%N)
    run oh umount web --wait 0.5
    end=$(date +%s%N)
    assert_failure 3
    assert_output --partial "gave up after --wait 0.5s"
    [ $(( (end - start) / 1000000 )) -ge 450 ]
    kill -9 "$pid"
}

@test "--wait succeeds as soon as the holder is gone" {
    simple_instance web
    pid=$(stalled_run locked mount web)
    ( sleep 0.3; kill -CONT "$pid" ) &
    run oh umount web --wait 10
    assert_success
    refute_mounted "$T/state/web/merged"
}

@test "kill -9 while holding the lock: the next run takes it and recovers" {
    simple_instance web
    pid=$(stalled_run mounted mount web)
    is_mounted "$T/state/web/merged"
    kill -9 "$pid"
    wait_gone "$pid"
    run oh mount web
    assert_success
    assert_output --partial "already mounted"
    run oh umount web
    assert_success
    refute_mounted "$T/state/web/merged"
}

@test "kill -9 in the middle of a purge: the next purge finishes the job" {
    simple_instance web
    oh mount web
    echo x > "$T/state/web/merged/x"
    pid=$(stalled_run purging purge web)
    kill -9 "$pid"
    wait_gone "$pid"
    run oh purge web
    assert_success
    [ -z "$(ls -A "$T/state/web/upper")" ]
}

@test "SIGTERM mid-run leaves no lock behind" {
    simple_instance web
    pid=$(stalled_run locked mount web)
    kill -TERM "$pid"; kill -CONT "$pid"
    wait_gone "$pid"
    run oh mount web
    assert_success
}

@test "--wait rejects nonsense" {
    simple_instance web
    run oh mount web --wait -1
    assert_failure 2
    run oh mount web --wait soon
    assert_failure 2
    assert_output --partial "--wait takes seconds"
}

@test "stalled_run: kill -9 of the stopped helper ends its strace too" {
    simple_instance web
    pid=$(stalled_run locked mount web)
    tracer=$(cat "$T/tracer.$pid")
    [ "$(awk '{print $3}' "/proc/$pid/stat")" = t ]
    kill -9 "$pid"
    wait_gone "$pid"
    wait_gone "$tracer"
}

# Runs the helper with SIGALRM blocked (HOW=block) or ignored (HOW=ignore),
# as a caller may leave it: exec keeps both. Bounded: a hang is a failure.
oh_alrm() {
    local how=$1
    shift
    case "$how" in
    ignore)
        timeout 10 bash -c 'trap "" ALRM; exec "$@"' oh_alrm \
            "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" "$@" ;;
    block)
        timeout 10 python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
os.execv(sys.argv[1], sys.argv[1:])' \
            "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" "$@" ;;
    esac
}

# The lock wait must keep its deadline whatever SIGALRM state it inherits.
wait_gives_up_with_alrm() {
    simple_instance web
    pid=$(stalled_run locked mount web)
    start=$(date +%s%N)
    run oh_alrm "$1" umount web --wait 0.5
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    assert_failure 3
    assert_output --partial "locked by PID $pid"
    [ "$ms" -ge 450 ] && [ "$ms" -lt 3000 ]
}

@test "--wait 0.5 gives up in about 0.5 s with SIGALRM ignored by the caller" {
    wait_gives_up_with_alrm ignore
}

@test "--wait 0.5 gives up in about 0.5 s with SIGALRM blocked by the caller" {
    wait_gives_up_with_alrm block
}

# ... and still takes the lock as soon as its holder is gone.
wait_gets_lock_with_alrm() {
    simple_instance web
    pid=$(stalled_run locked mount web)
    ( sleep 0.5; kill -9 "$pid" ) 3>&- &
    start=$(date +%s%N)
    run oh_alrm "$1" mount web --wait 8
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    assert_success
    is_mounted "$T/state/web/merged"
    [ "$ms" -ge 400 ] && [ "$ms" -lt 3000 ]
}

@test "--wait takes the lock once its holder dies, SIGALRM ignored by the caller" {
    wait_gets_lock_with_alrm ignore
}

@test "--wait takes the lock once its holder dies, SIGALRM blocked by the caller" {
    wait_gets_lock_with_alrm block
}
