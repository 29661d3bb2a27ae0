#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scenario 6: overlay-helper@.service, the oneshot unit, with services bound
# to it (units/examples/overlay-bind.conf), the Exec-line drop-in
# (overlay-exec.conf), and reboot-free shutdown ordering: stop of a target,
# systemctl isolate, and last the container's own poweroff.

load helpers

# bound_app NAME [KILLMODE]: a service that runs in merged/ and leaves a child
# in merged/data, bound to its overlay by the shipped drop-in;
# PartOf=oh-test.target.
bound_app() {
    local unit=$1.service
    c_unit "$unit" <<EOF
[Unit]
PartOf=oh-test.target
[Service]
ExecStart=$STATE/%N/merged/bin/start-child
# Implies RequiresMountsFor= on merged/, a mount that comes and goes with
# the oneshot unit.
WorkingDirectory=$STATE/%N/merged
KillMode=${2:-mixed}
PrivateTmp=true
ProtectSystem=strict
EOF
    c_unit "$unit.d/overlay.conf" < "$REPO/units/examples/overlay-bind.conf"
}

test_target() {
    c_unit oh-test.target <<'EOF'
[Unit]
Description=overlay-helper test target
EOF
    use_unit oh-test.target
}

@test "scenario 6: a service bound to the oneshot: mounted before it starts, unmounted after it fully stops" {
    local t0 ms
    c_instance oh-app
    bound_app oh-app mixed
    use_unit oh-app.service overlay-helper@oh-app.service
    c systemctl start oh-app.service
    assert_unit_state overlay-helper@oh-app.service active/success
    assert_unit_state oh-app.service active/success
    assert_mounted oh-app
    # Ordered: the mount finished before the service started.
    run c journalctl --no-pager -o cat -u overlay-helper@oh-app.service -u oh-app.service
    assert_output --regexp "mounted oh-app.*Started oh-app.service"

    # KillMode=mixed leaves the child to the final SIGKILL: the oneshot's
    # umount runs after it, so nothing holds the overlay.
    t0=${EPOCHREALTIME/./}
    c systemctl stop oh-app.service
    wait_unit overlay-helper@oh-app.service inactive
    ms=$(ms_since "$t0")
    assert_unit_state oh-app.service inactive/success
    assert_unit_state overlay-helper@oh-app.service inactive/success
    assert_gone oh-app
    note "scenario 6 (bound service, KillMode=mixed): stop until unmounted ${ms} ms"
}

@test "scenario 6: restart of the bound service keeps its overlay; stopping the overlay stops the service first" {
    c_instance oh-rst
    bound_app oh-rst
    use_unit oh-rst.service overlay-helper@oh-rst.service
    c systemctl start oh-rst.service
    c systemctl restart oh-rst.service
    assert_unit_state oh-rst.service active/success
    assert_unit_state overlay-helper@oh-rst.service active/success
    assert_mounted oh-rst
    run c cat "$(merged oh-rst)/hello.txt"
    assert_output "from the lower layer"

    c systemctl stop overlay-helper@oh-rst.service
    assert_unit_state oh-rst.service inactive/success
    assert_unit_state overlay-helper@oh-rst.service inactive/success
    assert_gone oh-rst
}

@test "scenario 6: a template unit's instances bind to overlay-helper@NAME@N with the NAME@.conf config" {
    local i
    # One config for every instance: game@N.service mounts instance game@N.
    printf '%s\n' "[Overlay]" "Lower=$LOWER" "Upper=$STATE/game-%i/upper" \
        "Work=$STATE/game-%i/work" "Merged=$STATE/game-%i/merged" \
        > "$C_ROOT/etc/overlay-helper/game@.conf"
    register files /etc/overlay-helper/game@.conf
    register instances game@1 game@2
    c_unit game@.service <<EOF
[Service]
ExecStart=$STATE/game-%i/merged/bin/start
PrivateTmp=true
EOF
    c_unit game@.service.d/overlay.conf < "$REPO/units/examples/overlay-bind.conf"
    use_unit game@1.service game@2.service overlay-helper@game@1.service overlay-helper@game@2.service
    c systemctl start game@1.service game@2.service
    for i in 1 2; do
        assert_unit_state "overlay-helper@game@$i.service" active/success
        c findmnt --noheadings --mountpoint "$STATE/game-$i/merged" >/dev/null
        wait_runs "game-$i" 1
    done
    c systemctl stop game@1.service game@2.service
    for i in 1 2; do
        wait_unit "overlay-helper@game@$i.service" inactive
        run c findmnt --noheadings --mountpoint "$STATE/game-$i/merged"
        assert_failure
    done
    for i in 1 2; do
        run c overlay-helper purge "game@$i"
        assert_success
        c rmdir "$STATE/game-$i/upper" "$STATE/game-$i/work" "$STATE/game-$i/merged" "$STATE/game-$i"
    done
}

