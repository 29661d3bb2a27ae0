#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/probe.sh BIN: what `overlay-helper probe INSTANCE --json` costs next to
# what operators run today to find who keeps an overlay alive
# (`grep -l TARGET /proc/*/mountinfo`, `fuser -vm TARGET`, `lsof TARGET`,
# `findmnt -N PID`, `lsns` + `findmnt -N` per namespace), on one setup of
# sleeping processes spread over mount namespaces with a ghost among them, and
# how the probe's time grows with processes and with namespaces.
#
# Run as root (`sudo bench/probe.sh build/overlay-helper`). Everything happens
# in private mount and PID namespaces on a tmpfs: the host's mount table is
# never touched, and every process the benchmark starts lives in its PID
# namespace, so all of them die with it however it ends. Prints a markdown
# report on stdout, progress on stderr.
#
# The setup, rebuilt for every point (processes P, namespaces N):
#   - PID 1's mount namespace (this script's) gets small tmpfs filler mounts
#     up to BENCH_PROBE_MOUNTS mounts in all; every namespace made after that
#     copies its table, so each has about that many mounts;
#   - N-1 plain namespaces (unshare --mount --propagation private) are made
#     BEFORE the overlay is mounted, so they never hold a copy of it; the
#     P - G processes not in the ghost namespace are spread evenly over them
#     (over PID 1's own namespace when N = 1);
#   - the instance is mounted with `overlay-helper mount`, then the ghost
#     namespace is made (it copies the overlay) with G = min(10, P/N)
#     processes: G-1 plain ones and the ghost holder, whose cwd is inside the
#     overlay;
#   - the overlay is unmounted in PID 1's namespace with plain `umount`,
#     which succeeds (private propagation) and leaves the ghost's copy alive:
#     exactly one namespace then holds it, checked before anything is timed.
# The probe is given the instance name: after the unmount Merged is an empty
# dir, not a mount point, so only the instance's Upper and Work dirs lead to
# the copy. grep, fuser and lsof are given Merged (all the path an operator
# has); fuser -m on it reports users of the filesystem Merged is on (the
# workspace tmpfs), lsof users of that very dir.
#
# Every command is timed as a separate process, its start included, with
# hyperfine -N (no shell; grep runs under `sh -c` for its glob, so its figure
# includes starting sh) or, without hyperfine, a loop timed with
# $EPOCHREALTIME. The probe runs from this PID namespace, not the initial
# one: Linux 6.18 refuses the NS_MNT_GET_NEXT walk there, so the probe takes
# its /proc path (dedupe /proc/PID/ns/mnt, then listmount()/statmount() per
# namespace); the report says so.
#
# Needs unshare, nsenter, findmnt and lsns (util-linux), fuser (psmisc), lsof
# and python3 (it reads the probe's JSON and checks the setup); hyperfine and
# strace are used when installed. Takes about two minutes with the defaults.
#
# Knobs (environment):
#   BENCH_PROBE_MOUNTS     mounts per namespace (default 200)
#   BENCH_PROBE_PROCS      processes for the first scaling table (default
#                          "10 100 500 2000"), at BENCH_PROBE_BASE_NS namespaces
#                          (fewer when there are fewer processes than that)
#   BENCH_PROBE_NS         namespaces for the second (default "1 10 50 200"),
#                          at BENCH_PROBE_BASE_PROCS processes
#   BENCH_PROBE_BASE_PROCS the headline setup (default 2000)
#   BENCH_PROBE_BASE_NS    the headline setup (default 50)
#   BENCH_PROBE_RUNS       timed runs of the probe and other fast commands
#                          (default 30; 3 warm-up runs each)
#   BENCH_PROBE_SLOW_RUNS  timed runs of grep -l, lsof and the lsns loop
#                          (default 10; 1 warm-up run each)
#   BENCH_PROBE_DIAG       a shell command: build the headline setup, run it
#                          there (with $OH_HELPER, the helper's command line up
#                          to the verb, $OH_INSTANCE, $OH_MERGED, $OH_GHOST and
#                          $OH_WS set), and stop; for strace, perf and the like
set -euo pipefail
export LC_ALL=C

die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

note() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/${BASH_SOURCE[0]##*/}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# -eq 1 ]] || die "usage: $0 BIN (e.g. bench/probe.sh build/overlay-helper)"

# ---- outside: re-run in private mount and PID namespaces ---------------------
if [[ ${OH_PROBE_BENCH_INNER:-} != 1 ]]; then
    [[ $(id -u) -eq 0 ]] || die "must be run as root: it mounts overlays and makes namespaces"
    BIN=$(realpath -e -- "$1") || die "no such file: $1"
    [[ -x $BIN ]] || die "not executable: $BIN"
    for tool in unshare nsenter findmnt lsns fuser lsof python3 grep awk; do
        command -v "$tool" > /dev/null || die "$tool is missing (util-linux, psmisc, lsof, python3)"
    done
    command -v hyperfine > /dev/null ||
        note "hyperfine is not installed (apt-get install hyperfine): timing with a shell loop instead"
    ws=$(mktemp -d /tmp/overlay-helper-probe-bench.XXXXXX)
    # The namespaces, every mount in them and every process started in them
    # die with the inner PID 1 however it ends; what is left here is this dir.
    # shellcheck disable=SC2064 # expand $ws now
    trap "rmdir '$ws' 2>/dev/null || true" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    rc=0
    OH_PROBE_BENCH_INNER=1 OH_PROBE_BENCH_WS=$ws \
        unshare --mount --pid --fork --mount-proc --propagation private -- "$self" "$BIN" || rc=$?
    exit "$rc"
fi

# ---- inside: PID 1 of a private PID namespace -------------------------------
[[ $$ -eq 1 ]] || die "expected to be PID 1 of a private PID namespace, am $$"
WS=${OH_PROBE_BENCH_WS:-}
[[ -n $WS && -d $WS ]] || die "OH_PROBE_BENCH_WS is not a dir"
BIN=$1
cd /
# Fds inherited from whoever ran us would be inherited by every sleeping
# process, and the probe reads every fd: each process gets only 0, 1 and 2.
for fd in "/proc/$$"/fd/*; do
    fd=${fd##*/}
    [[ $fd == [012] || $fd == 255 ]] && continue # 255: bash reads this script from it
    eval "exec $fd>&-" 2> /dev/null || true
