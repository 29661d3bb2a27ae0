# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# bench/lib.sh: shared by bench/run.sh and bench/syscalls.sh; sourced, not run.
#
# Gives each benchmark private mount and PID namespaces (so no mount it makes
# is ever seen by the host, and the helper's "join PID 1's mount namespace"
# joins the benchmark's own namespace: PID 1 there is the benchmark's shell),
# a tmpfs workspace with one lower layer, an instance config for the helper,
# and filler mounts to bring the namespace to a given size.

export LC_ALL=C

bench_die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

bench_note() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# bench_enter_namespace SCRIPT ARGS...
# Outside: checks for root, makes an empty mount point on the host and runs
# SCRIPT again inside `unshare`, then removes the mount point. Inside: returns
# with $BENCH_WS set to the (not yet mounted) workspace dir.
bench_enter_namespace() {
    [[ $(id -u) -eq 0 ]] || bench_die "must be run as root: it mounts overlays (try: sudo make bench)"
    if [[ ${OH_BENCH_INNER:-} == 1 ]]; then
        [[ $$ -eq 1 ]] || bench_die "expected to be PID 1 of a private PID namespace, am $$"
        [[ -n ${OH_BENCH_WS:-} && -d $OH_BENCH_WS ]] || bench_die "OH_BENCH_WS is not a dir"
        BENCH_WS=$OH_BENCH_WS
        trap 'exit 130' INT
        trap 'exit 143' TERM
        return 0
    fi
    command -v unshare >/dev/null || bench_die "unshare (util-linux) is missing"
    local ws rc=0
    ws=$(mktemp -d /tmp/overlay-helper-bench.XXXXXX)
    # The namespace, and every mount in it, dies with its PID 1 however that
    # ends; what is left on the host is this empty dir, removed on exit (a
    # dying namespace may hold it as a mount point for a moment).
    # shellcheck disable=SC2064 # expand $ws now
    trap "for _ in {1..50}; do rmdir '$ws' 2>/dev/null && break; sleep 0.1; done" EXIT
    OH_BENCH_INNER=1 OH_BENCH_WS=$ws \
        unshare --mount --pid --fork --mount-proc --propagation private --kill-child=TERM -- "$@" &
    BENCH_UNSHARE_PID=$!
    # unshare ignores SIGINT and SIGTERM while it waits, and a signal sent to
    # this script alone reaches neither it nor the namespace: pass it on to
    # the namespace's PID 1 (the inner script), which cleans up and exits.
    trap bench_stop_inner INT TERM
    # wait returns early when a trapped signal arrives: wait again until
    # unshare itself is gone.
    while :; do
        rc=0
        wait "$BENCH_UNSHARE_PID" || rc=$?
        kill -0 "$BENCH_UNSHARE_PID" 2> /dev/null || break
    done
    exit "$rc"
}

bench_stop_inner() {
    local inner
    inner=$(cat "/proc/$BENCH_UNSHARE_PID/task/$BENCH_UNSHARE_PID/children" 2> /dev/null) || true
    if [[ -n $inner ]]; then
        # shellcheck disable=SC2086 # one PID, or none
        kill -TERM $inner 2> /dev/null || true
    fi
}

# PID 1 of a PID namespace ignores signals it has no handler for: without
# these an interrupted benchmark would only stop at its end.
bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n ${BENCH_WS:-} ]] && mountpoint -q "$BENCH_WS"; then
        umount -R "$BENCH_WS" 2>/dev/null || umount -R -l "$BENCH_WS" 2>/dev/null || true
    fi
    exit "$rc"
}

# bench_cleanup_all WS: for a trap on EXIT of a benchmark that is PID 1 of
# its namespace: kills every process it started, then unmounts WS (if it
# is a mount) and exits with the status the benchmark ended with.
bench_cleanup_all() {
    local rc=$?
    trap - EXIT INT TERM
    bench_kill_started || true
    if [[ -n $1 ]] && mountpoint -q "$1"; then
        umount -R "$1" 2>/dev/null || umount -R -l "$1" 2>/dev/null || true
    fi
    exit "$rc"
}

