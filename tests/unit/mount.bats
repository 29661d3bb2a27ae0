#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# mount: layers, idempotency, refusals, dirs it makes, odd paths.

load helpers

@test "mount makes the dirs and mounts the overlay with the configured layers" {
    simple_instance web
    run oh mount web
    assert_success
    assert_output --partial "mounted web on $T/state/web/merged"
    is_mounted "$T/state/web/merged"
    [ "$(cat "$T/state/web/merged/hello.txt")" = "from lower" ]
    findmnt -n -o FSTYPE,SOURCE "$T/state/web/merged" | grep -q "overlay *overlay-helper:web"
    # writes land in upper, never in the lower layer
    echo new > "$T/state/web/merged/new.txt"
    [ -f "$T/state/web/upper/new.txt" ]
    [ ! -e "$T/lower/new.txt" ]
}

@test "mount is idempotent: a second mount says so and exits 0 without stacking" {
    simple_instance web
    oh mount web
    run oh mount web
    assert_success
    assert_output --partial "already mounted"
    [ "$(grep -c " $T/state/web/merged " /proc/self/mountinfo)" -eq 1 ]
}

@test "mount refuses another filesystem at Merged (exit 1, naming it)" {
    simple_instance web
    mkdir -p "$T/state/web/merged"
    mount -t tmpfs squatter "$T/state/web/merged"
    run oh mount web
    assert_failure 1
    assert_output --partial "already a mount point: tmpfs 'squatter'"
    [ "$(grep -c " $T/state/web/merged " /proc/self/mountinfo)" -eq 1 ]
}

@test "mount refuses an overlay with other layers at Merged" {
    simple_instance web
    mkdir -p "$T/o/u" "$T/o/w" "$T/state/web/merged"
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/o/u,workdir=$T/o/w" "$T/state/web/merged"
    run oh mount web
    assert_failure 1
    assert_output --partial "refusing to mount over it"
}

@test "several lowers stack top-most first" {
    mkdir -p "$T/top" "$T/bottom"
    echo top > "$T/top/f"; echo bottom > "$T/bottom/f"; echo only-bottom > "$T/bottom/g"
    printf '[Overlay]\nLower=%s\nLower=%s\n' "$T/top" "$T/bottom" | write_conf stack
    run oh mount stack
    assert_success
    [ "$(cat "$T/state/stack/merged/f")" = top ]
    [ "$(cat "$T/state/stack/merged/g")" = only-bottom ]
}

@test "new upper root gets User, Group and Mode; existing dirs are left as they are" {
    printf '[Overlay]\nLower=%s\nUser=1234\nGroup=2345\nMode=0750\n' "$T/lower" | write_conf owned
    run oh mount owned
    assert_success
    [ "$(stat -c %u:%g:%a "$T/state/owned/upper")" = "1234:2345:750" ]
    [ "$(stat -c %a "$T/state/owned/work")" = 700 ]
    oh umount owned
    chmod 0711 "$T/state/owned/upper"
    oh mount owned
    [ "$(stat -c %a "$T/state/owned/upper")" = 711 ]
}

@test "MountFlags are applied (nosuid,nodev by default; noexec,ro when asked)" {
    simple_instance web
    oh mount web
    run findmnt -n -o VFS-OPTIONS "$T/state/web/merged"
    assert_output --partial nosuid
    assert_output --partial nodev
    printf '[Overlay]\nLower=%s\nMountFlags=noexec,ro\n' "$T/lower" | write_conf ro
    oh mount ro
    run findmnt -n -o VFS-OPTIONS "$T/state/ro/merged"
    assert_output --partial ro,
    assert_output --partial noexec
    refute_output --partial nosuid
}

@test "Options= reach the kernel" {
    printf '[Overlay]\nLower=%s\nOptions=redirect_dir=on,index=off\n' "$T/lower" | write_conf opts
    run oh mount opts
    assert_success
    run findmnt -n -o FS-OPTIONS "$T/state/opts/merged"
    assert_output --partial redirect_dir=on
}

# lands_in INSTANCE MERGED UPPER DECOY: a write through MERGED shows in
# UPPER, and not in DECOY, the dir overlayfs makes of UPPER when its '\'s
# reach it unescaped (it drops each one); DECOY exists, so such a mis-mount
# would succeed rather than fail.
lands_in() {
    echo "$1" > "$2/written-$1"
    [ -f "$3/written-$1" ] || { echo "not in Upper $3" >&2; return 1; }
    [ ! -e "$4/written-$1" ] || { echo "landed in $4" >&2; return 1; }
}