@test "scenario 6: the Exec-line drop-in (overlay-exec.conf) on an existing unit" {
    c_instance oh-exec
    use_unit oh-exec.service
    c_unit oh-exec.service <<EOF
[Service]
ExecStart=$STATE/oh-exec/merged/bin/start
ProtectSystem=strict
PrivateTmp=true
EOF
    c_unit oh-exec.service.d/overlay.conf < "$REPO/units/examples/overlay-exec.conf"
    c systemctl start oh-exec.service
    assert_mounted oh-exec
    timed_stop oh-exec.service
    assert_unit_state oh-exec.service inactive/success
    assert_gone oh-exec
    note "scenario 6 (Exec-line drop-in): stop ${STOP_MS} ms"
}

# Two bound services and the example service, all parts of oh-test.target.
start_target() {
    test_target
    c_instance oh-t1
    c_instance oh-t2
    c_instance oh-t3
    bound_app oh-t1 mixed
    bound_app oh-t2 control-group
    printf '%s\n' "[Unit]" "PartOf=oh-test.target" | c_unit overlay-example@oh-t3.service.d/part.conf
    use_unit oh-t1.service oh-t2.service overlay-example@oh-t3.service \
        overlay-helper@oh-t1.service overlay-helper@oh-t2.service
    c systemctl start oh-test.target oh-t1.service oh-t2.service overlay-example@oh-t3.service
    assert_mounted oh-t1
    assert_mounted oh-t2
    assert_mounted oh-t3
}

# assert_target_down T0: all down; DOWN_MS: from T0 until the last overlay
# unit went inactive.
assert_target_down() {
    local u
    for u in oh-t1 oh-t2; do
        wait_unit "overlay-helper@$u.service" inactive
    done
    DOWN_MS=$(ms_since "$1")
    for u in oh-t1.service oh-t2.service overlay-example@oh-t3.service; do
        assert_unit_state "$u" inactive/success
    done
    for u in oh-t1 oh-t2; do
        assert_unit_state "overlay-helper@$u.service" inactive/success
    done
    assert_gone oh-t1
    assert_gone oh-t2
    assert_gone oh-t3
    assert_equal "$(c systemctl is-system-running)" running
}

@test "scenario 6: stopping the target unmounts every overlay cleanly" {
    local t0
    start_target
    t0=${EPOCHREALTIME/./}
    c systemctl stop oh-test.target
    assert_target_down "$t0"
    note "scenario 6 (stop of a target, 3 overlays): ${DOWN_MS} ms until all unmounted"
}

@test "scenario 6: systemctl isolate unmounts every overlay cleanly" {
    local t0
    start_target
    t0=${EPOCHREALTIME/./}
    c systemctl isolate multi-user.target
    assert_target_down "$t0"
    c systemctl isolate graphical.target
    note "scenario 6 (isolate, 3 overlays): ${DOWN_MS} ms until all unmounted"
}

@test "scenario 6: at poweroff each overlay is unmounted by its unit, before the state dir goes" {
    local t0 ms log i n last=0 state_dir
    start_target
    log=$C_DIR/console.log
    t0=${EPOCHREALTIME/./}
    container_poweroff
    C_PID=
    ms=$(ms_since "$t0")
    for i in oh-t1 oh-t2 oh-t3; do
        n=$(grep -a -n "overlay-helper\[[0-9]*\]: unmounted $i from" "$log" | cut -d: -f1)
        [ -n "$n" ] || fail "no 'unmounted $i' at shutdown in the console log"
        [ "$n" -gt "$last" ] && last=$n
    done
    # The helper went first, then systemd unmounted the state dir.
    state_dir=$(grep -a -n 'systemd\[1\]: Unmounted var-lib-overlay.x2dhelper\.mount ' "$log" | cut -d: -f1)
    [ -n "$state_dir" ] || fail "systemd never unmounted the state dir"
    [ "$last" -lt "$state_dir" ] || fail "the state dir went before an overlay"
    run grep -a -E "Failed unmounting|overlay-helper\[[0-9]*\]: .*(busy|ghost)|oh-t[123].*Failed" "$log"
    assert_output ""
    note "scenario 6 (poweroff with 3 overlays): ${ms} ms"
}
