#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# helper/loopdev.c through tests/unit/loopdev-test.c: image files attached
# read-only and autoclear, found again by the backing file's device and
# inode, told apart from a recycled device number by diskseq. Loop devices
# are the host's, and other suites may attach their own meanwhile: every
# test looks only at devices backed by files under its $T, and teardown
# detaches those.

load helpers

OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"
LOOPDEV_TEST="$OH_BUILD/loopdev-test"

setup_file() {
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$LOOPDEV_TEST" >&2
}

setup() {
    requires_root
    requires_private_ns
    [ -e /dev/loop-control ] || skip "no /dev/loop-control"
    T=$(mktemp -d /tmp/oh-loopdev.XXXXXX)
    mount -t tmpfs -o mode=0755 oh-loopdev "$T"
    mkdir -p "$T/src" "$T/mnt"
    echo "from the image" > "$T/src/hello.txt"
    : > "$T/pids"
    export T
}

# Our devices: "/dev/loopN" of every loop device backed by a file under $T.
our_loops() {
    losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v t="$T/" 'index($2, t) == 1 { print $1 }'
}

no_loops_left() {
    [ -z "$(our_loops)" ]
}

# Kills the drivers, unmounts what is mounted beneath $T (a mount keeps its
# device), detaches the devices still backed by our images, and only then
# unmounts $T: a bound device would keep the tmpfs busy.
teardown() {
    [ -n "${T:-}" ] || return 0
    local pid dev mnt
    while read -r pid; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    done < "$T/pids"
    while read -r pid; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done < "$T/pids"
    findmnt -n -l -o TARGET -R "$T" | tail -n +2 | sort -r | while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt"
    done
    for dev in $(our_loops); do
        losetup -d "$dev" 2>/dev/null
    done
    wait_until no_loops_left || losetup -l >&2
    umount -R "$T" 2>/dev/null || umount -R -l "$T"
    rmdir "$T" 2>/dev/null || true
}

ld() {
    "$LOOPDEV_TEST" "$@"
}

# mkimage erofs|ext4 PATH: a small image of $T/src.
mkimage() {
    case $1 in
    erofs) mkfs.erofs --quiet "$2" "$T/src" ;;
    ext4)
        truncate -s 4M "$2"
        mkfs.ext4 -q -F -d "$T/src" "$2"
        ;;
    esac
}

# attach_bg NAME IMAGE TAG: a driver that attaches IMAGE and holds the device
# until it is killed (its stdin is a fifo it holds open itself, so it never
# reads EOF). Sets $pid, $dev ("loopN") and $line (the driver's line).
attach_bg() {
    mkfifo "$T/$1.in"
    "$LOOPDEV_TEST" attach "$2" "$3" <> "$T/$1.in" > "$T/$1.out" 2>&1 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until test -s "$T/$1.out"
    line=$(head -n 1 "$T/$1.out")
    dev=${line%% *}
    [[ $dev == loop[0-9]* ]] || { echo "attach failed: $line" >&2; return 1; }
}

not_found() {
    [ -z "$(ld find "$1")" ]
}

@test "loopdev: attach gives a read-only autoclear device of the image's size, with its tag and a diskseq" {
    mkimage erofs "$T/a.img"
    attach_bg a "$T/a.img" web-lower
    read -r _ seq size flags tag <<< "$line"
    assert_equal "$flags" ro,autoclear
    assert_equal "$tag" web-lower
    assert_equal "$size" "$(stat -c %s "$T/a.img")"
    assert_equal "$size" "$(blockdev --getsize64 "/dev/$dev")"
    [ "$seq" -gt 0 ]
    assert_equal "$seq" "$(cat "/sys/block/$dev/diskseq")"
    assert_equal "$(cat "/sys/block/$dev/ro")" 1
    assert_equal "$(cat "/sys/block/$dev/loop/autoclear")" 1
    assert_equal "$(cat "/sys/block/$dev/loop/partscan")" 0
    assert_equal "$(cat "/sys/block/$dev/loop/backing_file")" "$T/a.img"
    run ld find "$T/a.img"
    assert_success
    assert_output "$line"
    # the device refuses writes whatever the opener asks for
    run dd if=/dev/zero of="/dev/$dev" bs=512 count=1 conv=notrunc status=none
    assert_failure
}

