#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/stop-time.sh [BIN]: how long `systemctl stop` of the example unit
# (units/examples/overlay-example@.service: sandboxed, overlay mounted by
# ExecStartPre= and unmounted by ExecStopPost= through nsenter) takes, next to
# the same unit without any overlay (its program run straight from the lower
# layer, no helper lines), side by side under the same real systemd.
#
# Boots a container with the integration suite's harness
# (tests/integration/container.sh: systemd-nspawn over an overlay of the
# host's /, everything in a private mount namespace that dies with it), then
# runs BENCH_STOP_ROUNDS rounds (default 30; 3 warm-up rounds first), each
# starting and stopping both units, in alternating order so that load from
# elsewhere falls on both alike. A stop's duration is systemd's own: from its
# "Stopping" to its "Stopped" journal entry (monotonic clock, µs). Prints a
# markdown table on stdout, progress on stderr. Needs root and systemd-nspawn.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BIN=$(realpath -e -- "${1:-$repo/build/overlay-helper}")
ROUNDS=${BENCH_STOP_ROUNDS:-30}
WARMUP=3

die() { printf 'stop-time.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'stop-time.sh: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must be run as root: it boots a container"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (apt-get install systemd-container)"
[ -x "$BIN" ] || die "not executable: $BIN (run make)"

dir=$(mktemp -d /tmp/oh-bench-stop.XXXXXX)
nspawn=
cleanup() {
    if [ -n "$nspawn" ]; then
        kill -TERM "$nspawn" 2>/dev/null || true
        wait "$nspawn" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if grep -qw cgroup2 /proc/filesystems; then
    export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
fi
unshare --mount --propagation private -- "$repo/tests/integration/container.sh" \
    "$dir" "oh-bench-$$" "$repo" "$BIN" </dev/null >"$dir/console.log" 2>&1 &
nspawn=$!
pid1=
for _ in $(seq 1000); do
    pid1=$(pgrep -P "$nspawn" -x systemd) && break
    kill -0 "$nspawn" 2>/dev/null || { cat "$dir/console.log" >&2; die "the container did not start"; }
    sleep 0.01
done
[ -n "$pid1" ] || die "no systemd in the container after 10 s"
root=/proc/$pid1/root
c() {
    nsenter --target "$pid1" --all -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
for _ in $(seq 1000); do [ -S "$root/run/systemd/private" ] && break; sleep 0.01; done
state=$(c systemctl is-system-running --wait) || true
[ "$state" = running ] || die "the container's systemd is '$state'"

# The same program for both units, in the instance's lower layer.
mkdir -p "$root/srv/bench/lower/bin"
printf '#!/bin/sh\nexec sleep infinity\n' > "$root/srv/bench/lower/bin/start"
chmod 0755 "$root/srv/bench/lower/bin/start"
printf '[Overlay]\nLower=/srv/bench/lower\n' > "$root/etc/overlay-helper/bench.conf"
chmod 0644 "$root/etc/overlay-helper/bench.conf"
# "Without": the example's own lines, minus the helper's, running the program
# straight from the lower layer.
sed -e '/^ExecStartPre=/d' -e '/^ExecStopPost=/d' -e '/^ReadWritePaths=/d' \
    -e 's|^ExecStart=.*|ExecStart=/srv/bench/lower/bin/start|' \
    "$repo/units/examples/overlay-example@.service" > "$root/etc/systemd/system/bench-plain@.service"
c systemctl daemon-reload
with=overlay-example@bench.service
without=bench-plain@bench.service

cycle() {
    c systemctl start "$1"
    c systemctl stop "$1"
}

say "warming up ($WARMUP rounds), then $ROUNDS rounds"
for _ in $(seq "$WARMUP"); do cycle "$with"; cycle "$without"; done
since=$(c cat /proc/uptime | cut -d' ' -f1)
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 0 ]; then
        cycle "$with"; cycle "$without"
    else
        cycle "$without"; cycle "$with"
    fi
done
c systemctl is-failed --quiet "$with" && die "$with failed"

# stop_ms UNIT: one line per stop, in ms, from the journal's monotonic stamps.
stop_ms() {
    c journalctl --no-pager -o short-monotonic -u "$1" | awk -v unit="$1" -v since="$since" '
        { t = substr($0, 2, index($0, "]") - 2) + 0 }
        t < since { next }
        index($0, "systemd[1]: Stopping " unit) { start = t }
        index($0, "systemd[1]: Stopped " unit) && start { printf "%.3f\n", (t - start) * 1000; start = 0 }'
}

# stats: median, mean, p90, min, max of the numbers on stdin.
stats() {
    sort -n | awk '{ v[NR] = $1; s += $1 }
        END {
            if (NR == 0) { print "| - | - | - | - | - | 0 |"; exit }
            p90 = v[int((NR - 1) * 0.9) + 1]
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "| %.1f | %.1f | %.1f | %.1f | %.1f | %d |\n", med, s / NR, p90, v[1], v[NR], NR
        }'
}

w=$(stop_ms "$with")
wo=$(stop_ms "$without")
med() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "## Stop time of the example unit, with and without the overlay"
echo
echo "systemd $(c systemctl --version | awk 'NR == 1 { print $2 }') in systemd-nspawn, kernel $(uname -r), $(nproc) CPUs;" \
     "$ROUNDS stops of each, interleaved. \"Stopping\" to \"Stopped\" in systemd's journal, ms."
echo
echo "| unit | median | mean | p90 | min | max | n |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
echo "| with the overlay ($with) $(stats <<<"$w")"
echo "| without any overlay ($without) $(stats <<<"$wo")"
echo
awk -v a="$(med <<<"$w")" -v b="$(med <<<"$wo")" \
    'BEGIN { printf "The helper adds %.1f ms to the median stop (target: under 50 ms).\n", a - b }'
