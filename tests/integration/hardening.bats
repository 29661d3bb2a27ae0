#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The sandbox of the shipped units under a real systemd: overlay-helper@.service
# (every setting that leaves the helper in PID 1's mount namespace) and the
# example service (a capability-less root in a user namespace of its own).
# systemd-analyze security rates them, and the helper still does all of its
# work under every setting: mount, umount, purge, an image lower on a loop
# device, a busy umount naming holders of other users, Mode= with setgid.
# docs/units.md gives each setting's reason.

load helpers

# What systemd-analyze security may rate them at most.
MAX_HELPER=6.5
MAX_EXAMPLE=4.0

# exposure UNIT: the unit's overall exposure, as systemd-analyze security in
# the container rates it.
exposure() {
    c systemd-analyze security --no-pager "$1" |
        sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p'
}

# at_most VALUE MAX: VALUE <= MAX, as decimals.
at_most() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v != "" && v + 0 <= m + 0) }'
}

# helper_instance NAME [CONFIG LINE...]: the instance, and the shipped
# overlay-helper@NAME.service with only StopWhenUnneeded=no added (started by
# hand, nothing binds to it): the sandbox is the shipped one.
helper_instance() {
    local name=$1
    shift
    c_instance "$name" "$@"
    printf '[Unit]\nStopWhenUnneeded=no\n' | c_unit "overlay-helper@$name.service.d/by-hand.conf"
    use_unit "overlay-helper@$name.service"
}

# assert_no_escape INSTANCE: the helper ran in PID 1's mount namespace from
# the start (it warns when it had to join it).
assert_no_escape() {
    run journal_of "$1" "MESSAGE_ID=$MSGID_NS_ESCAPE"
    refute_output --partial "joined it with setns"
}

# The capability bounding set of helper/caps.c's list: CHOWN 0, DAC_OVERRIDE
# 1, DAC_READ_SEARCH 2, FOWNER 3, SYS_CHROOT 18, SYS_PTRACE 19, SYS_ADMIN 21,
# LEASE 28.
HELPER_CAPS=00000000102c000f

# assert_sandboxed_helper PID: the helper process PID runs under the unit's
# sandbox, in PID 1's mount namespace and a network namespace of its own.
assert_sandboxed_helper() {
    local pid=$1
    run c grep -E '^(CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status"
    assert_output --partial "CapBnd:	$HELPER_CAPS"
    assert_output --partial "NoNewPrivs:	1"
    assert_output --partial "Seccomp:	2"
    assert_equal "$(c readlink "/proc/$pid/ns/mnt")" "$(c readlink /proc/1/ns/mnt)"
    [ "$(c readlink "/proc/$pid/ns/net")" != "$(c readlink /proc/1/ns/net)" ] ||
        fail "the helper runs in PID 1's network namespace: PrivateNetwork= did not apply"
}

