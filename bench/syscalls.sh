#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/syscalls.sh BIN: how many system calls each command of a mount +
# umount cycle makes, util-linux next to overlay-helper, at ~20 and 1,000
# mounts in the namespace (strace -f; counts only, strace's timings are not
# worth reporting). Same private namespaces and workspace as bench/run.sh.
# Prints a markdown table on stdout. Knob: BENCH_SIZES (default "20 1000").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 ]] || bench_die "usage: $0 BIN (e.g. bench/syscalls.sh build/overlay-helper)"
BIN=$(realpath -e -- "$1") || bench_die "no such file: $1"
[[ -x $BIN ]] || bench_die "not executable: $BIN"
command -v strace > /dev/null || bench_die "strace is missing (apt-get install strace)"

bench_enter_namespace "$here/syscalls.sh" "$BIN"
bench_setup_workspace "$BIN"
bench_check_tools

# count LABEL N CMD...: runs CMD under strace and prints one table row.
count() {
    local label=$1 n=$2 trace=$BENCH_WS/trace
    shift 2
    strace -f -qq -o "$trace" "$@" 2> /dev/null || bench_die "failed under strace: $*"
    awk -v label="$label" -v n="$n" '
        {
            sub(/^[0-9]+ +/, "")
            if (!match($0, /^[a-z_0-9]+\(/)) next
            name = substr($0, 1, RLENGTH - 1)
            calls++
            count[name]++
            if (name ~ /^open/ && $0 ~ /\/mountinfo"/) mountinfo++
            if (name ~ /^open/ && $0 ~ /\/proc\/[0-9a-z]+\/status"/) status++
        }
        END {
            top = ""
            for (k = 0; k < 4; k++) {
                best = ""; bc = 0
                for (s in count) if (count[s] > bc) { best = s; bc = count[s] }
                if (best == "") break
                top = top (k ? ", " : "") best " " bc
                delete count[best]
            }
            printf "| %s | %s | %d | %d | %d | %s |\n", n, label, calls, mountinfo, status, top
        }' "$trace"
}

echo "## System calls per command (strace -f)"
echo
echo "- $("$BENCH_BIN" --version) (sha256 $(sha256sum "$BENCH_BIN" | cut -c1-12)); $(mount --version | head -n1); kernel $(uname -r)"
echo
echo '| mounts | command | syscalls | opens of a mountinfo | opens of /proc/PID/status | most frequent |'
echo '| ---: | --- | ---: | ---: | ---: | --- |'
for n in ${BENCH_SIZES:-20 1000}; do
    have=$(bench_fill_to "$n")
    count "util-linux mount" "$have" mount -t overlay overlay -o "$BENCH_UL_OPTS" "$BENCH_UL_MERGED"
    count "util-linux umount" "$have" umount "$BENCH_UL_MERGED"
    count "overlay-helper mount" "$have" "${BENCH_HELPER[@]}" mount "$BENCH_INSTANCE"
    count "overlay-helper umount" "$have" "${BENCH_HELPER[@]}" umount "$BENCH_INSTANCE"
    # A Work/work left behind (a crash, or a copy alive somewhere) makes
    # mount scan every namespace for a live copy before it mounts.
    mkdir -m 000 "$BENCH_WORK/work"
    count "overlay-helper mount, Work/work left over" "$have" "${BENCH_HELPER[@]}" mount "$BENCH_INSTANCE"
    count "overlay-helper umount (after that)" "$have" "${BENCH_HELPER[@]}" umount "$BENCH_INSTANCE"
    export OVERLAY_HELPER_NO_STATMOUNT=1
    count "overlay-helper mount, no statmount" "$have" "${BENCH_HELPER[@]}" mount "$BENCH_INSTANCE"
    count "overlay-helper umount, no statmount" "$have" "${BENCH_HELPER[@]}" umount "$BENCH_INSTANCE"
    unset OVERLAY_HELPER_NO_STATMOUNT
    ! mountpoint -q "$BENCH_MERGED" || bench_die "$BENCH_MERGED is still mounted"
done