# odd_instance NAME BASE: an instance whose every layer has ',' ':' ' ' and
# '\' in its path, and decoys for its Upper and Work without the '\'s.
odd_instance() {
    local base=$2
    mkdir -p "$base/low,er:1 x\\y" "$base/u,p:p er1" "$base/w,o:r k2"
    echo odd > "$base/low,er:1 x\\y/file"
    {
        printf '%s\n' '[Overlay]' "Lower=$base/low,er:1 x\\y" "Lower=$T/lower" \
            "Upper=$base/u,p:p er\\1" "Work=$base/w,o:r k\\2" "Merged=$base/m,e:r ged\\3"
    } | write_conf "$1"
}

# Every kernel mounts them: by fd (6.13+), as lowerdir+ strings with
# upperdir= and workdir= escaped (6.7+), or in mount(2)'s one string with
# ',' ':' and '\' escaped (6.1 to 6.6).
check_odd_mount() {
    local base=$1
    shift
    run "$@" mount odd
    assert_success
    [ "$(cat "$base/m,e:r ged\\3/file")" = odd ]
    [ "$(cat "$base/m,e:r ged\\3/hello.txt")" = "from lower" ]
    lands_in odd "$base/m,e:r ged\\3" "$base/u,p:p er\\1" "$base/u,p:p er1"
    [ -d "$base/w,o:r k\\2/work" ] && [ ! -e "$base/w,o:r k2/work" ]
    run "$@" mount odd
    assert_success
    assert_output --partial "already mounted"
    if [ -n "${escaped_all:-}" ]; then
        # libmount, as before statmount (6.8), shows the options with the
        # octal escapes undone: then only overlayfs's own escapes split them
        # (lowerdir+ strings and fds have none: see mounttab)
        OVERLAY_HELPER_NO_STATMOUNT=1 run "$@" mount odd
        assert_success
        assert_output --partial "already mounted"
    fi
    run "$@" status odd
    assert_output --partial mounted
    run "$@" umount odd
    assert_success
    refute_mounted "$base/m,e:r ged\\3"
}

@test "paths with commas, colons, spaces and backslashes mount correctly" {
    odd_instance odd "$T/odd dir"
    check_odd_mount "$T/odd dir" oh
}

@test "odd paths also work when layers go in as strings (lowerdir+, no fds)" {
    odd_instance odd "$T/s,t:r"
    check_odd_mount "$T/s,t:r" env OVERLAY_HELPER_NO_LAYER_FDS=1 "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run"
}

@test "without the new mount API, mount(2) is used; odd paths are escaped, never mis-mounted" {
    simple_instance plain
    OVERLAY_HELPER_NO_NEW_MOUNT_API=1 run oh mount plain
    assert_success
    is_mounted "$T/state/plain/merged"
    odd_instance odd "$T/l,e:g"
    escaped_all=1 check_odd_mount "$T/l,e:g" env OVERLAY_HELPER_NO_NEW_MOUNT_API=1 "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run"
}

@test "a ghost of an overlay whose odd Upper went in escaped is found by its path: no second overlay on it" {
    # mount(2) (6.1 to 6.6, or no new mount API) shows Upper escaped; where
    # the kernel cannot be asked, the scan alone must find the ghost
    odd_instance odd "$T/g,h:o"
    env OVERLAY_HELPER_NO_NEW_MOUNT_API=1 "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" mount odd
    pid=$(in_ns private sleep 300)
    umount "$T/g,h:o/m,e:r ged\\3"
    OVERLAY_HELPER_NO_NEW_MOUNT_API=1 run oh mount odd
    assert_failure 3
    assert_output --partial "$pid"
    refute_mounted "$T/g,h:o/m,e:r ged\\3"
    kill_wait "$pid"
}

@test "a '\\' in Upper given as a string reaches overlayfs escaped: writes land in Upper" {
    # regression: upperdir= strings are unescaped by overlayfs (6.7 to 6.12
    # pass them so, as any kernel does without layer fds): Upper=$T/a\b/up
    # was mounted as $T/ab/up, or failed when that did not exist
    mkdir -p "$T/a\\b/up" "$T/ab/up" "$T/ab/wk"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/a\\b/up" "$T/a\\b/wk" |
        write_conf bs
    OVERLAY_HELPER_NO_LAYER_FDS=1 run oh mount bs
    assert_success
    lands_in bs "$T/state/bs/merged" "$T/a\\b/up" "$T/ab/up"
    [ -d "$T/a\\b/wk/work" ] && [ ! -e "$T/ab/wk/work" ]
    OVERLAY_HELPER_NO_LAYER_FDS=1 run oh mount bs
    assert_output --partial "already mounted"
}

