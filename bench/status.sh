#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/status.sh BIN [INSTANCES] [PROCS]: what `overlay-helper status` (no
# arguments: every configured instance) costs with INSTANCES mounted
# instances (default 1000) and PROCS sleeping processes (default 2000), next
# to `findmnt -t overlay`, which lists the same overlays and names no holder.
#
# Run as root (`sudo bench/status.sh build/overlay-helper`). Everything
# happens in private mount and PID namespaces on a tmpfs: the host's mount
# table is never touched, and every process started lives in the benchmark's
# PID namespace. Prints a markdown report on stdout, progress on stderr.
#
# The setup:
#   - the workspace tmpfs is shared (as / is on a systemd host); INSTANCES
#     configs (i0001, i0002, ...) with one common lower layer and default
#     Upper, Work and Merged under the state dir;
#   - one private namespace made BEFORE the instances are mounted (it holds
#     no copy of any) and BENCH_STATUS_NS - 1 slave namespaces made AFTER
#     (each holds a slave copy of every instance, as a service's namespace
#     on a systemd host does), BENCH_STATUS_NS_PROCS processes each; in each
#     slave namespace one process has its cwd inside an instance's Merged;
#   - in PID 1's namespace BENCH_STATUS_HOLDERS processes with their cwd in
#     an instance's Merged, one with an open fd on a file in another, and
#     plain sleeping processes up to PROCS in all.
# Before anything is timed, `status --json` is checked to name exactly those
# holders, on the right instances, and no other process.
#
# Timing: BENCH_STATUS_ROUNDS rounds (default 7) after BENCH_STATUS_WARMUP
# warm-up rounds (default 1; 0 saves minutes where a run takes one); each
# round runs `status`, `status --json` and `findmnt -t overlay` once each
# (stdout to /dev/null), interleaved, so that load from elsewhere on the
# machine falls on all alike. Each command is a separate process, its start
# included, timed with $EPOCHREALTIME. The report gives the median and the
# min-max over the rounds, and the median over the rounds of each round's
# ratio to findmnt. Then every holder is killed, every instance unmounted
# with BIN, and the namespace and the runtime dir are checked to be empty.
#
# Knobs (environment): BENCH_STATUS_ROUNDS (default 7), BENCH_STATUS_WARMUP
# (default 1), BENCH_STATUS_NS
# (namespaces besides PID 1's, default 3), BENCH_STATUS_NS_PROCS (processes
# in each, default 10), BENCH_STATUS_HOLDERS (cwd holders in PID 1's
# namespace, default 3), BENCH_STATUS_OTHER (a second helper binary, e.g. a
# build before a change: its `status` joins each round, interleaved, and the
# report gives the median of its per-round ratio to BIN's).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage="usage: $0 BIN [INSTANCES] [PROCS] (e.g. bench/status.sh build/overlay-helper 1000 2000)"
[[ $# -ge 1 && $# -le 3 ]] || bench_die "$usage"
BIN=$(realpath -e -- "$1") || bench_die "no such file: $1"
[[ -x $BIN ]] || bench_die "not executable: $BIN"
INSTANCES=${2:-1000}
PROCS=${3:-2000}
ROUNDS=${BENCH_STATUS_ROUNDS:-7}
WARMUP=${BENCH_STATUS_WARMUP:-1}
NNS=${BENCH_STATUS_NS:-3}
NS_PROCS=${BENCH_STATUS_NS_PROCS:-10}
HOLDERS=${BENCH_STATUS_HOLDERS:-3}
for v in "$INSTANCES" "$PROCS" "$ROUNDS" "$WARMUP" "$NNS" "$NS_PROCS" "$HOLDERS"; do
    [[ $v =~ ^[0-9]+$ ]] || bench_die "not a number: $v; $usage"
done
((INSTANCES >= 2 && ROUNDS >= 1 && NNS >= 1 && NS_PROCS >= 1)) ||
    bench_die "need INSTANCES >= 2, BENCH_STATUS_ROUNDS, _NS and _NS_PROCS >= 1"
INIT_PLAIN=$((PROCS - NNS * NS_PROCS - HOLDERS - 1))
((INIT_PLAIN >= 0)) ||
    bench_die "PROCS ($PROCS) must be at least BENCH_STATUS_NS * _NS_PROCS + _HOLDERS + 1 ($((PROCS - INIT_PLAIN)))"
if [[ ${OH_BENCH_INNER:-} != 1 ]]; then
    for tool in unshare findmnt python3 awk; do
        command -v "$tool" > /dev/null || bench_die "$tool is missing (util-linux, python3)"
    done
    REPRO="$0 $BIN $INSTANCES $PROCS"
    for v in "${!BENCH_STATUS_@}"; do
        REPRO="$v=${!v} $REPRO"
    done
    export OH_STATUS_REPRO=$REPRO
fi

bench_enter_namespace "$here/status.sh" "$@"

cd /
# Fds inherited from whoever ran us would be inherited by every sleeping
# process, and status inspects every fd: each process gets only 0, 1 and 2.
for fd in "/proc/$$"/fd/*; do
    fd=${fd##*/}
    [[ $fd == [012] || $fd == 255 ]] && continue # 255: bash reads this script from it
    eval "exec $fd>&-" 2> /dev/null || true
done

bench_setup_workspace "$BIN"
# The one instance bench_setup_workspace makes is not part of this setup.
rm -f -- "$BENCH_WS/etc/$BENCH_INSTANCE.conf"
LOG=$BENCH_WS/stderr.log
OUT=$BENCH_WS/out
SLEEP_SECS=100000
mkdir -p "$OUT"

trap 'bench_cleanup_all "$BENCH_WS"' EXIT

# Slave namespaces made later must receive every mount and unmount.
mount --make-shared "$BENCH_WS"

name_of() {
    printf 'i%04d' "$1"
}

merged_of() {
    echo "$BENCH_WS/state/$(name_of "$1")/merged"
}

for ((i = 1; i <= INSTANCES; i++)); do
    printf '[Overlay]\nLower=%s\n' "$BENCH_LOWER" > "$BENCH_WS/etc/$(name_of "$i").conf"
done
chmod 0644 "$BENCH_WS"/etc/*.conf

# spawn K IN_NS [CWD]: K sleeping processes; in a new mount namespace when
# IN_NS is "private" or "slave", else in ours. The last one has its cwd in
# CWD when given (/ otherwise). Sets SPAWNED to its PID.
spawn() {
    local k=$1 in_ns=$2 cwd=${3:-/}
    # shellcheck disable=SC2016 # expanded by that sh
    local script='i=1; while [ "$i" -lt "$1" ]; do sleep "$2" & i=$((i + 1)); done; cd "$3" && exec sleep "$2"'
    if [[ $in_ns == private || $in_ns == slave ]]; then
        unshare --mount --propagation "$in_ns" -- sh -c "$script" sh "$k" "$SLEEP_SECS" "$cwd" \
            < /dev/null > /dev/null 2>&1 &
    else
        sh -c "$script" sh "$k" "$SLEEP_SECS" "$cwd" < /dev/null > /dev/null 2>&1 &
    fi
    SPAWNED=$!
    # Not a job to report on: bench_cleanup_all kills and reaps it by PID.
    disown "$SPAWNED"
}

# wait_left_ns PID: until PID is in a mount namespace other than ours.
wait_left_ns() {
    local mine tries
    mine=$(readlink /proc/self/ns/mnt)
    for tries in $(seq 1 1000); do
        [[ $(readlink "/proc/$1/ns/mnt" 2> /dev/null) != "$mine" ]] && return 0
        ((tries == 1000)) && bench_die "process $1 did not leave PID 1's mount namespace in 10 s"
        sleep 0.01
    done
}

count_sleeps() {
    grep -lsx sleep /proc/[0-9]*/comm | wc -l
}

