#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/probe-walk.sh BIN [PROCESSES] [NAMESPACES]: the probe's NS_MNT_GET_NEXT
# walk, the path a systemd host takes, which bench/probe.sh cannot time from
# inside its PID namespace (6.18 refuses the walk there). Run as root from the
# initial PID namespace: it re-executes itself in a private mount namespace
# (no PID namespace), so every mount it makes dies with it; it kills what it
# starts by PID. Same setup as bench/probe.sh: N-1 namespaces made before the
# overlay, one ghost namespace after it, then a plain umount leaves the ghost.
# The overlay is mounted by hand, and its id written where `overlay-helper
# mount` records it (RUNTIME_DIR/INSTANCE.mounted), as the helper would.
# Timed with hyperfine -N when installed (mean ± sd), else with a loop timed
# with $EPOCHREALTIME (median, min-max), as bench/probe.sh falls back.
# WS, M and the counts are mktemp paths and numbers: no spaces to split.
# shellcheck disable=SC2086,SC2016,SC2012
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
if [ -z "${OH_WALK_INNER:-}" ]; then
    OH_WALK_INNER=1 exec unshare --mount --propagation private "$0" "$@"
fi
BIN=$1 PROCS=${2:-2000} NNS=${3:-50}
WS=$(mktemp -d /tmp/walkdiag.XXXXXX)
LEADERS=()
cleanup() {
    set +e
    for l in "${LEADERS[@]}"; do
        kids=$(cat /proc/$l/task/*/children 2>/dev/null || true)
        kill -STOP $l 2>/dev/null || true
        [[ -n $kids ]] && kill -KILL $kids 2>/dev/null
        kill -KILL $l 2>/dev/null || true
    done
    wait 2>/dev/null || true
    umount -R $WS 2>/dev/null || true
    rmdir $WS
}
trap cleanup EXIT
mount -t tmpfs t $WS
mkdir -p $WS/{etc,state,run,lower,fill,inst/upper,inst/work,inst/merged}
M=$WS/inst/merged
printf '[Overlay]\nLower=%s\nUpper=%s\nWork=%s\nMerged=%s\n' $WS/lower $WS/inst/upper $WS/inst/work $M > $WS/etc/bench.conf
chmod 644 $WS/etc/bench.conf
cp $BIN $WS/oh
i=0; while (( $(wc -l < /proc/self/mountinfo) < 200 )); do mkdir $WS/fill/$i; mount -t tmpfs -o size=4k fill $WS/fill/$i; i=$((i+1)); done
S='i=1; while [ "$i" -lt "$1" ]; do sleep 100000 & i=$((i + 1)); done; cd "$2" && exec sleep 100000'
G=$((PROCS/NNS)); ((G>10)) && G=10
rest=$((PROCS-G)); per=$((rest/(NNS-1))); extra=$((rest%(NNS-1)))
for ((n=0;n<NNS-1;n++)); do k=$per; ((n<extra)) && k=$((k+1)); unshare -m --propagation private -- sh -c "$S" sh $k / </dev/null >/dev/null 2>&1 & LEADERS+=($!); disown $!; done
mine=$(readlink /proc/self/ns/mnt)
for l in "${LEADERS[@]}"; do while [[ $(readlink /proc/$l/ns/mnt) == "$mine" ]]; do sleep 0.01; done; done
mount -t overlay o -o lowerdir=$WS/lower,upperdir=$WS/inst/upper,workdir=$WS/inst/work $M
unshare -m --propagation private -- sh -c "$S" sh $G $M </dev/null >/dev/null 2>&1 & LEADERS+=($!); GHOST=$!; disown $!
while [[ $(readlink /proc/$GHOST/cwd) != "$M" ]]; do sleep 0.05; done
sleep 1
mkdir -p "$WS/run"
"$WS/oh" -q --config-dir "$WS/etc" --state-dir "$WS/state" --runtime-dir "$WS/run" status --json bench 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["instances"][0]["mount"]["mnt_id_unique"])' > "$WS/run/bench.mounted"
umount $M
H="$WS/oh --config-dir $WS/etc --state-dir $WS/state --runtime-dir $WS/run"
echo "ghost $GHOST; processes on the machine: $(ls -d /proc/[0-9]* | wc -l); namespaces: $(lsns -n -t mnt | wc -l)"
{ $H probe bench --json || true; } | python3 -c 'import json,sys; r=json.load(sys.stdin); print("copies", len(r["copies"]), "procs", [p["pid"] for c in r["copies"] for p in c["processes"] if p["refs"]])'
$H -v probe bench --json 2>&1 >/dev/null | head -3 || true
set +e
# time_cmd WARMUP RUNS CMD...: one table row for CMD (run under sh -c when it
# has a glob, so its figure includes starting sh), WS in its name.
time_cmd() {
    local warmup=$1 runs=$2 name i t0 t1 ts=()
    shift 2
    name=${*//$WS/WS}
    if command -v hyperfine >/dev/null; then
        local N=-N
        [[ $* == *'*'* ]] && N=
        hyperfine $N -w $warmup -r $runs --ignore-failure --export-json "$WS/t.json" "$*" >/dev/null 2>&1
        python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print("| `%s` | %.2f ± %.2f ms |" % (sys.argv[2], r["mean"] * 1e3, r["stddev"] * 1e3))' "$WS/t.json" "$name"
        return
    fi
    for ((i = 0; i < warmup + runs; i++)); do
        t0=$EPOCHREALTIME
        if [[ $* == *'*'* ]]; then
            sh -c "$*" >/dev/null 2>&1
        else
            # shellcheck disable=SC2048 # no spaces to keep (see the top)
            $* >/dev/null 2>&1
        fi
        t1=$EPOCHREALTIME
        ((i >= warmup)) && ts+=("$((${t1/./} - ${t0/./}))")
    done
    awk -v n="$name" -v m="$(bench_median "${ts[@]}")" -v r="$(bench_range "${ts[@]}")" 'BEGIN {
        split(r, x, "-"); printf "| `%s` | %.2f ms (%.2f-%.2f) |\n", n, m / 1e3, x[1] / 1e3, x[2] / 1e3 }'
}
if command -v hyperfine >/dev/null; then
    echo "| command | mean ± sd |"
else
    echo "| command | median (min-max), \$EPOCHREALTIME loop; hyperfine is not installed |"
fi
echo "| --- | ---: |"
time_cmd 3 20 "$H probe bench --json"
time_cmd 1 5 "grep -l $M /proc/*/mountinfo"
time_cmd 1 5 "fuser -vm $M"