@test "layers given as strings: an Upper swapped for a symlink before the kernel looks is refused" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    mkdir -p "$T/state/web/upper" "$T/state/web/work" "$T/decoy"
    # a parent someone but root may write: then the kernel is asked afterwards
    # (with only root able to swap them, it is not)
    chown nobody "$T/state/web"
    # stopped (on the way out of the call) where the helper holds Upper open
    # and has checked it, and the kernel has not looked yet: at the mount's
    # own fsopen() (the third) with lowerdir+ (6.7+); before, at the check's
    # CMD_CREATE, the last fsconfig() before mount(2) (the API probe takes one
    # call before 6.5, two in 6.5 and 6.6)
    local major minor stop=fsopen:signal=STOP:when=3
    IFS=. read -r major minor _ <<< "$(uname -r)"
    if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 5 ]; }; then
        stop=fsconfig:signal=STOP:when=7
    elif [ "$major" -eq 6 ] && [ "$minor" -lt 7 ]; then
        stop=fsconfig:signal=STOP:when=8
    fi
    strace -f -o "$T/strace.log" -e trace=fsopen,fsconfig -e inject="$stop" \
        env OVERLAY_HELPER_NO_LAYER_FDS=1 "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" mount web > "$T/out" 2>&1 3>&- &
    local tracer=$!
    track_pid "$tracer"
    wait_until grep -q -- '--- stopped by SIGSTOP ---' "$T/strace.log"
    pid=$(awk '/--- stopped by SIGSTOP ---/ { print $1; exit }' "$T/strace.log")
    mv "$T/state/web/upper" "$T/state/web/upper.real"
    ln -s "$T/decoy" "$T/state/web/upper"
    kill -CONT "$pid"
    rc=0
    wait "$tracer" || rc=$?
    cat "$T/out"
    [ "$rc" -eq 1 ]
    grep -q "did not get the Upper and Work dirs that were checked" "$T/out"
    refute_mounted "$T/state/web/merged"
    [ -z "$(ls -A "$T/decoy")" ]
}

@test "layers given as strings: the kernel is asked about the dirs it took only where someone but root could swap them" {
    command -v strace >/dev/null || skip "strace not installed"
    # each ask is one fsopen() and makes 6.1-6.12 log "upperdir is in-use"
    fsopens() {
        strace -f -o "$T/fsopen.log" -e trace=fsopen env OVERLAY_HELPER_NO_LAYER_FDS=1 \
            "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
            --runtime-dir "$T/run" mount "$1" > /dev/null 2>&1 3>&-
        grep -c ' fsopen(' "$T/fsopen.log"
        oh umount "$1" > /dev/null 2>&1
    }
    simple_instance root
    simple_instance user
    mkdir -p "$T/state/user"
    chown nobody "$T/state/user"
    # a root-owned parent in a dir someone else owns: that one could rename it
    mkdir -p "$T/theirs/ours"
    chown nobody "$T/theirs"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/theirs/ours/up" \
        "$T/theirs/ours/wk" | write_conf above
    local root user above
    root=$(fsopens root)
    user=$(fsopens user)
    above=$(fsopens above)
    [ "$user" -eq $((root + 2)) ]
    [ "$above" -eq $((root + 2)) ]
}

@test "a mount that fails leaves no dir it made behind" {
    printf '[Overlay]\nLower=%s\n' "$T/no-such-lower" | write_conf broken
    run oh mount broken
    assert_failure 1
    assert_output --partial "Lower dir $T/no-such-lower of broken: No such file or directory"
    [ ! -e "$T/state/broken/upper" ]
    [ ! -e "$T/state/broken/work" ]
    [ ! -e "$T/state/broken/merged" ]
}

@test "a symlink planted as Work is refused, never followed" {
    mkdir -p "$T/u" "$T/u/w"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$T/lower" "$T/u2" "$T/w2" | write_conf k
    mkdir -p "$T/u2" && ln -s /nowhere "$T/w2"
    run oh mount k
    assert_failure 1
    assert_output --partial "symlink"
}

@test "mount with the statmount path off (mountinfo via libmount) behaves the same" {
    simple_instance web
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh mount web
    assert_success
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh mount web
    assert_output --partial "already mounted"
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh umount web
    assert_success
    refute_mounted "$T/state/web/merged"
}

@test "a mount the kernel refuses leaves no dir (or parent) it made behind" {
    simple_instance web
    oh mount web
    # overlayfs cannot use another overlay as its upper layer
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' "$T/lower" \
        "$T/state/web/merged/a/b/upper" "$T/state/web/merged/a/b/work" "$T/m2" | write_conf nested
    run oh mount nested
    assert_failure 1
    assert_output --partial "mounting overlay for nested"
    [ ! -e "$T/state/web/merged/a" ]
    [ ! -e "$T/m2" ]
}