done

MOUNTS=${BENCH_PROBE_MOUNTS:-200}
PROCS_LIST=${BENCH_PROBE_PROCS:-10 100 500 2000}
NS_LIST=${BENCH_PROBE_NS:-1 10 50 200}
BASE_PROCS=${BENCH_PROBE_BASE_PROCS:-2000}
BASE_NS=${BENCH_PROBE_BASE_NS:-50}
RUNS=${BENCH_PROBE_RUNS:-30}
SLOW_RUNS=${BENCH_PROBE_SLOW_RUNS:-10}
GHOST_MAX=10
SLEEP_SECS=100000
((MOUNTS >= 1 && BASE_PROCS >= 1 && BASE_NS >= 1 && RUNS >= 2 && SLOW_RUNS >= 2)) ||
    die "BENCH_PROBE_MOUNTS, _BASE_PROCS, _BASE_NS must be >= 1, _RUNS and _SLOW_RUNS >= 2"
HAVE_HYPERFINE=0
command -v hyperfine > /dev/null && HAVE_HYPERFINE=1

# PID 1 of a PID namespace ignores signals it has no handler for.
trap 'bench_cleanup_all "$WS"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- workspace ---------------------------------------------------------------
mount -t tmpfs -o mode=0755 overlay-helper-probe-bench "$WS"
mkdir -p "$WS"/{etc,state,run,lower,fill,out,inst/upper,inst/work,inst/merged}
chmod 0755 "$WS/etc"
for i in $(seq 1 16); do
    mkdir -p "$WS/lower/d$i"
    echo "file $i" > "$WS/lower/d$i/f"
done
INSTANCE=bench
UPPER=$WS/inst/upper
WORK=$WS/inst/work
MERGED=$WS/inst/merged
printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' \
    "$WS/lower" "$UPPER" "$WORK" "$MERGED" > "$WS/etc/$INSTANCE.conf"
chmod 0644 "$WS/etc/$INSTANCE.conf"
# A copy: a rebuild of BIN during the run must not mix two builds.
cp -p -- "$BIN" "$WS/overlay-helper"
HELPER=("$WS/overlay-helper" --config-dir "$WS/etc" --state-dir "$WS/state" --runtime-dir "$WS/run")
for v in "${!OVERLAY_HELPER_@}"; do
    unset "$v"
done
unset JOURNAL_STREAM
OUT=$WS/out

# Filler mounts, before any namespace is made: each namespace copies them.
have=$(wc -l < /proc/self/mountinfo)
fill=0
while ((have < MOUNTS)); do
    mkdir "$WS/fill/$fill"
    mount -t tmpfs -o size=4k,mode=0755 fill "$WS/fill/$fill"
    fill=$((fill + 1))
    have=$((have + 1))
done
note "PID 1's namespace has $(wc -l < /proc/self/mountinfo) mounts"

# ---- one setup ---------------------------------------------------------------

# spawn_ns K IN_NS [CWD [PROPAGATION]]: K sleeping processes, in a new mount
# namespace (private, or PROPAGATION) when IN_NS is 1, else in ours; the last
# one (the leader: unshare and then sh exec into it) has its cwd in CWD when
# given. Sets SPAWNED to the leader's PID.
spawn_ns() {
    local k=$1 in_ns=$2 cwd=${3:-/} prop=${4:-private}
    # shellcheck disable=SC2016 # expanded by that sh
    local script='i=1; while [ "$i" -lt "$1" ]; do sleep "$2" & i=$((i + 1)); done; cd "$3" && exec sleep "$2"'
    if ((in_ns)); then
        unshare --mount --propagation "$prop" -- sh -c "$script" sh "$k" "$SLEEP_SECS" "$cwd" \
            < /dev/null > /dev/null 2>&1 &
    else
        sh -c "$script" sh "$k" "$SLEEP_SECS" "$cwd" < /dev/null > /dev/null 2>&1 &
    fi
    SPAWNED=$!
    # Not a job of ours to report on: cleanup kills and reaps it by PID.
    disown "$SPAWNED"
    LEADERS+=("$SPAWNED")
}

# wait_unshared: every leader spawned in a new namespace has left ours (the
# plain namespaces must exist before the overlay is mounted, or they copy it).
wait_unshared() {
    local p tries mine
    mine=$(readlink /proc/self/ns/mnt)
    for p in "${LEADERS[@]}"; do
        for tries in $(seq 1 1000); do
            [[ $(readlink "/proc/$p/ns/mnt") != "$mine" ]] && break
            ((tries == 1000)) && die "process $p did not leave PID 1's mount namespace in 10 s"
            sleep 0.01
        done
    done
}

count_sleeps() {
    grep -lsx sleep /proc/[0-9]*/comm | wc -l
}

# unmount_instance: after bench_kill_started, the last setup's copies are
# gone with their processes: the helper then finds none anywhere and removes
# the kernel's Work/work (retried while a dying namespace still holds one).
unmount_instance() {
    local tries rc
    for tries in $(seq 1 50); do
        rc=0
        "${HELPER[@]}" -q umount "$INSTANCE" 2> "$OUT/umount.err" || rc=$?
        ((rc == 0)) && break
        ((rc == 3)) || { cat "$OUT/umount.err" >&2; die "overlay-helper umount failed (exit $rc)"; }
        sleep 0.1
    done
    ((rc == 0)) || die "a copy of the overlay outlived its namespace's processes"
}

