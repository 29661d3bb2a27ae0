#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Config parsing and instance names through the real binary, as a normal user
# (root works too): `status NAME` loads and checks a config and changes
# nothing, and a bad name or config is exit 2 with a message naming FILE:LINE.
# Only configs that fail to load, and valid ones whose dirs do not exist, are
# used, so even as root nothing is mounted or made but the kernel check's
# lock file in the test's own runtime dir.

load helpers

setup() {
    requires_bin
    unset JOURNAL_STREAM
    C=$BATS_TEST_TMPDIR/etc
    mkdir -p "$C" "$BATS_TEST_TMPDIR/run" "$BATS_TEST_TMPDIR/state"
    chmod 0755 "$C"
}

# conf NAME LINE...: writes $C/NAME.conf with one line an argument.
conf() {
    local name=$1
    shift
    printf '%s\n' "$@" > "$C/$name.conf"
    chmod 0644 "$C/$name.conf"
}

helper() {
    run "$OVERLAY_HELPER_BIN" --config-dir "$C" --state-dir "$BATS_TEST_TMPDIR/state" \
        --runtime-dir "$BATS_TEST_TMPDIR/run" "$@"
}

# bad_config MESSAGE LINE...: status of a config made of LINEs exits 2 with
# exactly "overlay-helper: MESSAGE" ($F in MESSAGE is the file).
bad_config() {
    local want=$1
    shift
    conf web "$@"
    F=$C/web.conf
    helper status web
    assert_failure 2
    assert_output "overlay-helper: ${want//\$F/$F}"
}

@test "bad instance names are refused with exit 2, by every verb" {
    local long
    long=$(printf 'a%.0s' {1..129})
    for verb in status mount umount purge; do
        helper "$verb" ../x
        assert_failure 2
        assert_output "overlay-helper: invalid instance name '../x': must not contain '..'"
    done
    helper status ''
    assert_failure 2
    assert_output "overlay-helper: invalid instance name '': must not be empty"
    helper status "$long"
    assert_failure 2
    assert_output "overlay-helper: invalid instance name '$long': must be at most 128 characters long"
    helper status a/b
    assert_failure 2
    assert_output "overlay-helper: invalid instance name 'a/b': may only contain A-Z a-z 0-9 _ . @ -"
    helper status 'a b'
    assert_failure 2
    assert_output "overlay-helper: invalid instance name 'a b': may only contain A-Z a-z 0-9 _ . @ -"
    helper status .web
    assert_failure 2
    assert_output "overlay-helper: invalid instance name '.web': must not start with '.'"
    helper status -- -web
    assert_failure 2
    assert_output "overlay-helper: invalid instance name '-web': must not start with '-'"
    helper status web@
    assert_failure 2
    assert_output "overlay-helper: invalid instance name 'web@': a template instance needs an argument after '@' (as in 'web@1')"
}

@test "a name of 128 characters is fine, and a missing config is exit 2" {
    local name
    name=$(printf 'b%.0s' {1..128})
    helper status "$name"
    assert_failure 2
    assert_output "overlay-helper: no config for instance '$name': $C/$name.conf does not exist"
    helper status web@3
    assert_failure 2
    assert_output "overlay-helper: no config for instance 'web@3': $C/web@3.conf (or web@.conf) does not exist"
}

@test "a valid config loads: defaults from the state dir, %i and %% expanded" {
    conf plain '[Overlay]' 'Lower=/nonexistent/oh-static/lower'
    helper status plain
    assert_success
    assert_line "  upper:  $BATS_TEST_TMPDIR/state/plain/upper"
    assert_line "  work:   $BATS_TEST_TMPDIR/state/plain/work"
    assert_line "  merged: $BATS_TEST_TMPDIR/state/plain/merged"
    conf 'game@' '[Overlay]' '# a comment' '; another' '' \
        'Lower=/nonexistent/oh-static/base # trailing comment' \
        'Lower = /nonexistent/oh-static/100%%#1' \
        "Upper=$BATS_TEST_TMPDIR/g/%i/upper" "Work=$BATS_TEST_TMPDIR/g/%i/work" \
        "Merged=$BATS_TEST_TMPDIR/g/%i/merged" 'Options=redirect_dir=on,index=off' \
        'MountFlags=nosuid,nodev,noexec' 'User=0' 'Group=0' 'Mode=0750'
    helper status game@3
    assert_success
    assert_line "game@3: not mounted"
    assert_line "  lower:  /nonexistent/oh-static/base"
    assert_line "          /nonexistent/oh-static/100%#1"
    assert_line "  upper:  $BATS_TEST_TMPDIR/g/3/upper"
    assert_line "  merged: $BATS_TEST_TMPDIR/g/3/merged"
    # its own file wins over the template; %i is still the argument
    conf 'game@4' '[Overlay]' 'Lower=/nonexistent/oh-static/base' "Upper=$BATS_TEST_TMPDIR/own/%i/u" \
        "Work=$BATS_TEST_TMPDIR/own/%i/w"
    helper status game@4
    assert_success
    assert_line "  upper:  $BATS_TEST_TMPDIR/own/4/u"
}

