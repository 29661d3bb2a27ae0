#!/usr/bin/env bats
# Instance names and [Overlay] config files, through the real binary: every
# rejection exits 2 and names FILE:LINE and what is wrong.

load helpers

# bad_name NAME: the helper refuses NAME as an instance name, before it
# looks for any config file.
bad_name() {
    run oh mount -- "$1"
    assert_failure 2
    assert_output --partial "invalid instance name"
    refute_output --partial "does not exist"
}

# status_json NAME: sets $output/$lines to the config's dirs as "KEY=VALUE"
# lines, read from `status --json`.
status_json() {
    local json
    run oh --json status "$1"
    assert_success
    json=$output
    run python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("upper", "work", "merged"):
    print(k + "=" + d[k])
for l in d["lowers"]:
    print("lower=" + l)
' <<< "$json"
    assert_success
}

@test "name '..' is refused" { bad_name '..'; }
@test "name '../x' is refused" { bad_name '../x'; }
@test "name '.hidden' is refused" { bad_name '.hidden'; }
@test "name '-x' is refused" { bad_name '-x'; }
@test "name 'a/b' is refused" { bad_name 'a/b'; }
@test "the empty name is refused" { bad_name ''; }
@test "a name of 129 characters is refused, 128 is fine" {
    bad_name "$(printf 'a%.0s' {1..129})"
    run oh mount "$(printf 'a%.0s' {1..128})"
    assert_failure 2
    assert_output --partial "does not exist"
}
@test "name 'a b' is refused" { bad_name 'a b'; }
@test "name 'a..b' is refused" { bad_name 'a..b'; }
@test "name 'ä' is refused" { bad_name 'ä'; }

@test "a missing config is exit 2 naming the file" {
    run oh mount web-3
    assert_failure 2
    assert_output --partial "no config for instance 'web-3': $T/etc/web-3.conf does not exist"
}

@test "a missing template instance names the template file too" {
    run oh mount web@3
    assert_failure 2
    assert_output --partial "$T/etc/web@3.conf (or web@.conf) does not exist"
}

@test "a template needs an argument after '@'" {
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf 'game@'
    run oh mount 'game@'
    assert_failure 2
    assert_output --partial "invalid instance name 'game@'"
}

@test "a template expands %i to the argument and %% to %" {
    write_conf 'game@' <<EOF
[Overlay]
Lower=$T/lower
Upper=$T/srv/%i/upper
Work=$T/srv/%i/work
Merged=$T/srv/%i/m%%
EOF
    status_json game@7
    assert_line "upper=$T/srv/7/upper"
    assert_line "work=$T/srv/7/work"
    assert_line "merged=$T/srv/7/m%"
}

@test "an instance file wins over the template, and its %i is the argument" {
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf 'game@'
    printf '[Overlay]\nLower=%s\nUpper=%s/u/%%i\n' "$T/lower" "$T" | write_conf 'game@7'
    status_json game@7
    assert_line "upper=$T/u/7"
}

@test "in a plain config %i is the instance name" {
    printf '[Overlay]\nLower=%s\nUpper=%s/u/%%i\n' "$T/lower" "$T" | write_conf web
    status_json web
    assert_line "upper=$T/u/web"
}

@test "an unknown specifier is refused" {
    printf '[Overlay]\nLower=%s\nUpper=%s/%%x\n' "$T/lower" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Upper=$T/%x: unknown specifier '%x'"
}

@test "defaults are under STATE_DIR/INSTANCE/" {
    simple_instance web
    status_json web
    assert_line "upper=$T/state/web/upper"
    assert_line "work=$T/state/web/work"
    assert_line "merged=$T/state/web/merged"
    assert_line "lower=$T/lower"
}

@test "comments, blank lines, trailing comments and paths are normalised" {
    mkdir -p "$T/lower2#1"
    write_conf web <<EOF
# a comment
; another

   # indented comment
[Overlay]   # trailing comment after the section
Lower = $T/lower   # top-most layer
Lower=$T/lower2#1
Upper=$T//srv///u/   ; trailing comment
EOF
    status_json web
    assert_line "lower=$T/lower"
    assert_line "lower=$T/lower2#1"
    assert_line "upper=$T/srv/u"
}

@test "a symlinked config is followed" {
    simple_instance real
    ln -s "$T/etc/real.conf" "$T/etc/link.conf"
    status_json link
    assert_line "upper=$T/state/link/upper"
}

@test "Lower=/ with Merged beneath it is allowed" {
    printf '[Overlay]\nLower=/\n' | write_conf root
    status_json root
    assert_line "lower=/"
    assert_line "merged=$T/state/root/merged"
}

@test "a line outside a section is refused" {
    printf '# hi\nLower=%s\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: 'Lower=$T/lower' is outside a section"
}

@test "an unknown section is refused" {
    printf '[Overlay]\nLower=%s\n[Mount]\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: unknown section '[Mount]'"
}

@test "a file without [Overlay] is refused" {
    printf '# nothing here\n' | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf: no [Overlay] section"
}

@test "a line without '=' is refused" {
    printf '[Overlay]\nLower %s\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: 'Lower $T/lower' is not a KEY=VALUE line"
}

@test "an unknown key is refused, and keys are case-sensitive" {
    printf '[Overlay]\nLower=%s\nReadOnly=yes\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: unknown key 'ReadOnly'"
    printf '[Overlay]\nlower=%s\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: unknown key 'lower' (keys are case-sensitive: Lower=)"
}

@test "a duplicate single-valued key names both lines" {
    printf '[Overlay]\nLower=%s\nUpper=%s/a\n\nUpper=%s/b\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:5: Upper= is given twice (first at line 3)"
}

