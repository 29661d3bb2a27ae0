#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/images.sh BIN: what it costs to mount, then unmount, N instances
# (default 100) that share one erofs image as their lower layer, with
# overlay-helper (one loop device for every instance, the image's own mount
# gone once the overlay is made) next to what operators do today:
#   - "mount":   per instance `mount -o loop,ro,nosuid,nodev IMAGE lower_i`
#                then `mount -t overlay overlay -o nosuid,nodev,lowerdir=
#                lower_i,upperdir=..,workdir=.. merged_i`; teardown `umount
#                merged_i; umount lower_i` (autoclear detaches the device);
#   - "losetup": the same with a loop device of its own per instance:
#                `losetup -f -r --show IMAGE`, `mount -o ro,nosuid,nodev DEV
#                lower_i`, the overlay; teardown `umount merged_i; umount
#                lower_i; losetup -d DEV` (skip with BENCH_IMAGES_LOSETUP=0).
# libmount (util-linux 2.29 and later) reuses a read-only device already
# backed by the same file with the same offset and size for `mount -o loop`,
# so "mount" may well end with one device too: the report counts them.
#
# Run as root (`sudo bench/images.sh build/overlay-helper`). Everything
# happens in private mount and PID namespaces on a tmpfs: the host's mount
# table is never touched. Each way has its own copy of the image (same
# bytes, its own inode, so its own devices), named img-TOKEN-WAY.erofs with
# TOKEN the workspace's random suffix; on any exit (INT and TERM included,
# sent to the outer script or to the inner one) everything beneath the
# workspace is unmounted and every loop device whose backing file is one of
# those copies, and no other, is detached: inside the namespace first, and
# again from outside once it is gone. Devices other jobs use are never
# touched; only the counts of this run's images are compared. Prints a
# markdown report on stdout, progress on stderr.
#
# Timing: BENCH_IMAGES_WARMUP warm-up rounds (default 1), then
# BENCH_IMAGES_RUNS rounds (default 7). Each round mounts all N instances
# with one way, checks the peak (mounts, devices), unmounts all N (first
# mounted first, or with BENCH_IMAGES_ORDER=lifo last mounted first: the
# helper's umount looks at every overlay mounted after the one it takes
# down), checks that nothing is left, and does the same with each other
# way; the order is
# helper, mount, losetup in odd rounds and the reverse in even ones, so that
# load from elsewhere on the machine falls on every way alike. Every
# command is a separate process started by bash, timed with $EPOCHREALTIME.
# The report gives, per way, the median and min-max over the rounds of the
# wall time to mount all N and to unmount all N, the median of each round's
# helper / other ratio, per-instance medians (over every round: all
# commands, the phase's first 10 and its last 10, which shows whether a
# command's cost grows with the instances mounted), the loop devices and the
# mounts visible at the peak, and, from one more round of each way with
# every command under `strace -f -qq -o FILE` (BENCH_IMAGES_STRACE=0 skips
# it), system calls and ioctls per instance.
#
# Needs unshare, losetup, mount (util-linux), mkfs.erofs (erofs-utils) and
# strace. Takes about a minute with the defaults.
#
# Knobs (environment): BENCH_IMAGES_N (default 100), BENCH_IMAGES_RUNS
# (default 7), BENCH_IMAGES_WARMUP (default 1), BENCH_IMAGES_LOSETUP
# (default 1), BENCH_IMAGES_STRACE (default 1), BENCH_IMAGES_ORDER (fifo,
# the default, or lifo).
#
# The losetup way leaves the kernel with up to N more loop devices,
# unbound (`losetup -l` does not list them; /sys/block does, and the helper
# and libmount look at each of them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/${BASH_SOURCE[0]##*/}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage="usage: $0 BIN (e.g. bench/images.sh build/overlay-helper)"
[[ $# -eq 1 ]] || bench_die "$usage"

# detach_ours DIR TOKEN: detaches every loop device whose backing file is
# DIR/img-TOKEN-*.erofs, or /img-TOKEN-*.erofs (how the kernel names it once
# the tmpfs holding it is no longer mounted anywhere). Prints the devices.
detach_ours() {
    local dir=$1 token=$2 f b name dev
    for f in /sys/block/loop*/loop/backing_file; do
        [[ -r $f ]] || continue
        b=$(< "$f") 2> /dev/null || continue
        b=${b% (deleted)}
        name=${b##*/}
        [[ $name == "img-$token-"*.erofs ]] || continue
        [[ $b == "$dir/$name" || $b == "/$name" ]] || continue
        dev=${f#/sys/block/}
        dev=/dev/${dev%%/*}
        # On a device still open, LOOP_CLR_FD only sets autoclear.
        losetup -d "$dev" 2> /dev/null || true
        echo "$dev"
    done
}

# outer_cleanup: the outer script's EXIT trap. The inner script detaches its
# devices; a device without autoclear (the losetup way) outlives the
# namespace if that was killed first.
# shellcheck disable=SC2317 # run by the trap
outer_cleanup() {
    local left
    trap - EXIT INT TERM
    left=$(detach_ours "$ws" "$token")
    [[ -z $left ]] || bench_note "detached loop devices the namespace left: ${left//$'\n'/ }"
    for _ in {1..50}; do
        rmdir "$ws" 2> /dev/null && break
        sleep 0.1
    done
}

# ---- outside: re-run in private mount and PID namespaces ---------------------
if [[ ${OH_BENCH_INNER:-} != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || bench_die "must be run as root: it attaches loop devices and mounts overlays"
    BIN=$(realpath -e -- "$1") || bench_die "no such file: $1"
    [[ -x $BIN ]] || bench_die "not executable: $BIN"
    for tool in unshare losetup mount umount mkfs.erofs awk; do
        command -v "$tool" > /dev/null || bench_die "$tool is missing (util-linux, erofs-utils)"
    done
    if [[ ${BENCH_IMAGES_STRACE:-1} != 0 ]]; then
        command -v strace > /dev/null || bench_die "strace is missing (apt-get install strace; or BENCH_IMAGES_STRACE=0)"
    fi
    [[ -e /dev/loop-control ]] || bench_die "no /dev/loop-control: the loop driver is missing"
    REPRO="$0 $1"
    for v in "${!BENCH_IMAGES_@}"; do
        REPRO="$v=${!v} $REPRO"
    done
    ws=$(mktemp -d /tmp/overlay-helper-images-bench.XXXXXX)
    token=${ws##*.}
    trap outer_cleanup EXIT
    OH_BENCH_INNER=1 OH_BENCH_WS=$ws OH_IMAGES_REPRO=$REPRO \
        unshare --mount --pid --fork --mount-proc --propagation private --kill-child=TERM -- "$self" "$BIN" &
    BENCH_UNSHARE_PID=$!
    # unshare ignores INT and TERM while it waits: pass them on to the
    # inner script (bench_stop_inner), which cleans up and exits.
    trap bench_stop_inner INT TERM
    while :; do
        rc=0
        wait "$BENCH_UNSHARE_PID" || rc=$?
        kill -0 "$BENCH_UNSHARE_PID" 2> /dev/null || break
    done
    exit "$rc"
fi

# ---- inside: PID 1 of a private PID namespace -------------------------------
bench_enter_namespace "$self" "$@"
BIN=$1
cd /
N=${BENCH_IMAGES_N:-100}
RUNS=${BENCH_IMAGES_RUNS:-7}
WARMUP=${BENCH_IMAGES_WARMUP:-1}
DO_LOSETUP=${BENCH_IMAGES_LOSETUP:-1}
DO_STRACE=${BENCH_IMAGES_STRACE:-1}
ORDER=${BENCH_IMAGES_ORDER:-fifo}
[[ $ORDER == fifo || $ORDER == lifo ]] || bench_die "BENCH_IMAGES_ORDER must be fifo or lifo, not $ORDER"
for v in "$N" "$RUNS" "$WARMUP" "$DO_LOSETUP" "$DO_STRACE"; do
    [[ $v =~ ^[0-9]+$ ]] || bench_die "not a number: $v"
done
((N >= 1 && RUNS >= 1)) || bench_die "BENCH_IMAGES_N and BENCH_IMAGES_RUNS must be >= 1"

bench_setup_workspace "$BIN"
WS=$BENCH_WS
TOKEN=${WS##*.}
rm -f -- "$WS/etc/$BENCH_INSTANCE.conf"
LOG=$WS/stderr.log
: > "$LOG"

inner_cleanup() {
    local rc=$? left
    trap - EXIT INT TERM
    bench_kill_started || true
    if mountpoint -q "$WS"; then
        umount -R "$WS" 2> /dev/null || umount -R -l "$WS" 2> /dev/null || true
    fi
    left=$(detach_ours "$WS" "$TOKEN")
    [[ -z $left ]] || bench_note "detached loop devices left behind: ${left//$'\n'/ }"
    exit "$rc"
}
trap inner_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WAYS=(helper mount)
((DO_LOSETUP)) && WAYS+=(losetup)
declare -A LABEL=(
    [helper]="overlay-helper \`mount game@i\` / \`umount game@i\`"
    [mount]="\`mount -o loop,ro\` + \`mount -t overlay\` / 2 \`umount\`"
    [losetup]="\`losetup -f -r\` + \`mount\` + \`mount -t overlay\` / 2 \`umount\` + \`losetup -d\`"
)
declare -A IMG=()
mkfs.erofs --quiet "$WS/img-$TOKEN-helper.erofs" "$BENCH_LOWER" || bench_die "mkfs.erofs failed"
for w in "${WAYS[@]}"; do
    IMG[$w]=$WS/img-$TOKEN-$w.erofs
    [[ -e ${IMG[$w]} ]] || cp -- "$WS/img-$TOKEN-helper.erofs" "${IMG[$w]}"
done
printf '[Overlay]\nLower=%s\n' "${IMG[helper]}" > "$WS/etc/game@.conf"
chmod 0644 "$WS/etc/game@.conf"
for w in mount losetup; do
    for ((i = 1; i <= N; i++)); do
        mkdir -p "$WS/$w/$i"/{lower,upper,work,merged}
    done
done
declare -a LODEV=()
# Our losetup devices that someone else detached under us.
FOREIGN_DETACH=()

fail() {
    tail -n 5 "$LOG" >&2 || true
    bench_die "$*"
}

# ---- one way, one instance ---------------------------------------------------
# Every command runs as "${PFX[@]}" COMMAND: PFX is empty, or strace.
PFX=()

mount_one() {
    local w=$1 i=$2 d=$WS/$1/$2
    case $w in
        helper) "${PFX[@]}" "${BENCH_HELPER[@]}" mount "game@$i" 2>> "$LOG" ;;
        mount)
            "${PFX[@]}" mount -o loop,ro,nosuid,nodev "${IMG[mount]}" "$d/lower" 2>> "$LOG" &&
                "${PFX[@]}" mount -t overlay overlay \
                    -o "nosuid,nodev,lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" 2>> "$LOG"
            ;;
        losetup)
            local tries
            for tries in 1 2 3; do
                LODEV[i]=$("${PFX[@]}" losetup -f -r --show "${IMG[losetup]}" 2>> "$LOG") || return 1
                "${PFX[@]}" mount -o ro,nosuid,nodev "${LODEV[i]}" "$d/lower" 2>> "$LOG" && break
                # Between losetup and mount nothing holds the device: a
                # `losetup -d` of its name from elsewhere detaches it at
                # once. Try again then; fail on anything else.
                ours "${LODEV[i]}" && return 1
                foreign "$i"
                ((tries < 3)) || return 1
            done
            "${PFX[@]}" mount -t overlay overlay \
                -o "nosuid,nodev,lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" 2>> "$LOG"
            ;;
    esac
}

# ours DEV: does DEV still back the losetup way's image? A builtin read of
# sysfs, no process.
ours() {
    local back=
    read -r back 2> /dev/null < "/sys/block/${1#/dev/}/loop/backing_file" || true
    [[ $back == "${IMG[losetup]}" ]]
}

foreign() {
    FOREIGN_DETACH+=("${LODEV[$1]}")
    bench_note "losetup: instance $1's ${LODEV[$1]} was detached by someone else"
}

umount_one() {
    local w=$1 i=$2 d=$WS/$1/$2
    case $w in
        helper) "${PFX[@]}" "${BENCH_HELPER[@]}" umount "game@$i" 2>> "$LOG" ;;
        mount) "${PFX[@]}" umount "$d/merged" 2>> "$LOG" && "${PFX[@]}" umount "$d/lower" 2>> "$LOG" ;;
        losetup)
            "${PFX[@]}" umount "$d/merged" 2>> "$LOG" && "${PFX[@]}" umount "$d/lower" 2>> "$LOG" ||
                return 1
            # Detach by name only what still backs our image: someone
            # else's `losetup -d` of that name (a stale record of a device
            # that was once theirs) makes the kernel clear it as our mount
            # goes, and the name may be another job's device by now.
            if ours "${LODEV[i]}"; then
                "${PFX[@]}" losetup -d "${LODEV[i]}" 2>> "$LOG"
            else
                foreign "$i"
            fi
            ;;
    esac
}

# The loop devices backing IMAGE, by its (device, inode).
n_devices() {
    losetup -n -O NAME -j "$1" 2> /dev/null | grep -c . || true
}

n_loop_all() {
    losetup -l -n 2> /dev/null | grep -c . || true
}

n_overlays() {
    grep -c ' - overlay ' /proc/self/mountinfo || true
}

# Waits (up to 5 s) until no loop device backs IMAGE.
wait_no_device() {
    local tries
    for tries in $(seq 1 250); do
        (($(n_devices "$1") == 0)) && return 0
        ((tries == 250)) || sleep 0.02
    done
    losetup -l -j "$1" >&2
    bench_die "a loop device still backs $1 5 s after the last unmount"
}

# ---- rounds ------------------------------------------------------------------
BASE_MOUNTS=$(bench_mount_count)
# The helper looks at every loop device sysfs lists (bound or not) to find
# its image's; the losetup way leaves the kernel with N more (unbound).
n_sysfs_loops() {
    local f n=0
    for f in /sys/block/loop*; do
        [[ -e $f ]] && n=$((n + 1))
    done
    echo "$n"
}
SYSFS_LOOPS0=$(n_sysfs_loops)
TR=$WS/trace
mkdir -p "$TR"
declare -A T_MNT=() T_UMNT=() PER_M=() PER_U=() FIRST_M=() LAST_M=() FIRST_U=() LAST_U=()
declare -A PEAK_DEV=() PEAK_MOUNTS=() PEAK_LOOP_ALL=() RAT=()
RW_M=0
RW_U=0

# trace_to W PHASE K: PFX for the Kth instance's commands in PHASE (m or u)
# of the strace round; empty in any other round.
trace_to() {
    if ((MODE == 2)); then
        PFX=(strace -f -qq -A -o "$TR/$1-$2-$3")
    else
        PFX=()
    fi
}

# run_way W MODE: mounts every instance with W, checks the peak, unmounts
# every instance, checks that nothing is left. MODE 0: a warm-up, 1: a timed
# round (into the tables), 2: the strace round. Sets RW_M and RW_U (µs).
run_way() {
    local w=$1 i k t0 t1 loop0 have
    local -a pm=() pu=()
    MODE=$2
    RW_M=0
    RW_U=0
    loop0=$(n_loop_all)
    for ((i = 1; i <= N; i++)); do
        trace_to "$w" m "$i"
        t0=$EPOCHREALTIME
        mount_one "$w" "$i" || fail "$w: mounting instance $i failed"
        t1=$EPOCHREALTIME
        pm[i]=$((${t1/./} - ${t0/./}))
        RW_M=$((RW_M + pm[i]))
    done
    have=$(bench_mount_count)
    (($(n_overlays) == N)) || fail "$w: $(n_overlays) overlays mounted, not $N"
    if [[ $w == helper ]] && grep -q " $WS/run/images/" /proc/self/mountinfo; then
        fail "helper: an image mount is left beneath $WS/run/images"
    fi
    if ((MODE == 1)); then
        PEAK_MOUNTS[$w]+="$((have - BASE_MOUNTS)) "
        PEAK_DEV[$w]+="$(n_devices "${IMG[$w]}") "
        PEAK_LOOP_ALL[$w]+="$(($(n_loop_all) - loop0)) "
    fi
    for ((k = 1; k <= N; k++)); do
        i=$k
        [[ $ORDER == lifo ]] && i=$((N + 1 - k))
        trace_to "$w" u "$k"
        t0=$EPOCHREALTIME
        umount_one "$w" "$i" || fail "$w: unmounting instance $i failed"
        t1=$EPOCHREALTIME
        pu[k]=$((${t1/./} - ${t0/./}))
        RW_U=$((RW_U + pu[k]))
    done
    PFX=()
    have=$(bench_mount_count)
    ((have == BASE_MOUNTS)) || fail "$w: $have mounts after the unmounts, $BASE_MOUNTS before"
    wait_no_device "${IMG[$w]}"
    ((MODE == 1)) || return 0
    T_MNT[$w]+="$RW_M "
    T_UMNT[$w]+="$RW_U "
    PER_M[$w]+="${pm[*]} "
    PER_U[$w]+="${pu[*]} "
    FIRST_M[$w]+="${pm[*]:0:10} "
    FIRST_U[$w]+="${pu[*]:0:10} "
    LAST_M[$w]+="${pm[*]: -10} "
    LAST_U[$w]+="${pu[*]: -10} "
}

# order R: the ways in round R's order: as listed in odd rounds, reversed
# in even ones.
order() {
    local k
    if (($1 % 2)); then
        echo "${WAYS[@]}"
    else
        for ((k = ${#WAYS[@]} - 1; k >= 0; k--)); do
            printf '%s ' "${WAYS[k]}"
        done
        echo
    fi
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

ms() {
    awk -v u="$1" 'BEGIN { printf "%.1f", u / 1e3 }'
}

bench_note "$N instances on one erofs image ($(stat -c %s "${IMG[helper]}") bytes); ways: ${WAYS[*]}"
for ((round = 1; round <= WARMUP; round++)); do
    bench_note "warm-up round $round/$WARMUP"
    for w in $(order "$round"); do
        run_way "$w" 0
    done
done
declare -A m=() u=()
for ((round = 1; round <= RUNS; round++)); do
    msg=
    for w in $(order "$round"); do
        run_way "$w" 1
        m[$w]=$RW_M
        u[$w]=$RW_U
        msg+=" $w $(ms "${m[$w]}") + $(ms "${u[$w]}") ms;"
    done
    bench_note "round $round/$RUNS (mount all + umount all):$msg"
    for w in "${WAYS[@]}"; do
        [[ $w == helper ]] && continue
        RAT[m,$w]+="$(ratio "${m[helper]}" "${m[$w]}") "
        RAT[u,$w]+="$(ratio "${u[helper]}" "${u[$w]}") "
        RAT[c,$w]+="$(ratio $((m[helper] + u[helper])) $((m[$w] + u[$w]))) "
    done
done

# ---- the strace round ----------------------------------------------------------
# count_traces W PHASE: from the traces of every instance's PHASE commands,
# "TOTAL FIRST LAST IOCTLS EXECVES TOP_IOCTLS;TOP_SYSCALLS", totals per
# instance, FIRST and LAST the syscalls of the first and the Nth instance
# the phase handled.
count_traces() {
    local w=$1 p=$2
    awk -v n="$N" -v first="$TR/$w-$p-1" -v last="$TR/$w-$p-$N" '
        function top(arr, k,   out, i, best, bc, s) {
            out = ""
            for (i = 0; i < k; i++) {
                best = ""; bc = 0
                for (s in arr) if (arr[s] > bc) { best = s; bc = arr[s] }
                if (best == "") break
                out = out (i ? ", " : "") best " " sprintf(bc / n < 0.1 ? "%.2f" : "%.1f", bc / n)
                delete arr[best]
            }
            return out
        }
        {
            sub(/^[0-9]+ +/, "")
            if (!match($0, /^[a-z_0-9]+\(/)) next
            name = substr($0, 1, RLENGTH - 1)
            # strace 6.1 predates statmount() and listmount()
            if (name == "syscall_0x1c9") name = "statmount"
            if (name == "syscall_0x1ca") name = "listmount"
            calls++
            per[name]++
            if (FILENAME == first) nfirst++
            if (FILENAME == last) nlast++
            if (name == "execve") execs++
            if (name == "ioctl") {
                ioctls++
                req = $0
                sub(/^ioctl\([^,]*, */, "", req)
                if (match(req, /^_IOC\([^)]*\)/)) req = substr(req, 1, RLENGTH)
                else sub(/[,)].*/, "", req)
                sub(/ <unfinished.*/, "", req)
                # the nsfs ioctls strace 6.1 cannot name
                if (req == "_IOC(_IOC_READ, 0xb7, 0x5, 0x8)") req = "NS_GET_MNTNS_ID"
                if (req == "_IOC(_IOC_READ, 0xb7, 0xa, 0x10)") req = "NS_MNT_GET_INFO"
                if (req == "_IOC(_IOC_READ, 0xb7, 0xb, 0x10)") req = "NS_MNT_GET_NEXT"
                if (req == "_IOC(_IOC_READ, 0xb7, 0xc, 0x10)") req = "NS_MNT_GET_PREV"
                ioc[req]++
            }
        }
        END {
            printf "%.1f %d %d %.1f %.1f %s;%s\n", calls / n, nfirst, nlast, ioctls / n, execs / n,
                top(ioc, 4), top(per, 5)
        }' "$TR/$w-$p-"*
}

