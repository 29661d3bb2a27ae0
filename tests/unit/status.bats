#!/usr/bin/env bats
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
