#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Symlinks planted by an unprivileged user inside Upper, Work or Merged never
# make the helper delete, chown or mount outside them.

load helpers

setup_victim() {
    mkdir -p "$T/victim/dir"
    echo precious > "$T/victim/file"
    echo precious > "$T/victim/dir/file"
    chown -R 0:0 "$T/victim"
}

@test "purge removes symlinks in upper as links, never their targets" {
    setup_victim
    printf '[Overlay]\nLower=%s\nUser=nobody\n' "$T/lower" | write_conf s
    oh mount s
    oh umount s
    # as the service user, plant links to root's files and dirs
    setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "
        ln -s '$T/victim' '$T/state/s/upper/to-dir' &&
        ln -s '$T/victim/file' '$T/state/s/upper/to-file' &&
        mkdir '$T/state/s/upper/d' && ln -s '$T/victim/dir' '$T/state/s/upper/d/deep'"
    run oh purge s
    assert_success
    [ "$(cat "$T/victim/file")" = precious ]
    [ "$(cat "$T/victim/dir/file")" = precious ]
    [ -z "$(ls -A "$T/state/s/upper")" ]
}

@test "a symlink planted as Work/work is removed as a link, its target untouched" {
    setup_victim
    simple_instance s
    oh mount s
    oh umount s
    ln -s "$T/victim/dir" "$T/state/s/work/work"
    run oh umount s
    assert_success
    [ ! -L "$T/state/s/work/work" ]
    [ "$(cat "$T/victim/dir/file")" = precious ]
}

@test "Merged replaced by a symlink is refused; nothing is mounted at its target" {
    setup_victim
    simple_instance s
    mkdir -p "$T/state/s"
    ln -s "$T/victim/dir" "$T/state/s/merged"
    run oh mount s
    assert_failure 1
    assert_output --partial "refusing to follow it"
    refute_mounted "$T/victim/dir"
}

@test "Upper replaced by a symlink is refused and never chowned through" {
    setup_victim
    printf '[Overlay]\nLower=%s\nUser=nobody\nMode=0777\n' "$T/lower" | write_conf s
    mkdir -p "$T/state/s"
    ln -s "$T/victim" "$T/state/s/upper"
    run oh mount s
    assert_failure 1
    [ "$(stat -c %U:%a "$T/victim")" = "root:755" ]
    refute_mounted "$T/state/s/merged"
}
