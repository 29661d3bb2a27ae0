#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel's own namespace list (NS_MNT_GET_NEXT, 6.12) is refused to any
# caller outside the initial PID namespace, so the unit suite, which runs in
# a PID namespace of its own, only reaches the /proc paths. This file runs in
# the host's PID namespace to cover the walk. Every mount it makes lives in a
# private mount namespace of its own; the driver only reads.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

OVERLAY_HELPER_BIN="${OVERLAY_HELPER_BIN:-$BATS_TEST_DIRNAME/../../build/overlay-helper}"
OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"

setup_file() {
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$OH_BUILD/mntns-test" >&2
}

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    # 4026531836 (0xEFFFFFFC): the kernel's fixed inode for the initial PID
    # namespace; PID 1's own link may not be readable in a sandbox.
    [ "$(stat -L -c %i /proc/self/ns/pid)" = 4026531836 ] ||
        skip "not in the initial PID namespace: the walk is refused here"
    DRIVER="$OH_BUILD/mntns-test"
    export DRIVER
}

# Runs SCRIPT in a private mount namespace (host PID namespace), with $T a
# private tmpfs and $DRIVER the scan driver. The script cleans up after itself
# by dying: its namespace and everything mounted in it go with it.
in_private() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --propagation private bash -c '
        set -e
        T=$(mktemp -d /tmp/oh-walk.XXXXXX)
        trap "umount -R -l \"\$T\" 2>/dev/null; rmdir \"\$T\"" EXIT
        mount -t tmpfs walk "$T"
        '"$1"
}

@test "walk: a ghost in a process's private namespace, found without /proc" {
    # shellcheck disable=SC2016
    run in_private '
        mkdir "$T/x"; mount -t tmpfs ghost-walk "$T/x"
        unshare --mount --propagation private sleep 60 3>&- &
        pid=$!
        for _ in $(seq 200); do [ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && break; sleep 0.01; done
        umount "$T/x"
        echo "ghost_ns=$(stat -L -c %i /proc/$pid/ns/mnt)"
        "$DRIVER" scan ghost-walk
        kill $pid'
    assert_success
    ghost=$(printf '%s\n' "$output" | sed -n 's/^ghost_ns=//p')
    assert_line --partial "statmount=1 "
    # the walk leaves pid=0: namespaces come from the kernel's list, not /proc
    assert_line --regexp "^ns ino=$ghost id=[0-9]+ init=0 pid=0 mounts=[0-9]+ kept=1\$"
    [ "$(printf '%s\n' "$output" | grep -c '^  mount .*source=ghost-walk')" -eq 1 ]
}

@test "walk: a namespace no process is in, pinned by a bind mount" {
    # shellcheck disable=SC2016
    run in_private '
        mkdir "$T/x" "$T/pins"; mount -t tmpfs ghost-pin "$T/x"
        mount -t tmpfs pins "$T/pins"; mount --make-private "$T/pins"; touch "$T/pins/ns"
        ok=0
        for c in $(seq 0 $(($(nproc) - 1))); do
            taskset -c "$c" unshare --mount="$T/pins/ns" --propagation private true 2>/dev/null && { ok=1; break; }
        done
        [ $ok = 1 ] || unshare --mount="$T/pins/ns" --propagation private true
        umount "$T/x"
        echo "pinned_ns=$(stat -c %i "$T/pins/ns")"
        "$DRIVER" scan ghost-pin
        umount "$T/pins/ns"'
    assert_success
    pinned=$(printf '%s\n' "$output" | sed -n 's/^pinned_ns=//p')
    assert_line --regexp "^ns ino=$pinned id=[0-9]+ init=0 pid=0 mounts=[0-9]+ kept=1\$"
    assert_line --regexp "^pin ino=$pinned in=[0-9]+ at=.*/pins/ns\$"
}

@test "walk: reading every namespace costs one table read each (timing recorded)" {
    run "$DRIVER" bench 20
    assert_success
    assert_line --partial "statmount=1 "
    echo "# $(printf '%s\n' "$output" | tail -1)" >&3
}
