#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The architecture of docs/HACKING.md holds: layers import only downward, no
# include or link cycles, nothing below the commands logs, files and
# functions stay small (tests/layers.py says which rule a file breaks).

OVERLAY_HELPER_BIN="${OVERLAY_HELPER_BIN:-$BATS_TEST_DIRNAME/../../build/overlay-helper}"

@test "layers: downward imports only, no cycles, sizes and SPDX lines" {
    run python3 "$BATS_TEST_DIRNAME/../layers.py" "$(dirname "$OVERLAY_HELPER_BIN")"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "layers: the production binary has no test hooks" {
    run grep -l "TEST_STALL\|getenv(" "$BATS_TEST_DIRNAME"/../../helper/*.c
    echo "$output"
    # env.c reads the OVERLAY_HELPER_* switches, log.c JOURNAL_STREAM
    [ "$(echo "$output" | grep -v -e '/env\.c$' -e '/log\.c$' | grep -c .)" -eq 0 ]
}
