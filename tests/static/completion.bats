#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# completion/overlay-helper.bash, sourced into this bash and called as bash
# calls it (COMP_WORDS, COMP_CWORD), and checked against the binary's --help.

load helpers

setup() {
    # shellcheck source=completion/overlay-helper.bash
    source "$SRCDIR/completion/overlay-helper.bash"
    C=$BATS_TEST_TMPDIR/etc
    R=$BATS_TEST_TMPDIR/run
    mkdir -p "$C" "$R" "$BATS_TEST_TMPDIR/dirs/sub-a" "$BATS_TEST_TMPDIR/dirs/sub-b"
    : > "$C/web.conf"
    : > "$C/game@.conf"
    : > "$C/db-1.conf"
    : > "$C/notes.txt"
    : > "$C/.hidden.conf"
    : > "$R/game@7.mounted"
    : > "$R/web.lock"
}

# complete WORD...: the completions of the last WORD (the one being typed).
complete_words() {
    COMP_WORDS=(overlay-helper "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _overlay_helper
    REPLY_SORTED=$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' ')
}

@test "the completion is registered for overlay-helper" {
    run complete -p overlay-helper
    assert_success
    assert_output "complete -F _overlay_helper overlay-helper"
}

@test "commands, and only what --help lists" {
    complete_words ''
    assert_equal "$REPLY_SORTED" "mount probe purge status umount"
    complete_words u
    assert_equal "$REPLY_SORTED" "umount"
    complete_words --json -q p
    assert_equal "$REPLY_SORTED" "probe purge"
    requires_bin
    local verbs
    verbs=$("$OVERLAY_HELPER_BIN" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' | sort | paste -sd' ')
    complete_words ''
    assert_equal "$REPLY_SORTED" "$verbs"
}

@test "global options before the command" {
    complete_words --
    assert_equal "$REPLY_SORTED" "--config-dir --help --json --quiet --runtime-dir --state-dir --verbose --version"
    complete_words -
    assert_equal "$REPLY_SORTED" "--config-dir --help --json --quiet --runtime-dir --state-dir --verbose --version -h -q -v"
    complete_words --c
    assert_equal "$REPLY_SORTED" "--config-dir"
}

@test "each command's own options after it" {
    complete_words mount --w
    assert_equal "$REPLY_SORTED" "--wait"
    complete_words umount web --
    assert_equal "$REPLY_SORTED" "--config-dir --help --json --quiet --runtime-dir --state-dir --verbose --version --wait"
    complete_words probe --
    assert_equal "$REPLY_SORTED" "--config-dir --help --interval --json --quiet --runtime-dir --state-dir --timeout --verbose --version --watch"
    complete_words status --w
    assert_equal "$REPLY_SORTED" ""
    complete_words probe --w
    assert_equal "$REPLY_SORTED" "--watch"
}

@test "every option of --help and COMMAND --help completes, and no other" {
    requires_bin
    local verb want
    for verb in mount umount purge status probe; do
        want=$({
            "$OVERLAY_HELPER_BIN" --help | sed -n '/^Options/,/^$/p'
            "$OVERLAY_HELPER_BIN" "$verb" --help | sed -n 1p
        } | grep -oE '(^|[ [|,])--?[a-z][a-z-]*' | sed 's/^[ [|,]//' | sort -u | paste -sd' ')
        complete_words "$verb" -
        assert_equal "$REPLY_SORTED" "$want"
    done
}

@test "nothing is offered for a number of seconds" {
    complete_words umount web --wait ''
    assert_equal "$REPLY_SORTED" ""
    complete_words probe x --interval ''
    assert_equal "$REPLY_SORTED" ""
    complete_words probe x --timeout 1
    assert_equal "$REPLY_SORTED" ""
}

@test "instance names come from --config-dir: NAME.conf, templates as NAME@" {
    complete_words --config-dir "$C" mount ''
    assert_equal "$REPLY_SORTED" "db-1 game@ web"
    complete_words --config-dir "$C" umount g
    assert_equal "$REPLY_SORTED" "game@"
    complete_words --config-dir "$C" --runtime-dir "$R" umount g
    assert_equal "$REPLY_SORTED" "game@ game@7"
    complete_words mount --config-dir "$C" w
    assert_equal "$REPLY_SORTED" "web"
    # --config-dir=DIR, as one word and as bash splits it at '='
    complete_words "--config-dir=$C" status ''
    assert_equal "$REPLY_SORTED" "db-1 game@ web"
    complete_words --config-dir = "$C" status d
    assert_equal "$REPLY_SORTED" "db-1"
    # mount, umount, purge and probe take one, status any number
    complete_words --config-dir "$C" mount web ''
    assert_equal "$REPLY_SORTED" ""
    complete_words --config-dir "$C" status web ''
    assert_equal "$REPLY_SORTED" "db-1 game@ web"
}

@test "the default config dir is /etc/overlay-helper" {
    [ -d /etc/overlay-helper ] && skip "/etc/overlay-helper exists here"
    complete_words mount ''
    assert_equal "$REPLY_SORTED" ""
}

@test "probe completes instances and paths" {
    cd "$BATS_TEST_TMPDIR"
    complete_words --config-dir "$C" probe ''
    assert_equal "$REPLY_SORTED" "db-1 dirs etc game@ run web"
    complete_words --config-dir "$C" probe dirs/sub
    assert_equal "$REPLY_SORTED" "dirs/sub-a dirs/sub-b"
    complete_words --config-dir "$C" probe /dev/nul
    assert_equal "$REPLY_SORTED" "/dev/null"
}

@test "dir options complete dirs" {
    cd "$BATS_TEST_TMPDIR/dirs"
    : > file
    complete_words --config-dir ''
    assert_equal "$REPLY_SORTED" "sub-a sub-b"
    complete_words status --state-dir sub-
    assert_equal "$REPLY_SORTED" "sub-a sub-b"
    complete_words --runtime-dir = s
    assert_equal "$REPLY_SORTED" "sub-a sub-b"
    complete_words --config-dir=sub-a
    assert_equal "$REPLY_SORTED" "--config-dir=sub-a"
}
