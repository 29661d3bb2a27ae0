#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# overlay-helper-generator under a real systemd: make install links it into
# the system generator dir; at each daemon-reload it gives
# overlay-helper@NAME.service the RequiresMountsFor= of NAME's config, which
# systemd turns into Requires= and After= on the mounts those paths are on.

load helpers

GEN=overlay-helper-generator

# generator_dir: where make install put the generator in the container.
generator_dir() {
    c pkg-config --variable=systemdsystemgeneratordir systemd
}

# requires_mounts_for UNIT: the unit's RequiresMountsFor=, after a reload
# (which runs the generators).
requires_mounts_for() {
    c systemctl daemon-reload
    prop "$1" RequiresMountsFor
}

@test "generator: make install links $GEN to the helper in the system generator dir" {
    local dir
    dir=$(generator_dir)
    run c readlink "$dir/$GEN"
    assert_output /usr/sbin/overlay-helper
}

@test "generator: daemon-reload gives an instance's unit its config's paths, tricky ones included" {
    c_instance gen-a "Lower=/srv/oh gen/100%%/\"q\"" "Upper=/srv/oh-gen-state/%i/up per" \
        "Work=/srv/oh-gen-state/%i/work" "Merged=/srv/oh-gen-roots/%i/merged"
    register files /run/systemd/generator/overlay-helper@gen-a.service.d
    run requires_mounts_for overlay-helper@gen-a.service
    assert_output --partial "$LOWER"
    # (systemctl show quotes a path with a space, and escapes in it)
    assert_output --partial '"/srv/oh gen/100%/\"q\""'
    assert_output --partial '"/srv/oh-gen-state/gen-a/up per"'
    assert_output --partial "/srv/oh-gen-state/gen-a/work"
    assert_output --partial "/srv/oh-gen-roots/gen-a"
    refute_output --partial "/srv/oh-gen-roots/gen-a/merged"
    assert_output --partial "$STATE"
    assert_output --partial /run/overlay-helper
    run c systemctl cat overlay-helper@gen-a.service
    assert_output --partial "# /run/systemd/generator/overlay-helper@gen-a.service.d/50-overlay-helper-paths.conf"
    # systemd read the escapes as meant: no warning about the drop-in
    run c journalctl --no-pager -o cat -b -p warning -g '50-overlay-helper-paths'
    assert_output ""
    # and the config gone, the next reload forgets the paths
    mv "$C_ROOT/etc/overlay-helper/gen-a.conf" "$C_ROOT/etc/overlay-helper/gen-a.off"
    run requires_mounts_for overlay-helper@gen-a.service
    mv "$C_ROOT/etc/overlay-helper/gen-a.off" "$C_ROOT/etc/overlay-helper/gen-a.conf"
    refute_output --partial "/srv/oh-gen-state"
}

@test "generator: Upper and Work on a mount of their own: starting the instance mounts it first" {
    local mnt=/srv/oh-gen-mnt unit
    unit=$(c systemd-escape --path --suffix=mount "$mnt")
    c_unit "$unit" <<EOF
[Mount]
What=tmpfs
Where=$mnt
Type=tmpfs
Options=mode=0755
EOF
    register files "$mnt"
    c_instance gen-m "Upper=$mnt/%i/upper" "Work=$mnt/%i/work"
    printf '[Unit]\nStopWhenUnneeded=no\n' | c_unit overlay-helper@gen-m.service.d/by-hand.conf
    use_unit overlay-helper@gen-m.service "$unit"
    run requires_mounts_for overlay-helper@gen-m.service
    assert_output --partial "$mnt/gen-m/upper"
    # (systemctl show quotes a name with a backslash, and escapes it)
    run prop overlay-helper@gen-m.service Requires
    assert_output --partial "\"${unit//\\/\\\\}\""
    run prop overlay-helper@gen-m.service After
    assert_output --partial "\"${unit//\\/\\\\}\""
    [ "$(prop "$unit" ActiveState)" = inactive ]

    c systemctl start overlay-helper@gen-m.service
    assert_unit_state "$unit" active/success
    assert_mounted gen-m
    run c findmnt --noheadings --output TARGET --target "$mnt/gen-m/upper"
    assert_output "$mnt"
    c systemctl stop overlay-helper@gen-m.service
    assert_unit_state overlay-helper@gen-m.service inactive/success
    # the upper is on the tmpfs: purge it while that is there
    run c overlay-helper purge gen-m
    assert_success
}

@test "generator: a template config gets no drop-in; a bad config is skipped with a message, the boot and reload go on" {
    c_instance gen-good
    printf '[Overlay]\nLower=%s\nBogus=1\n' "$LOWER" > "$C_ROOT/etc/overlay-helper/gen-bad.conf"
    chmod 0644 "$C_ROOT/etc/overlay-helper/gen-bad.conf"
    register files /etc/overlay-helper/gen-bad.conf
    printf '[Overlay]\nLower=%s\nUpper=/srv/oh-gen-tpl/%%i/upper\nWork=/srv/oh-gen-tpl/%%i/work\n' \
        "$LOWER" > "$C_ROOT/etc/overlay-helper/gen-tpl@.conf"
    chmod 0644 "$C_ROOT/etc/overlay-helper/gen-tpl@.conf"
    register files /etc/overlay-helper/gen-tpl@.conf
    c systemctl daemon-reload
    c test -f /run/systemd/generator/overlay-helper@gen-good.service.d/50-overlay-helper-paths.conf
    c test ! -e /run/systemd/generator/overlay-helper@gen-bad.service.d
    run c ls /run/systemd/generator
    refute_output --partial gen-tpl
    run prop overlay-helper@gen-tpl@1.service RequiresMountsFor
    refute_output --partial /srv/oh-gen-tpl
    # PID 1 runs generators with stderr on /dev/null, and nspawn gives the
    # container no /dev/kmsg: the message, by hand (tests/unit/generator.bats
    # checks the kernel log)
    register files /tmp/oh-gen-out
    c mkdir /tmp/oh-gen-out
    run c "$(generator_dir)/$GEN" /tmp/oh-gen-out
    assert_success
    assert_output "$GEN: skipped instance 'gen-bad': /etc/overlay-helper/gen-bad.conf:3: unknown key 'Bogus' (known: Lower, Upper, Work, Merged, Options, MountFlags, User, Group, Mode)"
    run c systemctl is-system-running
    assert_output running
}
