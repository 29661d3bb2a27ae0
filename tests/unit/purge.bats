#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# purge: unmount, then empty Upper, Work and Merged; never through a live mount.

load helpers

@test "purge resets the instance to its lower layers" {
    simple_instance game
    oh mount game
    echo round1 > "$T/state/game/merged/save.dat"
    rm "$T/state/game/merged/hello.txt"          # leaves a whiteout in upper
    run oh purge game
    assert_success
    assert_output --partial "purged game"
    refute_mounted "$T/state/game/merged"
    [ -z "$(ls -A "$T/state/game/upper")" ]
    [ -z "$(ls -A "$T/state/game/work")" ]
    [ -z "$(ls -A "$T/state/game/merged")" ]
    oh mount game
    [ "$(cat "$T/state/game/merged/hello.txt")" = "from lower" ]
    [ ! -e "$T/state/game/merged/save.dat" ]
    [ "$(cat "$T/lower/hello.txt")" = "from lower" ]
}

@test "purge of a busy overlay exits 3 and deletes nothing (no whiteouts in upper)" {
    simple_instance game
    oh mount game
    echo keep > "$T/state/game/merged/save.dat"
    hold_cwd "$T/state/game/merged"
    run oh purge game
    assert_failure 3
    assert_output --partial "target is busy"
    is_mounted "$T/state/game/merged"
    [ "$(cat "$T/state/game/upper/save.dat")" = keep ]
    [ "$(cat "$T/state/game/merged/hello.txt")" = "from lower" ]
    [ -z "$(find "$T/state/game/upper" -type c)" ]
}

@test "purge refuses while something else is mounted on Merged" {
    simple_instance game
    oh mount game
    oh umount game
    echo keep > "$T/state/game/upper/save.dat"
    mount -t tmpfs squatter "$T/state/game/merged"
    run oh purge game
    assert_failure 1
    [ -e "$T/state/game/upper/save.dat" ]
}

@test "purge stops at a mount point inside Upper and removes nothing beyond it" {
    simple_instance game
    oh mount game
    oh umount game
    mkdir -p "$T/state/game/upper/sub" "$T/elsewhere"
    echo precious > "$T/elsewhere/data"
    mount --bind "$T/elsewhere" "$T/state/game/upper/sub"
    run oh purge game
    assert_failure 3
    assert_output --partial "is a mount point"
    [ "$(cat "$T/elsewhere/data")" = precious ]
}

@test "purge of a never-mounted instance is a no-op success" {
    simple_instance fresh
    run oh purge fresh
    assert_success
}

@test "purge of a symlinked Upper is refused and the link target survives" {
    mkdir -p "$T/target"
    echo precious > "$T/target/data"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/link/u" "$T/link/w" | write_conf sl
    mkdir -p "$T/link"
    ln -s "$T/target" "$T/link/u"
    run oh purge sl
    assert_failure 1
    assert_output --partial "symlink"
    [ "$(cat "$T/target/data")" = precious ]
}

@test "purge refuses a mount inside Work or Merged before removing anything from Upper" {
    simple_instance game
    oh mount game
    echo keep > "$T/state/game/merged/save.dat"
    oh umount game
    mkdir "$T/state/game/work/mnt"
    mount -t tmpfs sub "$T/state/game/work/mnt"
    run oh purge game
    assert_failure 3
    assert_output --partial "is a mount point"
    assert_output --partial "Nothing was removed"
    [ "$(cat "$T/state/game/upper/save.dat")" = keep ]
}

# A chain of DEPTH dirs named "a" under DIR (relative chdirs: no path limit).
deep_chain() {
    python3 -c '
import os, sys
os.chdir(sys.argv[1])
for _ in range(int(sys.argv[2])):
    os.mkdir("a")
    os.chdir("a")
' "$1" "$2"
}

@test "purge of a tree deeper than the removal limit fails and the message ends with the reason" {
    simple_instance game
    oh mount game
    oh umount game
    deep_chain "$T/state/game/upper" 6000
    run oh purge game
    assert_failure 1
    assert_output --partial "emptying Upper dir"
    [[ "$output" == *": Too many levels of symbolic links" ]]
}

@test "purge of a too-deep tree names the path shortened, with the levels left out" {
    simple_instance game
    oh mount game
    oh umount game
    deep_chain "$T/state/game/upper" 6000
    run oh purge game
    assert_failure 1
    assert_output --regexp 'a/…\[[0-9,]+ levels\]…/a'
    [[ "$output" == *": Too many levels of symbolic links" ]]
    [ "${#output}" -lt 2000 ]
}