@test "loopdev: a tag longer than lo_file_name is cut at 63 bytes; a size not a multiple of 512 is rounded down" {
    local long
    long=$(printf 'x%.0s' $(seq 80))
    mkimage erofs "$T/a.img"
    truncate -s 100000 "$T/a.img"
    attach_bg a "$T/a.img" "$long"
    read -r _ _ size _ tag <<< "$line"
    assert_equal "$tag" "${long:0:63}"
    assert_equal "$size" $((100000 / 512 * 512))
}

@test "loopdev: attach refuses an image open for writing (the device would keep a writer) and a directory" {
    mkimage erofs "$T/a.img"
    run ld attach --rdwr "$T/a.img" t < /dev/null
    assert_failure 1
    assert_output "error: attach $T/a.img: EINVAL"
    run ld attach "$T/src" t < /dev/null
    assert_failure 1
    assert_output "error: attach $T/src: EINVAL"
    assert no_loops_left
}

@test "loopdev: find matches the backing file by device and inode: through a hard link and a bind mount, never a copy" {
    mkimage erofs "$T/a.img"
    ln "$T/a.img" "$T/link.img"
    cp "$T/a.img" "$T/copy.img"
    : > "$T/bind.img"
    mount --bind "$T/a.img" "$T/bind.img"
    attach_bg a "$T/link.img" t
    for p in a.img link.img bind.img; do
        run ld find "$T/$p"
        assert_success
        assert_output "$line"
    done
    run ld find "$T/copy.img"
    assert_success
    assert_output ""
    # and the other way round: attached through the bind mount
    attach_bg b "$T/bind.img" t2
    run ld find "$T/a.img"
    assert_success
    assert_equal "$(wc -l <<< "$output")" 2
    assert_line --partial " t2"
}

@test "loopdev: a mount of the device claims it, its unmount does not; claimed's own test open does not detach a device still open" {
    mkimage ext4 "$T/a.img"
    attach_bg a "$T/a.img" t
    run ld claimed "$T/a.img"
    assert_output "$dev 0"
    mount -o ro "/dev/$dev" "$T/mnt"
    assert_equal "$(cat "$T/mnt/hello.txt")" "from the image"
    run ld claimed "$T/a.img"
    assert_output "$dev 1"
    umount "$T/mnt"
    run ld claimed "$T/a.img"
    assert_output "$dev 0"
    run ld find "$T/a.img"
    assert_output "$line"
}

@test "loopdev: a mount keeps the device after the attacher exits; its unmount lets the kernel detach it" {
    mkimage erofs "$T/a.img"
    attach_bg a "$T/a.img" t
    mount -t erofs -o ro "/dev/$dev" "$T/mnt"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    run ld claimed "$T/a.img"
    assert_output "$dev 1"
    umount "$T/mnt"
    wait_until not_found "$T/a.img"
}

@test "loopdev: kill -9 of the attacher, holding the device or in the middle of attaching, leaves no device behind" {
    mkimage erofs "$T/a.img"
    attach_bg a "$T/a.img" t
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    wait_until not_found "$T/a.img"
    # SIGKILL in the check right after LOOP_CONFIGURE (the 3rd ioctl, after
    # GET_FREE and CONFIGURE, is the check's BLKGETDISKSEQ): bound, not returned
    run strace -o "$T/strace.out" -e trace=ioctl -e inject=ioctl:signal=SIGKILL:when=3 \
        "$LOOPDEV_TEST" attach "$T/a.img" t < /dev/null
    assert_failure
    grep -q 'LOOP_CONFIGURE.* = 0$' "$T/strace.out" || { cat "$T/strace.out" >&2; false; }
    grep -q 'killed by SIGKILL' "$T/strace.out"
    wait_until not_found "$T/a.img"
    wait_until no_loops_left
}