# container_loop_devices: loop device nodes in the container's /dev (nspawn
# gives it none: its /dev is a tmpfs with the API devices only), or a skip
# saying why there can be none. The nodes go with the container.
container_loop_devices() {
    local nr max=0 max_part shift=0 dev
    [ -c /dev/loop-control ] || skip "the host has no /dev/loop-control (no loop driver)"
    command -v mkfs.erofs >/dev/null || skip "no mkfs.erofs (apt-get install erofs-utils)"
    c test -c /dev/loop-control && return 0
    # the helper opens /dev/loopN for the N that LOOP_CTL_GET_FREE returns:
    # nodes for every device there is, and 64 more
    for dev in /sys/block/loop*; do
        [ -e "$dev" ] || continue
        nr=${dev##*loop}
        [ "$nr" -gt "$max" ] && max=$nr
    done
    max_part=$(cat /sys/module/loop/parameters/max_part 2>/dev/null || echo 0)
    while [ $((1 << shift)) -le "$max_part" ]; do shift=$((shift + 1)); done
    mknod -m 0660 "$C_ROOT/dev/loop-control" c 10 237 ||
        skip "cannot make device nodes in the container's /dev"
    for ((nr = 0; nr <= max + 64; nr++)); do
        [ -e "$C_ROOT/dev/loop$nr" ] || mknod -m 0660 "$C_ROOT/dev/loop$nr" b 7 $((nr << shift))
    done
    # nspawn's own device policy: what the container may open at all
    c sh -c 'exec 3<>/dev/loop-control' 2>/dev/null ||
        skip "the container may not open /dev/loop-control (its device cgroup refuses it)"
}

# erofs_lower PATH: an erofs image at PATH in the container, of the common
# lower layer.
erofs_lower() {
    register files "$1"
    c mkdir -p "$(dirname "$1")"
    c mkfs.erofs --quiet "$1" "$LOWER"
    c chmod 0644 "$1"
}

@test "hardening: systemd-analyze security rates overlay-helper@.service <= $MAX_HELPER, the example <= $MAX_EXAMPLE" {
    local helper example
    helper=$(exposure overlay-helper@hx.service)
    example=$(exposure overlay-example@hx.service)
    note "exposure: overlay-helper@.service $helper, overlay-example@.service $example"
    at_most "$helper" "$MAX_HELPER" || fail "overlay-helper@.service is rated '$helper', above $MAX_HELPER"
    at_most "$example" "$MAX_EXAMPLE" || fail "overlay-example@.service is rated '$example', above $MAX_EXAMPLE"
    # and what rates it so: the settings are in force in the loaded unit
    run prop overlay-helper@hx.service PrivateMounts
    assert_output no
    run prop overlay-helper@hx.service DevicePolicy
    assert_output closed
}

@test "hardening: mount, umount and purge through the hardened overlay-helper@.service, in PID 1's namespace" {
    helper_instance hd-life
    c systemctl start overlay-helper@hd-life.service
    assert_unit_state overlay-helper@hd-life.service active/success
    assert_mounted hd-life
    c sh -c "echo written > $(merged hd-life)/new.txt"
    c systemctl stop overlay-helper@hd-life.service
    assert_unit_state overlay-helper@hd-life.service inactive/success
    assert_gone hd-life
    c test -f "$(upper hd-life)/new.txt"

    # purge under the same sandbox: the unit's ExecStop= made a purge
    printf '[Service]\nExecStop=\nExecStop=/usr/sbin/overlay-helper purge --wait 5 %%i\n' |
        c_unit overlay-helper@hd-life.service.d/purge.conf
    c systemctl start overlay-helper@hd-life.service
    assert_mounted hd-life
    c systemctl stop overlay-helper@hd-life.service
    assert_unit_state overlay-helper@hd-life.service inactive/success
    assert_gone hd-life
    run c ls -A "$(upper hd-life)"
    assert_output ""
    run journal_of hd-life -o cat
    assert_output --partial "mounted hd-life"
    assert_output --partial "unmounted hd-life"
    refute_output --partial "unavailable"
    assert_no_escape hd-life
}

# fallbacks_of INSTANCE: the kernel features the helper's -v runs for
# INSTANCE found unavailable, one per line, sorted.
fallbacks_of() {
    journal_of "$1" -o cat | sed -n 's/^\(.*\) unavailable (.*): took the fallback$/\1/p' | sort -u
}

@test "hardening: the unit's filters take no fast path from the helper that a plain unit has" {
    # In this container every unit also runs under systemd-nspawn's own
    # filter, which refuses what it has no name for (statmount, listmount)
    # with ENOSYS: compare with a plain transient unit, not with nothing.
    c_instance hd-plain
    c systemd-run --quiet --wait --unit=oh-hd-plain-mount /usr/sbin/overlay-helper -v mount hd-plain
    c systemd-run --quiet --wait --unit=oh-hd-plain-umount /usr/sbin/overlay-helper -v umount hd-plain
    helper_instance hd-fast
    printf '[Service]\nExecStart=\nExecStart=/usr/sbin/overlay-helper -v mount %%i\nExecStop=\nExecStop=/usr/sbin/overlay-helper -v umount %%i\n' |
        c_unit overlay-helper@hd-fast.service.d/verbose.conf
    c systemctl start overlay-helper@hd-fast.service
    c systemctl stop overlay-helper@hd-fast.service
    assert_unit_state overlay-helper@hd-fast.service inactive/success
    assert_gone hd-fast
    note "fallbacks of a plain unit here: $(fallbacks_of hd-plain | tr '\n' ' ')"
    run fallbacks_of hd-fast
    assert_output "$(fallbacks_of hd-plain)"
}

@test "hardening: Mode= with the setgid bit still works (why RestrictSUIDSGID= is left out)" {
    helper_instance hd-sgid "Mode=2775"
    c systemctl start overlay-helper@hd-sgid.service
    assert_unit_state overlay-helper@hd-sgid.service active/success
    run c stat -c %a "$(upper hd-sgid)"
    assert_output 2775
    c systemctl stop overlay-helper@hd-sgid.service
    assert_gone hd-sgid
}

@test "hardening: a busy umount under the sandbox names holders of root and of another user, and waits" {
    local pid
    helper_instance hd-busy
    c systemctl start overlay-helper@hd-busy.service
    assert_mounted hd-busy
    # a root holder with every capability (more than the helper keeps: reading
    # its /proc entries needs CAP_SYS_PTRACE) and one of another user
    c systemd-run --quiet --unit=oh-hd-root --property=WorkingDirectory="$(merged hd-busy)" sleep infinity
    c systemd-run --quiet --unit=oh-hd-nobody --property=User=nobody \
        --property=WorkingDirectory="$(merged hd-busy)" sleep infinity
    use_unit oh-hd-root.service oh-hd-nobody.service
    c systemctl stop --no-block overlay-helper@hd-busy.service
    # while it waits (--wait 5): the process really is sandboxed
    for _ in $(seq 300); do
        pid=$(prop overlay-helper@hd-busy.service ControlPID)
        [ "${pid:-0}" != 0 ] && [ "$(c cat "/proc/$pid/comm" 2>/dev/null)" = overlay-helper ] && break
        sleep 0.01
    done
    [ "${pid:-0}" != 0 ] || fail "no ExecStop= process seen"
    assert_sandboxed_helper "$pid"
    wait_unit overlay-helper@hd-busy.service failed
    assert_unit_state overlay-helper@hd-busy.service failed/exit-code
    assert_mounted hd-busy
    run journal_of hd-busy -o cat
    assert_output --partial "oh-hd-root.service"
    assert_output --partial "oh-hd-nobody.service"
    refute_output --partial "could not read"
    c systemctl stop oh-hd-root.service oh-hd-nobody.service
    c systemctl reset-failed overlay-helper@hd-busy.service
    c systemctl start overlay-helper@hd-busy.service
    c systemctl stop overlay-helper@hd-busy.service
    assert_unit_state overlay-helper@hd-busy.service inactive/success
    assert_gone hd-busy
    assert_no_escape hd-busy
}

@test "hardening: an image lower on a loop device, through the hardened unit and the example service" {
    local img=/srv/oh-hd/base.erofs
    container_loop_devices
    erofs_lower "$img"
    # the helper keeps its image dir (locks, mount points) beneath the
    # runtime dir; the file's leak check would count it
    register files /run/overlay-helper/images
    helper_instance hd-img
    # the image is the only lower (c_instance wrote Lower=$LOWER: replace it)
    printf '[Overlay]\nLower=%s\n' "$img" > "$C_ROOT/etc/overlay-helper/hd-img.conf"
    c systemctl start overlay-helper@hd-img.service
    assert_unit_state overlay-helper@hd-img.service active/success
    assert_mounted hd-img
    run c cat "$(merged hd-img)/hello.txt"
    assert_output "from the lower layer"
    run journal_of hd-img -o cat
    assert_output --partial "attached image $img read-only as /dev/loop"
    c systemctl stop overlay-helper@hd-img.service
    assert_unit_state overlay-helper@hd-img.service inactive/success
    assert_gone hd-img
    run c losetup -j "$img"
    assert_output ""

    # the example's "+" lines run in its cgroup, closed by PrivateDevices=
    # but for the loop devices
    use_unit overlay-example@hd-img.service
    c systemctl start overlay-example@hd-img.service
    assert_unit_state overlay-example@hd-img.service active/success
    wait_runs hd-img 1
    c systemctl stop overlay-example@hd-img.service
    assert_unit_state overlay-example@hd-img.service inactive/success
    assert_gone hd-img
    run c losetup -j "$img"
    assert_output ""
    assert_no_escape hd-img
}

@test "hardening: the example service runs its program as a capability-less root in a user namespace" {
    local pid
    c_instance hd-ex
    use_unit overlay-example@hd-ex.service
    c systemctl start overlay-example@hd-ex.service
    assert_unit_state overlay-example@hd-ex.service active/success
    assert_mounted hd-ex
    wait_runs hd-ex 1
    pid=$(prop overlay-example@hd-ex.service MainPID)
    run c grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status"
    assert_output --regexp $'Uid:\t0\t'
    assert_output --partial "CapEff:	0000000000000000"
    assert_output --partial "CapBnd:	0000000000000000"
    assert_output --partial "NoNewPrivs:	1"
    assert_output --partial "Seccomp:	2"
    [ "$(c readlink "/proc/$pid/ns/user")" != "$(c readlink /proc/1/ns/user)" ] ||
        fail "the example's program runs in PID 1's user namespace: PrivateUsers= did not apply"
    [ "$(c readlink "/proc/$pid/ns/net")" != "$(c readlink /proc/1/ns/net)" ] ||
        fail "the example's program runs in PID 1's network namespace"
    # it wrote through the overlay, as root
    run c stat -c %u "$(upper hd-ex)/data/runs"
    assert_output 0
    c systemctl stop overlay-example@hd-ex.service
    assert_unit_state overlay-example@hd-ex.service inactive/success
    assert_gone hd-ex
    assert_no_escape hd-ex
}
