#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# SystemCallFilter= on the helper's own unit, under a real systemd 252: its
# filter has no names for statmount() and listmount() (its @mount set lacks
# them), so they fail with SystemCallErrorNumber= where one is set and kill
# the caller with SIGSYS where none is (verified on 252.39). The helper must
# neither fail nor die of it: it takes its fallbacks (mountinfo, the /proc
# scan) and still mounts, unmounts and names holders; -v on the Exec lines
# shows, once, why.

load helpers

# filtered_instance NAME [ERRNO]: overlay-helper@NAME.service under the
# filter an operator hardening it would write, with -v on its Exec lines.
filtered_instance() {
    local name=$1 errno=${2:-}
    c_instance "$name"
    # StopWhenUnneeded=no: started by hand, no service binds to it
    c_unit "overlay-helper@$name.service.d/seccomp.conf" <<EOF
[Unit]
StopWhenUnneeded=no
[Service]
# The empty lines reset what the shipped unit sets (its deny list, EPERM):
# an allow list merged into a deny list is no allow list, and an empty
# SystemCallErrorNumber= is systemd's default, SIGSYS.
SystemCallFilter=
SystemCallFilter=@system-service @mount
SystemCallErrorNumber=${errno}
ExecStart=
ExecStart=/usr/sbin/overlay-helper -v mount %i
ExecStop=
ExecStop=/usr/sbin/overlay-helper -v umount --wait 1 %i
EOF
    use_unit "overlay-helper@$name.service"
}

# start_stop NAME NOTE [ERRNO]: the filtered instance starts mounted, says
# NOTE in its journal (-v: the fallback taken) and stops unmounted.
start_stop() {
    local name=$1 note=$2
    filtered_instance "$name" "${3:-}"
    c systemctl start "overlay-helper@$name.service"
    assert_unit_state "overlay-helper@$name.service" active/success
    assert_mounted "$name"
    run journal_of "$name"
    assert_output --partial "$note"
    c systemctl stop "overlay-helper@$name.service"
    assert_unit_state "overlay-helper@$name.service" inactive/success
    assert_gone "$name"
}

@test "SystemCallFilter=@system-service @mount (EPERM): mount and umount still work" {
    start_stop sc-eperm "statmount unavailable" EPERM
}

@test "SystemCallFilter=@system-service @mount (systemd's default: SIGSYS): mount and umount still work" {
    start_stop sc-default "a seccomp filter kills its callers"
}

@test "SystemCallFilter= (EPERM): a holder keeps the overlay; ExecStop= names it and fails" {
    filtered_instance sc-held EPERM
    c systemctl start overlay-helper@sc-held.service
    assert_mounted sc-held
    c systemd-run --unit=oh-sc-holder --property=WorkingDirectory="$(merged sc-held)" \
        sleep infinity
    use_unit oh-sc-holder.service
    run c systemctl stop overlay-helper@sc-held.service
    assert_unit_state overlay-helper@sc-held.service failed/exit-code
    assert_mounted sc-held
    run journal_of sc-held
    assert_output --partial "oh-sc-holder.service"
    refute_output --partial "looking up the mount"
    c systemctl stop oh-sc-holder.service
    c systemctl reset-failed overlay-helper@sc-held.service
    c overlay-helper umount sc-held
    assert_gone sc-held
}
