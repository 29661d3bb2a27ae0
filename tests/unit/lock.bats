#!/usr/bin/env bats
# The per-instance lock: one run at a time, holder named, kill -9 recovered.

load helpers

# Starts a helper run that stops itself (SIGSTOP) at STAGE while holding the
# lock, and waits until it is stopped. Prints its PID.
stalled_run() {
    local stage=$1; shift
    # exec: $! must be the helper itself, not a subshell around it
    (OVERLAY_HELPER_TEST_STALL=$stage exec "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" "$@" >/dev/null 2>&1 3>&-) &
    local pid=$!
    track_pid "$pid"
    for _ in $(seq 100); do
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = T ] && break
        sleep 0.05
    done
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
