#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scenario 4: holders the namespace fix cannot help, because service processes
# are still alive when ExecStopPost= runs. Under systemd 252 ExecStopPost=
# starts as soon as the main process is gone: KillMode=process never kills the
# rest of the cgroup, KillMode=mixed SIGKILLs it only after ExecStopPost=, and
# with KillMode=control-group a process that ignores SIGTERM lives on until the
# final SIGKILL (TimeoutStopSec= later). The helper must see that such a
# holder is in its own unit, not wait for it in vain, exit 3 naming it and the
# fix; probe names it with its unit; once it is gone the next start/stop works.
# Holders in another unit or namespace are reported the same way.

load helpers

UMOUNT='+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper umount --wait 5 %i'

# holder_unit NAME KILLMODE [ARG]: a service whose program leaves a child with
# its cwd in merged/data.
holder_unit() {
    c_unit "$1@.service" <<EOF
[Service]
ExecStartPre=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper mount %i
ExecStart=$STATE/%i/merged/bin/start-child ${3:-}
ExecStopPost=$UMOUNT
KillMode=$2
TimeoutStopSec=1
PrivateTmp=true
EOF
}

# child_of UNIT: the process of UNIT that is not its main process.
child_of() {
    local main pid
    main=$(prop "$1" MainPID)
    for _ in $(seq 100); do
        for pid in $(unit_pids "$1"); do
            [ "$pid" != "$main" ] && [ "$(c readlink "/proc/$pid/cwd")" = "$(merged "$2")/data" ] &&
                { echo "$pid"; return 0; }
        done
        sleep 0.01
    done
    echo "no child of $1 with its cwd in merged/data" >&2
    return 1
}

# assert_probe_names INSTANCE PID UNIT: probe --json exits 3 and lists PID
# with its unit.
assert_probe_names() {
    run c overlay-helper probe --json "$1"
    assert_failure 3
    assert_output --partial '"free":false'
    assert_output --regexp "\"pid\":$2,\"tid\":null,\"comm\":\"[^\"]*\",\"unit\":\"$3\""
}

# fix_and_cycle UNIT INSTANCE FIX: applies FIX (KillMode or oneshot) as a
# drop-in once the holder is gone; then start and stop work again.
fix_and_cycle() {
    local unit=$1 inst=$2
    if [ "$3" = oneshot ]; then
        # The overlay from overlay-helper@.service, stopped after the service
        # (every process of it gone, SIGKILLed ones included).
        use_unit "overlay-helper@$inst.service"
        printf '%s\n' "[Unit]" "BindsTo=overlay-helper@%i.service" "After=overlay-helper@%i.service" \
            "[Service]" "ExecStartPre=" "ExecStopPost=" | c_unit "${unit%%@*}@.service.d/fix.conf"
    else
        printf '%s\n' "[Service]" "KillMode=$3" | c_unit "${unit%%@*}@.service.d/fix.conf"
    fi
    c systemctl reset-failed "$unit"
    c systemctl start "$unit"
    assert_mounted "$inst"
    c systemctl stop "$unit"
    if [ "$3" = oneshot ]; then
        wait_unit "overlay-helper@$inst.service" inactive
        assert_unit_state "overlay-helper@$inst.service" inactive/success
    else
        assert_unit_state "$unit" inactive/success
    fi
    assert_gone "$inst"
}