# bench_setup_workspace BIN: mounts the tmpfs workspace, makes the lower
# layer and the instance config, and sets:
#   BENCH_INSTANCE  the helper's instance name
#   BENCH_LOWER     the lower layer, which both tools mount
#   BENCH_UPPER, BENCH_WORK, BENCH_MERGED  the helper's instance dirs
#   BENCH_UL_MERGED, BENCH_UL_OPTS  util-linux's Merged and its -o string: its
#                   own Upper and Work beside the helper's, on the same tmpfs.
#                   Not the helper's: util-linux leaves Work/work behind, and
#                   the helper takes a leftover Work/work as a sign that a copy
#                   of its overlay may live, and scans every namespace for one.
#   BENCH_BIN       the copy of BIN that is run
#   BENCH_HELPER    the helper command line up to (not including) the verb
bench_setup_workspace() {
    local bin=$1 i
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mount -t tmpfs -o mode=0755 overlay-helper-bench "$BENCH_WS"
    mkdir -p "$BENCH_WS"/{etc,state,run,lower,fill} "$BENCH_WS"/{inst,ul}/{upper,work,merged}
    chmod 0755 "$BENCH_WS/etc"
    # A small lower layer: a few dirs and files, as a service root might have
    # at its top level. The cost of an overlay mount does not depend on it.
    for i in $(seq 1 16); do
        mkdir -p "$BENCH_WS/lower/d$i"
        echo "file $i" > "$BENCH_WS/lower/d$i/f"
    done
    BENCH_INSTANCE=bench
    BENCH_LOWER=$BENCH_WS/lower
    BENCH_UPPER=$BENCH_WS/inst/upper
    BENCH_WORK=$BENCH_WS/inst/work
    BENCH_MERGED=$BENCH_WS/inst/merged
    printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' \
        "$BENCH_LOWER" "$BENCH_UPPER" "$BENCH_WORK" "$BENCH_MERGED" > "$BENCH_WS/etc/$BENCH_INSTANCE.conf"
    chmod 0644 "$BENCH_WS/etc/$BENCH_INSTANCE.conf"
    # The helper mounts with MountFlags=nosuid,nodev by default; give
    # util-linux the same flags.
    BENCH_UL_MERGED=$BENCH_WS/ul/merged
    BENCH_UL_OPTS="nosuid,nodev,lowerdir=$BENCH_LOWER,upperdir=$BENCH_WS/ul/upper,workdir=$BENCH_WS/ul/work"
    # A copy: a rebuild of BIN during a run (others may be at work in the
    # tree) must neither break the run nor mix two builds in one report.
    cp -p -- "$bin" "$BENCH_WS/overlay-helper"
    BENCH_BIN=$BENCH_WS/overlay-helper
    BENCH_HELPER=("$BENCH_BIN" --config-dir "$BENCH_WS/etc" --state-dir "$BENCH_WS/state"
        --runtime-dir "$BENCH_WS/run")
    # Every guard on: none of the helper's test and fallback switches.
    local v
    for v in "${!OVERLAY_HELPER_@}"; do
        unset "$v"
    done
    unset JOURNAL_STREAM
}

bench_mount_count() {
    wc -l < /proc/self/mountinfo
}

BENCH_FILL_NEXT=0