declare -A SC=()
if ((DO_STRACE)); then
    for w in "${WAYS[@]}"; do
        bench_note "strace round: $w"
        run_way "$w" 2
        SC[$w,m]=$(count_traces "$w" m)
        SC[$w,u]=$(count_traces "$w" u)
    done
fi

# ---- afterwards: nothing left ------------------------------------------------------
for w in "${WAYS[@]}"; do
    (($(n_devices "${IMG[$w]}") == 0)) || bench_die "a loop device still backs ${IMG[$w]}"
done
(($(bench_mount_count) == BASE_MOUNTS)) || bench_die "the mount count drifted"
left=$(find "$WS/run" -mindepth 1 ! -name images | wc -l)
((left == 0)) || bench_die "$left entries left in the runtime dir: $(find "$WS/run" -mindepth 1 | head -n 3)"

# ---- report --------------------------------------------------------------------
# stat_ms LIST: "MEDIAN (MIN-MAX)" in ms of a list of µs.
stat_ms() {
    local med range
    # shellcheck disable=SC2086 # a list of numbers
    med=$(bench_median $1)
    # shellcheck disable=SC2086
    range=$(bench_range $1)
    printf '%s (%s-%s)' "$(ms "$med")" "$(ms "${range%-*}")" "$(ms "${range#*-}")"
}

# stat_ratio LIST: "MEDIAN (MIN-MAX)" of a list of ratios.
stat_ratio() {
    # shellcheck disable=SC2086 # a list of numbers
    printf '%s (%s)' "$(bench_median_real $1)" "$(printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')"
}

med() {
    [[ -n ${1// /} ]] || { echo -; return 0; }
    # shellcheck disable=SC2086 # a list of numbers
    bench_median $1
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "## Image lowers: $N instances on one erofs image"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs ($cpu); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$BENCH_BIN" --version): a copy of \`$BIN\` (sha256 $(sha256sum "$BENCH_BIN" | cut -c1-12)); $(mount --version | head -n1); erofs-utils $(dpkg-query -W -f '${Version}' erofs-utils 2> /dev/null || echo '(version unknown)')"
echo "- reproduce: \`${OH_IMAGES_REPRO:-bench/images.sh $BIN}\`"
echo "- loop devices in /sys/block (bound or not, every job's): $SYSFS_LOOPS0 at the start, $(n_sysfs_loops) at the end"
echo "- image: erofs of 16 dirs with a file each, $(stat -c %s "${IMG[helper]}") bytes, on the workspace tmpfs; one copy per way"
echo "  (same bytes, its own inode); the helper's instances are \`game@1\`..\`game@$N\` of one template"
echo "  \`game@.conf\` (\`Lower=IMAGE\`, default Upper/Work/Merged); the others' dirs are made beforehand"
echo "- $RUNS rounds after $WARMUP warm-up round(s); in each, every way mounts all $N instances one after"
if [[ $ORDER == fifo ]]; then
    order_text="in the same order (first mounted, first unmounted)"
else
    order_text="in the reverse order (last mounted, first unmounted)"
fi
echo "  the other, then unmounts them $order_text; order of the ways: ${WAYS[*]} in odd rounds,"
echo "  reversed in even ones. Each command a separate process, timed with \$EPOCHREALTIME"
echo
echo "### Wall time for all $N instances, ms (median; min-max over the rounds)"
echo
echo '| way | mount all | umount all | both |'
echo '| --- | ---: | ---: | ---: |'
for w in "${WAYS[@]}"; do
    read -r -a a <<< "${T_MNT[$w]}"
    read -r -a b <<< "${T_UMNT[$w]}"
    both=()
    for ((k = 0; k < ${#a[@]}; k++)); do
        both+=($((a[k] + b[k])))
    done
    printf '| %s | %s | %s | %s |\n' "${LABEL[$w]}" "$(stat_ms "${T_MNT[$w]}")" \
        "$(stat_ms "${T_UMNT[$w]}")" "$(stat_ms "${both[*]}")"
done
echo
echo "### helper / other way, median of the per-round ratios (min-max)"
echo
echo '| against | mount all | umount all | both |'
echo '| --- | ---: | ---: | ---: |'
for w in "${WAYS[@]}"; do
    [[ $w == helper ]] && continue
    printf '| %s | %s | %s | %s |\n' "$w" "$(stat_ratio "${RAT[m,$w]}")" "$(stat_ratio "${RAT[u,$w]}")" \
        "$(stat_ratio "${RAT[c,$w]}")"
done
echo
echo "### Per instance, µs (median over every command of every round; the first 10 commands of the phase; the last 10)"
echo
echo '| way | mount | mount, first 10 | mount, last 10 | umount | umount, first 10 | umount, last 10 |'
echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
for w in "${WAYS[@]}"; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$(med "${PER_M[$w]}")" "$(med "${FIRST_M[$w]}")" \
        "$(med "${LAST_M[$w]}")" "$(med "${PER_U[$w]}")" "$(med "${FIRST_U[$w]}")" "$(med "${LAST_U[$w]}")"
done
echo
echo "### At the peak ($N instances mounted)"
echo
# shellcheck disable=SC2016 # markdown backticks
echo '| way | loop devices backing its image (`losetup -j`) | `losetup -l` lines added (whole machine, range) | mounts added per instance | processes per instance (mount; umount) |'
echo '| --- | ---: | ---: | ---: | ---: |'
for w in "${WAYS[@]}"; do
    procs=n/a
    if ((DO_STRACE)); then
        read -r _ _ _ _ em _ <<< "${SC[$w,m]%%;*}"
        read -r _ _ _ _ eu _ <<< "${SC[$w,u]%%;*}"
        procs="$em; $eu"
    fi
    # shellcheck disable=SC2086 # lists of numbers
    printf '| %s | %s | %s | %s | %s |\n' "$w" "$(bench_range ${PEAK_DEV[$w]})" "$(bench_range ${PEAK_LOOP_ALL[$w]})" \
        "$(awk -v a="$(med "${PEAK_MOUNTS[$w]}")" -v n="$N" 'BEGIN { printf "%.2f", a / n }')" "$procs"
done
if ((DO_STRACE)); then
    echo
    echo "### System calls per instance (\`strace -f -qq -o FILE\` around every command, one more round of each way)"
    echo
    echo "| way | phase | syscalls per instance (1st command; ${N}th) | ioctls per instance | ioctl requests per instance | most frequent syscalls per instance |"
    echo '| --- | --- | ---: | ---: | --- | --- |'
    for w in "${WAYS[@]}"; do
        for p in m u; do
            read -r tot f l io _ <<< "${SC[$w,$p]%%;*}"
            ioreq=${SC[$w,$p]#* * * * * }
            ioreq=${ioreq%%;*}
            printf '| %s | %s | %s (%s; %s) | %s | %s | %s |\n' "$w" "$([[ $p == m ]] && echo mount || echo umount)" \
                "$tot" "$f" "$l" "$io" "${ioreq:--}" "${SC[$w,$p]#*;}"
        done
    done
fi
if ((${#FOREIGN_DETACH[@]})); then
    echo
    echo "Note: ${#FOREIGN_DETACH[@]} of the losetup way's devices were detached by someone else"
    echo "(${FOREIGN_DETACH[*]}): before its mount (detached at once; that instance was attached again)"
    echo "or while mounted (\`losetup -d\` of a busy device makes the kernel clear it when its last user"
    echo "goes; that instance's \`losetup -d\` was skipped)."
fi
echo
echo "Afterwards: no loop device backed any of the images, the namespace had its $BASE_MOUNTS mounts as"
echo "before, and the helper's runtime dir held nothing but its empty \`images/\`."
