#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The RUNBOOK's systemd transcript, as a test: a service that runs from its
# instance's overlay, a sandboxed service beside it (whose namespace receives
# the unmount), and one with MountFlags=private (a ghost in waiting). Asserts
# what the RUNBOOK says of it; with OH_TRANSCRIPT=FILE set, also appends each
# command and its real output to FILE as markdown console blocks:
#
#   OH_TRANSCRIPT=/tmp/systemd.md tests/run tests/integration/transcript.bats

load helpers

# show CMD...: runs CMD in the container like `run c`, and records it.
show() {
    run c "$@"
    [ -n "${OH_TRANSCRIPT:-}" ] || return 0
    {
        if [ "$1" = sh ] && [ "$2" = -c ]; then printf '# %s\n' "$3"; else printf '# %s\n' "$*"; fi
        [ -z "$output" ] || printf '%s\n' "$output"
        printf '[exit %d]\n' "$status"
    } >> "$OH_TRANSCRIPT"
}

heading() {
    [ -n "${OH_TRANSCRIPT:-}" ] || return 0
    printf '\n### %s\n\n```console\n' "$1" >> "$OH_TRANSCRIPT"
}

block_end() {
    [ -n "${OH_TRANSCRIPT:-}" ] || return 0
    printf '```\n' >> "$OH_TRANSCRIPT"
}

@test "transcript: under systemd, probe names units; a sandboxed copy is no holder; a private one is a ghost in waiting" {
    local web side priv
    c_instance web-3
    c_unit "web@.service" <<EOF
[Unit]
Description=web %i, run from its overlay
[Service]
ExecStartPre=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper mount web-%i
ExecStart=$STATE/web-%i/merged/bin/start-child
ExecStopPost=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- /usr/sbin/overlay-helper umount --wait 5 web-%i
EOF
    c_unit "sidecar.service" <<EOF
[Unit]
Description=a sandboxed neighbour, like systemd-logind
[Service]
ExecStart=/bin/sleep infinity
ProtectSystem=strict
PrivateTmp=true
EOF
    c_unit "private-job.service" <<EOF
[Unit]
Description=a job with MountFlags=private and its cwd in the overlay
[Service]
ExecStart=/bin/sleep infinity
WorkingDirectory=$STATE/web-3/merged/data
MountFlags=private
EOF
    use_unit web@3.service sidecar.service private-job.service
    c systemctl start web@3.service
    c systemctl start sidecar.service
    web=$(prop web@3.service MainPID)
    side=$(prop sidecar.service MainPID)

    heading "systemd: a running service, a sandboxed neighbour"
    show overlay-helper probe web-3
    assert_failure 3
    assert_output --regexp "web@3.service"
    refute_output --partial "sidecar.service"
    show overlay-helper probe --json web-3
    run python3 -c '
import json, sys
d = json.loads(sys.argv[1])
side = [p for c in d["copies"] for p in c["processes"] if p["pid"] == int(sys.argv[2])]
print(len(side))' "$output" "$side"
    assert_output 0
    # whose namespaces the copies that receive the unmount are: lsns names them
    show lsns -t mnt -o NS,PID,COMMAND
    assert_output --partial "sleep infinity"
    block_end

    c systemctl start private-job.service
    priv=$(prop private-job.service MainPID)
    heading "systemd: a MountFlags=private job: a ghost in waiting"
    show overlay-helper probe web-3
    assert_failure 3
    assert_output --partial "private-job.service"
    show systemctl stop web@3.service
    show sh -c "journalctl --no-pager -o cat -u web@3.service | grep overlay-helper | tail -3"
    assert_output --partial "ghost"
    show overlay-helper probe web-3
    assert_failure 3
    assert_output --regexp "$priv +sleep +private-job.service"
    show systemctl stop private-job.service
    show overlay-helper umount web-3
    assert_success
    show overlay-helper probe web-3
    assert_success
    block_end
    [ "$web" -gt 0 ]
    c systemctl reset-failed web@3.service 2>/dev/null || true
}
