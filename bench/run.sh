#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run.sh BIN: what a full `overlay-helper mount` + `overlay-helper
# umount` cycle costs next to util-linux's `mount -t overlay` + `umount` on
# the same lower layer, as the namespace grows from ~20 to 1,000 mounts.
#
# Run as root (`sudo make bench`). Everything happens in private mount and PID
# namespaces on a tmpfs; the host's mount table is never touched. Prints a
# markdown report on stdout, progress on stderr.
#
# What one "cycle" includes, for every variant alike: bash forking and
# exec'ing each command as a separate process (as an operator's script or a
# unit's ExecStartPre=/ExecStopPost= lines do), the dynamic loader, all of the
# tool's own work and the kernel's mount and unmount. Two /bin/true runs show
# the floor that starting two processes sets; two runs of a static no-op
# (built here with cc, if it can) show how low a static binary's floor is.
#
# Method: per size, BENCH_REPS loops; each loop runs BENCH_CYCLES cycles of
# every variant, interleaved in blocks of BENCH_BLOCK cycles so that load
# from elsewhere on the machine falls on all variants alike. A loop's figure is
# its mean µs per cycle; the tables show the median over the loops. hyperfine
# (whose runs are sequential, not interleaved) is a cross-check.
#
# Knobs (environment): BENCH_SIZES (default "20 200 1000"), BENCH_CYCLES
# (default 500), BENCH_BLOCK (default 100), BENCH_REPS (default 5),
# BENCH_WARMUP (default 20), BENCH_HYPERFINE_RUNS (default 200; 0 skips it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 ]] || bench_die "usage: $0 BIN (e.g. bench/run.sh build/overlay-helper)"
BIN=$(realpath -e -- "$1") || bench_die "no such file: $1"
[[ -x $BIN ]] || bench_die "not executable: $BIN"

bench_enter_namespace "$here/run.sh" "$BIN"

SIZES=${BENCH_SIZES:-20 200 1000}
CYCLES=${BENCH_CYCLES:-500}
BLOCK=${BENCH_BLOCK:-100}
REPS=${BENCH_REPS:-5}
WARMUP=${BENCH_WARMUP:-20}
HF_RUNS=${BENCH_HYPERFINE_RUNS:-200}
((CYCLES >= 1 && BLOCK >= 1 && REPS >= 1 && WARMUP >= 1)) ||
    bench_die "BENCH_CYCLES, BENCH_BLOCK, BENCH_REPS and BENCH_WARMUP must be >= 1"
((BLOCK <= CYCLES)) || BLOCK=$CYCLES

bench_setup_workspace "$BIN"
LOG=$BENCH_WS/stderr.log
bench_check_tools

VARIANTS=(util helper nostatmount floor)
declare -A LABEL=(
    [util]="util-linux \`mount -t overlay\` + \`umount\`"
    [helper]="overlay-helper \`mount\` + \`umount\`"
    [nostatmount]="overlay-helper, OVERLAY_HELPER_NO_STATMOUNT=1"
    [floor]="\`/bin/true\` twice"
    [static]="static no-op twice"
)
NOP_STATIC=$BENCH_WS/nop-static
if printf 'int main(void) { return 0; }\n' | cc -O2 -static -x c -o "$NOP_STATIC" - 2> /dev/null; then
    VARIANTS+=(static)
else
    bench_note "cc -static failed (no libc6-dev?): skipping the static no-op floor"
fi

# set_variant V: the two commands of one cycle of V, in CYCLE_A and CYCLE_B.
set_variant() {
    case $1 in
        util)
            CYCLE_A=(mount -t overlay overlay -o "$BENCH_UL_OPTS" "$BENCH_UL_MERGED")
            CYCLE_B=(umount "$BENCH_UL_MERGED")
            ;;
        helper | nostatmount)
            CYCLE_A=("${BENCH_HELPER[@]}" mount "$BENCH_INSTANCE")
            CYCLE_B=("${BENCH_HELPER[@]}" umount "$BENCH_INSTANCE")
            ;;
        floor)
            CYCLE_A=(/bin/true)
            CYCLE_B=(/bin/true)
            ;;
        static)
            CYCLE_A=("$NOP_STATIC")
            CYCLE_B=("$NOP_STATIC")
            ;;
    esac
}