@test "loopdev: 8 attachers racing for free devices get 8 distinct devices" {
    local i pids=() devs
    for i in $(seq 8); do
        echo "$i" > "$T/src/hello.txt"
        mkimage erofs "$T/$i.img"
    done
    for i in $(seq 8); do
        mkfifo "$T/$i.in"
        "$LOOPDEV_TEST" attach "$T/$i.img" "img$i" <> "$T/$i.in" > "$T/$i.out" 2>&1 3>&- &
        pids+=($!)
        track_pid "$!"
    done
    for i in $(seq 8); do
        wait_until test -s "$T/$i.out"
        run cat "$T/$i.out"
        assert_output --regexp "^loop[0-9]+ [0-9]+ [0-9]+ ro,autoclear img$i$"
        run ld find "$T/$i.img"
        assert_output "$(cat "$T/$i.out")"
    done
    devs=$(awk '{ print $1 }' "$T"/[1-8].out | sort -u | wc -l)
    assert_equal "$devs" 8
    kill -9 "${pids[@]}"
    wait_until no_loops_left
}

@test "loopdev: a device taken first by another process (EBUSY) is given up for a new one after a backoff" {
    mkimage erofs "$T/a.img"
    # the 2nd ioctl is LOOP_CONFIGURE: refused as if another process had won
    run strace -o "$T/strace.out" -e trace=ioctl -e inject=ioctl:error=EBUSY:when=2 \
        "$LOOPDEV_TEST" attach "$T/a.img" t < /dev/null
    assert_success
    assert_output --regexp '^loop[0-9]+ [0-9]+ 4096 ro,autoclear t$'
    grep -q 'LOOP_CONFIGURE.*EBUSY.*(INJECTED)' "$T/strace.out" || { cat "$T/strace.out" >&2; false; }
    # (more when another suite's losetup takes a free device first)
    [ "$(grep -c LOOP_CTL_GET_FREE "$T/strace.out")" -ge 2 ]
    assert_equal "$(grep -c 'LOOP_CONFIGURE.* = 0$' "$T/strace.out")" 1
    wait_until no_loops_left
}

@test "loopdev: without LOOP_CONFIGURE (EINVAL, before 5.8) LOOP_SET_FD and LOOP_SET_STATUS64 do it" {
    mkimage erofs "$T/a.img"
    run strace -o "$T/strace.out" -e trace=ioctl -e inject=ioctl:error=EINVAL:when=2 \
        "$LOOPDEV_TEST" attach "$T/a.img" old-way < /dev/null
    assert_success
    assert_output --regexp '^loop[0-9]+ [0-9]+ 4096 ro,autoclear old-way$'
    grep -q 'LOOP_CONFIGURE.*EINVAL.*(INJECTED)' "$T/strace.out" || { cat "$T/strace.out" >&2; false; }
    grep -q 'LOOP_SET_FD.* = 0$' "$T/strace.out"
    grep -q 'LOOP_SET_STATUS64.*LO_FLAGS_AUTOCLEAR.* = 0$' "$T/strace.out"
    wait_until no_loops_left
}

@test "loopdev: a LOOP_CONFIGURE that says yes and binds nothing is checked, and the old way taken on a new device" {
    mkimage erofs "$T/a.img"
    # retval=0: the call is skipped and claims success
    run strace -o "$T/strace.out" -e trace=ioctl -e inject=ioctl:retval=0:when=2 \
        "$LOOPDEV_TEST" attach "$T/a.img" t < /dev/null
    assert_success
    assert_output --regexp '^loop[0-9]+ [0-9]+ 4096 ro,autoclear t$'
    # (more when another suite's losetup takes a free device first)
    [ "$(grep -c LOOP_CTL_GET_FREE "$T/strace.out")" -ge 2 ]
    assert_equal "$(grep -c LOOP_CONFIGURE "$T/strace.out")" 1
    grep -q 'LOOP_SET_FD.* = 0$' "$T/strace.out" || { cat "$T/strace.out" >&2; false; }
    wait_until no_loops_left
}

