#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every command's --json against docs/schema/*.schema.json (docs/json.md):
# status of no instance, one, several, a failed one and one with an image
# lower; probe of an instance, a path, a free target, a busy one with
# holders, a ghost copy, a loop device, an image file, and --watch's lines.
# Then what the values mean: one kind of id per key, strings decoded, any
# byte carried as valid UTF-8 JSON.

# shellcheck disable=SC2030,SC2031 # each test is a subshell of its own: $pid is per test
load helpers

SCHEMAS=$BATS_TEST_DIRNAME/../../docs/schema
VALIDATE=$BATS_TEST_DIRNAME/../json-validate.py

M() { echo "$T/state/web/merged"; }

# oh_json STATUS ARGS...: runs the helper with ARGS, its stdout alone in
# $T/out.json and in $output (stderr apart: the log is no JSON), and fails
# unless it exits STATUS.
oh_json() {
    local want=$1 rc=0
    shift
    oh "$@" > "$T/out.json" 2> "$T/err" || rc=$?
    output=$(cat "$T/out.json")
    if [ "$rc" -ne "$want" ]; then
        echo "oh $*: exit $rc, not $want; stderr:" >&2
        cat "$T/err" >&2
        return 1
    fi
}

# valid SCHEMA [--lines]: $T/out.json is valid against SCHEMA.schema.json.
valid() {
    if ! python3 "$VALIDATE" "$SCHEMAS/$1.schema.json" "${@:2}" < "$T/out.json"; then
        echo "the document:" >&2
        cat "$T/out.json" >&2
        return 1
    fi
}

requires_tools() {
    for c in losetup mkfs.erofs; do
        command -v "$c" >/dev/null || skip "$c not installed"
    done
}

@test "json: status with no instance is {\"instances\": []}" {
    oh_json 0 --json status
    valid status
    [ "$output" = '{"instances":[]}' ]
}

@test "json: status of one instance, unmounted and mounted, is a list of one" {
    simple_instance web
    oh_json 0 --json status web
    valid status
    [ "$(json 'len(d["instances"]), d["instances"][0]["mount"], d["instances"][0]["error"]')" = "1 None None" ]
    oh mount web
    oh_json 0 status --json web
    valid status
    [ "$(json 'list(d), len(d["instances"]), d["instances"][0]["mounted"]')" = "['instances'] 1 True" ]
}

@test "json: status of several instances, one of them failed, is one entry each" {
    simple_instance a
    simple_instance b
    printf '[Overlay]\nLower=relative\n' | write_conf bad
    oh mount a
    oh_json 2 --json status
    valid status
    [ "$(json '[(i["instance"], sorted(i) == ["error", "instance"]) for i in d["instances"]]')" = "[('a', False), ('b', False), ('bad', True)]" ]
    [ "$(json '[i["error"] is None for i in d["instances"]]')" = "[True, True, False]" ]
    # named, the failed one alone still is a list
    oh_json 2 --json status bad
    valid status
    [ "$(json 'd["instances"][0]["instance"], "bad.conf:2" in d["instances"][0]["error"]')" = "bad True" ]
}

@test "json: status of a mounted instance with an image lower" {
    requires_tools
    mkfs.erofs --quiet "$T/base.erofs" "$T/lower"
    printf '[Overlay]\nLower=%s\n' "$T/base.erofs" | write_conf web
    oh_json 0 --json status web
    valid status
    [ "$(json 'd["instances"][0]["images"][0]["device"], d["instances"][0]["images"][0]["error"]')" = "None None" ]
    oh mount web
    oh_json 0 --json status web
    valid status
    [ "$(json 'd["instances"][0]["images"][0]["device"].startswith("/dev/loop")')" = True ]
    oh umount web
}

@test "json: probe of a free instance, a mounted one, its path and a path inside it" {
    simple_instance web
    oh_json 0 probe web --json
    valid probe
    [ "$(json 'd["free"], d["instance"], d["copies"]')" = "True web []" ]
    oh mount web
    oh_json 3 probe web --json
    valid probe
    oh_json 3 probe "$(M)" --json
    valid probe
    mkdir "$(M)/sub"
    oh_json 3 probe "$(M)/sub" --json
    valid probe
    [ "$(json 'd["mounted"], len(d["copies"])')" = "True 1" ]
}

