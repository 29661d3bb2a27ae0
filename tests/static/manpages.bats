#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages against the binary and the parser: every command and option
# of --help is documented in overlay-helper(8) and every option it documents
# exists; every key, option and flag the config parser accepts is in
# overlay-helper.conf(5); both carry the binary's version; both lint clean.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    requires_bin
    MAN8=$(man_page overlay-helper.8)
    MAN5=$(man_page overlay-helper.conf.5)
}

# The commands --help lists.
help_verbs() {
    "$OVERLAY_HELPER_BIN" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'
}

# The Options block of --help.
global_help() {
    "$OVERLAY_HELPER_BIN" --help | sed -n '/^Options/,/^$/p'
}

# The options a --help text ($1) names, one a line (-q and --quiet apart).
# Callers pass the parts that list options: the Options block of --help, the
# Usage line of COMMAND --help (not the unit lines of the examples).
options_in() {
    grep -oE '(^|[ [|,])--?[a-z][a-z-]*' <<<"$1" | sed 's/^[ [|,]//' | sort -u
}

# The options that tag a paragraph in a page's text $1 ("-q, --quiet",
# "--wait SECONDS"), not those named in running text.
tags_in() {
    sed -nE 's/^ +((-[a-z], )?--?[a-z][a-z-]*)( [A-Z]+)?( .*)?$/\1/p' <<<"$1" | sed 's/, /\n/' | sort -u
}

# The section $2 of a page's text $1, up to the next heading.
section() {
    awk -v want="$2" '/^[A-Z][A-Z ]*$/ { on = ($0 == want); next } on' <<<"$1"
}

@test "every command of --help is in the man page's SYNOPSIS and COMMANDS" {
    local text verbs verb
    text=$(man_text "$MAN8")
    verbs=$(help_verbs)
    [ "$(wc -l <<<"$verbs")" -ge 5 ]
    for verb in $verbs; do
        section "$text" SYNOPSIS | grep -qE "^ +overlay-helper $verb( |$)" ||
            fail "command '$verb' of --help is not in overlay-helper(8)'s SYNOPSIS"
        section "$text" COMMANDS | grep -qE "^ {7}$verb( |$)" ||
            fail "command '$verb' of --help has no entry in overlay-helper(8)'s COMMANDS"
    done
    # and the man page knows no command that --help does not
    for verb in $(section "$text" SYNOPSIS | sed -n 's/^ *overlay-helper \([a-z][a-z]*\).*/\1/p'); do
        grep -qx "$verb" <<<"$verbs" || fail "overlay-helper(8) shows a command '$verb' that --help does not"
    done
}

@test "every option of --help and COMMAND --help is documented in the man page" {
    local text tags verb opts opt
    text=$(man_text "$MAN8")
    # an option is documented where a paragraph is tagged with it
    tags=$(tags_in "$text")
    opts=$(options_in "$(global_help)")
    for verb in $(help_verbs); do
        opts+=$'\n'$(options_in "$("$OVERLAY_HELPER_BIN" "$verb" --help | sed -n 1p)")
        # the options on the verb's usage line are on its man SYNOPSIS line
        for opt in $(options_in "$("$OVERLAY_HELPER_BIN" "$verb" --help | sed -n 1p)"); do
            section "$text" SYNOPSIS | grep -E "^ +overlay-helper $verb( |$)" | grep -q -- "\\[$opt\\b" ||
                fail "'$verb --help' shows $opt, the man page's SYNOPSIS of $verb does not"
        done
    done
    # shellcheck disable=SC2013 # options are words
    for opt in $(sort -u <<<"$opts"); do
        grep -qx -- "$opt" <<<"$tags" || fail "option $opt of --help has no entry in overlay-helper(8)"
    done
}

@test "every option the man page's OPTIONS documents exists in --help" {
    local text help verb opt
    text=$(man_text "$MAN8")
    help=$(global_help)
    for verb in $(help_verbs); do
        help+=$'\n'$("$OVERLAY_HELPER_BIN" "$verb" --help | sed -n 1p)
    done
    for opt in $(tags_in "$(section "$text" OPTIONS)"); do
        options_in "$help" | grep -qx -- "$opt" || fail "overlay-helper(8) documents $opt, which no --help shows"
    done
}

@test "each command takes the options its --help shows, and the global ones" {
    local verb opt globals
    globals=$(options_in "$(global_help)" | grep -vx -- '-h\|--help\|--version')
    for verb in $(help_verbs); do
        for opt in $globals $(options_in "$("$OVERLAY_HELPER_BIN" "$verb" --help | sed -n 1p)"); do
            case $opt in
            --*-dir) set -- "$opt" "$BATS_TEST_TMPDIR" ;;
            --wait | --interval | --timeout) set -- "$opt" 1 ;;
            *) set -- "$opt" ;;
            esac
            # --help after the option: parsed, then only the help is printed
            run "$OVERLAY_HELPER_BIN" "$verb" "$@" --help
            assert_success
            assert_line --index 0 --partial "Usage: overlay-helper [OPTIONS] $verb"
        done
    done
}