ms_since() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1e3 }'
}

# ---- setup ---------------------------------------------------------------------
# EXPECT: one line per holder, "PID INSTANCE init|slave".
EXPECT=$OUT/expect
: > "$EXPECT"
bench_note "$INSTANCES instances, $PROCS processes, $NNS other namespaces: setting up"
spawn "$NS_PROCS" private
wait_left_ns "$SPAWNED"

t=$EPOCHREALTIME
for ((i = 1; i <= INSTANCES; i++)); do
    "${BENCH_HELPER[@]}" -q mount "$(name_of "$i")" 2>> "$LOG" ||
        { tail -n 5 "$LOG" >&2; bench_die "overlay-helper mount $(name_of "$i") failed"; }
done
MOUNT_MS=$(ms_since "$t")
bench_note "mounted $INSTANCES instances in $MOUNT_MS ms"

# Instances held, spread over the list: slave-namespace holders first, then
# cwd holders in PID 1's namespace, then the fd holder.
n_held=$((NNS - 1 + HOLDERS + 1))
((n_held <= INSTANCES)) || bench_die "more holders ($n_held) than instances ($INSTANCES)"
held=()
for ((j = 0; j < n_held; j++)); do
    held+=($((1 + j * INSTANCES / n_held)))
done
j=0
for ((s = 1; s < NNS; s++, j++)); do
    spawn "$NS_PROCS" slave "$(merged_of "${held[j]}")"
    echo "$SPAWNED $(name_of "${held[j]}") slave" >> "$EXPECT"