# own_unit_holder KILLMODE [ARG]: starts a unit that leaves a child in
# merged/, stops it, and checks the helper's verdict. Sets CHILD, STOP_MS.
own_unit_holder() {
    local mode=$1 arg=${2:-} inst unit
    inst="own-$mode${arg:+-$arg}"
    unit="$inst@$inst.service"
    c_instance "$inst"
    use_unit "$unit"
    holder_unit "$inst" "$mode" "$arg"
    c systemctl start "$unit"
    CHILD=$(child_of "$unit" "$inst")

    timed_stop "$unit"
    assert_unit_state "$unit" failed/exit-code
    assert_equal "$(stop_post_status "$unit")" 3
    run journal_of "$inst" -o cat OVERLAY_HELPER_ACTION=umount
    assert_output --partial "PID $CHILD (sleep)"
    if [ "$arg" = ignore-term ]; then
        # KillMode=control-group cannot help a child that ignores SIGTERM:
        # the message says why and offers only the oneshot unit.
        assert_output --partial "it ignores SIGTERM"
        refute_output --partial "KillMode=control-group"
    else
        assert_output --partial "KillMode=control-group"
    fi
    assert_output --partial "overlay-helper@$inst.service"
    refute_output --partial "unmounted $inst"
}

@test "scenario 4: KillMode=process leaves a child in merged/: exit 3 at once, named with its unit" {
    own_unit_holder process
    # Decided at once, not after the unit's --wait 5.
    [ "$STOP_MS" -lt 1000 ] || fail "the helper waited: the stop took ${STOP_MS} ms"
    # KillMode=process never kills it: probe names it, with its unit.
    assert_mounted own-process
    assert_probe_names own-process "$CHILD" own-process@own-process.service
    c kill -KILL "$CHILD"
    for _ in $(seq 100); do c test -d "/proc/$CHILD" || break; sleep 0.01; done
    fix_and_cycle own-process@own-process.service own-process control-group
    note "scenario 4 (KillMode=process): failed stop ${STOP_MS} ms, test $(ms_since "$C_T0") ms"
}

@test "scenario 4: KillMode=mixed: the child is alive during ExecStopPost=: exit 3 at once, named" {
    own_unit_holder mixed
    [ "$STOP_MS" -lt 1000 ] || fail "the helper waited: the stop took ${STOP_MS} ms"
    # systemd SIGKILLed the child after ExecStopPost=: the overlay is still
    # mounted, but nothing holds it any more.
    run unit_pids own-mixed@own-mixed.service
    assert_output ""
    assert_mounted own-mixed
    fix_and_cycle own-mixed@own-mixed.service own-mixed control-group
    note "scenario 4 (KillMode=mixed): failed stop ${STOP_MS} ms, test $(ms_since "$C_T0") ms"
}

@test "scenario 4: KillMode=control-group, a child that ignores SIGTERM: exit 3 at once, named" {
    local unit=own-control-group-ignore-term@own-control-group-ignore-term.service
    own_unit_holder control-group ignore-term
    # The helper ran (and gave up) at once; systemd then spent TimeoutStopSec=
    # (1 s) in final-sigterm before its SIGKILL.
    run c journalctl --no-pager -o cat -u "$unit"
    assert_output --partial "State 'final-sigterm' timed out"
    run unit_pids "$unit"
    assert_output ""
    # KillMode=control-group is set already; the other fix does it.
    fix_and_cycle "$unit" own-control-group-ignore-term oneshot
    note "scenario 4 (control-group, SIGTERM ignored): failed stop ${STOP_MS} ms (1 s of it final-sigterm), test $(ms_since "$C_T0") ms"
}

@test "scenario 4: a process of its own unit that exits just after ExecStopPost= starts is waited for, not blamed" {
    local inst=own-late unit=own-late@own-late.service
    c_instance "$inst"
    use_unit "$unit"
    # KillMode=process leaves the child; ExecStopPost= ends it 0.2 s after
    # the helper starts, as a process still acting on systemd's SIGTERM on
    # a loaded machine would.
    c_unit "$inst@.service" <<EOF
[Service]
ExecStartPre=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper mount %i
ExecStart=$STATE/%i/merged/bin/start-child
ExecStopPost=+/bin/sh -c '(sleep 0.2; kill \$\$(cat /run/oh-late-child)) & exec /usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper umount --wait 5 %i'
KillMode=process
EOF
    c systemctl start "$unit"
    CHILD=$(child_of "$unit" "$inst")
    echo "$CHILD" > "$C_ROOT/run/oh-late-child"
    register files /run/oh-late-child
    timed_stop "$unit"
    assert_unit_state "$unit" inactive/success
    run journal_of "$inst" -o cat OVERLAY_HELPER_ACTION=umount
    refute_output --partial "KillMode=control-group"
    assert_output --partial "unmounted $inst"
    assert_gone "$inst"
}

