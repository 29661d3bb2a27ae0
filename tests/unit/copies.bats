#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copies, classified: while the instance is mounted in PID 1's namespace, a
# copy the unmount propagates to (its parent a slave or peer of the mount
# the overlay sits on, nothing mounted on the copy) is no holder, and one
# that survives the unmount (private, parent made private, a submount of
# its own) is a ghost in waiting, flagged before the unmount with every
# process in its namespace. Verified on 6.18: the unmount follows the
# parent's propagation, not the copy's own.

load helpers

M() { echo "$T/state/web/merged"; }

setup_web() {
    simple_instance web
    oh mount web
}

# the non-init copies: (propagation, [(pid, refs)])
others() {
    json '[(c["propagation"], [(p["pid"], p["refs"]) for p in c["processes"]]) for c in d["copies"] if not c["init"]]'
}

ns_of() {
    readlink "/proc/$1/ns/mnt" | tr -dc 0-9
}

@test "copies: a logind-like slave copy with no references receives the unmount, holds nothing" {
    setup_web
    pid=$(in_ns slave sleep 300)
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["mounted"], d["holders"], [(c["init"], c["propagation"]) for c in d["copies"]]')" = "True 0 [(True, 'init'), (False, 'receives-unmount')]" ]
    [ "$(others)" = "[('receives-unmount', [])]" ]
    run oh probe web
    assert_failure 3
    assert_output --partial "mounted in PID 1's namespace only; the scan finds no process or mount that holds it (the unmount itself will tell: the kernel refuses it while anything does)"
    assert_output --partial "$(M) (receives the unmount)"
    refute_output --partial "other mount namespace"
    run oh umount web
    assert_success
    refute_mounted "$(M)"
    [ "$(grep -c "$(M)" "/proc/$pid/mountinfo")" = 0 ]
    [ ! -e "$T/state/web/work/work" ]
    run oh probe web
    assert_success
}

@test "copies: the same on the mountinfo path" {
    setup_web
    in_ns slave sleep 300 >/dev/null
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh probe web --json
    assert_failure 3
    [ "$(json 'd["holders"], [c["propagation"] for c in d["copies"]]')" = "0 ['init', 'receives-unmount']" ]
}

@test "copies: a slave copy with a process's cwd inside: umount exits 3 naming it and its namespace" {
    setup_web
    pid=$(in_ns slave sh -c "cd '$(M)' && exec sleep 300")
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["holders"]')" = 1 ]
    [ "$(others)" = "[('receives-unmount', [($pid, ['cwd'])])]" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "target is busy"
    assert_output --partial "a copy in mnt:[$(ns_of "$pid")] at $(M) (receives the unmount): $pid sleep (cwd)"
    is_mounted "$(M)"
    [ -d "$T/state/web/work/work" ]
}

@test "copies: a private copy is a ghost in waiting before the unmount, and one after" {
    setup_web
    pid=$(in_ns private sleep 300)
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["holders"]')" = 1 ]
    # every member, references or not, with its unit field
    [ "$(others)" = "[('ghost-in-waiting', [($pid, [])])]" ]
    [ "$(json '[sorted(p) for c in d["copies"] for p in c["processes"]]')" = "[['comm', 'pid', 'refs', 'tid', 'unit']]" ]
    run oh probe web
    assert_failure 3
    assert_output --partial "(ghost in waiting: survives the unmount)"
    assert_output --partial "held by 1 process, 1 other mount namespace"
    run oh umount web
    assert_failure 3
    assert_output --partial "ghost"
    assert_output --partial "a copy in mnt:[$(ns_of "$pid")] at $(M): $pid sleep"
    refute_mounted "$(M)"
    [ -d "$T/state/web/work/work" ]
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["mounted"]')" = False ]
    [ "$(others)" = "[('ghost', [($pid, [])])]" ]
    kill_wait "$pid"
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
}

@test "copies: the parent's propagation decides, not the copy's own" {
    setup_web
    # the copy made private, its parent still a slave: the unmount takes it
    a=$(in_ns slave sh -c "mount --make-private '$(M)' && exec sleep 300")
    # the parent made private, the copy still a slave: it survives
    b=$(in_ns slave sh -c "mount --make-private '$T' && exec sleep 300")
    run oh probe web --json
    assert_failure 3
    [ "$(json 'sorted((p["pid"], c["propagation"]) for c in d["copies"] for p in c["processes"])')" = "[($b, 'ghost-in-waiting')]" ]
    [ "$(json 'sorted(c["propagation"] for c in d["copies"])')" = "['ghost-in-waiting', 'init', 'receives-unmount']" ]
    run oh umount web
    assert_failure 3
    [ "$(grep -c "$(M)" "/proc/$a/mountinfo")" = 0 ]
    [ "$(grep -c "$(M)" "/proc/$b/mountinfo")" = 1 ]
}

@test "copies: a slave copy with a submount of its own is a ghost in waiting" {
    setup_web
    mkdir -p "$(M)/data"
    pid=$(in_ns slave sh -c "mount -t tmpfs sub '$(M)/data' && exec sleep 300")
    run oh probe web --json
    assert_failure 3
    [ "$(others)" = "[('ghost-in-waiting', [($pid, [])])]" ]
}

@test "copies: a slave of a slave (a namespace made inside a service's) receives the unmount" {
    setup_web
    # the middle namespace must live on: with it gone, the kernel hands the
    # leaf's mounts to its master directly
    pid=$(in_ns slave sh -c "mount --make-rshared '$T' || exit 1
        unshare --mount --propagation slave sleep 300 & exec sleep 300")
    for _ in $(seq 100); do
        leaf=$(pgrep -P "$pid" sleep || true)
        [ -n "$leaf" ] && [ "$(ns_of "$leaf")" != "$(ns_of "$pid")" ] && break
        sleep 0.02
    done
    track_pid "$leaf"
    grep -q "master:.*shared:\|shared:.*master:" "/proc/$pid/mountinfo"
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["holders"], sorted(c["propagation"] for c in d["copies"])')" = "0 ['init', 'receives-unmount', 'receives-unmount']" ]
    # mountinfo has no propagate_from for us: the chain is followed by hand
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh probe web --json
    [ "$(json 'd["holders"], sorted(c["propagation"] for c in d["copies"])')" = "0 ['init', 'receives-unmount', 'receives-unmount']" ]
    run oh umount web
    assert_success
    [ "$(grep -c "$(M)" "/proc/$leaf/mountinfo")" = 0 ]
}