done
for ((h = 0; h < HOLDERS; h++, j++)); do
    spawn 1 init "$(merged_of "${held[j]}")"
    echo "$SPAWNED $(name_of "${held[j]}") init" >> "$EXPECT"
done
sh -c 'exec sleep "$1" 3< "$2"' sh "$SLEEP_SECS" "$(merged_of "${held[j]}")/d1/f" \
    < /dev/null > /dev/null 2>&1 &
disown "$!"
echo "$! $(name_of "${held[j]}") init" >> "$EXPECT"
# The rest in chunks: one sh forking thousands of sleeps is slow to start.
left=$INIT_PLAIN
while ((left > 0)); do
    k=$((left < 250 ? left : 250))
    spawn "$k" init
    left=$((left - k))
done
for tries in $(seq 1 600); do
    (($(count_sleeps) == PROCS)) && break
    ((tries == 600)) && bench_die "only $(count_sleeps) of $PROCS processes started in 60 s"
    sleep 0.1
done
while read -r pid name _; do
    for tries in $(seq 1 300); do
        cwd=$(readlink "/proc/$pid/cwd") || true
        fd3=$(readlink "/proc/$pid/fd/3") || true
        [[ $cwd == "$BENCH_WS/state/$name/merged" || $fd3 == "$BENCH_WS/state/$name/"* ]] && break
        ((tries == 300)) && bench_die "holder $pid never reached instance $name"
        sleep 0.01
    done
done < "$EXPECT"

# check_json FILE: status --json names every instance as mounted, and as
# held by exactly the processes in EXPECT (in the right kind of namespace).
check_json() {
    python3 - "$1" "$EXPECT" "$INSTANCES" "$NNS" << 'EOF'
import json, sys
path, expect_path, n, nns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(path) as f:
    doc = json.load(f)
expect = {}
with open(expect_path) as f:
    for line in f:
        pid, name, kind = line.split()
        expect.setdefault(name, set()).add((int(pid), kind == "init"))
errors = []
insts = doc["instances"]
if len(insts) != n:
    errors.append(f"{len(insts)} instances, not {n}")
for inst in insts:
    name = inst["instance"]
    if not inst["mounted"]:
        errors.append(f"{name} not mounted")
    # PID 1's, and every slave namespace's (the private one predates the mounts)
    if len(inst["copies"]) != nns:
        errors.append(f"{name}: {len(inst['copies'])} copies, not {nns}")
    got = {(p["pid"], c["init"]) for c in inst["copies"] for p in c["processes"]}
    want = expect.get(name, set())
    if got != want:
        errors.append(f"{name}: holders {sorted(got)}, not {sorted(want)}")
if errors:
    print("; ".join(errors[:10]) + (f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""))
    sys.exit(1)
EOF
}

