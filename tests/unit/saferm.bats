#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# helper/saferm.c through tests/unit/saferm-test.c: emptying and removing
# never follows a symlink or crosses a mount, and making dirs never goes
# through a symlink in the last component. Each test gets its own tmpfs at $T.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

OVERLAY_HELPER_BIN="${OVERLAY_HELPER_BIN:-$BATS_TEST_DIRNAME/../../build/overlay-helper}"
OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"
SAFERM_TEST="$OH_BUILD/saferm-test"

setup_file() {
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$SAFERM_TEST" >&2
}

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (mounts tmpfs, mknod, chown)"
    # Never mount on the host: tests/run starts us in private namespaces.
    [ "$(readlink /proc/1/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] ||
        skip "not started by tests/run in a private mount namespace"
    [ "$(cat /proc/1/comm)" != systemd ] || skip "PID 1 is the host's init: run via tests/run"
    T=$(mktemp -d)
    mount -t tmpfs -o mode=0755 saferm-test "$T"
    D="$T/dir"
    mkdir "$D" "$T/outside"
    echo keep > "$T/outside/file"
}

teardown() {
    [ -n "${T:-}" ] || return 0
    umount -R "$T"
    rmdir "$T"
}

st() {
    "$SAFERM_TEST" "$@"
}

# Nothing left beneath $1 (but $1 itself still there).
assert_empty_dir() {
    [ -d "$1" ] || fail "$1 is gone"
    run find "$1" -mindepth 1
    assert_output ''
}

@test "empty: a nested tree of files, fifos, sockets, whiteouts and mode 000 dirs" {
    mkdir -p "$D/a/b/c" "$D/a/locked/inner" "$D/work/work" "$D/e"
    echo x > "$D/a/file"
    echo y > "$D/a/b/c/deep"
    echo z > "$D/a/locked/inner/f"
    ln "$D/a/file" "$D/a/b/hardlink"
    mkfifo "$D/a/fifo"
    perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un($ARGV[0])) or die' "$D/a/b/sock"
    mknod "$D/a/b/whiteout" c 0 0
    touch "$D/a/b/c/we ird"$'\n'"name" "$D/.hidden"
    chmod 000 "$D/a/locked/inner" "$D/a/locked" "$D/work/work" "$D/a/file"
    run st empty "$D"
    assert_success
    assert_output ok
    assert_empty_dir "$D"
}

@test "empty: a symlink to a dir outside goes, what it points at stays" {
    mkdir -p "$D/a"
    ln -s "$T/outside" "$D/a/link"
    ln -s ../../outside "$D/a/rel"
    ln -s "$T/outside" "$D/top-link"
    run st empty "$D"
    assert_output ok
    assert_empty_dir "$D"
    run cat "$T/outside/file"
    assert_output keep
}

@test "empty: a symlink to a file outside goes, the file stays" {
    ln -s "$T/outside/file" "$D/flink"
    ln -s /proc/self/root/etc/passwd "$D/magic"
    run st empty "$D"
    assert_output ok
    assert_empty_dir "$D"
    run cat "$T/outside/file"
    assert_output keep
}

@test "empty: a tmpfs mounted beneath is refused with EXDEV and left alone" {
    mkdir -p "$D/a/mnt"
    mount -t tmpfs sub "$D/a/mnt"
    echo inner > "$D/a/mnt/file"
    run st empty "$D"
    assert_failure
    assert_output "error: Invalid cross-device link at a/mnt"
    run cat "$D/a/mnt/file"
    assert_output inner
}

@test "empty: a tmpfs mounted beneath is refused without openat2 too" {
    mkdir -p "$D/a/mnt"
    mount -t tmpfs sub "$D/a/mnt"
    echo inner > "$D/a/mnt/file"
    OVERLAY_HELPER_NO_OPENAT2=1 run st empty "$D"
    assert_failure
    assert_output "error: Invalid cross-device link at a/mnt"
    run cat "$D/a/mnt/file"
    assert_output inner
}

@test "empty: a bind mount from the same filesystem is refused, with and without openat2" {
    mkdir -p "$D/a/bind"
    mount --bind "$T/outside" "$D/a/bind"
    for no in 0 1; do
        OVERLAY_HELPER_NO_OPENAT2=$no run st empty "$D"
        assert_failure
        assert_output "error: Invalid cross-device link at a/bind"
    done
    run cat "$T/outside/file"
    assert_output keep
}

@test "empty: a bind-mounted file is refused, not unlinked" {
    touch "$D/fmnt"
    mount --bind "$T/outside/file" "$D/fmnt"
    run st empty "$D"
    assert_failure
    assert_output "error: Invalid cross-device link at fmnt"
    run cat "$T/outside/file"
    assert_output keep
}

@test "empty: 4096 levels deep works with 32 fds; 4097 is refused with ELOOP" {
    (cd "$D" && perl -e 'for (1..4096) { mkdir "a" or die; chdir "a" or die } open(F, ">f") or die')
    run bash -c 'ulimit -n 32 && "$0" empty "$1"' "$SAFERM_TEST" "$D"
    assert_output ok
    assert_empty_dir "$D"
    (cd "$D" && perl -e 'for (1..4097) { mkdir "a" or die; chdir "a" or die }')
    run st empty "$D"
    assert_failure
    assert_output --regexp '^error: Too many levels of symbolic links at (a/){4096}a$'
}

