#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The JSON schemas of docs/schema/ and the examples of docs/json.md, with no
# root, no namespace and no helper binary: `bats tests/static/json-schema.bats`.

DOCS=$BATS_TEST_DIRNAME/../../docs

setup() {
    python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema not installed"
}

@test "json-schema: both schemas are valid JSON Schema of the draft they name" {
    python3 - "$DOCS"/schema/status.schema.json "$DOCS"/schema/probe.schema.json <<'PY'
import json, sys
from jsonschema import validators
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = validators.validator_for(schema, default=None)
    assert cls is not None, f"{path}: $schema names no draft this jsonschema knows: {schema.get('$schema')}"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
    cls.check_schema(schema)
PY
}

@test "json-schema: every object is closed (additionalProperties: false) and lists its keys as required" {
    python3 - "$DOCS"/schema/status.schema.json "$DOCS"/schema/probe.schema.json <<'PY'
import json, sys
def walk(node, where, path):
    if isinstance(node, dict):
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path}: {where} is open"
            # every key is always present; "t" alone (probe --watch) is optional
            missing = set(node["properties"]) - set(node.get("required", [])) - {"t"}
            assert not missing, f"{path}: {where} does not require {sorted(missing)}"
        for k, v in node.items():
            walk(v, f"{where}/{k}", path)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}/{i}", path)
for path in sys.argv[1:]:
    walk(json.load(open(path, encoding="utf-8")), "#", path)
PY
}

@test "json-schema: a copy and a process are the same in both schemas" {
    python3 - "$DOCS"/schema/status.schema.json "$DOCS"/schema/probe.schema.json <<'PY'
import json, sys
status, probe = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:])
for name in ("copy", "process"):
    assert status["$defs"][name] == probe["$defs"][name], f"$defs/{name} differs between the schemas"
PY
}

@test "json-schema: the examples in docs/json.md validate against the schema each names" {
    python3 - "$DOCS"/json.md "$DOCS"/schema <<'PY'
import json, re, sys
from jsonschema import validators
text = open(sys.argv[1], encoding="utf-8").read()
schemas = {}
for name in ("status", "probe"):
    schema = json.load(open(f"{sys.argv[2]}/{name}.schema.json", encoding="utf-8"))
    schemas[name] = validators.validator_for(schema)(schema)
lines = text.split("\n")
blocks = []
for i, line in enumerate(lines):
    if line == "```json":
        end = lines.index("```", i + 1)
        blocks.append((lines[i - 1] if i else "", "\n".join(lines[i + 1:end])))
assert blocks, "docs/json.md has no ```json block"
seen = set()
for n, (before, body) in enumerate(blocks, 1):
    m = re.fullmatch(r"<!-- schema: (status|probe) -->", before)
    assert m, f"json block {n} is not preceded by a line <!-- schema: status|probe -->: {before!r}"
    try:
        docs = [json.loads(body)]
    except ValueError:
        # JSON Lines, as probe --watch writes them
        docs = [json.loads(line) for line in body.splitlines() if line.strip()]
    for doc in docs:
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in schemas[m.group(1)].iter_errors(doc)]
        assert not errors, f"json block {n} ({m.group(1)}): " + "; ".join(errors)
    seen.add(m.group(1))
assert seen == {"status", "probe"}, f"examples only for {sorted(seen)}"
PY
}

@test "json-schema: tests/json-validate.py rejects a key the schema does not know, naming it" {
    run sh -c "echo '{\"instances\":[],\"surprise\":1}' | python3 '$BATS_TEST_DIRNAME/../json-validate.py' '$DOCS/schema/status.schema.json'"
    [ "$status" -eq 1 ]
    [[ "$output" == *surprise* ]]
    run sh -c "echo '{\"instances\":[]}' | python3 '$BATS_TEST_DIRNAME/../json-validate.py' '$DOCS/schema/status.schema.json'"
    [ "$status" -eq 0 ]
}