rc=0
"${BENCH_HELPER[@]}" status --json > "$OUT/status.json" 2>> "$LOG" || rc=$?
((rc == 0)) || { tail -n 5 "$LOG" >&2; bench_die "overlay-helper status --json failed (exit $rc)"; }
why=$(check_json "$OUT/status.json") || bench_die "status --json is not what the setup holds: $why"
bench_note "status --json names every instance and exactly the $n_held holders"

# ---- timing --------------------------------------------------------------------
VARIANTS=(status json findmnt)
declare -A LABEL=(
    [status]="\`overlay-helper status\`"
    [json]="\`overlay-helper status --json\`"
    [findmnt]="\`findmnt -t overlay\`"
    [other]="\`overlay-helper status\`, BENCH_STATUS_OTHER"
)
OTHER_HELPER=()
if [[ -n ${BENCH_STATUS_OTHER:-} ]]; then
    cp -p -- "$BENCH_STATUS_OTHER" "$BENCH_WS/other-helper"
    OTHER_HELPER=("$BENCH_WS/other-helper" "${BENCH_HELPER[@]:1}")
    VARIANTS+=(other)
fi
RATIOS_other=()
declare -A TIMES=()
RATIOS_status=()
RATIOS_json=()

# run_variant V: runs V once, stdout to /dev/null; prints its wall time in µs.
run_variant() {
    local t0 t1 rc=0
    local -a cmd
    case $1 in
        status) cmd=("${BENCH_HELPER[@]}" status) ;;
        json) cmd=("${BENCH_HELPER[@]}" status --json) ;;
        findmnt) cmd=(findmnt -t overlay) ;;
        other) cmd=("${OTHER_HELPER[@]}" status) ;;
    esac
    t0=$EPOCHREALTIME
    "${cmd[@]}" > /dev/null 2>> "$LOG" || rc=$?
    t1=$EPOCHREALTIME
    ((rc == 0)) || { tail -n 5 "$LOG" >&2; bench_die "${cmd[*]} failed (exit $rc)"; }
    echo $((${t1/./} - ${t0/./}))
}

for ((round = 1; round <= WARMUP; round++)); do
    bench_note "warm-up round $round/$WARMUP"
    for v in "${VARIANTS[@]}"; do
        run_variant "$v" > /dev/null
    done