@test "loopdev: a recycled device number (detached, another image bound on it) is refused with ESTALE" {
    local n seq round ino
    mkimage erofs "$T/a.img"
    echo other > "$T/src/hello.txt"
    mkimage erofs "$T/b.img"
    ino=$(stat -c %i "$T/a.img")
    for round in $(seq 10); do
        attach_bg "a$round" "$T/a.img" t
        read -r _ seq _ <<< "$line"
        n=${dev#loop}
        run ld open "$n" "$seq"
        assert_output ok
        run ld open "$n" 0 "$(stat -c '%Hd:%Ld' "$T/a.img")" "$ino"
        assert_output ok
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        wait_until not_found "$T/a.img"
        # unbound, or already another's: other suites attach meanwhile
        run ld open "$n" "$seq"
        assert_output --regexp '^(ENXIO|ESTALE)$'
        # b.img on the very same number, unless another suite took it first
        losetup -r "/dev/$dev" "$T/b.img" 2>/dev/null && break
    done
    [ "$(cat "/sys/block/$dev/loop/backing_file")" = "$T/b.img" ] ||
        skip "other suites took the freed device first, 10 times"
    run ld open "$n" "$seq"
    assert_output ESTALE
    run ld open --excl "$n" "$seq"
    assert_output ESTALE
    run ld open "$n" 0 "$(stat -c '%Hd:%Ld' "$T/a.img")" "$ino"
    assert_output ESTALE
    run ld open "$n" "$(cat "/sys/block/$dev/diskseq")"
    assert_output ok
    losetup -d "/dev/$dev"
}

@test "loopdev: open --excl of a mounted device is EBUSY, of an unclaimed one ok" {
    mkimage erofs "$T/a.img"
    attach_bg a "$T/a.img" t
    read -r _ seq _ <<< "$line"
    run ld open --excl "${dev#loop}" "$seq"
    assert_output ok
    mount -t erofs -o ro "/dev/$dev" "$T/mnt"
    run ld open --excl "${dev#loop}" "$seq"
    assert_output EBUSY
    run ld open "${dev#loop}" "$seq"
    assert_output ok
}

@test "loopdev: detach of a device another process holds marks it autoclear; it goes at that process's last close" {
    local node
    mkimage erofs "$T/a.img"
    node=$(losetup -r -f --show "$T/a.img")
    assert_equal "$(cat "/sys/block/${node#/dev/}/loop/autoclear")" 0
    # shellcheck disable=SC2217 # the sleep only holds the device open
    sleep 300 < "$node" 3>&- &
    pid=$!
    track_pid "$pid"
    run ld detach "$T/a.img"
    assert_success
    assert_output "${node#/dev/} detached"
    # still bound while the sleep has it open, now to go at its close
    assert_equal "$(cat "/sys/block/${node#/dev/}/loop/autoclear")" 1
    run ld find "$T/a.img"
    assert_output --regexp "^${node#/dev/} [0-9]+ 4096 ro,autoclear $T/a.img$"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    wait_until not_found "$T/a.img"
}

@test "loopdev: detach of a device nobody else holds clears it at once" {
    local node
    mkimage erofs "$T/a.img"
    node=$(losetup -r -f --show "$T/a.img")
    [ "$(cat "/sys/block/${node#/dev/}/loop/autoclear")" = 0 ]
    run ld detach "$T/a.img"
    assert_success
    assert_output "${node#/dev/} detached"
    run ld find "$T/a.img"
    assert_output ""
}

@test "loopdev: holders of a plain device are none; of no such device ENOENT" {
    mkimage erofs "$T/a.img"
    attach_bg a "$T/a.img" t
    run ld holders "${dev#loop}"
    assert_success
    assert_output ""
    run ld holders 999999
    assert_output ENOENT
}
