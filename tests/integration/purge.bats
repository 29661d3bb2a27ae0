#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scenario 5: purge between runs (the Reset flow): stop, purge, start gives a
# fresh upper over the same lowers; purge refuses, removing nothing, while any
# copy of the overlay is alive.

load helpers

@test "scenario 5: Reset (stop, purge, start): fresh upper, same lowers" {
    local t0 p0 reset_ms purge_ms
    c_instance reset
    use_unit overlay-example@reset.service
    c systemctl start overlay-example@reset.service
    # A run's traces in Upper: data written, a lower file deleted (a whiteout).
    c rm "$(merged reset)/hello.txt"
    c sh -c "echo scratch > $(merged reset)/scratch.txt"
    c test -e "$(upper reset)/hello.txt"

    t0=${EPOCHREALTIME/./}
    c systemctl stop overlay-example@reset.service
    p0=${EPOCHREALTIME/./}
    run c overlay-helper purge reset
    assert_success
    assert_output --partial "purged reset"
    purge_ms=$(ms_since "$p0")
    c systemctl start overlay-example@reset.service
    reset_ms=$(ms_since "$t0")

    assert_unit_state overlay-example@reset.service active/success
    # The lower layer is untouched and visible again; the old run's data gone.
    run c cat "$(merged reset)/hello.txt"
    assert_output "from the lower layer"
    c test -f "$LOWER/hello.txt"
    c test ! -e "$(merged reset)/scratch.txt"
    wait_runs reset 1
    run c cat "$(merged reset)/data/runs"
    assert_equal "$(echo "$output" | wc -l)" 1
    c systemctl stop overlay-example@reset.service
    assert_gone reset
    note "scenario 5: Reset (stop + purge + start) ${reset_ms} ms, purge ${purge_ms} ms"
}

@test "scenario 5: purge of an idle instance empties Upper, Work and Merged" {
    c_instance idle
    use_unit overlay-example@idle.service
    c systemctl start overlay-example@idle.service
    wait_runs idle 1
    c systemctl stop overlay-example@idle.service
    run c overlay-helper purge idle
    assert_success
    for dir in "$(upper idle)" "$(work idle)" "$(merged idle)"; do
        run c ls -A "$dir"
        assert_success
        assert_output ""
    done
    c test -f "$LOWER/hello.txt"
    c test -x "$LOWER/bin/start"
}

@test "scenario 5: purge refuses while the running service holds the overlay, and removes nothing" {
    c_instance busy
    use_unit oh-busy@busy.service
    # The example's lines, with a program that keeps a process in merged/.
    sed -e "s|^ExecStart=.*|ExecStart=$STATE/%i/merged/bin/start-child|" \
        "$REPO/units/examples/overlay-example@.service" | c_unit oh-busy@.service
    c systemctl start oh-busy@busy.service
    c sh -c "echo keep > $(merged busy)/data/keep.txt"
    run c overlay-helper purge busy
    assert_failure 3
    assert_output --partial "oh-busy@busy.service"
    c test -f "$(upper busy)/data/keep.txt"
    assert_mounted busy
    assert_unit_state oh-busy@busy.service active/success
    c systemctl stop oh-busy@busy.service
    assert_unit_state oh-busy@busy.service inactive/success
    assert_gone busy
}

@test "scenario 5: purge refuses while a ghost copy lives in another namespace" {
    c_instance ghostp
    use_unit oh-ghostp.service
    run c overlay-helper mount ghostp
    assert_success
    c sh -c "echo keep > $(merged ghostp)/keep.txt"
    c systemd-run --quiet --unit=oh-ghostp.service -p MountFlags=private sleep infinity
    # systemd-run returns once the unit is forked, maybe before its private
    # namespace exists: wait until its process runs sleep in a namespace of its own.
    local pid=""
    for _ in $(seq 300); do
        pid=$(c systemctl show -P MainPID oh-ghostp.service)
        [ "${pid:-0}" != 0 ] && [ "$(c cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] &&
            [ "$(c readlink "/proc/$pid/ns/mnt")" != "$(c readlink /proc/1/ns/mnt)" ] && break
        sleep 0.01
    done
    run c overlay-helper purge ghostp
    assert_failure 3
    assert_output --partial "oh-ghostp.service"
    c test -f "$(upper ghostp)/keep.txt"
    c systemctl stop oh-ghostp.service
    run c overlay-helper purge ghostp
    assert_success
    c test ! -e "$(upper ghostp)/keep.txt"
    assert_gone ghostp
}
