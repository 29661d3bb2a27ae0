#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
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
d = json.load(sys.stdin)["instances"][0]
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

@test "a symlinked config is followed, within the dir or out of it" {
    simple_instance real
    ln -s "$T/etc/real.conf" "$T/etc/link.conf"
    status_json link
    assert_line "upper=$T/state/link/upper"
    # relative, two hops, the second into another root-only dir
    mkdir -m 0755 "$T/shared"
    printf '[Overlay]\nLower=%s\nUpper=%s/u\n' "$T/lower" "$T" > "$T/shared/web.conf"
    ln -s ../shared/hop "$T/etc/web.conf"
    ln -s web.conf "$T/shared/hop"
    status_json web
    assert_line "upper=$T/u"
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

# oh_bounded ARGS: oh, but killed after 10 s, so a helper stuck in open() or
# read() fails the test (exit 124) instead of hanging the suite.
oh_bounded() {
    timeout 10 "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" "$@"
}

@test "a FIFO as the config is refused at once, not waited on" {
    mkfifo -m 0644 "$T/etc/web.conf"
    run oh_bounded mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf: is a FIFO (named pipe), not a regular file"
    # a template found for PREFIX@ARG, and a symlink's target, alike
    mkfifo -m 0644 "$T/etc/game@.conf" "$T/fifo"
    run oh_bounded mount game@1
    assert_failure 2
    assert_output --partial "$T/etc/game@.conf: is a FIFO (named pipe), not a regular file"
    ln -s "$T/fifo" "$T/etc/link.conf"
    run oh_bounded status link
    assert_failure 2
    assert_output --partial "$T/etc/link.conf (a symlink to $T/fifo): is a FIFO (named pipe), not a regular file"
}

@test "a dir, a socket or a device as the config is refused, naming what it is" {
    mkdir "$T/etc/web.conf"
    run oh_bounded mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf: is a directory, not a regular file"
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/etc/sock.conf"
    run oh_bounded mount sock
    assert_failure 2
    assert_output --partial "$T/etc/sock.conf: is a socket, not a regular file"
    mknod -m 0644 "$T/etc/tty.conf" c 5 0 # /dev/tty: its open() must not take a terminal
    run oh_bounded mount tty
    assert_failure 2
    assert_output --partial "$T/etc/tty.conf: is a character device, not a regular file"
}

@test "a config dir writable by group or others is refused, with the fix" {
    simple_instance web
    chmod 0775 "$T/etc"
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc: refusing a config dir writable by group or others (owner uid 0, mode 0775); fix: chmod go-w $T/etc"
    refute_output --partial "web.conf"
    # sticky does not help: anyone may still plant a FIFO or a symlink there
    chmod 1777 "$T/etc"
    run oh status web
    assert_failure 2
    assert_output --partial "refusing a config dir writable by group or others (owner uid 0, mode 1777)"
    # refused before the file is looked for, so a missing one says the same
    run oh status nothing-here
    assert_failure 2
    assert_output --partial "$T/etc: refusing a config dir writable by group or others"
}

@test "a config dir not owned by root is refused, with the fix" {
    simple_instance web
    chown 65534 "$T/etc"
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc: refusing a config dir not owned by root (owner uid 65534, mode 0755); fix: chown root $T/etc"
}

@test "a config dir reached through a symlink is checked where it leads" {
    mkdir -m 0777 "$T/open"
    printf '[Overlay]\nLower=%s\n' "$T/lower" > "$T/open/web.conf"
    ln -s "$T/open" "$T/etc-link"
    run "$OVERLAY_HELPER_BIN" --config-dir "$T/etc-link" --state-dir "$T/state" --runtime-dir "$T/run" \
        status web
    assert_failure 2
    assert_output --partial "$T/etc-link: refusing a config dir writable by group or others (owner uid 0, mode 0777)"
}

@test "a symlink is followed only through dirs only root can write" {
    mkdir -m 0775 "$T/shared"
    printf '[Overlay]\nLower=%s\n' "$T/lower" > "$T/shared/web.conf"
    ln -s "$T/shared/web.conf" "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf (a symlink to $T/shared/web.conf): refusing it, as its dir $T/shared is writable by group or others (owner uid 0, mode 0775); fix: chmod go-w $T/shared"
    # a hop through a dir that another user owns is refused, even back home
    chmod 0755 "$T/shared"
    chown 65534 "$T/shared"
    ln -s "$T/etc/real.conf" "$T/shared/hop"
    simple_instance real
    ln -s "$T/shared/hop" "$T/etc/via.conf"
    run oh mount via
    assert_failure 2
    assert_output --partial "$T/etc/via.conf (a symlink to $T/shared/hop): refusing it, as its dir $T/shared is not owned by root (owner uid 65534"
}

@test "a symlink's target must pass the file's own checks" {
    mkdir -m 0755 "$T/shared"
    printf '[Overlay]\nLower=%s\n' "$T/lower" > "$T/shared/web.conf"
    chmod 0666 "$T/shared/web.conf"
    ln -s "$T/shared/web.conf" "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf (a symlink to $T/shared/web.conf): refusing a config writable by group or others (mode 0666); fix: chmod go-w $T/shared/web.conf"
    chmod 0644 "$T/shared/web.conf"
    chown 65534 "$T/shared/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "(a symlink to $T/shared/web.conf): refusing a config not owned by root (owner uid 65534)"
}

@test "a dangling or looping symlink is a bad config, not a missing one" {
    ln -s "$T/nowhere.conf" "$T/etc/web.conf"
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf (a symlink to $T/nowhere.conf): $T/nowhere.conf does not exist"
    # a broken instance file does not fall back to the template
    printf '[Overlay]\nLower=%s\n' "$T/lower" | write_conf 'game@'
    ln -s "$T/nowhere.conf" "$T/etc/game@1.conf"
    run oh mount game@1
    assert_failure 2
    assert_output --partial "$T/etc/game@1.conf (a symlink to $T/nowhere.conf)"
    ln -s b.conf "$T/etc/a.conf"
    ln -s a.conf "$T/etc/b.conf"
    run oh_bounded mount a
    assert_failure 2
    assert_output --partial "$T/etc/a.conf (a symlink to $T/etc/"
    assert_output --partial "more than 40 symlinks in a row"
}

@test "a UTF-8 byte order mark is named for what it is" {
    printf '\xef\xbb\xbf[Overlay]\nLower=%s\n' "$T/lower" | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf:1: starts with a UTF-8 byte order mark (EF BB BF); save the file without it"
    refute_output --partial "unknown section"
}

@test "a file over 1 MiB is refused unread, however large" {
    simple_instance web
    truncate -s 1048577 "$T/etc/web.conf"
    run oh_bounded mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf: is 1048577 bytes, more than a config may be (1 MiB)"
    truncate -s 1T "$T/etc/web.conf" # sparse: reading it whole would exhaust memory
    run oh_bounded mount web
    assert_failure 2
    assert_output --partial "web.conf: is 1099511627776 bytes, more than a config may be (1 MiB)"
    # 1 MiB itself is fine: a real config padded with comment lines
    {
        printf '[Overlay]\nLower=%s\n' "$T/lower"
        yes '# padding' | head -c 1048576
    } | head -c 1048575 > "$T/etc/web.conf"
    printf '\n' >> "$T/etc/web.conf"
    run stat -c %s "$T/etc/web.conf"
    assert_output 1048576
    status_json web
    assert_line "lower=$T/lower"
}

@test "a line over 16 KiB is refused, naming the line" {
    {
        printf '[Overlay]\n# '
        head -c 20000 /dev/zero | tr '\0' x
        printf '\nLower=%s\n' "$T/lower"
    } | write_conf web
    run oh mount web
    assert_failure 2
    assert_output --partial "$T/etc/web.conf:2: line is longer than 16384 bytes"
    [ "${#output}" -lt 1000 ]
}

# Task: config.c uses config_values.c's parsers, config_values.c used
# config.c's fail(); the objects must depend one way only.
@test "the config modules link one way: no cycle among their objects" {
    local build
    build=$(dirname "$OVERLAY_HELPER_BIN")
    [ -e "$build/config.o" ] || skip "no object files beside $OVERLAY_HELPER_BIN"
    command -v nm > /dev/null || skip "no nm"
    run python3 - "$build"/config*.o <<'PY'
import subprocess, sys
defs, uses = {}, {}
for o in sys.argv[1:]:
    out = subprocess.run(["nm", o], check=True, capture_output=True, text=True).stdout
    syms = [l.split()[-2:] for l in out.splitlines() if l.strip()]
    defs[o] = {n for t, n in syms if t in "TDRB"}
    uses[o] = {n for t, n in syms if t == "U"}
edges = {a: {b for b in defs if b != a and uses[a] & defs[b]} for a in defs}
def cycle(node, path):
    if node in path:
        return path[path.index(node):] + [node]
    for n in sorted(edges[node]):
        c = cycle(n, path + [node])
        if c:
            return c
for o in sorted(defs):
    c = cycle(o, [])
    if c:
        sys.exit("cycle: " + " -> ".join(x.split("/")[-1] for x in c))
for a in sorted(edges):
    print(a.split("/")[-1], "->", " ".join(sorted(b.split("/")[-1] for b in edges[a])) or "-")
print("no cycle")
PY
    assert_success
    assert_output --partial "no cycle"
}
