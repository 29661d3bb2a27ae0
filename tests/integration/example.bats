#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scenario 1: the shipped example service (units/examples/overlay-example@.service)
# under a real systemd: start, stop, restart; plus what `make install` put in
# the container (units, tmpfiles.d) and the helper's journal entries.

load helpers

@test "installed: make install put the helper, its unit and tmpfiles.d where pkg-config says" {
    c test -x /usr/sbin/overlay-helper
    run c pkg-config --variable=systemdsystemunitdir systemd
    c test -f "$output/overlay-helper@.service"
    run c pkg-config --variable=tmpfilesdir systemd
    c test -f "$output/overlay-helper.conf"
    # systemd-tmpfiles-setup.service made the dirs at boot, with these modes.
    run c stat -c '%a %U:%G' "$STATE" /run/overlay-helper
    assert_output "755 root:root
755 root:root"
}

@test "installed: the units verify clean with systemd-analyze, helper and man page in place" {
    c_instance verify
    run c overlay-helper mount verify
    assert_success
    # The script finds the units (for their names) next to itself.
    mkdir -p "$C_ROOT/tmp/ohv/tests/integration" "$C_ROOT/tmp/ohv/units"
    register files /tmp/ohv
    cp "$REPO/tests/integration/verify-units.sh" "$C_ROOT/tmp/ohv/tests/integration/"
    cp -r "$REPO"/units/* "$C_ROOT/tmp/ohv/units/"
    run c /tmp/ohv/tests/integration/verify-units.sh --installed verify
    assert_success
    refute_output --partial "not executable"
    assert_output --partial "verified: overlay-helper@verify.service overlay-example@verify.service"
}

@test "tmpfiles: --clean and --remove never touch a live upper dir, however old its files" {
    c_instance tmpf
    run c overlay-helper mount tmpf
    assert_success
    c sh -c "echo data > $(merged tmpf)/old.txt"
    c touch -d '2001-01-01' "$(upper tmpf)/old.txt" "$(upper tmpf)" "$STATE/tmpf"
    run c systemd-tmpfiles --clean --remove /usr/lib/tmpfiles.d/overlay-helper.conf
    assert_success
    run c systemd-tmpfiles --clean
    c test -f "$(upper tmpf)/old.txt"
    c test -d "$(work tmpf)/work"
    assert_mounted tmpf
    # No line of the shipped config has an age or removes anything.
    run awk '!/^#/ && NF { print $1, $NF }' "$REPO/tmpfiles.d/overlay-helper.conf"
    assert_output "d -
d -"
}

@test "scenario 1: start/stop/restart of the example service: mounted while running, gone after" {
    local t0=${EPOCHREALTIME/./} start_ms stop_ms restart_ms
    c_instance web-1
    use_unit overlay-example@web-1.service

    t0=${EPOCHREALTIME/./}
    c systemctl start overlay-example@web-1.service
    start_ms=$(ms_since "$t0")
    assert_unit_state overlay-example@web-1.service active/success
    assert_mounted web-1
    # Its program runs from merged/ and wrote through the overlay (ProtectSystem=strict
    # with ReadWritePaths= on merged/).
    wait_runs web-1 1
    run c cat "$(upper web-1)/data/runs"
    assert_output --regexp '^started [0-9]+$'
    for _ in $(seq 100); do
        run c ps -o args= -p "$(prop overlay-example@web-1.service MainPID)"
        [ "$output" = "sleep infinity" ] && break
        sleep 0.01
    done
    assert_output "sleep infinity"

    t0=${EPOCHREALTIME/./}
    c systemctl restart overlay-example@web-1.service
    restart_ms=$(ms_since "$t0")
    assert_unit_state overlay-example@web-1.service active/success
    assert_mounted web-1
    wait_runs web-1 2
    run c cat "$(upper web-1)/data/runs"
    assert_equal "$(echo "$output" | wc -l)" 2

    timed_stop overlay-example@web-1.service
    stop_ms=$STOP_MS
    assert_unit_state overlay-example@web-1.service inactive/success
    run c findmnt --noheadings --mountpoint "$(merged web-1)"
    assert_failure
    assert_gone web-1
    # Work is left empty; Upper keeps the data.
    run c ls -A "$(work web-1)"
    assert_output ""
    c test -s "$(upper web-1)/data/runs"
    # The helper ran in PID 1's namespace through nsenter: no escape warning.
    run journal_of web-1 "MESSAGE_ID=$MSGID_NS_ESCAPE"
    refute_output --partial "joined it with setns"
    note "scenario 1: start ${start_ms} ms, restart ${restart_ms} ms, stop ${stop_ms} ms, total $(ms_since "$C_T0") ms"
}

@test "scenario 1: the journal holds each instance's history as structured entries" {
    c_instance web-3
    use_unit overlay-example@web-3.service
    c systemctl start overlay-example@web-3.service
    c systemctl stop overlay-example@web-3.service
    run journal_of web-3 -o cat OVERLAY_HELPER_ACTION=mount
    assert_output --partial "mounted web-3 on $(merged web-3)"
    run journal_of web-3 -o cat OVERLAY_HELPER_ACTION=umount
    assert_output --partial "unmounted web-3 from $(merged web-3)"
    # Fixed MESSAGE_IDs: one per kind of event.
    run journal_of web-3 -o export
    assert_output --partial "MESSAGE_ID=e3f7c865ca0b434988d29ec64ca9adfd"
    assert_output --partial "MESSAGE_ID=4298c78a909c4d89b1ff566f46f2476c"
    # Only this instance's entries.
    run journal_of web-3 -o cat
    refute_output --partial "web-1"
}

@test "scenario 1: a failed mount fails the start and leaves nothing behind" {
    use_unit overlay-example@nocfg.service
    run c systemctl start overlay-example@nocfg.service
    assert_failure
    assert_unit_state overlay-example@nocfg.service failed/exit-code
    run journal_of nocfg -o cat
    assert_output --partial "no config for instance 'nocfg'"
    c test ! -e "$STATE/nocfg"
}