# setup P N: tears down the last setup and builds the one described at the
# top. Sets GHOST (the holder's PID), GHOST_NS_PIDS (every PID in the ghost
# namespace, sorted), G, NS_MOUNTS (the ghost namespace's table size).
setup() {
    local procs=$1 nns=$2 rest per extra k i tries
    bench_kill_started
    unmount_instance
    G=$((procs / nns))
    ((G > GHOST_MAX)) && G=$GHOST_MAX
    ((G >= 1)) || die "fewer processes ($procs) than namespaces ($nns)"
    rest=$((procs - G))
    LEADERS=()
    if ((nns == 1)); then
        ((rest > 0)) && spawn_ns "$rest" 0
        LEADERS=()
    else
        per=$((rest / (nns - 1)))
        extra=$((rest % (nns - 1)))
        ((per >= 1)) || die "fewer processes ($procs) than namespaces ($nns)"
        for ((i = 0; i < nns - 1; i++)); do
            k=$per
            ((i < extra)) && k=$((k + 1))
            spawn_ns "$k" 1
        done
    fi
    wait_unshared
    "${HELPER[@]}" -q mount "$INSTANCE" || die "overlay-helper mount failed"
    spawn_ns "$G" 1 "$MERGED"
    GHOST=$SPAWNED
    for tries in $(seq 1 600); do
        (($(count_sleeps) == procs)) && [[ $(readlink "/proc/$GHOST/cwd") == "$MERGED" ]] && break
        ((tries == 600)) && die "only $(count_sleeps) of $procs processes started in 60 s"
        sleep 0.1
    done
    umount "$MERGED" || die "umount $MERGED in PID 1's namespace failed"
    check_setup "$procs" "$nns"
}

# setup_mounted P N: the overlay stays mounted in PID 1's namespace (on a
# shared workspace, as / is on a systemd host) and N-1 namespaces made after it with
# --propagation slave each hold a copy that receives the unmount, as logind's
# and other sandboxed services' do; P processes are spread over them, and
# the last namespace's leader, PID HOLDER, has its cwd in Merged: the one
# holder. Sets HOLDER.
setup_mounted() {
    local procs=$1 nns=$2 per extra k i tries copies
    bench_kill_started
    unmount_instance
    ((nns >= 2 && procs >= nns - 1)) || die "the mounted setup needs 2 namespaces and a process in each"
    # An unmount reaches the copies under the slaves of Merged's parent
    # mount: the workspace must be shared, as / is on a systemd host.
    mount --make-shared "$WS"
    "${HELPER[@]}" -q mount "$INSTANCE" || die "overlay-helper mount failed"
    LEADERS=()
    per=$((procs / (nns - 1)))
    extra=$((procs % (nns - 1)))
    for ((i = 0; i < nns - 1; i++)); do
        k=$per
        ((i < extra)) && k=$((k + 1))
        if ((i == nns - 2)); then
            spawn_ns "$k" 1 "$MERGED" slave
        else
            spawn_ns "$k" 1 / slave
        fi
    done
    HOLDER=$SPAWNED
    wait_unshared
    for tries in $(seq 1 600); do
        (($(count_sleeps) == procs)) && [[ $(readlink "/proc/$HOLDER/cwd") == "$MERGED" ]] && break
        ((tries == 600)) && die "only $(count_sleeps) of $procs processes started in 60 s"
        sleep 0.1
    done
    copies=$({ grep -l " $MERGED " /proc/[0-9]*/mountinfo 2> /dev/null || true; } | wc -l)
    ((copies >= procs + 1)) || die "mounted setup: $copies processes see Merged mounted, not $((procs + 1))"
}

# check_mounted N: the probe exits 3, says mounted, shows N copies (PID 1's
# and the N-1 slaves) and names the holder with its cwd, and nobody else.
# Prints "yes" or "NO (why)".
check_mounted() {
    local nns=$1 rc=0
    probe_cmd > "$OUT/probe.json" 2> "$OUT/probe.err" || rc=$?
    if ((rc != 3)); then
        echo "NO (exit $rc: $(head -c 200 "$OUT/probe.err"))"
        return
    fi
    python3 - "$OUT/probe.json" "$HOLDER" "$nns" << 'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
holder, nns = int(sys.argv[2]), int(sys.argv[3])
why = []
if r.get("free") is not False or r.get("mounted") is not True:
    why.append(f"free={r.get('free')} mounted={r.get('mounted')}")
copies = r.get("copies", [])
if len(copies) != nns:
    why.append(f"{len(copies)} copies, not {nns}")
procs = [p for c in copies for p in c.get("processes", [])]
if [p["pid"] for p in procs] != [holder] or "cwd" not in (procs[0].get("refs") or []):
    why.append(f"processes listed: {[p['pid'] for p in procs]}, not just {holder} with its cwd")
print("yes" if not why else "NO (" + "; ".join(why) + ")")
EOF
}

