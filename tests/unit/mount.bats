#!/usr/bin/env bats
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

@test "paths with commas, colons, spaces and backslashes mount correctly" {
    local base="$T/odd dir"
    mkdir -p "$base/low,er:1 x\\y" "$base/u,p:p er\\1" "$base/w,o:r k\\2" "$base/m,e:r ged\\3"
    echo odd > "$base/low,er:1 x\\y/file"
    {
        printf '%s\n' '[Overlay]' "Lower=$base/low,er:1 x\\y" "Lower=$T/lower" \
            "Upper=$base/u,p:p er\\1" "Work=$base/w,o:r k\\2" "Merged=$base/m,e:r ged\\3"
    } | write_conf odd
    run oh mount odd
    assert_success
    [ "$(cat "$base/m,e:r ged\\3/file")" = odd ]
    [ "$(cat "$base/m,e:r ged\\3/hello.txt")" = "from lower" ]
    run oh mount odd
    assert_output --partial "already mounted"
    run oh umount odd
    assert_success
    refute_mounted "$base/m,e:r ged\\3"
}

@test "odd paths also work when layers go in as strings (lowerdir+, no fds)" {
    local base="$T/s,t:r"
    mkdir -p "$base/low er"
    echo s > "$base/low er/f"
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\n' "$base/low er" "$base/u:1" "$base/w,2" | write_conf str
    OVERLAY_HELPER_NO_LAYER_FDS=1 run oh mount str
    assert_success
    [ "$(cat "$T/state/str/merged/f")" = s ]
}

@test "without the new mount API, mount(2) is used; odd paths are refused, never mis-mounted" {
    simple_instance plain
    OVERLAY_HELPER_NO_NEW_MOUNT_API=1 run oh mount plain
    assert_success
    is_mounted "$T/state/plain/merged"
    printf '[Overlay]\nLower=%s\nUpper=%s\n' "$T/lower" "$T/u,1" | write_conf comma
    OVERLAY_HELPER_NO_NEW_MOUNT_API=1 run oh mount comma
    assert_failure 1
    assert_output --partial "cannot be given a path containing"
    refute_mounted "$T/state/comma/merged"
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
