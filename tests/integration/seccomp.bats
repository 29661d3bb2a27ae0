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
SystemCallFilter=@system-service @mount
${errno:+SystemCallErrorNumber=$errno}
ExecStart=
ExecStart=/usr/sbin/overlay-helper -v mount %i
ExecStop=
ExecStop=/usr/sbin/overlay-helper -v umount --wait 1 %i
EOF
    use_unit "overlay-helper@$name.service"
}

@test "SystemCallFilter=@system-service @mount (EPERM): mount and umount still work" {
    filtered_instance sc-eperm EPERM
    c systemctl start overlay-helper@sc-eperm.service
    assert_unit_state overlay-helper@sc-eperm.service active/success
    assert_mounted sc-eperm
    run journal_of sc-eperm
    assert_output --partial "statmount unavailable"
    c systemctl stop overlay-helper@sc-eperm.service
    assert_unit_state overlay-helper@sc-eperm.service inactive/success
    assert_gone sc-eperm
}

@test "SystemCallFilter=@system-service @mount (systemd's default: SIGSYS): mount and umount still work" {
    filtered_instance sc-default
    c systemctl start overlay-helper@sc-default.service
    assert_unit_state overlay-helper@sc-default.service active/success
    assert_mounted sc-default
    run journal_of sc-default
    assert_output --partial "a seccomp filter kills its callers"
    c systemctl stop overlay-helper@sc-default.service
    assert_unit_state overlay-helper@sc-default.service inactive/success
    assert_gone sc-default
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
