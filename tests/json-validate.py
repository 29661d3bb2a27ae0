#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/json-validate.py SCHEMA [--lines] < JSON

Validates the JSON document on stdin (with --lines: each non-empty line, as
probe --watch --json writes them) against the JSON Schema file SCHEMA, with
the validator of the draft the schema names. Exits 0 when every document is
valid; 1 with one line per error on stderr (the document's line, the path
to the bad value, the schema's complaint); 2 on bad usage or a schema or
document that is not JSON at all."""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("json-validate: python3-jsonschema is not installed (apt install python3-jsonschema)")


def main():
    args = sys.argv[1:]
    lines = "--lines" in args
    args = [a for a in args if a != "--lines"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        print(f"json-validate: reading the schema {args[0]} failed: {e}", file=sys.stderr)
        return 2
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    # surrogateescape: the helper's output is UTF-8; a stray byte is a bug
    # json.loads then names, not a decoding crash here
    text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    docs = [(n, l) for n, l in enumerate(text.splitlines(), 1) if l.strip()] if lines else [(1, text)]
    if not docs:
        print("json-validate: no JSON on stdin", file=sys.stderr)
        return 2
    bad = 0
    for n, doc in docs:
        try:
            value = json.loads(doc)
        except ValueError as e:
            print(f"json-validate: line {n}: not JSON: {e}: {doc[:200]!r}", file=sys.stderr)
            return 2
        for err in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            print(f"json-validate: line {n}: {where}: {err.message}", file=sys.stderr)
            bad += 1
    if bad:
        print(f"json-validate: {bad} error(s) against {args[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
