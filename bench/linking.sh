#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/linking.sh [ROUNDS]: what linking libcap-ng dynamically (0.2.0) costs
# each start against linking it statically (0.1.0). Builds both from this tree
# in a temp dir and times `overlay-helper --version` (exec, dynamic loading,
# exit: everything linking changes) in interleaved batches of 200 execs, the
# order alternating each round. Prints each variant's median µs per exec and
# the per-round ratio dynamic/static (median and range). No root needed.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-21}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s BUILD="$tmp/static" PKG_LIBS="-Wl,-Bstatic -lcap-ng -Wl,-Bdynamic" "$tmp/static/overlay-helper" >/dev/null
make -s BUILD="$tmp/dynamic" "$tmp/dynamic/overlay-helper" >/dev/null
python3 - "$rounds" "$tmp/static/overlay-helper" "$tmp/dynamic/overlay-helper" <<'PY'
import os, statistics, sys, time
rounds, static, dynamic = int(sys.argv[1]), sys.argv[2], sys.argv[3]
devnull = os.open("/dev/null", os.O_WRONLY)
per = {static: [], dynamic: []}
for rnd in range(rounds):
    for b in (static, dynamic) if rnd % 2 else (dynamic, static):
        t0 = time.perf_counter()
        for _ in range(200):
            pid = os.posix_spawn(b, [b, "--version"], {}, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
            os.waitpid(pid, 0)
        per[b].append((time.perf_counter() - t0) / 200 * 1e6)
ratio = [d / s for d, s in zip(per[dynamic], per[static])]
for name, b in (("static libcap-ng", static), ("dynamic libcap-ng", dynamic)):
    v = per[b]
    print(f"{name:18} median {statistics.median(v):6.0f} us/exec  (min {min(v):.0f}, max {max(v):.0f})")
print(f"dynamic/static     median {statistics.median(ratio):.3f}  (range {min(ratio):.3f}..{max(ratio):.3f}, {rounds} rounds)")
PY