@test "every key, option and flag the config parser accepts is in overlay-helper.conf(5)" {
    local text keys_text src=$SRCDIR/helper/config_values.c key word
    [ -f "$src" ] || skip "no $src (not a source tree)"
    text=$(man_text "$MAN5")
    keys_text=$(section "$text" KEYS)
    for key in $(sed -n '/key_names\[_KEY_MAX\] = {/,/};/p' "$src" | grep -o '"[A-Za-z]*"' | tr -d '"'); do
        grep -qE "^ {7}$key=" <<<"$keys_text" || fail "key $key= has no entry in overlay-helper.conf(5)'s KEYS"
    done
    # and the page documents no key the parser does not know
    for key in $(grep -oE '^ {7}[A-Za-z]+=' <<<"$keys_text" | tr -d ' ='); do
        grep -q "\"$key\"" "$src" || fail "overlay-helper.conf(5) documents $key=, which the parser does not know"
    done
    # the Options= allow-list and the MountFlags= names
    for word in $(sed -n '/allowed_options\[\] =/,/;/p' "$src" | grep -o '"[^"]*"' | tr -d '"' | tr '|' '\n' | sed 's/=.*//' | sort -u); do
        grep -qw -- "$word" <<<"$keys_text" || fail "Options= accepts $word, overlay-helper.conf(5) does not say so"
    done
    for word in $(sed -n '/} mount_flags\[\] = {/,/^};/p' "$src" | grep -o '{ "[a-z]*"' | tr -d '{ "'); do
        grep -qw -- "$word" <<<"$keys_text" || fail "MountFlags= accepts $word, overlay-helper.conf(5) does not say so"
    done
}

@test "the specifiers the parser knows are in overlay-helper.conf(5)" {
    local text
    text=$(man_text "$MAN5")
    section "$text" SPECIFIERS | grep -qE '^ {7}%i( |$)'
    section "$text" SPECIFIERS | grep -qE '^ {7}%%( |$)'
    # what the parser says it knows
    run "$OVERLAY_HELPER_BIN" --config-dir "$BATS_TEST_TMPDIR" status web 2>/dev/null
    printf '[Overlay]\nLower=/srv/%%x\n' > "$BATS_TEST_TMPDIR/web.conf"
    chmod 0644 "$BATS_TEST_TMPDIR/web.conf"
    chmod 0755 "$BATS_TEST_TMPDIR"
    run "$OVERLAY_HELPER_BIN" --config-dir "$BATS_TEST_TMPDIR" --runtime-dir "$BATS_TEST_TMPDIR" status web
    assert_failure 2
    assert_output --partial "(only %i and %% are known)"
}

@test "--version prints the version both man pages carry" {
    local version page th
    run "$OVERLAY_HELPER_BIN" --version
    assert_success
    assert_output --regexp '^overlay-helper [0-9][^ ]*$'
    version=${output#overlay-helper }
    if [ -f "$SRCDIR/VERSION" ]; then
        assert_equal "$version" "$(cat "$SRCDIR/VERSION")"
    fi
    for page in "$MAN8" "$MAN5"; do
        th=$(grep -m1 '^\.TH ' "$page")
        [[ $th == *"\"overlay-helper $version\""* ]] ||
            fail "$page: '$th' does not carry \"overlay-helper $version\""
        ! grep -q '@[A-Z_]*@' "$page" || fail "$page: a placeholder was left unrendered"
    done
}

@test "the man pages are clean under man --warnings" {
    command -v man >/dev/null || skip "man (man-db) is not installed"
    local page
    for page in "$MAN8" "$MAN5"; do
        run --separate-stderr env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page"
        assert_success
        [ -z "$stderr" ] || fail "man --warnings -l $page: $stderr"
        [ -n "$output" ]
    done
}

@test "the man pages are clean under mandoc -Tlint" {
    command -v mandoc >/dev/null || skip "mandoc is not installed"
    local page
    for page in "$MAN8" "$MAN5"; do
        run mandoc -Tlint "$page"
        [ -z "$output" ] || fail "mandoc -Tlint $page: $output"
        assert_success
    done
}

@test "the man pages name each other and the shipped docs" {
    local text
    text=$(man_text "$MAN8")
    section "$text" "SEE ALSO" | grep -q 'overlay-helper.conf(5)'
    for doc in json.md journal.md RUNBOOK.md; do
        grep -q "/usr/share/doc/overlay-helper/$doc" <<<"$text" || fail "overlay-helper(8) does not name $doc"
    done
    text=$(man_text "$MAN5")
    section "$text" "SEE ALSO" | grep -q 'overlay-helper(8)'
}