# check_setup P N: the namespaces are as described, and exactly one (the
# ghost's) holds a copy. Fills GHOST_NS_PIDS and NS_MOUNTS.
check_setup() {
    local procs=$1 nns=$2 out
    out=$(python3 - "$GHOST" "$MERGED" "$procs" "$nns" << 'EOF'
import os, sys
ghost, merged, procs, nns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
me = os.readlink("/proc/self/ns/mnt")
init = os.readlink("/proc/1/ns/mnt")
ns_of, sleeps = {}, 0
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        ns_of[int(d)] = os.readlink(f"/proc/{d}/ns/mnt")
        with open(f"/proc/{d}/comm") as f:
            sleeps += f.read().strip() == "sleep"
    except OSError:
        pass
by_ns = {}
for pid, ns in ns_of.items():
    by_ns.setdefault(ns, []).append(pid)
holding = []
for ns, pids in by_ns.items():
    with open(f"/proc/{min(pids)}/mountinfo") as f:
        table = f.read().splitlines()
    if any(line.split()[4] == merged for line in table):
        holding.append(ns)
    if ns == ns_of[ghost]:
        ns_mounts = len(table)
others = len(set(by_ns) - {init})
errors = []
if sleeps != procs:
    errors.append(f"{sleeps} sleeping processes, not {procs}")
if others != nns:
    errors.append(f"{others} namespaces besides PID 1's, not {nns}")
if holding != [ns_of[ghost]]:
    errors.append(f"namespaces holding {merged}: {holding}, not just the ghost's")
if os.readlink(f"/proc/{ghost}/cwd") != merged:
    errors.append("the ghost's cwd is not in the overlay")
if errors:
    print("ERROR " + "; ".join(errors))
else:
    print(ns_mounts, " ".join(map(str, sorted(by_ns[ns_of[ghost]]))))
EOF
    )
    [[ $out != ERROR* ]] || die "setup for $procs processes in $nns namespaces: ${out#ERROR }"
    read -r NS_MOUNTS GHOST_NS_PIDS <<< "$out"
}

# ---- timing ------------------------------------------------------------------

