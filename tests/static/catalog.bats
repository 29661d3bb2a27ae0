#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The journal catalog against the code: every MESSAGE_ID helper/log.h
# defines has one entry in catalog/overlay-helper.catalog and every entry is
# one of them, no id twice, each entry with the headers journalctl -x shows;
# every id is used by the code and listed in docs/journal.md; and journalctl's
# own parser reads the file (into a scratch root, as a normal user). Reads
# sources only: no build, no root.

load helpers

LOG_H=$SRCDIR/helper/log.h
CATALOG=$SRCDIR/catalog/overlay-helper.catalog

# "NAME ID" for each MSGID_NAME of log.h, one a line.
header_ids() {
    sed -n 's/^#define MSGID_\([A-Z_]*\) *"\([^"]*\)".*/\1 \2/p' "$LOG_H"
}

# The ids of the catalog's entries, in file order.
catalog_ids() {
    sed -n 's/^-- \([^ ]*\)$/\1/p' "$CATALOG"
}

# What appears twice in the lines of stdin.
twice() {
    sort | uniq -d
}

@test "log.h defines well-formed ids, none twice" {
    run header_ids
    assert_success
    [ "${#lines[@]}" -ge 20 ] || fail "only ${#lines[@]} MSGID_ definitions found in $LOG_H"
    run grep -vE '^[A-Z_]+ [0-9a-f]{32}$' <<< "$output"
    assert_output ""
    run twice < <(header_ids | cut -d' ' -f2)
    assert_output ""
    run twice < <(header_ids | cut -d' ' -f1)
    assert_output ""
}

@test "every MSGID_ of log.h has one catalog entry, and every entry is one of them" {
    local name id missing=() extra=()
    [ -f "$CATALOG" ] || fail "no $CATALOG"
    while read -r name id; do
        catalog_ids | grep -qx "$id" || missing+=("MSGID_$name=$id")
    done < <(header_ids)
    [ "${#missing[@]}" -eq 0 ] || fail "no catalog entry for: ${missing[*]}"
    while read -r id; do
        header_ids | grep -q " $id\$" || extra+=("$id")
    done < <(catalog_ids)
    [ "${#extra[@]}" -eq 0 ] || fail "catalog entries for ids log.h does not define: ${extra[*]}"
    run twice < <(catalog_ids)
    assert_output ""
}

@test "each catalog entry has a Subject, Defined-By, Support, Documentation and a text" {
    run awk '
        function check() {
            if (id == "") return
            if (!subject) print id ": no Subject:"
            if (!defined) print id ": no Defined-By: overlay-helper"
            if (!support) print id ": no Support:"
            if (!doc) print id ": no Documentation: man:overlay-helper(8)"
            if (!text) print id ": no text"
        }
        /^-- / { check(); id = $2; head = 1; subject = defined = support = doc = text = 0; next }
        id == "" { next }
        head && /^$/ { head = 0; next }
        head && /^Subject: ./ { subject = 1 }
        head && /^Defined-By: overlay-helper$/ { defined = 1 }
        head && /^Support: ./ { support = 1 }
        head && /^Documentation: man:overlay-helper\(8\)$/ { doc = 1 }
        !head && /[^ ]/ { text = 1 }
        END { check() }' "$CATALOG"
    assert_success
    assert_output ""
}

@test "every id is used by the code and listed in docs/journal.md" {
    local name id unused=() undocumented=()
    while read -r name id; do
        grep -qw "MSGID_$name" "$SRCDIR"/helper/*.c || unused+=("MSGID_$name")
        grep -q "$id" "$SRCDIR/docs/journal.md" || undocumented+=("MSGID_$name")
    done < <(header_ids)
    [ "${#unused[@]}" -eq 0 ] || fail "defined in log.h, used nowhere in helper/*.c: ${unused[*]}"
    [ "${#undocumented[@]}" -eq 0 ] || fail "not in docs/journal.md: ${undocumented[*]}"
}

@test "journalctl's own parser reads the catalog and lists every entry" {
    local root=$BATS_TEST_TMPDIR/root n
    command -v journalctl >/dev/null || skip "journalctl is not installed"
    install -D -m 0644 "$CATALOG" "$root/usr/lib/systemd/catalog/overlay-helper.catalog"
    run journalctl --root="$root" --update-catalog
    assert_success
    refute_output --partial "rror"
    run journalctl --root="$root" --list-catalog
    assert_success
    n=$(catalog_ids | wc -l)
    assert_equal "$(grep -c '^[0-9a-f]\{32\} overlay-helper: ' <<< "$output")" "$n"
}