cycle_failed() {
    bench_note "cycle failed at the $1 command (exit $2): ${*:3}"
    tail -n 5 "$LOG" >&2 || true
    exit 1
}

# time_cycles K: runs K cycles of CYCLE_A then CYCLE_B; prints the total µs
# spent in each. Timestamps come from $EPOCHREALTIME, which costs no process.
# Both tools' stderr goes to the same file (the helper logs a line per action).
time_cycles() {
    local k=$1 i t0 t1 t2 sa=0 sb=0 rc
    : > "$LOG"
    for ((i = 0; i < k; i++)); do
        t0=$EPOCHREALTIME
        rc=0
        "${CYCLE_A[@]}" 2>> "$LOG" || rc=$?
        t1=$EPOCHREALTIME
        ((rc == 0)) || cycle_failed first "$rc" "${CYCLE_A[@]}"
        "${CYCLE_B[@]}" 2>> "$LOG" || rc=$?
        t2=$EPOCHREALTIME
        ((rc == 0)) || cycle_failed second "$rc" "${CYCLE_B[@]}"
        sa=$((sa + ${t1/./} - ${t0/./}))
        sb=$((sb + ${t2/./} - ${t1/./}))
    done
    echo "$sa $sb"
}

# run_variant V K: time_cycles for V, in a subshell so that the no-statmount
# switch reaches only its own commands.
run_variant() {
    (
        set_variant "$1"
        if [[ $1 == nostatmount ]]; then
            export OVERLAY_HELPER_NO_STATMOUNT=1
        fi
        time_cycles "$2"
    )
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

range() {
    printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# le A B: whether A <= B (decimals).
le() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'
}

# measure N: fills the namespace to N mounts and times every variant, filling
# MNT, UMNT, CYC, SPREAD, PAIRED and ACTUAL for N.
measure() {
    local n=$1 have rep left k v a b i
    local -A m_list=() u_list=() c_list=() sum_a=() sum_b=()
    local -a hc uc pairs
    have=$(bench_fill_to "$n")
    ACTUAL[$n]=$have
    bench_check_tools
    bench_note "N=$n: $have mounts in the namespace; warming up"
    for v in "${VARIANTS[@]}"; do
        run_variant "$v" "$WARMUP" > /dev/null
    done
    for ((rep = 1; rep <= REPS; rep++)); do
        bench_note "N=$n: loop $rep/$REPS: $CYCLES cycles of each variant, in blocks of $BLOCK"
        for v in "${VARIANTS[@]}"; do
            sum_a[$v]=0
            sum_b[$v]=0
        done
        for ((left = CYCLES; left > 0; left -= k)); do
            k=$((left < BLOCK ? left : BLOCK))
            for v in "${VARIANTS[@]}"; do
                read -r a b <<< "$(run_variant "$v" "$k")"
                [[ -n $a && -n $b ]] || bench_die "no timing from variant $v"
                sum_a[$v]=$((sum_a[$v] + a))
                sum_b[$v]=$((sum_b[$v] + b))
            done
        done
        for v in "${VARIANTS[@]}"; do
            m_list[$v]+="$((sum_a[$v] / CYCLES)) "
            u_list[$v]+="$((sum_b[$v] / CYCLES)) "
            c_list[$v]+="$(((sum_a[$v] + sum_b[$v]) / CYCLES)) "
        done
    done
    # The helper / util-linux ratio of each loop: both ran in the same blocks.
    read -r -a hc <<< "${c_list[helper]}"
    read -r -a uc <<< "${c_list[util]}"
    pairs=()
    for ((i = 0; i < REPS; i++)); do
        pairs+=("$(ratio "${hc[i]}" "${uc[i]}")")
    done
    PAIRED[$n]=$(range "${pairs[@]}")
    for v in "${VARIANTS[@]}"; do
        # shellcheck disable=SC2086 # word-splitting the lists is the point
        {
            MNT[$v,$n]=$(median ${m_list[$v]})
            UMNT[$v,$n]=$(median ${u_list[$v]})
            CYC[$v,$n]=$(median ${c_list[$v]})
            SPREAD[$v,$n]=$(range ${c_list[$v]})
        }
    done
    [[ $(bench_mount_count) -eq $have ]] || bench_die "the mount count drifted during the N=$n runs"
    ! mountpoint -q "$BENCH_MERGED" || bench_die "$BENCH_MERGED is still mounted after the N=$n runs"
    ! mountpoint -q "$BENCH_UL_MERGED" || bench_die "$BENCH_UL_MERGED is still mounted after the N=$n runs"
}

# cross_check N: hyperfine's median µs per `A && B` for util, helper and
# nostatmount, into HF. hyperfine measures the shell's own start and subtracts it.
cross_check() {
    local n=$1 q_util q_h q_helper q_nosm name med
    bench_note "N=$n: hyperfine cross-check, $HF_RUNS runs of each"
    q_util="$(printf '%q ' mount -t overlay overlay -o "$BENCH_UL_OPTS" "$BENCH_UL_MERGED")&& $(printf '%q ' umount "$BENCH_UL_MERGED")"
    q_h="$(printf '%q ' "${BENCH_HELPER[@]}")"
    q_helper="$q_h mount $BENCH_INSTANCE 2>/dev/null && $q_h umount $BENCH_INSTANCE 2>/dev/null"
    q_nosm="OVERLAY_HELPER_NO_STATMOUNT=1 $q_h mount $BENCH_INSTANCE 2>/dev/null && OVERLAY_HELPER_NO_STATMOUNT=1 $q_h umount $BENCH_INSTANCE 2>/dev/null"
    hyperfine --shell=bash --style none --warmup "$WARMUP" --runs "$HF_RUNS" \
        --export-csv "$BENCH_WS/hf.csv" \
        -n util "$q_util" -n helper "$q_helper" -n nostatmount "$q_nosm" > "$BENCH_WS/hf.log" 2>&1 || { cat "$BENCH_WS/hf.log" >&2; false; } ||
        bench_die "hyperfine failed"
    # command,mean,stddev,median,user,system,min,max (seconds)
    while IFS=, read -r name _ _ med _; do
        [[ $name == command ]] && continue
        HF[$name,$n]=$(awk -v s="$med" 'BEGIN { printf "%d", s * 1e6 }')
    done < "$BENCH_WS/hf.csv"
}

declare -A MNT UMNT CYC SPREAD PAIRED ACTUAL HF
ORDER=()
if ((HF_RUNS > 0)) && ! command -v hyperfine > /dev/null; then
    bench_note "hyperfine is not installed (apt-get install hyperfine): skipping the cross-check"
    HF_RUNS=0
fi
for n in $SIZES; do
    ORDER+=("$n")
    measure "$n"
    if ((HF_RUNS > 0)); then
        cross_check "$n"
    fi
done

# ---- report -----------------------------------------------------------------
first=${ORDER[0]}
last=${ORDER[${#ORDER[@]} - 1]}
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
has_static=0
[[ " ${VARIANTS[*]} " == *" static "* ]] && has_static=1

echo "## overlay-helper vs util-linux: mount + umount cycle"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs ($cpu); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$BENCH_BIN" --version): a copy of \`$BIN\` taken at the start (sha256 $(sha256sum "$BENCH_BIN" | cut -c1-12), $(stat -c %s "$BENCH_BIN") bytes, built $(date -u -r "$BENCH_BIN" '+%Y-%m-%d %H:%M UTC'))"
echo "- $(mount --version | head -n1)"
echo "- method: per size, $REPS loops; each loop runs $CYCLES cycles of every variant, interleaved in"
echo "  blocks of $BLOCK, after $WARMUP warm-up cycles. A loop's figure is its mean µs per cycle; shown"
echo "  is the median over the $REPS loops (and the min-max). Each command is a separate process started"
echo "  by bash (fork + exec + loader), for every variant."
echo "- layers: one lower dir (16 dirs, 16 files) on tmpfs, which both tools mount with nosuid,nodev;"
echo "  each has its own Upper, Work and Merged beside the other's on that tmpfs. Filler mounts are"
echo "  4 KiB tmpfs mounts."
echo
echo "### Full cycle, µs (median; min-max over the $REPS loops)"
echo
hdr="| mounts in namespace | ${LABEL[util]} | ${LABEL[helper]} | helper / util-linux (per-loop range) | ${LABEL[nostatmount]} | ${LABEL[floor]}"
sep='| ---: | ---: | ---: | ---: | ---: | ---:'
((has_static)) && hdr+=" | ${LABEL[static]}" && sep+=' | ---:'
echo "$hdr |"
echo "$sep |"
for n in "${ORDER[@]}"; do
    row=$(printf '| %s | %s (%s) | %s (%s) | **%s** (%s) | %s (%s) | %s (%s)' "${ACTUAL[$n]}" \
        "${CYC[util,$n]}" "${SPREAD[util,$n]}" "${CYC[helper,$n]}" "${SPREAD[helper,$n]}" \
        "$(ratio "${CYC[helper,$n]}" "${CYC[util,$n]}")" "${PAIRED[$n]}" \
        "${CYC[nostatmount,$n]}" "${SPREAD[nostatmount,$n]}" "${CYC[floor,$n]}" "${SPREAD[floor,$n]}")
    ((has_static)) && row+=" | ${CYC[static,$n]} (${SPREAD[static,$n]})"
    echo "$row |"
done
echo
echo "### Per command, µs (median)"
echo
echo "| mounts | variant | first command (mount) | second (umount) | cycle | cycle minus \`/bin/true\` twice |"
echo '| ---: | --- | ---: | ---: | ---: | ---: |'
for n in "${ORDER[@]}"; do
    for v in "${VARIANTS[@]}"; do
        printf '| %s | %s | %s | %s | %s | %s |\n' "${ACTUAL[$n]}" "${LABEL[$v]}" \
            "${MNT[$v,$n]}" "${UMNT[$v,$n]}" "${CYC[$v,$n]}" "$((CYC[$v,$n] - CYC[floor,$n]))"
    done
done
echo
echo "### Growth from ${ACTUAL[$first]} to ${ACTUAL[$last]} mounts (cycle at ${ACTUAL[$last]} / cycle at ${ACTUAL[$first]})"
echo
echo '| variant | growth |'
echo '| --- | ---: |'
for v in "${VARIANTS[@]}"; do
    printf '| %s | %s |\n' "${LABEL[$v]}" "$(ratio "${CYC[$v,$last]}" "${CYC[$v,$first]}")"
done
if ((HF_RUNS > 0)); then
    echo
    echo "### Cross-check: hyperfine --shell=bash, $HF_RUNS sequential runs, median µs per \`A && B\`"
    echo
    echo '| mounts | util-linux | overlay-helper | helper / util-linux | helper, no statmount |'
    echo '| ---: | ---: | ---: | ---: | ---: |'
    for n in "${ORDER[@]}"; do
        printf '| %s | %s | %s | %s | %s |\n' "${ACTUAL[$n]}" "${HF[util,$n]}" "${HF[helper,$n]}" \
            "$(ratio "${HF[helper,$n]}" "${HF[util,$n]}")" "${HF[nostatmount,$n]}"
    done
fi
echo
echo "### Targets"
echo
met=1
for n in "${ORDER[@]}"; do
    r=$(ratio "${CYC[helper,$n]}" "${CYC[util,$n]}")
    if le "$r" 0.5; then
        verdict=met
    else
        verdict="**NOT met**"
        met=0
    fi
    echo "- helper <= 0.5 x util-linux at ${ACTUAL[$n]} mounts: $r, $verdict" \
        "(starting two processes, \`/bin/true\` twice, is alone $(ratio "${CYC[floor,$n]}" "${CYC[util,$n]}") x util-linux)"
done
g=$(ratio "${CYC[helper,$last]}" "${CYC[helper,$first]}")
if le "$g" 1.5; then
    verdict=met
else
    verdict="**NOT met**"
    met=0
fi
echo "- helper flat within 1.5x from ${ACTUAL[$first]} to ${ACTUAL[$last]} mounts: $g, $verdict"
echo
if ((met)); then
    echo "All targets met."
else
    echo "Not all targets met."
fi