# time_cmd NAME WARMUP RUNS CMD...: mean, stddev, min and max of CMD's wall
# time in ms into T_MEAN[NAME] etc. CMD's output is discarded and its exit
# status ignored (probe exits 3 while held, fuser and lsof 1 when they find
# nothing): correctness is checked separately.
declare -A T_MEAN T_SD T_MIN T_MAX
time_cmd() {
    local name=$1 warmup=$2 runs=$3 json=$OUT/hf.json i t0 t1 stats
    shift 3
    if ((HAVE_HYPERFINE)); then
        local cmdline
        cmdline=$(printf '%q ' "$@")
        hyperfine -N --style none --ignore-failure --warmup "$warmup" --runs "$runs" \
            --export-json "$json" --command-name "$name" -- "$cmdline" > "$OUT/hf.log" 2>&1 ||
            { cat "$OUT/hf.log" >&2; die "hyperfine failed on $name"; }
        stats=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(" ".join("%.2f" % (r[k] * 1e3) for k in ("mean", "stddev", "min", "max")))' "$json")
    else
        : > "$OUT/times"
        for ((i = 0; i < warmup + runs; i++)); do
            t0=$EPOCHREALTIME
            "$@" > /dev/null 2>&1 || true
            t1=$EPOCHREALTIME
            ((i >= warmup)) && echo "$((${t1/./} - ${t0/./}))" >> "$OUT/times"
        done
        stats=$(awk '{ s += $1; q += $1 * $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
            END { m = s / NR; v = q / NR - m * m; if (v < 0) v = 0
                  printf "%.2f %.2f %.2f %.2f\n", m / 1e3, sqrt(v * NR / (NR - 1)) / 1e3, lo / 1e3, hi / 1e3 }' "$OUT/times")
    fi
    read -r "T_MEAN[$name]" "T_SD[$name]" "T_MIN[$name]" "T_MAX[$name]" <<< "$stats"
}

# time_pair RUNS: the probe and fuser -vm MERGED in turn, RUNS times each
# after one warm-up of each, timed with $EPOCHREALTIME (interleaved, so load
# from other jobs hits both alike). Sets P_MED, P_RANGE, F_MED, F_RANGE (ms)
# and P_RATIO (the median of the per-round ratios probe / fuser).
time_pair() {
    local runs=$1 i t0 t1 t2 pt=() ft=() rt=()
    probe_cmd > /dev/null 2>&1 || true
    fuser -vm "$MERGED" > /dev/null 2>&1 || true
    for ((i = 0; i < runs; i++)); do
        t0=$EPOCHREALTIME
        probe_cmd > /dev/null 2>&1 || true
        t1=$EPOCHREALTIME
        fuser -vm "$MERGED" > /dev/null 2>&1 || true
        t2=$EPOCHREALTIME
        pt+=("$((${t1/./} - ${t0/./}))")
        ft+=("$((${t2/./} - ${t1/./}))")
        rt+=("$(awk -v a="${pt[-1]}" -v b="${ft[-1]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
    done
    P_MED=$(awk -v v="$(bench_median "${pt[@]}")" 'BEGIN { printf "%.2f", v / 1e3 }')
    F_MED=$(awk -v v="$(bench_median "${ft[@]}")" 'BEGIN { printf "%.2f", v / 1e3 }')
    P_RANGE=$(bench_range "${pt[@]}" | awk -F- '{ printf "%.2f-%.2f", $1 / 1e3, $2 / 1e3 }')
    F_RANGE=$(bench_range "${ft[@]}" | awk -F- '{ printf "%.2f-%.2f", $1 / 1e3, $2 / 1e3 }')
    P_RATIO=$(bench_median_real "${rt[@]}")
}

GREP_CMD=(sh -c "grep -l $MERGED /proc/*/mountinfo")
# What an operator without the helper runs to search every namespace: one
# findmnt per namespace that lsns lists (by a PID in it).
# shellcheck disable=SC2016 # expanded by that sh
LSNS_LOOP=(sh -c 'for p in $(lsns -n -r -t mnt -o PID); do findmnt -N "$p" -M "$0" > /dev/null && echo "$p"; done' "$MERGED")

probe_cmd() {
    "${HELPER[@]}" probe "$INSTANCE" --json
}

# check_probe LABEL: the probe's JSON names the ghost holder (its cwd) and
# every process of the ghost namespace, in one copy outside PID 1's
# namespace, and nothing else. Prints "yes" or "NO (why)".
check_probe() {
    local rc=0
    probe_cmd > "$OUT/probe.json" 2> "$OUT/probe.err" || rc=$?
    if ((rc != 3)); then
        echo "NO (exit $rc: $(head -c 200 "$OUT/probe.err"))"
        return
    fi
    python3 - "$OUT/probe.json" "$GHOST" "$GHOST_NS_PIDS" << 'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ghost, ns_pids = int(sys.argv[2]), sorted(map(int, sys.argv[3].split()))
why = []
if r.get("free") is not False or r.get("mounted") is not False:
    why.append(f"free={r.get('free')} mounted={r.get('mounted')}")
copies = r.get("copies", [])
if len(copies) != 1 or copies[0].get("init"):
    why.append(f"{len(copies)} copies")
else:
    procs = {p["pid"]: p for p in copies[0]["processes"]}
    if sorted(procs) != ns_pids:
        why.append(f"{len(procs)} processes listed, the namespace has {len(ns_pids)}")
    if ghost not in procs or "cwd" not in (procs[ghost].get("refs") or []):
        why.append(f"ghost {ghost} not named with its cwd")
print("yes" if not why else "NO (" + "; ".join(why) + ")")
EOF
}

# names_pids FILE: whether FILE (a tool's output) names the ghost's PID, and
# how many PIDs it names.
names_pids() {
    { grep -oE '[0-9]+' "$1" || true; } | sort -un | awk -v g="$GHOST" '$1 == g { hit = 1 } { n++ }
        END { printf "%s, %d PID%s named\n", hit ? "yes" : "no", n, n == 1 ? "" : "s" }'
}

check_tools() {
    local f=$OUT/tool.out
    # grep -l: the /proc/PID/mountinfo files that mention Merged
    sh -c "grep -l $MERGED /proc/*/mountinfo" 2> /dev/null | sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' > "$f" || true
    C_GREP=$(names_pids "$f")
    fuser -m "$MERGED" > "$f" 2> /dev/null || true
    C_FUSER=$(names_pids "$f")
    lsof -t "$MERGED" > "$f" 2> /dev/null || true
    C_LSOF=$(names_pids "$f")
    if findmnt -N "$GHOST" -M "$MERGED" > /dev/null; then
        C_FINDMNT="yes, given the ghost's PID"
    else
        C_FINDMNT=no
    fi
    "${LSNS_LOOP[@]}" > "$f" 2> /dev/null || true
    if [[ -s $f ]] && [[ " $GHOST_NS_PIDS " == *" $(head -n1 "$f") "* ]]; then
        C_LSNS="its namespace, by $(head -n1 "$f") (lsns's PID for it)"
    else
        C_LSNS="no ($(wc -l < "$f") hits)"
    fi
}

# ---- the runs ------------------------------------------------------------------
declare -A R_PROBE R_PROBE_SD R_NOSM R_NOSM_SD R_GREP R_FUSER R_OK R_OK_NOSM R_MOUNTS R_G
POINTS=()

# measure_point P N [full]: one setup, timed; with "full", every tool.
measure_point() {
    local procs=$1 nns=$2 full=${3:-} key="$1/$2"
    note "setting up $procs processes in $nns namespaces"
    setup "$procs" "$nns"
    note "$procs processes, $nns namespaces ($NS_MOUNTS mounts in the ghost's, $G processes in it, ghost PID $GHOST): timing"
    R_OK[$key]=$(check_probe)
    R_OK_NOSM[$key]=$(OVERLAY_HELPER_NO_STATMOUNT=1 check_probe)
    time_cmd probe 3 "$RUNS" "${HELPER[@]}" probe "$INSTANCE" --json
    export OVERLAY_HELPER_NO_STATMOUNT=1
    time_cmd nosm 3 "$RUNS" "${HELPER[@]}" probe "$INSTANCE" --json
    unset OVERLAY_HELPER_NO_STATMOUNT
    time_cmd grep 1 "$SLOW_RUNS" "${GREP_CMD[@]}"
    time_cmd fuser 2 "$RUNS" fuser -vm "$MERGED"
    R_PROBE[$key]=${T_MEAN[probe]}
    R_PROBE_SD[$key]=${T_SD[probe]}
    R_NOSM[$key]=${T_MEAN[nosm]}
    R_NOSM_SD[$key]=${T_SD[nosm]}
    R_GREP[$key]=${T_MEAN[grep]}
    R_FUSER[$key]=${T_MEAN[fuser]}
    R_MOUNTS[$key]=$NS_MOUNTS
    R_G[$key]=$G
    POINTS+=("$key")
    if [[ $full == full ]]; then
        time_cmd true 3 "$RUNS" /bin/true
        time_cmd lsof 1 "$SLOW_RUNS" lsof "$MERGED"
        time_cmd findmnt 3 "$RUNS" findmnt -N "$GHOST" -M "$MERGED"
        time_cmd lsns 1 "$SLOW_RUNS" "${LSNS_LOOP[@]}"
        check_tools
        SYSCALLS=$(count_syscalls)
        SYSCALLS_NOSM=$(OVERLAY_HELPER_NO_STATMOUNT=1 count_syscalls)
        time_pair "$RUNS"
        G_PMED=$P_MED G_PRANGE=$P_RANGE G_FMED=$F_MED G_FRANGE=$F_RANGE G_RATIO=$P_RATIO
    fi
}

# measure_mounted P N: the mounted setup, the probe and fuser interleaved.
measure_mounted() {
    note "setting up $1 processes in $2 namespaces, the overlay mounted, slave copies"
    setup_mounted "$1" "$2"
    note "mounted setup ready (holder PID $HOLDER): timing"
    M_OK=$(check_mounted "$2")
    fuser -m "$MERGED" > "$OUT/tool.out" 2> /dev/null || true
    GHOST=$HOLDER
    M_FUSER_OK=$(names_pids "$OUT/tool.out")
    M_SYSCALLS=$(count_syscalls)
    time_pair "$RUNS"
    M_PMED=$P_MED M_PRANGE=$P_RANGE M_FMED=$F_MED M_FRANGE=$F_RANGE M_RATIO=$P_RATIO
    M_HOLDER=$HOLDER
}

# count_syscalls: the system calls of one probe run (strace -f; counts only,
# strace's timings are not worth reporting): how many mount tables it read
# (listmount() calls, opens of a mountinfo), how many /proc/PID/ns/mnt and
# fd links it read, and the most frequent calls.
count_syscalls() {
    command -v strace > /dev/null || { echo "strace not installed"; return; }
    strace -f -qq -o "$OUT/trace" "${HELPER[@]}" probe "$INSTANCE" --json > /dev/null 2>&1 || true
    awk '
        {
            sub(/^[0-9]+ +/, "")
            if (!match($0, /^[a-z_0-9]+\(/)) next
            name = substr($0, 1, RLENGTH - 1)
            # x86-64 numbers of the calls an older strace does not name
            if (name == "syscall_0x1c9") name = "statmount"
            if (name == "syscall_0x1ca") name = "listmount"
            calls++
            count[name]++
            if (name ~ /^open/ && $0 ~ /mountinfo"/) mountinfo++
            if (name == "readlinkat" && $0 ~ /ns\/mnt"/) nslinks++
            else if (name == "readlinkat" && $0 ~ /^readlinkat\([0-9]+, "[0-9]+",/) fdlinks++
        }
        END {
            printf "%d calls; mount tables read: %d listmount(), %d mountinfo opens; statmount() %d;", \
                calls, count["listmount"], mountinfo, count["statmount"]
            printf " links read: %d /proc/PID/ns/mnt, %d /proc/PID/fd/N; most frequent:", nslinks, fdlinks
            for (k = 0; k < 5; k++) {
                best = ""; bc = 0
                for (s in count) if (count[s] > bc) { best = s; bc = count[s] }
                if (best == "") break
                printf "%s %s %d", k ? "," : "", best, bc
                delete count[best]
            }
            print ""
        }' "$OUT/trace"
}

start=$EPOCHREALTIME
HKEY="$BASE_PROCS/$BASE_NS"
if [[ -n ${BENCH_PROBE_DIAG:-} ]]; then
    # Diagnostics: the headline setup, then one command, then nothing else.
    if [[ ${BENCH_PROBE_DIAG_SETUP:-} == mounted ]]; then
        setup_mounted "$BASE_PROCS" "$BASE_NS"
        GHOST=$HOLDER
    else
        setup "$BASE_PROCS" "$BASE_NS"
    fi
    note "headline setup ready (ghost or holder PID $GHOST); running BENCH_PROBE_DIAG"
    rc=0
    OH_HELPER="${HELPER[*]}" OH_INSTANCE=$INSTANCE OH_MERGED=$MERGED OH_GHOST=$GHOST OH_WS=$WS \
        sh -c "$BENCH_PROBE_DIAG" || rc=$?
    exit "$rc"
fi
measure_point "$BASE_PROCS" "$BASE_NS" full
# The headline's figures, before the scaling runs reuse T_*.
declare -A H_MEAN H_SD H_MIN H_MAX
for v in true probe nosm grep fuser lsof findmnt lsns; do
    H_MEAN[$v]=${T_MEAN[$v]}
    H_SD[$v]=${T_SD[$v]}
    H_MIN[$v]=${T_MIN[$v]}
    H_MAX[$v]=${T_MAX[$v]}
done
H_GHOST=$GHOST
H_G=$G
M_OK=""
if ((BASE_NS >= 2)); then
    measure_mounted "$BASE_PROCS" "$BASE_NS"
fi

PROC_KEYS=()
for p in $PROCS_LIST; do
    n=$BASE_NS
    ((p < n)) && n=$p
    k="$p/$n"
    [[ -n ${R_PROBE[$k]:-} ]] || measure_point "$p" "$n"
    PROC_KEYS+=("$k")
done
NS_KEYS=()
for n in $NS_LIST; do
    k="$BASE_PROCS/$n"
    [[ -n ${R_PROBE[$k]:-} ]] || measure_point "$BASE_PROCS" "$n"
    NS_KEYS+=("$k")
done
note "done timing: cleaning up"
bench_kill_started
"${HELPER[@]}" -q umount "$INSTANCE" 2> /dev/null || true
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---- report --------------------------------------------------------------------
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'
}

# le A B: whether A <= B (decimals).
le() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'
}

# slope KEY_A KEY_B DIVISOR: (probe at B - probe at A) / DIVISOR, in µs.
slope() {
    awk -v a="${R_PROBE[$1]}" -v b="${R_PROBE[$2]}" -v d="$3" 'BEGIN { printf "%.1f", (b - a) * 1e3 / d }'
}

row() {
    local k=$1 procs=${1%/*} nns=${1#*/}
    printf '| %s | %s | %s | %s | %s ± %s | %s ± %s | %s | %s | %s | %s | %s |\n' \
        "$procs" "$nns" "${R_MOUNTS[$k]}" "${R_G[$k]}" \
        "${R_PROBE[$k]}" "${R_PROBE_SD[$k]}" "${R_NOSM[$k]}" "${R_NOSM_SD[$k]}" \
        "${R_GREP[$k]}" "${R_FUSER[$k]}" \
        "$(ratio "${R_PROBE[$k]}" "${R_GREP[$k]}")" "$(ratio "${R_PROBE[$k]}" "${R_FUSER[$k]}")" \
        "${R_OK[$k]}; ${R_OK_NOSM[$k]}"
}

table_head() {
    echo "| processes | namespaces | mounts in the ghost's namespace | processes in the ghost's namespace | probe, ms | probe, no statmount, ms | \`grep -l\`, ms | \`fuser -vm\`, ms | probe / grep | probe / fuser | probe names the ghost (statmount; no statmount) |"
    echo '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
}

timer="a bash loop timed with \$EPOCHREALTIME (hyperfine not installed)"
if ((HAVE_HYPERFINE)); then
    timer="hyperfine $(hyperfine --version | cut -d' ' -f2) -N"
fi
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
binsum=$(sha256sum "$WS/overlay-helper" | cut -c1-12)

echo "## overlay-helper probe vs the tools operators use today"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel $(uname -r); $(nproc) CPUs ($cpu); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $("$WS/overlay-helper" --version): a copy of \`$BIN\` (sha256 $binsum); $(findmnt -V); $(fuser -V 2>&1 | head -n1); lsof $(lsof -v 2>&1 | awk '/revision:/ { print $2; exit }'); $(grep --version | head -n1)"
echo "- timing: $timer; each command is a separate process, its start included; mean ± standard deviation"
echo "  of $RUNS runs after 3 warm-up runs ($SLOW_RUNS runs after 1 for \`grep -l\`, \`lsof\` and the \`lsns\` loop)."
echo "  Exit statuses are ignored while timing (probe exits 3 while the overlay is held; fuser and lsof"
echo "  exit 1 when they find nothing); what each command names is checked on its own."
echo "- setup (rebuilt for every row): this script is PID 1 of private mount and PID namespaces on a tmpfs;"
echo "  its mount namespace (PID 1's) has $MOUNTS mounts (the host's, the workspace, 4 KiB tmpfs fillers),"
echo "  which every namespace made after copies. N-1 plain namespaces are made before the overlay is"
echo "  mounted; the ghost's namespace is made after \`overlay-helper mount\`, with its last process's cwd"
echo "  inside the overlay (the ghost holder); then plain \`umount\` of Merged in PID 1's namespace"
echo "  succeeds (private propagation) and the ghost's copy lives on: checked, before anything is timed,"
echo "  that exactly one namespace holds it. Processes are \`sleep\`; those not in the ghost's namespace"
echo "  are spread evenly over the N-1 others (with N = 1, they are in PID 1's namespace)."
echo "- the probe is given the instance name (Merged is no longer a mount point, so only the instance's"
echo "  Upper and Work dirs lead to the copy); grep, fuser, lsof and findmnt are given Merged."
echo "- the probe runs from a non-initial PID namespace, where Linux 6.18 refuses the NS_MNT_GET_NEXT"
echo "  namespace walk: it takes its /proc path (dedupe /proc/PID/ns/mnt, then listmount()/statmount()"
echo "  per namespace by id; with OVERLAY_HELPER_NO_STATMOUNT=1, one /proc/PID/mountinfo per namespace)."
echo "- total time of the timed part: ${elapsed} s"
echo
echo "### $BASE_PROCS processes in $BASE_NS namespaces, ${R_MOUNTS[$HKEY]} mounts each, one ghost"
echo
echo "$BASE_PROCS sleeping processes (and, while timing, this script, the timer and the command timed); $H_G of them"
echo "in the ghost's namespace, whose last one, PID $H_GHOST, is the ghost holder (its cwd is Merged). MERGED below"
echo "is \`$MERGED\`."
echo
echo '| command | mean ± sd, ms | min-max, ms | probe / this | names the ghost holder? |'
echo '| --- | ---: | ---: | ---: | --- |'
hrow() {
    local r=-
    [[ $2 == true ]] || r=$(ratio "${H_MEAN[probe]}" "${H_MEAN[$2]}")
    printf '| %s | %s ± %s | %s-%s | %s | %s |\n' "$1" "${H_MEAN[$2]}" "${H_SD[$2]}" \
        "${H_MIN[$2]}" "${H_MAX[$2]}" "$r" "$3"
}
hrow "\`overlay-helper probe $INSTANCE --json\`" probe "${R_OK[$HKEY]}: its pid, comm and cwd, and every process of its namespace"
hrow "the same, \`OVERLAY_HELPER_NO_STATMOUNT=1\`" nosm "${R_OK_NOSM[$HKEY]}"
hrow "\`sh -c 'grep -l MERGED /proc/*/mountinfo'\`" grep "$C_GREP: every process whose namespace shows a mount at that path (not what holds it)"
hrow "\`fuser -vm MERGED\`" fuser "$C_FUSER: users of the filesystem Merged is on now (the workspace tmpfs), not of the ghost copy"
hrow "\`lsof MERGED\`" lsof "$C_LSOF: open files and cwds on that dir in this namespace"
hrow "\`findmnt -N GHOST_PID -M MERGED\`" findmnt "$C_FINDMNT: it answers for one namespace whose PID you already know"
hrow "\`lsns -t mnt\` + \`findmnt -N PID -M MERGED\` per namespace" lsns "$C_LSNS"
hrow "\`/bin/true\` (the cost of starting a process)" true "-"
echo
echo "System calls of one probe run (strace -f, counts):"
echo
echo "- probe: ${SYSCALLS:-n/a}"
echo "- probe, no statmount: ${SYSCALLS_NOSM:-n/a}"
echo
echo "### Interleaved with \`fuser -vm MERGED\`: the ghost, and the overlay mounted"
echo
echo "The probe and fuser run in turn, $RUNS rounds after one warm-up each (timed with \$EPOCHREALTIME, so"
echo "both see the same load); medians, min-max, and the median of the per-round ratios. The ghost case is"
echo "the setup above. The mounted case: the overlay stays mounted in PID 1's namespace (on a shared mount) and"
echo "$((BASE_NS - 1)) namespaces made after it with \`--propagation slave\` hold $BASE_PROCS processes and"
echo "a copy each that receives the unmount; one process, PID ${M_HOLDER:-n/a}, has its cwd in Merged."
echo
echo '| case | probe, median ms | probe, min-max | fuser, median ms | fuser, min-max | probe / fuser | target | probe names the holder? | fuser names it? |'
echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |'
printf '| ghost after the unmount | %s | %s | %s | %s | %s | <= 0.45 | %s | %s |\n' \
    "$G_PMED" "$G_PRANGE" "$G_FMED" "$G_FRANGE" "$G_RATIO" "${R_OK[$HKEY]}" "$C_FUSER"
if [[ -n $M_OK ]]; then
    printf '| mounted, %s slave copies | %s | %s | %s | %s | %s | <= 0.75 | %s | %s |\n' \
        "$((BASE_NS - 1))" "$M_PMED" "$M_PRANGE" "$M_FMED" "$M_FRANGE" "$M_RATIO" "$M_OK" "$M_FUSER_OK"
    echo
    echo "System calls of one probe run, mounted: ${M_SYSCALLS:-n/a}"
fi
echo
echo "### Growth with processes (namespaces: $BASE_NS, or as many as processes when fewer)"
echo
table_head
for k in "${PROC_KEYS[@]}"; do
    row "$k"
done
echo
echo "### Growth with namespaces ($BASE_PROCS processes)"
echo
table_head
for k in "${NS_KEYS[@]}"; do
    row "$k"
done
echo
first_p=""
last_p=${PROC_KEYS[${#PROC_KEYS[@]} - 1]}
for k in "${PROC_KEYS[@]}"; do
    # the first point at the full namespace count: same tables, more processes
    [[ -z $first_p && ${k#*/} == "${last_p#*/}" && $k != "$last_p" ]] && first_p=$k
done
if [[ -n $first_p ]]; then
    echo "- per process, from ${first_p%/*} to ${last_p%/*} processes at ${last_p#*/} namespaces:" \
        "$(slope "$first_p" "$last_p" $((${last_p%/*} - ${first_p%/*}))) µs (probe)"
fi
first_n=${NS_KEYS[0]}
last_n=${NS_KEYS[${#NS_KEYS[@]} - 1]}
if [[ $first_n != "$last_n" ]]; then
    echo "- per namespace (of ~$MOUNTS mounts), from ${first_n#*/} to ${last_n#*/} namespaces at ${last_n%/*} processes:" \
        "$(slope "$first_n" "$last_n" $((${last_n#*/} - ${first_n#*/}))) µs (probe)," \
        "$(awk -v a="${R_NOSM[$first_n]}" -v b="${R_NOSM[$last_n]}" -v d=$((${last_n#*/} - ${first_n#*/})) 'BEGIN { printf "%.1f", (b - a) * 1e3 / d }') µs (no statmount)"
fi
echo
echo "### Targets ($BASE_PROCS processes, $BASE_NS namespaces)"
echo
met=1
r=$(ratio "${H_MEAN[probe]}" "${H_MEAN[grep]}")
if le "$r" 0.05; then v=met; else v="**NOT met**"; met=0; fi
echo "- probe <= 1/20 of \`grep -l\`: ${H_MEAN[probe]} / ${H_MEAN[grep]} ms = $r, $v"
r=$(ratio "${H_MEAN[probe]}" "${H_MEAN[fuser]}")
if le "$r" 0.25; then v=met; else v="**NOT met**"; met=0; fi
echo "- probe <= 1/4 of \`fuser -m\`: ${H_MEAN[probe]} / ${H_MEAN[fuser]} ms = $r, $v"
if [[ ${R_OK[$HKEY]} == yes ]]; then v=met; else v="**NOT met**"; met=0; fi
echo "- probe names the ghost holder (and fuser and lsof do not: $C_FUSER; $C_LSOF): ${R_OK[$HKEY]}, $v"
ok_all=yes
for k in "${POINTS[@]}"; do
    [[ ${R_OK[$k]} == yes && ${R_OK_NOSM[$k]} == yes ]] || ok_all="no, at $k"
done
if [[ $ok_all == yes ]]; then v=met; else v="**NOT met**"; met=0; fi
echo "- probe names the ghost holder at every point, both paths: $ok_all, $v"
if le "$G_RATIO" 0.45; then v=met; else v="**NOT met**"; met=0; fi
echo "- ghost, interleaved: probe <= 0.45 of \`fuser -vm\`: $G_PMED / $G_FMED ms, per-round median $G_RATIO, $v"
if [[ -n $M_OK ]]; then
    if le "$M_RATIO" 0.75 && [[ $M_OK == yes ]]; then v=met; else v="**NOT met**"; met=0; fi
    echo "- mounted, interleaved: probe <= 0.75 of \`fuser -vm\`, holder named: $M_PMED / $M_FMED ms, per-round median $M_RATIO, $M_OK, $v"
fi
echo
echo "These are the probe's /proc path figures (see above): from the initial PID namespace, as on a"
echo "systemd host, it walks namespaces with NS_MNT_GET_NEXT instead, which this script cannot time"
echo "without leaving its PID namespace."
echo
if ((met)); then
    echo "All targets met."
else
    echo "Not all targets met."
fi