@test "empty: a mode 000 dir it cannot read (no CAP_DAC_*) is refused, never chmod'ed" {
    mkdir -p "$D/locked/x"
    touch "$D/locked/x/f"
    chmod 000 "$D/locked/x" "$D/locked"
    run setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search \
        "$SAFERM_TEST" empty "$D"
    assert_failure
    assert_output "error: Permission denied at locked"
    run stat -c %a "$D/locked" "$D/locked/x"
    assert_output $'0\n0'
    [ -e "$D/locked/x/f" ]
}

@test "empty: an immutable or append-only dir stops the walk with EPERM naming it" {
    lsattr -d "$T" >/dev/null 2>&1 || skip "no file attributes on this tmpfs"
    mkdir "$D/imm"
    touch "$D/imm/f"
    chattr +i "$D/imm"
    run st empty "$D"
    chattr -i "$D/imm"
    assert_failure
    assert_output "error: Operation not permitted at imm/f"
    [ -e "$D/imm/f" ]
    rm -r "$D/imm"
    mkdir "$D/app"
    touch "$D/app/f"
    chattr +a "$D/app"
    run st empty "$D"
    chattr -a "$D/app"
    assert_failure
    assert_output "error: Operation not permitted at app/f"
}

@test "rmentry: a d--------- dir with contents is removed, its siblings are not" {
    mkdir -p "$D/work/a/b" "$D/sibling"
    touch "$D/work/a/b/f" "$D/work/#1"
    mknod "$D/work/a/wh" c 0 0
    chmod 000 "$D/work/a/b" "$D/work/a" "$D/work"
    run st rmentry "$D" work
    assert_output ok
    [ ! -e "$D/work" ]
    [ -d "$D/sibling" ]
}

@test "rmentry: a symlink is removed as a symlink; missing is fine" {
    ln -s "$T/outside" "$D/link"
    run st rmentry "$D" link
    assert_output ok
    [ ! -L "$D/link" ]
    [ -f "$T/outside/file" ]
    run st rmentry "$D" missing
    assert_output ok
}

@test "rmentry: a mount beneath is refused with EXDEV and named from the entry" {
    mkdir -p "$D/work/x/mnt" "$D/mp"
    mount -t tmpfs sub "$D/work/x/mnt"
    mount -t tmpfs sub2 "$D/mp"
    run st rmentry "$D" work
    assert_failure
    assert_output "error: Invalid cross-device link at work/x/mnt"
    run st rmentry "$D" mp
    assert_failure
    assert_output "error: Invalid cross-device link at mp"
    mountpoint -q "$D/work/x/mnt"
}

@test "rmentry: names that are not a single component are refused" {
    for name in .. . a/b /etc ''; do
        run st rmentry "$D" "$name"
        assert_failure
        assert_output --partial "Invalid argument"
    done
}

@test "mkdir: makes parents 0755 and the dir with its owner and mode, once" {
    umask 077
    run st mkdir "$T/p/q/inst" 1000 1000 0750
    assert_output "ok created=1"
    run stat -c '%u:%g %a' "$T/p" "$T/p/q" "$T/p/q/inst"
    assert_output $'0:0 755\n0:0 755\n1000:1000 750'
    run st mkdir "$T/p/q/inst" 0 0 0700
    assert_output "ok created=0"
    run stat -c '%u:%g %a' "$T/p/q/inst"
    assert_output '1000:1000 750'
}

@test "mkdir: an existing symlink in the last component is refused, nothing made behind it" {
    ln -s "$T/target" "$T/link"
    run st mkdir "$T/link" 1000 1000 0750
    assert_failure
    assert_output --partial "Too many levels of symbolic links"
    [ ! -e "$T/target" ]
    run st mkdir "$T/link/" 1000 1000 0750
    assert_failure
    assert_output --partial "Too many levels of symbolic links"
    [ ! -e "$T/target" ]
    mkdir "$T/target"
    run st mkdir "$T/link" 1000 1000 0750
    assert_failure
    run stat -c '%u:%g %a' "$T/target"
    assert_output '0:0 755'
}

@test "mkdir: symlinks in the parents are followed; a file is ENOTDIR" {
    mkdir "$T/real"
    ln -s real "$T/plink"
    run st mkdir "$T/plink/inst" 1000 1000 0700
    assert_output "ok created=1"
    run stat -c '%u:%g %a' "$T/real/inst"
    assert_output '1000:1000 700'
    touch "$T/file"
    run st mkdir "$T/file" 0 0 0755
    assert_output --partial "Not a directory"
    run st mkdir relative/path 0 0 0755
    assert_output --partial "Invalid argument"
}

@test "opendir: refuses a symlink (ELOOP) and a file (ENOTDIR)" {
    ln -s "$T/outside" "$T/link"
    run st opendir "$T/outside"
    assert_output ok
    run st opendir "$T/link"
    assert_output --partial "Too many levels of symbolic links"
    run st opendir "$T/link/"
    assert_output --partial "Too many levels of symbolic links"
    run st opendir "$T/outside/file"
    assert_output --partial "Not a directory"
    run st opendir /
    assert_output ok
}
