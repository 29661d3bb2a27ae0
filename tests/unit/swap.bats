#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# A swap file keeps its filesystem busy: the kernel holds it open from
# swapon to swapoff, so umount fails with EBUSY and probe must name it.
# overlayfs cannot host a swap file, so the target is a path: an ext4
# image on a loop device. Swap is the host's, whatever the namespace:
# teardown swaps off every file a test turned on, failed or not.

load helpers

# the shared teardown, kept under another name: ours swaps off first
eval "helpers_$(declare -f teardown)"

teardown() {
    local f
    while read -r f; do
        [ -n "$f" ] && swapoff "$f" 2>/dev/null
    done < <(cat "${T:-/nonexistent}/swaps" 2>/dev/null)
    helpers_teardown
}

# Mounts an ext4 image at $T/disk (on the test's tmpfs) through a loop
# device, and turns on a 16 MiB swap file $T/disk/swapfile on it.
swap_on_disk() {
    local dev
    for c in losetup mkfs.ext4 mkswap swapon swapoff; do
        command -v "$c" >/dev/null || skip "$c not installed"
    done
    truncate -s 64M "$T/disk.img"
    mkfs.ext4 -q "$T/disk.img"
    dev=$(losetup -f --show "$T/disk.img") || skip "no loop device to be had"
    mkdir "$T/disk"
    mount "$dev" "$T/disk"
    dd if=/dev/zero of="$T/disk/swapfile" bs=1M count=16 status=none
    chmod 0600 "$T/disk/swapfile"
    mkswap -q "$T/disk/swapfile"
    echo "$T/disk/swapfile" >> "$T/swaps"
    swapon "$T/disk/swapfile" || skip "swapon refused here"
}

@test "swap: an active swap file on the target is named; probe exits 3, never 'would succeed'" {
    swap_on_disk
    run "$OVERLAY_HELPER_BIN" probe "$T/disk"
    assert_failure 3
    assert_output --partial "$T/disk: held by swap file $T/disk/swapfile"
    assert_output --partial "swap file $T/disk/swapfile keeps it busy"
    refute_output --partial "finds no process or mount"
    run "$OVERLAY_HELPER_BIN" probe "$T/disk" --json
    assert_failure 3
    [ "$(json 'd["mounted"], d["free"], d["swaps"], d["loops"]')" = "True False ['$T/disk/swapfile'] []" ]
    # the kernel agrees: busy
    run umount "$T/disk"
    assert_failure
    swapoff "$T/disk/swapfile"
    run "$OVERLAY_HELPER_BIN" probe "$T/disk" --json
    [ "$(json 'd["swaps"]')" = "[]" ]
    run "$OVERLAY_HELPER_BIN" probe "$T/disk"
    assert_output --partial "finds no process or mount"
}

@test "swap: a swap file elsewhere is not named" {
    swap_on_disk
    mkdir "$T/other"
    mount -t tmpfs other "$T/other"
    run "$OVERLAY_HELPER_BIN" probe "$T/other" --json
    assert_failure 3
    [ "$(json 'd["swaps"]')" = "[]" ]
}