@test "unknown and misspelt keys are exit 2 naming the line" {
    bad_config "\$F:2: unknown key 'lower' (keys are case-sensitive: Lower=)" '[Overlay]' 'lower=/srv/a'
    bad_config "\$F:3: unknown key 'Foo' (known: Lower, Upper, Work, Merged, Options, MountFlags, User, Group, Mode)" \
        '[Overlay]' 'Lower=/srv/a' 'Foo=bar'
}

@test "the unknown-key message lists exactly the parser's key table" {
    local src=$SRCDIR/helper/config_values.c keys
    [ -f "$src" ] || skip "no $src (not a source tree)"
    keys=$(sed -n '/key_names\[_KEY_MAX\] = {/,/};/p' "$src" | grep -o '"[A-Za-z]*"' | tr -d '"' | paste -sd, | sed 's/,/, /g')
    [ -n "$keys" ]
    bad_config "\$F:2: unknown key 'Nope' (known: $keys)" '[Overlay]' 'Nope=1'
}

@test "a duplicate single-valued key is exit 2 naming both lines" {
    local key
    for key in Upper Work Merged Options MountFlags User Group Mode; do
        local v=/srv/x
        case $key in Options) v=index=off ;; MountFlags) v=nosuid ;; User | Group) v=0 ;; Mode) v=0755 ;; esac
        bad_config "\$F:4: $key= is given twice (first at line 3)" '[Overlay]' 'Lower=/srv/a' "$key=$v" "$key=$v"
    done
}

@test "relative paths and . or .. components are exit 2" {
    bad_config "\$F:2: Lower=srv/a is not an absolute path" '[Overlay]' 'Lower=srv/a'
    bad_config "\$F:3: Upper=./u is not an absolute path" '[Overlay]' 'Lower=/srv/a' 'Upper=./u'
    bad_config "\$F:3: Work=/srv/../w has a '.' or '..' component" '[Overlay]' 'Lower=/srv/a' 'Work=/srv/../w'
    bad_config "\$F:3: Merged=/srv/./m has a '.' or '..' component" '[Overlay]' 'Lower=/srv/a' 'Merged=/srv/./m'
}

@test "the file's structure: section, KEY=VALUE, empty values, Lower= required" {
    bad_config "\$F:1: 'Lower=/srv/a' is outside a section (start the file with [Overlay])" 'Lower=/srv/a'
    bad_config "\$F:1: unknown section '[Service]' (the only section is [Overlay])" '[Service]'
    bad_config "\$F:3: [Overlay] appears twice (first at line 1)" '[Overlay]' 'Lower=/srv/a' '[Overlay]'
    bad_config "\$F:2: 'Lower' is not a KEY=VALUE line" '[Overlay]' 'Lower'
    bad_config "\$F:2: '=/srv/a' is not a KEY=VALUE line" '[Overlay]' '=/srv/a'
    bad_config "\$F:2: Lower= has an empty value" '[Overlay]' 'Lower='
    bad_config "\$F: no Lower= (at least one lower layer is required)" '[Overlay]' 'Mode=0755'
    bad_config "\$F: no [Overlay] section" '# only a comment'
    bad_config "\$F:2: Upper=/srv/%n: unknown specifier '%n' (only %i and %% are known)" '[Overlay]' 'Upper=/srv/%n'
    printf '\xef\xbb\xbf[Overlay]\nLower=/srv/a\n' > "$C/web.conf"
    helper status web
    assert_failure 2
    assert_output "overlay-helper: $C/web.conf:1: starts with a UTF-8 byte order mark (EF BB BF); save the file without it"
}

