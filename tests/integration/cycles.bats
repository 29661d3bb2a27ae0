#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scenario 2: 50 start/stop cycles of the example service, with no failure and
# no leak: mounts (in any namespace), mount namespaces, lock files, processes.

load helpers

CYCLES=50

# What a leak would change: the mount tables of every process in the
# container, its mount namespaces, the lock dir, the helper's processes.
leak_snapshot() {
    c sh -c '
        echo "mounts in PID 1: $(wc -l < /proc/1/mountinfo)"
        echo "overlay mounts anywhere: $(cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -c " - overlay overlay-helper:" || true)"
        echo "mount namespaces: $(lsns --type mnt --noheadings | wc -l)"
        echo "lock files: $(ls -A /run/overlay-helper | wc -l)"
        echo "helper processes: $(pgrep -c -x overlay-helper || true)"
        echo "sleep processes: $(pgrep -c -x sleep || true)"'
}

@test "scenario 2: $CYCLES start/stop cycles of the example service: no failure, no leak" {
    local before after i t0 ms total=0 max=0 stop_total=0 stop_max=0
    c_instance cyc
    use_unit overlay-example@cyc.service
    # One cycle first, so that Upper, Work and Merged exist before the snapshot.
    c systemctl start overlay-example@cyc.service
    wait_runs cyc 1
    c systemctl stop overlay-example@cyc.service
    before=$(leak_snapshot)

    for ((i = 1; i <= CYCLES; i++)); do
        t0=${EPOCHREALTIME/./}
        if ! c systemctl start overlay-example@cyc.service; then
            fail "cycle $i: start failed"
        fi
        assert_mounted cyc
        # stopped before its program ran, it would write no line
        wait_runs cyc $((i + 1))
        timed_stop overlay-example@cyc.service
        ms=$(ms_since "$t0")
        state=$(prop overlay-example@cyc.service ActiveState)/$(prop overlay-example@cyc.service Result)
        [ "$state" = inactive/success ] || fail "cycle $i: the unit ended $state"
        total=$((total + ms))
        stop_total=$((stop_total + STOP_MS))
        [ "$ms" -gt "$max" ] && max=$ms
        [ "$STOP_MS" -gt "$stop_max" ] && stop_max=$STOP_MS
    done

    after=$(leak_snapshot)
    assert_equal "$after" "$before"
    assert_gone cyc
    run c cat "$(upper cyc)/data/runs"
    assert_equal "$(echo "$output" | wc -l)" $((CYCLES + 1))
    run journal_of cyc -o cat OVERLAY_HELPER_ACTION=umount
    assert_equal "$(grep -c '^unmounted cyc' <<<"$output")" $((CYCLES + 1))
    note "scenario 2: $CYCLES cycles in ${total} ms: start+stop avg $((total / CYCLES)) ms, max ${max} ms; stop avg $((stop_total / CYCLES)) ms, max ${stop_max} ms"
    note "scenario 2: after the cycles: $(tr '\n' ';' <<<"$after")"
}