@test "an empty value is refused" {
    printf '[Overlay]\nLower=%s\nWork=\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Work= has an empty value"
}

@test "no Lower= is refused" {
    printf '[Overlay]\nUpper=%s/u\n' "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf: no Lower="
}

@test "a relative path is refused" {
    printf '[Overlay]\nLower=srv/base\n' | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: Lower=srv/base is not an absolute path"
}

@test "a '..' or '.' path component is refused" {
    printf '[Overlay]\nLower=%s\nMerged=%s/../etc\n' "$T/lower" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Merged=$T/../etc has a '.' or '..' component"
    printf '[Overlay]\nLower=%s/./lower\n' "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: Lower=$T/./lower has a '.' or '..' component"
}

@test "a path longer than PATH_MAX is refused" {
    printf '[Overlay]\nLower=/%s\n' "$(head -c 5000 /dev/zero | tr '\0' a)" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:2: Lower=/aaaa"
    assert_output --partial "is longer than PATH_MAX"
}

@test "Options= refuses layer options and values off the allow-list" {
    printf '[Overlay]\nLower=%s\nOptions=index=off,upperdir=/tmp\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Options=: 'upperdir=/tmp' is not allowed"
    printf '[Overlay]\nLower=%s\nOptions=redirect_dir=maybe\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Options=: 'redirect_dir=maybe' is not allowed"
}

@test "MountFlags= refuses unknown and contradicting flags" {
    printf '[Overlay]\nLower=%s\nMountFlags=nosuid,bind\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: MountFlags=: unknown flag 'bind'"
    printf '[Overlay]\nLower=%s\nMountFlags=ro,rw\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: MountFlags=: 'rw' contradicts 'ro'"
}

@test "a bad Mode= is refused" {
    for mode in 0888 17777 rwx; do
        printf '[Overlay]\nLower=%s\nMode=%s\n' "$T/lower" "$mode" | write_conf web
        run oh mount web
        assert_failure 2
        assert_output --partial "web.conf:3: Mode=$mode is not an octal mode"
    done
}

@test "an unknown User= or Group= is refused" {
    printf '[Overlay]\nLower=%s\nUser=no-such-user-here\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: User=no-such-user-here: no such user"
    printf '[Overlay]\nLower=%s\nGroup=no-such-group-here\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Group=no-such-group-here: no such group"
}

@test "Work inside Upper is refused at the later line" {
    printf '[Overlay]\nLower=%s\nUpper=%s/u\nWork=%s/u/w\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:4: Work=$T/u/w is inside Upper=$T/u (overlayfs needs them apart"
    printf '[Overlay]\nLower=%s\nWork=%s/u/w\nUpper=%s/u\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:4: Upper=$T/u contains Work=$T/u/w"
}

@test "Upper equal to Work is refused; a sibling sharing a prefix is not" {
    printf '[Overlay]\nLower=%s\nUpper=%s/u\nWork=%s/u/\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:4: Work=$T/u is the same dir as Upper=$T/u"
    printf '[Overlay]\nLower=%s\nUpper=%s/u\nWork=%s/uw\n' "$T/lower" "$T" "$T" | write_conf web
    status_json web
    assert_line "work=$T/uw"
}

@test "Work inside the default Upper is refused" {
    printf '[Overlay]\nLower=%s\nWork=%s/state/web/upper/w\n' "$T/lower" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Work=$T/state/web/upper/w is inside the default Upper=$T/state/web/upper"
}

@test "Merged inside Upper is refused" {
    printf '[Overlay]\nLower=%s\nUpper=%s/u\nMerged=%s/u/m\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:4: Merged=$T/u/m is inside Upper=$T/u"
}

@test "a Lower inside Merged or inside Upper is refused" {
    printf '[Overlay]\nMerged=%s/m\nLower=%s/m/base\n' "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Lower=$T/m/base is inside Merged=$T/m (the mount would hide that lower layer)"
    printf '[Overlay]\nUpper=%s/u\nLower=%s/u/base\n' "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Lower=$T/u/base is inside Upper=$T/u"
}

@test "nested or repeated lowers are refused" {
    printf '[Overlay]\nLower=%s\nLower=%s/sub\n' "$T/lower" "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Lower=$T/lower/sub is inside Lower=$T/lower"
    printf '[Overlay]\nLower=%s\nLower=%s/\n' "$T/lower" "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:3: Lower=$T/lower is the same dir as Lower=$T/lower"
}

@test "Upper and Work on different filesystems are refused at Work=" {
    mkdir -p "$T/other"
    mount -t tmpfs other "$T/other"
    printf '[Overlay]\nLower=%s\nUpper=%s/u\nWork=%s/other/w\n' "$T/lower" "$T" "$T" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf:4: Upper=$T/u and Work=$T/other/w are on different filesystems"
}

@test "a config writable by group or others is refused" {
    simple_instance web
    chmod 0664 "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf: refusing a config writable by group or others"
    chmod 0646 "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf: refusing a config writable by group or others"
}

@test "a config not owned by root is refused" {
    simple_instance web
    chown 65534 "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "web.conf: refusing a config not owned by root"
}

@test "MountFlags=, User=, Group= and Mode= reach the mount" {
    write_conf web <<EOF
[Overlay]
Lower=$T/lower
MountFlags=noexec,nodev
User=65534
Group=65533
Mode=0750
EOF
    run oh mount web
    assert_success
    run findmnt -no OPTIONS "$T/state/web/merged"
    assert_success
    assert_output --partial noexec
    refute_output --partial nosuid
    run stat -c '%u %g %a' "$T/state/web/upper"
    assert_output "65534 65533 750"
    oh umount web
}