@test "overlapping dirs are exit 2 naming both keys" {
    bad_config "\$F:4: Work=/srv/u/w is inside Upper=/srv/u (overlayfs needs them apart, on one filesystem)" \
        '[Overlay]' 'Lower=/srv/a' 'Upper=/srv/u' 'Work=/srv/u/w'
    bad_config "\$F:4: Merged=/srv/u is the same dir as Upper=/srv/u (the mount point must lie apart from Upper and Work)" \
        '[Overlay]' 'Lower=/srv/a' 'Upper=/srv/u' 'Merged=/srv/u' 'Work=/srv/w'
    bad_config "\$F:4: Lower=/srv/u/l is inside Upper=/srv/u (a lower layer must lie outside Upper and Work)" \
        '[Overlay]' 'Upper=/srv/u' 'Work=/srv/w' 'Lower=/srv/u/l'
    bad_config "\$F:3: Lower=/srv/a/b is inside Lower=/srv/a (overlayfs refuses nested or repeated lower layers)" \
        '[Overlay]' 'Lower=/srv/a' 'Lower=/srv/a/b' "Upper=$BATS_TEST_TMPDIR/u" "Work=$BATS_TEST_TMPDIR/w"
}

@test "values: Options= allow-list, MountFlags=, Mode=, User=, Group=" {
    bad_config "\$F:3: Options=: 'lowerdir=/x' is not allowed (only redirect_dir=on|off|follow|nofollow, index=on|off, xino=on|off|auto, metacopy=on|off, nfs_export=on|off, uuid=on|off|null|auto, volatile, userxattr; layers come from Lower=, Upper=, Work=)" \
        '[Overlay]' 'Lower=/srv/a' 'Options=lowerdir=/x'
    bad_config "\$F:3: Options=: 'index' is given twice" '[Overlay]' 'Lower=/srv/a' 'Options=index=on,index=off'
    bad_config "\$F:3: Options=index=on,,xino=on has an empty item" '[Overlay]' 'Lower=/srv/a' 'Options=index=on,,xino=on'
    bad_config "\$F:3: MountFlags=: 'rw' contradicts 'ro'" '[Overlay]' 'Lower=/srv/a' 'MountFlags=ro,rw'
    bad_config "\$F:3: MountFlags=: unknown flag 'sync' (known: nosuid, nodev, noexec, ro, nosymfollow, noatime, relatime, strictatime, nodiratime, and suid, dev, exec, rw)" \
        '[Overlay]' 'Lower=/srv/a' 'MountFlags=nosuid,sync'
    bad_config "\$F:3: Mode=0999 is not an octal mode from 0 to 07777" '[Overlay]' 'Lower=/srv/a' 'Mode=0999'
    bad_config "\$F:3: Mode=17777 is not an octal mode from 0 to 07777" '[Overlay]' 'Lower=/srv/a' 'Mode=17777'
    bad_config "\$F:3: User=oh-static-no-such-user: no such user" '[Overlay]' 'Lower=/srv/a' 'User=oh-static-no-such-user'
    bad_config "\$F:3: Group=oh-static-no-such-group: no such group" '[Overlay]' 'Lower=/srv/a' 'Group=oh-static-no-such-group'
    getent passwd 3999999 >/dev/null && skip "uid 3999999 exists here"
    bad_config "\$F:3: User=3999999 has no passwd entry to take a primary group from: set Group= too" \
        '[Overlay]' 'Lower=/srv/a' 'User=3999999'
}

@test "a config or config dir others can write is refused with exit 2" {
    conf web '[Overlay]' 'Lower=/srv/a'
    chmod 0664 "$C/web.conf"
    helper status web
    assert_failure 2
    assert_output "overlay-helper: $C/web.conf: refusing a config writable by group or others (mode 0664); fix: chmod go-w $C/web.conf"
    chmod 0644 "$C/web.conf"
    chmod 0777 "$C"
    helper status web
    assert_failure 2
    assert_output --regexp "^overlay-helper: $C: refusing a config dir writable by group or others \(owner uid [0-9]+, mode 0777\); fix: chmod go-w $C\$"
    chmod 0755 "$C"
    rm "$C/web.conf"
    mkfifo -m 0644 "$C/web.conf"
    helper status web
    assert_failure 2
    assert_output "overlay-helper: $C/web.conf: is a FIFO (named pipe), not a regular file"
}

@test "probe of an instance with a bad config is exit 2 with the config's message" {
    conf web '[Overlay]' 'Lower=/srv/a' 'Upper=/srv/u' 'Upper=/srv/v'
    helper probe web
    assert_failure 2
    assert_output "overlay-helper: $C/web.conf:4: Upper= is given twice (first at line 3)"
}
