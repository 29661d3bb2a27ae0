#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# umount: idempotent, never lazy, removes only Work/work.

load helpers

@test "umount unmounts and removes only the kernel's Work/work" {
    simple_instance web
    oh mount web
    [ -d "$T/state/web/work/work" ]
    touch "$T/state/web/work/keep-me"
    run oh umount web
    assert_success
    assert_output --partial "unmounted web"
    refute_mounted "$T/state/web/merged"
    [ ! -e "$T/state/web/work/work" ]
    [ -e "$T/state/web/work/keep-me" ]
    [ -d "$T/state/web/upper" ]
    [ ! -e "$T/run/web.lock" ]
}

@test "umount of an instance that is not mounted exits 0 and says so" {
    simple_instance web
    run oh umount web
    assert_success
    assert_output --partial "not mounted"
    oh mount web
    oh umount web
    run oh umount web
    assert_success
    assert_output --partial "not mounted"
}

@test "umount of a busy overlay exits 3, stays mounted, never detaches lazily" {
    simple_instance web
    oh mount web
    hold_cwd "$T/state/web/merged"
    run oh umount web
    assert_failure 3
    assert_output --partial "target is busy"
    assert_output --partial "not unmounting lazily"
    is_mounted "$T/state/web/merged"
    [ -d "$T/state/web/work/work" ]
}

@test "umount refuses to touch a foreign filesystem on Merged" {
    simple_instance web
    mkdir -p "$T/state/web/merged"
    mount -t tmpfs squatter "$T/state/web/merged"
    run oh umount web
    assert_failure 1
    assert_output --partial "not web's overlay"
    is_mounted "$T/state/web/merged"
}

@test "a stray d--------- Work/work with content is removed after an unmount" {
    simple_instance web
    oh mount web
    oh umount web
    mkdir -p "$T/state/web/work/work/sub"
    touch "$T/state/web/work/work/sub/f"
    chmod 000 "$T/state/web/work/work/sub" "$T/state/web/work/work"
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
}

@test "umount twice mounted (stacked) instance unmounts every copy of it" {
    simple_instance web
    oh mount web
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/state/web/upper,workdir=$T/state/web/work" "$T/state/web/merged" 2>/dev/null || skip "kernel refused a second overlay on one upper"
    run oh umount web
    assert_success
    refute_mounted "$T/state/web/merged"
}

@test "a wait that fails exits 1 naming it, rather than retrying until --wait ends" {
    command -v strace >/dev/null || skip "strace not installed"
    simple_instance web
    oh mount web
    hold_cwd "$T/state/web/merged"
    start=$(date +%s%N)
    run strace -f -o /dev/null -e trace=poll,ppoll -e inject=poll,ppoll:error=ENOMEM \
        "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" --state-dir "$T/state" \
        --runtime-dir "$T/run" umount web --wait 5
    end=$(date +%s%N)
    assert_failure 1
    assert_output --partial "waiting for holders of $T/state/web/merged failed: Cannot allocate memory"
    [ $(( (end - start) / 1000000 )) -lt 4000 ]
    is_mounted "$T/state/web/merged"
}

@test "a relative probe target is resolved where the caller stands, before setns()" {
    simple_instance web
    oh mount web
    hold_cwd "$T/state/web/merged"
    run unshare --mount --propagation slave sh -c "cd '$T/state/web' && exec '$OVERLAY_HELPER_BIN' \
        --config-dir '$T/etc' --state-dir '$T/state' --runtime-dir '$T/run' probe merged"
    assert_failure 3
    assert_output --regexp "$pid +sleep .* cwd"
}

@test "a caller that ignores SIGCHLD does not break the scan of a pinned namespace" {
    simple_instance web
    oh mount web
    mkdir -p "$T/pins"
    mount -t tmpfs pins "$T/pins"
    mount --make-private "$T/pins"   # the kernel refuses an nsfs bind on a shared mount
    touch "$T/pins/ns"
    pin_ns "$T/pins/ns"
    # SIG_IGN for SIGCHLD survives exec and makes the kernel reap children
    # itself: waitpid() on the namespace reader would fail with ECHILD.
    run python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" umount web
    assert_failure 3
    assert_output --partial "pinned by bind:$T/pins/ns"
}

@test "umount of one instance while another mounts at once: a new overlay that gets the old device number is no ghost" {
    simple_instance a
    simple_instance b
    # overlayfs superblocks take anonymous device numbers, and one freed is
    # handed out again at once: a's new overlay often gets b's old number
    # about 4 rounds in 10 hit it without the fix
    for round in $(seq 10); do
        oh -q mount b
        oh umount b > "$T/ub" 2>&1 &
        ub=$!
        oh -q mount a &
        ma=$!
        wait "$ma"
        wait "$ub" || { echo "round $round:"; cat "$T/ub"; false; }
        oh -q umount a
    done
}