@test "json: probe of a busy target names its holders" {
    simple_instance web
    oh mount web
    pid=$(in_ns slave sh -c "cd '$(M)' && exec sleep 300")
    sleep 300 5<"$(M)/hello.txt" 3>&- &
    here=$!
    track_pid "$here"
    wait_until test -e "/proc/$here/fd/5"
    oh_json 3 probe web --json
    valid probe
    [ "$(json 'sorted((p["pid"], p["refs"], p["tid"]) for c in d["copies"] for p in c["processes"])' | tr -d "'")" = "[($pid, [cwd], None), ($here, [fd:5:$(M)/hello.txt], None)]" ]
}

@test "json: probe of a ghost copy" {
    simple_instance web
    oh mount web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    oh_json 3 probe web --json
    valid probe
    [ "$(json 'd["mounted"], [(c["propagation"], c["init"]) for c in d["copies"]]')" = "False [('ghost', False)]" ]
}

@test "json: probe of a loop device and of an image file" {
    requires_tools
    IMG=$T/img.erofs
    mkfs.erofs --quiet "$IMG" "$T/lower"
    oh_json 0 probe "$IMG" --json
    valid probe
    dev=$(losetup -r -f --show "$IMG") || skip "no loop device to be had"
    mkdir "$T/m"
    mount -o ro "$dev" "$T/m"
    oh_json 3 probe "$IMG" --json
    valid probe
    oh_json 3 probe "$dev" --json
    valid probe
    [ "$(json 'd["target"], d["device_claimed"], [c["mountpoint"] for c in d["copies"]]')" = "$dev True ['$T/m']" ]
    umount "$T/m"
    losetup -d "$dev"
}

@test "json: probe --watch --json writes one valid object a line, each with t" {
    simple_instance web
    oh mount web
    oh_json 3 probe web --watch --json --interval 0.1 --timeout 0.5
    valid probe --lines
    [ "$(json 'd["t"] >= 0, d["mounted"]')" = "True True" ]
}

@test "json: mnt_id is mountinfo's id and mnt_id_unique the 64-bit one, whichever way the helper looked" {
    simple_instance web
    oh mount web
    id=$(awk -v m="$(M)" '$5 == m { print $1 }' /proc/self/mountinfo)
    [ -n "$id" ]
    oh_json 0 --json status web
    ids=$(json 'd["instances"][0]["mount"]["mnt_id"], d["instances"][0]["mount"]["mnt_id_unique"]')
    OVERLAY_HELPER_NO_STATMOUNT=1 oh_json 0 --json status web
    valid status
    [ "$(json 'd["instances"][0]["mount"]["mnt_id"], d["instances"][0]["mount"]["mnt_id_unique"]')" = "$ids" ]
    if kernel_at_least 6 8; then
        [ "${ids% *}" = "$id" ] && [ "${ids#* }" != None ] && [ "${ids#* }" != "$id" ]
    else
        [ "$ids" = "$id None" ]
    fi
    [ "$(json '[c["mnt_ns_id"] is None for c in d["instances"][0]["copies"]]')" = "[$(kernel_at_least 6 8 && echo False || echo True)]" ]
}

@test "json: strings are decoded, escaped, and any byte comes out as valid UTF-8" {
    # a space, a comma, a tab, a backslash, a byte that is no UTF-8, a
    # two-byte character and DEL in a lower's name
    low="$T/low a,b"$'\t'"c\\d"$'\xff'"é"$'\x7f'
    mkdir -p "$low"
    printf '[Overlay]\nLower=%s\n' "$low" | write_conf web
    oh mount web
    for env in OVERLAY_HELPER_NO_STATMOUNT=0 OVERLAY_HELPER_NO_STATMOUNT=1; do
        env "$env" "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" --json status web > "$T/out.json"
        valid status
        # strict UTF-8; the odd byte as \udcff (surrogateescape), DEL escaped
        grep -q '\\udcff' "$T/out.json"
        grep -q '\\u007f' "$T/out.json"
        python3 -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw.decode("utf-8"))["instances"][0]
low = sys.argv[2].encode("utf-8", "surrogateescape")
back = lambda s: s.encode("utf-8", "surrogateescape")
assert back(d["lowers"][0]) == low, d["lowers"]
# decoded from mountinfo; a lowerdir= string (kernels without lowerdir+,
# before 6.8) keeps the escapes overlayfs reads in it: "\\" and "\,"
opts = back(d["mount"]["options"])
esc = low.replace(b"\\", b"\\\\").replace(b",", b"\\,").replace(b":", b"\\:")
assert b"lowerdir+=" + low in opts or b"lowerdir=" + esc in opts, d["mount"]
' "$T/out.json" "$low"
    done
    oh_json 3 probe web --json
    valid probe
}