@test "scenario 4: a holder in another unit: waited for event-driven, then the stop ends clean" {
    local pid t0 ms
    c_instance other
    use_unit overlay-example@other.service oh-holder.service
    c systemctl start overlay-example@other.service
    c systemd-run --quiet --unit=oh-holder.service --working-directory="$(merged other)" sleep infinity
    pid=$(prop oh-holder.service MainPID)
    for _ in $(seq 100); do [ "$(c readlink "/proc/$pid/cwd")" = "$(merged other)" ] && break; sleep 0.01; done

    # The example's ExecStopPost= waits (--wait 5) for a holder in another unit.
    t0=${EPOCHREALTIME/./}
    c systemctl stop --no-block overlay-example@other.service
    for _ in $(seq 300); do
        c pgrep -x overlay-helper >/dev/null && break
        sleep 0.01
    done
    assert_probe_names other "$pid" oh-holder.service
    sleep 0.3
    c systemctl stop oh-holder.service
    wait_unit overlay-example@other.service inactive
    ms=$(ms_since "$t0")
    assert_unit_state overlay-example@other.service inactive/success
    assert_gone other
    [ "$ms" -lt 3000 ] || fail "the stop took ${ms} ms after the holder left"
    note "scenario 4 (another unit's holder, released after ~0.3 s): stop ${ms} ms"
}

@test "scenario 4: a holder in another unit, not released: exit 3 naming it" {
    local pid
    c_instance other2
    use_unit oh-holder2.service
    run c overlay-helper mount other2
    assert_success
    c systemd-run --quiet --unit=oh-holder2.service --working-directory="$(merged other2)" sleep infinity
    pid=$(prop oh-holder2.service MainPID)
    for _ in $(seq 100); do [ "$(c readlink "/proc/$pid/cwd")" = "$(merged other2)" ] && break; sleep 0.01; done
    run c overlay-helper umount other2
    assert_failure 3
    assert_output --partial "$pid"
    assert_output --partial "oh-holder2.service"
    assert_probe_names other2 "$pid" oh-holder2.service
    c systemctl stop oh-holder2.service
    run c overlay-helper umount other2
    assert_success
    assert_gone other2
}

@test "scenario 4: a copy in another namespace (MountFlags=private unit): exit 3 naming it, Work untouched" {
    local pid
    c_instance ghost
    use_unit oh-ghost.service
    run c overlay-helper mount ghost
    assert_success
    c systemd-run --quiet --unit=oh-ghost.service -p MountFlags=private sleep infinity
    pid=$(prop oh-ghost.service MainPID)
    # systemd-run returns once the unit is forked: wait for sleep in its own namespace
    for _ in $(seq 300); do
        [ "$(c cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] &&
            [ "$(c readlink "/proc/$pid/ns/mnt")" != "$(c readlink /proc/1/ns/mnt)" ] && break
        sleep 0.01
    done
    run c overlay-helper umount ghost
    assert_failure 3
    assert_output --partial "$pid"
    assert_output --partial "oh-ghost.service"
    # Unmounted in PID 1's namespace, alive in the unit's: a ghost.
    run c findmnt --noheadings --mountpoint "$(merged ghost)"
    assert_failure
    c test -d "$(work ghost)/work"
    assert_probe_names ghost "$pid" oh-ghost.service
    c systemctl stop oh-ghost.service
    run c overlay-helper umount ghost
    assert_success
    assert_gone ghost
}
