#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many runs of one instance at once end in a consistent state.

load helpers

@test "8 concurrent mount/umount runs end consistent: mounted once or not at all" {
    simple_instance web
    for round in 1 2 3; do
        pids=()
        for i in 1 2 3 4 5 6 7 8; do
            if [ $(( (i + round) % 2 )) -eq 0 ]; then verb=mount; else verb=umount; fi
            oh "$verb" web --wait 30 >/dev/null 2>&1 &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p"; done
        n=$(grep -c " $T/state/web/merged " /proc/self/mountinfo || true)
        [ "$n" -le 1 ]
        if [ "$n" -eq 1 ]; then
            [ "$(cat "$T/state/web/merged/hello.txt")" = "from lower" ]
        else
            [ ! -e "$T/state/web/work/work" ]
        fi
    done
    oh umount web
    refute_mounted "$T/state/web/merged"
}

@test "8 concurrent mounts: all exit 0, exactly one overlay" {
    simple_instance web
    pids=()
    for i in 1 2 3 4 5 6 7 8; do
        oh mount web --wait 30 2>/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    [ "$(grep -c " $T/state/web/merged " /proc/self/mountinfo)" -eq 1 ]
}

@test "without --wait, concurrent runs that lose the race exit 3, never 1" {
    simple_instance web
    pids=()
    for i in 1 2 3 4 5 6 7 8; do
        oh mount web 2>/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        rc=0; wait "$p" || rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
    done
    [ "$(grep -c " $T/state/web/merged " /proc/self/mountinfo)" -eq 1 ]
}