done
for ((round = 1; round <= ROUNDS; round++)); do
    declare -A this=()
    for v in "${VARIANTS[@]}"; do
        this[$v]=$(run_variant "$v")
        TIMES[$v]+="${this[$v]} "
    done
    RATIOS_status+=("$(awk -v a="${this[status]}" -v b="${this[findmnt]}" 'BEGIN { printf "%.2f", a / b }')")
    RATIOS_json+=("$(awk -v a="${this[json]}" -v b="${this[findmnt]}" 'BEGIN { printf "%.2f", a / b }')")
    ((${#OTHER_HELPER[@]})) &&
        RATIOS_other+=("$(awk -v a="${this[other]}" -v b="${this[status]}" 'BEGIN { printf "%.3f", a / b }')")
    bench_note "round $round/$ROUNDS: status $((this[status] / 1000)) ms, status --json $((this[json] / 1000)) ms, findmnt $((this[findmnt] / 1000)) ms"
done

# ---- teardown ------------------------------------------------------------------
bench_note "killing the processes; unmounting every instance"
bench_kill_started
t=$EPOCHREALTIME
for ((i = 1; i <= INSTANCES; i++)); do
    # The slave namespaces die with their last process, but their copies
    # may outlive it for a moment: umount then says busy (exit 3).
    for tries in $(seq 1 50); do
        rc=0
        "${BENCH_HELPER[@]}" -q umount "$(name_of "$i")" 2>> "$LOG" || rc=$?
        ((rc == 3)) || break
        sleep 0.1
    done
    ((rc == 0)) || { tail -n 5 "$LOG" >&2; bench_die "overlay-helper umount $(name_of "$i") failed (exit $rc)"; }
done
UMOUNT_MS=$(ms_since "$t")
left=$(findmnt -n -t overlay | wc -l)
((left == 0)) || bench_die "$left overlays left mounted after unmounting every instance"
left=$(find "$BENCH_WS/run" -mindepth 1 | wc -l)
((left == 0)) || bench_die "$left entries left in the runtime dir: $(find "$BENCH_WS/run" -mindepth 1 | head -n 3)"

# ---- report --------------------------------------------------------------------
ms() {
    awk -v u="$1" 'BEGIN { printf "%.1f", u / 1e3 }'
}

row() {
    local v=$1 ratio=$2 med range lo hi
    # shellcheck disable=SC2086 # a list of numbers
    med=$(bench_median ${TIMES[$v]})
    # shellcheck disable=SC2086 # a list of numbers
    range=$(bench_range ${TIMES[$v]})
    lo=${range%-*}
    hi=${range#*-}
    printf '| %s | %s | %s-%s | %s |\n' "${LABEL[$v]}" "$(ms "$med")" "$(ms "$lo")" "$(ms "$hi")" "$ratio"
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "## overlay-helper status of every instance vs findmnt -t overlay"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs ($cpu); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$BENCH_BIN" --version): a copy of \`$BIN\` (sha256 $(sha256sum "$BENCH_BIN" | cut -c1-12)); $(findmnt -V)"
echo "- reproduce: \`${OH_STATUS_REPRO:-bench/status.sh $BIN $INSTANCES $PROCS}\`"
echo "- setup: $INSTANCES mounted instances; $PROCS sleeping processes: $NS_PROCS in a private namespace made"
echo "  before the mounts (no copies), $NS_PROCS in each of $((NNS - 1)) slave namespaces made after (a slave copy"
echo "  of every instance each), the rest in PID 1's; holders: one cwd in each slave namespace, $HOLDERS cwd and"
echo "  one open fd in PID 1's, each in a different instance; checked that \`status --json\` names exactly them"
echo "- $ROUNDS rounds after $WARMUP warm-up round(s), each command once per round, interleaved; separate processes, timed"
echo "  with \$EPOCHREALTIME; stdout to /dev/null"
echo "- setup cost, for reference: $INSTANCES \`mount\`s took $MOUNT_MS ms, $INSTANCES \`umount\`s $UMOUNT_MS ms;"
echo "  afterwards no overlay was left in the namespace and the runtime dir was empty"
echo
echo '| command | median, ms | min-max, ms | / findmnt (median of per-round ratios) |'
echo '| --- | ---: | ---: | ---: |'
row status "$(bench_median_real "${RATIOS_status[@]}")"
row json "$(bench_median_real "${RATIOS_json[@]}")"
row findmnt 1
if ((${#OTHER_HELPER[@]})); then
    row other -
    echo
    echo "BENCH_STATUS_OTHER (\`$BENCH_STATUS_OTHER\`, sha256 $(sha256sum "$BENCH_STATUS_OTHER" | cut -c1-12)) / BIN,"
    echo "\`status\`, median of the per-round ratios: $(bench_median_real "${RATIOS_other[@]}")"
fi
echo
# shellcheck disable=SC2086
med=$(bench_median ${TIMES[status]})
if ((INSTANCES >= 1000 && PROCS >= 2000)); then
    if ((med <= 500000)); then v=met; else v="**NOT met**"; fi
    echo "Target (1,000 instances, 2,000 processes): \`status\` in 0.5 s or less: $(ms "$med") ms, $v."
else
    echo "Target (1,000 instances, 2,000 processes: \`status\` in 0.5 s or less): not measured at this scale;"
    echo "$(awk -v u="$med" -v n="$INSTANCES" 'BEGIN { printf "%.2f", u / 1e3 / n }') ms per instance here."
fi