# bench_fill_to N: adds small tmpfs mounts under the workspace until the
# namespace has at least N mounts (fewer can't be had: the namespace starts
# with the host's mounts plus the workspace). Prints the count reached.
bench_fill_to() {
    local want=$1 have
    have=$(bench_mount_count)
    while ((have < want)); do
        # Callers may run this in a subshell, which keeps no counter.
        while [[ -e $BENCH_WS/fill/$BENCH_FILL_NEXT ]]; do
            BENCH_FILL_NEXT=$((BENCH_FILL_NEXT + 1))
        done
        mkdir "$BENCH_WS/fill/$BENCH_FILL_NEXT" || bench_die "mkdir of a filler mount point failed"
        mount -t tmpfs -o size=4k,mode=0755 fill "$BENCH_WS/fill/$BENCH_FILL_NEXT" ||
            bench_die "mounting filler tmpfs $BENCH_FILL_NEXT failed"
        BENCH_FILL_NEXT=$((BENCH_FILL_NEXT + 1))
        have=$((have + 1))
    done
    have=$(bench_mount_count)
    ((have >= want)) || bench_die "wanted $want mounts, have $have"
    echo "$have"
}

# bench_check_tools: one cycle of each tool, checked, before anything is
# timed; fails loudly if a tool does not do what the benchmark assumes.
bench_check_tools() {
    local before
    before=$(bench_mount_count)
    mount -t overlay overlay -o "$BENCH_UL_OPTS" "$BENCH_UL_MERGED" ||
        bench_die "util-linux mount of the overlay failed"
    [[ $(findmnt -n -o FSTYPE --mountpoint "$BENCH_UL_MERGED") == overlay ]] ||
        bench_die "util-linux mount did not mount an overlay on $BENCH_UL_MERGED"
    umount "$BENCH_UL_MERGED" || bench_die "util-linux umount failed"
    "${BENCH_HELPER[@]}" -q mount "$BENCH_INSTANCE" || bench_die "overlay-helper mount failed"
    [[ $(findmnt -n -o FSTYPE --mountpoint "$BENCH_MERGED") == overlay ]] ||
        bench_die "overlay-helper mount did not mount an overlay on $BENCH_MERGED"
    [[ $(bench_mount_count) -eq $((before + 1)) ]] ||
        bench_die "expected one more mount after overlay-helper mount"
    "${BENCH_HELPER[@]}" -q mount "$BENCH_INSTANCE" || bench_die "overlay-helper mount (again) failed"
    [[ $(bench_mount_count) -eq $((before + 1)) ]] ||
        bench_die "overlay-helper mount is not idempotent: it mounted twice"
    "${BENCH_HELPER[@]}" -q umount "$BENCH_INSTANCE" || bench_die "overlay-helper umount failed"
    ! mountpoint -q "$BENCH_MERGED" || bench_die "overlay-helper umount left $BENCH_MERGED mounted"
    [[ ! -e $BENCH_WORK/work ]] || bench_die "overlay-helper umount left $BENCH_WORK/work behind"
    [[ $(bench_mount_count) -eq $before ]] || bench_die "mount count changed across the checks"
}

# bench_median V...: the median of integers (the mean of the middle two when
# there is an even number of them).
bench_median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_median_real V...: the same for decimals, printed with 2 decimals.
bench_median_real() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_range V...: "MIN-MAX" of integers.
bench_range() {
    printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'
}

# bench_kill_started: kills, by PID, every process in this PID namespace but
# this shell (as PID 1 it adopted the orphans of whatever the benchmark
# started, and every one of them is the benchmark's), and reaps them. Only for
# the namespace's PID 1: anywhere else it would reach the host's processes.
bench_kill_started() {
    local p pids tries
    (($$ == 1)) || bench_die "bench_kill_started: not PID 1 of a private PID namespace"
    for tries in $(seq 1 100); do
        pids=()
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            [[ $p == "$$" || $p == "$BASHPID" ]] && continue
            pids+=("$p")
        done
        ((${#pids[@]} == 0)) && return 0
        kill -KILL "${pids[@]}" 2> /dev/null || true
        wait 2> /dev/null || true
        ((tries > 1)) && sleep 0.05
    done
    bench_note "processes left after cleanup: ${pids[*]}"
    return 1
}
