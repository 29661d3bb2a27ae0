#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The journal tells the story of an instance: `journalctl
# OVERLAY_HELPER_INSTANCE=NAME -o json` shows each event with a MESSAGE_ID of
# its own (helper/log.h), where in the code it was logged, the errno of a
# failure, and the holders of a busy overlay as fields; `journalctl -x`
# explains each id from catalog/overlay-helper.catalog (docs/journal.md).

load helpers

CATALOG=/usr/lib/systemd/catalog/overlay-helper.catalog

# msgid NAME: the value of MSGID_NAME in helper/log.h.
msgid() {
    sed -n "s/^#define MSGID_$1 *\"\([0-9a-f]*\)\".*/\1/p" "$REPO/helper/log.h"
}

# entries INSTANCE: one JSON object per line, each field a list of strings
# (journalctl gives a repeated field as a list, a single one as a string).
entries() {
    c journalctl --sync
    journal_of "$1" -o json | jq -c 'with_entries(.value |= ([.] | flatten))'
}

# field FILE REGEX NAME: the values of NAME in the entries of FILE whose
# MESSAGE matches REGEX, one a line.
field() {
    jq -r --arg re "$2" --arg f "$3" 'select(.MESSAGE[0] | test($re)) | .[$f] // [] | .[]' "$1"
}

# app_unit NAME: a service bound to overlay-helper@NAME.service.
app_unit() {
    c_unit "oh-jr-$1.service" <<EOF
[Unit]
BindsTo=overlay-helper@$1.service
After=overlay-helper@$1.service
[Service]
ExecStart=/bin/sleep infinity
EOF
}

# The instance's story: mounted by the oneshot unit, a busy umount with a
# holder in another unit, then the clean unmount by the unit's stop.
# Leaves the entries, as entries() gives them, in $J.
story() {
    local inst=$1 i
    c_instance "$inst"
    app_unit "$inst"
    use_unit "oh-jr-$inst.service" "overlay-helper@$inst.service" oh-jr-holder.service \
        oh-jr-umount.service
    c systemctl start "oh-jr-$inst.service"
    assert_mounted "$inst"
    c systemd-run --quiet --unit=oh-jr-holder.service --working-directory="$(merged "$inst")" \
        sleep infinity
    HOLDER=$(prop oh-jr-holder.service MainPID)
    for ((i = 0; i < 100; i++)); do
        [ "$(c readlink "/proc/$HOLDER/cwd")" = "$(merged "$inst")" ] && break
        sleep 0.01
    done
    # The busy umount, under the journal (JOURNAL_STREAM) as a unit's is.
    run c systemd-run --quiet --wait --unit=oh-jr-umount.service \
        /usr/sbin/overlay-helper umount "$inst"
    assert_failure 3
    assert_mounted "$inst"
    c systemctl stop oh-jr-holder.service
    c systemctl stop "oh-jr-$inst.service"
    wait_unit "overlay-helper@$inst.service" inactive
    assert_unit_state "overlay-helper@$inst.service" inactive/success
    assert_gone "$inst"
    J=$BATS_TEST_TMPDIR/entries
    entries "$inst" > "$J"
}

@test "journal: each event its own MESSAGE_ID, the code location, ERRNO, the holders as fields" {
    local inst=jr-story kind re id ids=() n
    story "$inst"

    # One id per kind of event, the one log.h defines, and no two alike.
    for kind in "DIR_CREATED:^created " "MOUNTED:^mounted $inst on" \
        "BUSY:^target is busy: cannot unmount $inst" "UNMOUNTED:^unmounted $inst from" \
        "WORK_CLEANED:^removed overlayfs's leftover"; do
        re=${kind#*:}
        run field "$J" "$re" MESSAGE_ID
        assert_success
        [ -n "$output" ] || fail "no entry matches '$re'"
        assert_equal "$(sort -u <<< "$output")" "$(msgid "${kind%%:*}")"
        ids+=("$output")
    done
    n=$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)
    assert_equal "$n" 5

    # Every entry says where in the code it was logged.
    run jq -r 'select(.CODE_FILE == null or .CODE_LINE == null or .CODE_FUNC == null
                      or .PRIORITY == null or .OVERLAY_HELPER_ACTION == null) | .MESSAGE[0]' "$J"
    assert_success
    assert_output ""
    run field "$J" "^mounted $inst on" CODE_FILE
    assert_output --regexp 'report\.c$'

    # The failure: its errno (EBUSY), its path, and the holder with its unit.
    run field "$J" "^target is busy" ERRNO
    assert_output 16
    run field "$J" "^target is busy" OVERLAY_HELPER_PATH
    assert_output "$(merged "$inst")"
    run field "$J" "^target is busy" OVERLAY_HELPER_HOLDER_PID
    assert_line "$HOLDER"
    run field "$J" "^target is busy" OVERLAY_HELPER_HOLDER_UNIT
    assert_line oh-jr-holder.service
    run field "$J" "^target is busy" OVERLAY_HELPER_HOLDER_COMM
    assert_line sleep
    run field "$J" "^target is busy" OVERLAY_HELPER_HOLDER
    assert_line "$HOLDER sleep oh-jr-holder.service"
    run field "$J" "^target is busy" OVERLAY_HELPER_HOLDERS
    assert_output 1
    run field "$J" "^target is busy" PRIORITY
    assert_output 3

    # Events are no errors: no ERRNO on them.
    run field "$J" "^(mounted|unmounted|created|removed) " ERRNO
    assert_output ""
    run field "$J" "^mounted $inst on" OVERLAY_HELPER_UPPER
    assert_output "$(upper "$inst")"
}

@test "journal: journalctl -x explains each MESSAGE_ID from the catalog" {
    local inst=jr-catalog id missing=()
    if [ ! -e "$C_ROOT$CATALOG" ]; then
        # Not installed by `make install` (yet): the repo's own, into the
        # container's root, an overlay on a tmpfs that dies with it.
        [ -e "$REPO/catalog/overlay-helper.catalog" ] ||
            skip "no catalog: neither $CATALOG in the container nor catalog/ in the repo"
        note "make install did not install $CATALOG; using the repo's"
        install -D -m 0644 "$REPO/catalog/overlay-helper.catalog" "$C_ROOT$CATALOG"
    fi
    c journalctl --update-catalog
    # Every id log.h defines is in the index journalctl built.
    run c journalctl --list-catalog
    assert_success
    while read -r id; do
        grep -q "^$id overlay-helper: " <<< "$output" || missing+=("$id")
    done < <(sed -n 's/^#define MSGID_[A-Z_]* *"\([0-9a-f]*\)".*/\1/p' "$REPO/helper/log.h")
    [ "${#missing[@]}" -eq 0 ] || fail "not in journalctl --list-catalog: ${missing[*]}"

    story "$inst"
    run journal_of "$inst" -x
    assert_success
    # The subjects, with the entry's own fields filled in.
    assert_output --partial "Subject: Overlay of $inst mounted"
    assert_output --partial "Subject: Overlay of $inst is busy: not unmounted"
    assert_output --partial "Subject: Overlay of $inst unmounted"
    assert_output --partial "the first is PID $HOLDER of oh-jr-holder.service"
    assert_output --partial "Documentation: man:overlay-helper(8)"
    run c journalctl --no-pager --catalog "MESSAGE_ID=$(msgid BUSY)" "OVERLAY_HELPER_INSTANCE=$inst"
    assert_output --partial "overlay-helper never unmounts lazily"
}
