#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sandboxed services beside an instance. Under systemd a service with
# ProtectSystem=, PrivateTmp= and the like runs in a mount namespace of its
# own, made as a slave of PID 1's: it holds a copy of every overlay mounted
# when it started, and receives the unmount. logind, timesyncd and others do
# this on every stock host. Such a copy holds nothing unless a process in it
# has a reference inside; probe must not list the service as a holder, and
# stopping the instance must work while the service runs on.

load helpers

# sandbox_unit NAME LINES: a sleeping service with the sandboxing LINES,
# started after the instance is mounted, so its namespace copies it.
sandbox_unit() {
    local name=$1
    shift
    c_unit "$name.service" <<EOF
[Service]
ExecStart=/bin/sleep infinity
$(printf '%s\n' "$@")
EOF
    use_unit "$name.service"
    c systemctl start "$name.service"
}

# copy_of_pid INSTANCE PID: the probe --json copy whose namespace PID is in,
# as "init=B propagation=P processes=N", or nothing.
copy_of_pid() {
    local ns
    ns=$(c stat -L -c %i "/proc/$2/ns/mnt")
    c overlay-helper probe --json "$1" | python3 -c '
import json, sys
ns = int(sys.argv[1])
for c in json.load(sys.stdin)["copies"]:
    if c["mnt_ns"] == ns:
        print("init=%s propagation=%s processes=%d" % (
            c["init"], c.get("propagation"), len(c["processes"])))
' "$ns"
}

@test "sandbox: a ProtectSystem= service beside an idle instance is no holder; the instance stops while it runs" {
    local pid
    c_instance sbx
    run c overlay-helper mount sbx
    assert_success
    sandbox_unit oh-sbx-strict "ProtectSystem=strict" "PrivateTmp=true"
    pid=$(prop oh-sbx-strict.service MainPID)
    [ "$pid" -gt 0 ]
    # Its namespace really holds a copy, as a slave.
    run c grep " $(merged sbx) " "/proc/$pid/mountinfo"
    assert_success
    assert_output --regexp 'master:[0-9]+'

    run c overlay-helper probe --json sbx
    refute_output --regexp "\"pid\":$pid[,}]"
    run copy_of_pid sbx "$pid"
    assert_output "init=False propagation=receives-unmount processes=0"
    run c overlay-helper probe sbx
    refute_output --partial "oh-sbx-strict"

    run c overlay-helper umount sbx
    assert_success
    assert_gone sbx
    # The service never noticed.
    assert_unit_state oh-sbx-strict.service active/success
    run c grep -c " $(merged sbx) " "/proc/$pid/mountinfo"
    assert_output 0
}

@test "sandbox: a sandboxed service with its cwd inside is the holder, named with its unit" {
    local pid
    c_instance sbh
    run c overlay-helper mount sbh
    assert_success
    sandbox_unit oh-sbx-cwd "ProtectSystem=full" "WorkingDirectory=$(merged sbh)"
    pid=$(prop oh-sbx-cwd.service MainPID)
    run c overlay-helper probe --json sbh
    assert_failure 3
    assert_output --regexp "\"pid\":$pid,\"tid\":null,\"comm\":\"sleep\",\"unit\":\"oh-sbx-cwd.service\""
    run c overlay-helper umount sbh
    assert_failure 3
    assert_output --partial "oh-sbx-cwd.service"
    assert_mounted sbh
    c systemctl stop oh-sbx-cwd.service
    run c overlay-helper umount sbh
    assert_success
    assert_gone sbh
}
