#!/bin/bash
# bench/probe-walk.sh BIN [PROCESSES] [NAMESPACES]: the probe's NS_MNT_GET_NEXT
# walk, the path a systemd host takes, which bench/probe.sh cannot time from
# inside its PID namespace (6.18 refuses the walk there). Run as root from the
# initial PID namespace: it re-executes itself in a private mount namespace
# (no PID namespace), so every mount it makes dies with it; it kills what it
# starts by PID. Same setup as bench/probe.sh: N-1 namespaces made before the
# overlay, one ghost namespace after it, then a plain umount leaves the ghost.
# The overlay is mounted by hand, and its id written where `overlay-helper
# mount` records it (RUNTIME_DIR/INSTANCE.mounted), as the helper would.
# WS, M and the counts are mktemp paths and numbers: no spaces to split.
# shellcheck disable=SC2086,SC2016,SC2012
set -euo pipefail
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
    python3 -c 'import json, sys; print(json.load(sys.stdin)["mount"]["mnt_id"])' > "$WS/run/bench.mounted"
umount $M
H="$WS/oh --config-dir $WS/etc --state-dir $WS/state --runtime-dir $WS/run"
echo "ghost $GHOST; processes on the machine: $(ls -d /proc/[0-9]* | wc -l); namespaces: $(lsns -n -t mnt | wc -l)"
{ $H probe bench --json || true; } | python3 -c 'import json,sys; r=json.load(sys.stdin); print("copies", len(r["copies"]), "procs", [p["pid"] for c in r["copies"] for p in c["processes"] if p["refs"]])'
$H -v probe bench --json 2>&1 >/dev/null | head -3 || true
set +e
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }
echo "| command | mean ± sd |"
echo "| --- | ---: |"
hyperfine -N -w 3 -r 20 --ignore-failure --export-json "$WS/p.json" "$H probe bench --json" >/dev/null 2>&1
hyperfine -w 1 -r 5 --ignore-failure --export-json "$WS/g.json" "grep -l $M /proc/*/mountinfo" >/dev/null 2>&1
hyperfine -N -w 1 -r 5 --ignore-failure --export-json "$WS/f.json" "fuser -vm $M" >/dev/null 2>&1
for j in p g f; do
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print("| `%s` | %.2f ± %.2f ms |" % (r["command"].replace(sys.argv[2], "WS"), r["mean"] * 1e3, r["stddev"] * 1e3))' "$WS/$j.json" "$WS"
done
