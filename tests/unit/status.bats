#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# status: human and JSON.

load helpers

@test "status says not mounted, then mounted, with the layers" {
    simple_instance web
    run oh status web
    assert_success
    assert_output --partial "web: not mounted"
    oh mount web
    run oh status web
    assert_success
    assert_output --partial "web: mounted"
    assert_output --partial "lower:  $T/lower"
    assert_output --partial "upper:  $T/state/web/upper"
}

@test "status --json carries the DESIGN.md keys" {
    simple_instance web
    oh mount web
    run oh --json status web
    assert_success
    echo "$output" | python3 -c '
import json, sys
top = json.load(sys.stdin)
assert list(top) == ["instances"] and len(top["instances"]) == 1, top
d = top["instances"][0]
for k in ("target", "instance", "mounted", "free", "copies"):
    assert k in d, k
assert d["instance"] == "web" and d["mounted"] is True and d["free"] is False
assert d["mount"]["same_layers"] is True
assert len(d["copies"]) == 1 and d["copies"][0]["init"] is True, d["copies"]
'
    oh umount web
    run oh --json status web
    echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)["instances"][0]
assert d["mounted"] is False and d["free"] is True and d["mount"] is None and d["copies"] == []
'
}

@test "status with no instance lists every configured one (templates skipped)" {
    simple_instance a
    simple_instance b
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf 'tpl@'
    run oh --json status
    assert_success
    echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [i["instance"] for i in d["instances"]] == ["a", "b"], d
'
}

@test "status of an instance with a bad config exits 2" {
    printf '[Overlay]\nLower=relative\n' | write_conf bad
    run oh status bad
    assert_failure 2
    assert_output --partial "bad.conf:2"
}

@test "status with no instance also lists mounted template instances" {
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf 'game@'
    simple_instance web
    oh mount game@3
    oh mount game@12
    run oh --json status
    assert_success
    echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
got = [(i["instance"], i["mounted"]) for i in d["instances"]]
assert got == [("game@12", True), ("game@3", True), ("web", False)], got
'
    run oh status
    assert_success
    assert_output --partial "game@3: mounted"
    oh umount game@3
    oh umount game@12
    run oh --json status
    echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [i["instance"] for i in d["instances"]] == ["web"], d
'
}

@test "status of many instances names each holder on its own instance only" {
    for i in $(seq -w 1 12); do
        simple_instance "a$i"
        oh -q mount "a$i"
    done
    hold_cwd "$T/state/a03/merged"
    cwd_pid=$pid
    sleep 300 3< "$T/state/a05/merged/hello.txt" &
    fd_pid=$!
    track_pid "$fd_pid"
    # a slave namespace made now holds a copy of every instance
    unshare --mount --propagation slave sh -c 'cd "$1" && exec sleep 300' sh "$T/state/a07/merged" &
    slave_pid=$!
    track_pid "$slave_pid"
    wait_for_cwd "$slave_pid" "$T/state/a07/merged"
    # a private one too, and it keeps a09 alive after a plain umount: a ghost
    unshare --mount --propagation private sleep 300 &
    ghost_pid=$!
    track_pid "$ghost_pid"
    wait_link "/proc/$ghost_pid/ns/mnt" != "$(readlink /proc/self/ns/mnt)"
    wait_link "/proc/$fd_pid/fd/3" = "$T/state/a05/merged/hello.txt"
    umount "$T/state/a09/merged"
    run oh --json status
    assert_success
    echo "$output" | python3 -c '
import json, sys
cwd, fd, slave, ghost = (int(a) for a in sys.argv[1:])
d = {i["instance"]: i for i in json.load(sys.stdin)["instances"]}
assert sorted(d) == ["a%02d" % i for i in range(1, 13)], sorted(d)
want = {"a03": {(cwd, True)}, "a05": {(fd, True)}, "a07": {(slave, False)}, "a09": {(ghost, False)}}
for name, inst in d.items():
    got = {(p["pid"], c["init"]) for c in inst["copies"] for p in c["processes"]}
    # the private namespace holds every mounted instance: a ghost in waiting
    assert got == want.get(name, set()) | {(ghost, False)}, (name, got)
    assert inst["mounted"] == (name != "a09"), name
    # PID 1'"'"'s copy (but for a09), the slave'"'"'s (but for a09) and the private one'"'"'s
    assert len(inst["copies"]) == (1 if name == "a09" else 3), (name, inst["copies"])
refs = {p["pid"]: p["refs"] for c in d["a05"]["copies"] for p in c["processes"]}
assert any(r.startswith("fd:3:") for r in refs[fd]), refs
' "$cwd_pid" "$fd_pid" "$slave_pid" "$ghost_pid"
}

@test "status reads each process once, whatever the number of instances" {
    command -v strace > /dev/null || skip "needs strace"
    for i in $(seq -w 1 30); do
        simple_instance "b$i"
        oh -q mount "b$i"
    done
    for _ in $(seq 1 20); do
        sleep 300 &
        track_pid $!
    done
    hold_cwd "$T/state/b17/merged"
    procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
    run strace -f -qq -e trace=openat,readlinkat -o "$T/trace" "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" --json status
    assert_success
    # One look at each process's memory maps (the holder twice), not one per
    # instance; one read of each process's namespace link, not one per instance.
    maps=$(grep -c ', "maps",' "$T/trace" || true)
    links=$(grep -c 'ns/mnt",' "$T/trace" || true)
    echo "processes: $procs, maps opened: $maps, ns links read: $links"
    [ "$maps" -le $((procs + 10)) ]
    [ "$links" -le $((2 * procs + 10)) ]
}

@test "status --json keeps an entry, with the error, for an instance it cannot show" {
    simple_instance good
    printf '[Overlay]\nLower=relative\n' | write_conf bad
    run oh --json status
    assert_failure 2
    echo "$output" | grep '^{' | python3 -c '
import json, sys
d = json.load(sys.stdin)
got = {i["instance"]: i.get("error") for i in d["instances"]}
assert list(got) == ["bad", "good"], got
assert "bad.conf:2" in got["bad"] and got["good"] is None, got
'
}

@test "an instance found only by its mount, its config gone, is a failure (1), not usage (2)" {
    simple_instance web
    oh mount web
    mv "$T/etc/web.conf" "$T/web.conf.away"
    run oh status
    assert_failure 1
    assert_output --partial "web"
    mv "$T/web.conf.away" "$T/etc/web.conf"
    oh umount web
}

@test "an instance whose Merged cannot be looked at is still probed and shown" {
    ln -s loop "$T/loop"
    printf '[Overlay]\nLower=%s\nMerged=%s\n' "$T/lower" "$T/loop/merged" | write_conf web
    run oh probe web
    assert_success
    refute_output --partial "Success"
    run oh status web
    assert_success
    assert_output --partial "web: unknown (Merged cannot be looked at)"
    assert_output --partial "Too many levels of symbolic links"
}

@test "probe of an instance works from a cwd that was deleted" {
    simple_instance web
    oh mount web
    mkdir "$T/gone"
    cd "$T/gone"
    rmdir "$T/gone"
    run oh probe web
    assert_failure 3
    refute_output --partial "resolv"
    oh umount web
}
