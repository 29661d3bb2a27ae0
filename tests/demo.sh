#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/demo.sh BIN: a narrated tour of overlay-helper (run by `sudo make demo`).
#
# Mounts, uses, unmounts and purges one instance, "demo", on a tmpfs, printing
# each command before it runs and checking what it did. The tour runs in its
# own mount and PID namespaces (unshare --mount --pid --fork --mount-proc
# --propagation private): there PID 1 is this script, so the helper's move into
# "PID 1's mount namespace" lands in the demo's namespace and nothing touches
# the host's mounts. Exits non-zero as soon as a step misbehaves.
set -u -o pipefail

usage() {
    echo "usage: sudo $0 PATH/TO/overlay-helper" >&2
    exit 2
}

die() {
    printf '\ndemo: FAILED: %s\n' "$*" >&2
    exit 1
}

if [ -z "${OVERLAY_HELPER_DEMO_WS:-}" ]; then
    # The outer half, on the host: make the workspace dir, run the tour in new
    # namespaces, then prove that nothing was left mounted on the host.
    [ $# -eq 1 ] || usage
    [ "$(id -u)" -eq 0 ] || { echo "demo: needs root: it mounts overlays (run: sudo make demo)" >&2; exit 1; }
    { [ -f "$1" ] && [ -x "$1" ]; } || { echo "demo: $1: no such executable (run: make)" >&2; exit 1; }
    bin=$(realpath "$1") || exit 1
    for tool in unshare findmnt mountpoint; do
        command -v "$tool" >/dev/null || { echo "demo: needs $tool (util-linux; run: sudo make deps)" >&2; exit 1; }
    done
    ws=$(mktemp -d /tmp/oh-demo.XXXXXX) || exit 1
    trap 'rmdir "$ws" 2>/dev/null' EXIT
    trap 'exit 130' INT TERM
    OVERLAY_HELPER_DEMO_WS=$ws unshare --mount --pid --fork --mount-proc --propagation private \
        bash "$(realpath "$0")" "$bin"
    rc=$?
    if findmnt -rn -o TARGET | grep -qF "$ws"; then
        echo "demo: FAILED: a mount under $ws leaked into the host's namespace:" >&2
        findmnt -rn -o TARGET,SOURCE,FSTYPE | grep -F "$ws" >&2
        exit 1
    fi
    if [ "$rc" -eq 0 ]; then
        printf '\ndemo: all steps behaved; nothing was left mounted on the host.\n'
    fi
    exit "$rc"
fi

# ---- The inner half: PID 1 of a private mount and PID namespace. ----
BIN=$1
W=$OVERLAY_HELPER_DEMO_WS
[ "$$" -eq 1 ] || die "not PID 1 of a new PID namespace; run it as: sudo $0 BIN"
[ "$(readlink /proc/1/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] ||
    die "/proc is not this namespace's (unshare --mount-proc missing?)"

holder=
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
    cd /
    # Deepest first; only this namespace sees these mounts, and it ends with us.
    umount -R "$W" 2>/dev/null || umount -R -l "$W" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'; else bold='' dim='' off=''; fi

heading() {
    printf '\n%s==> %s%s\n' "$bold" "$*" "$off"
}

note() {
    printf '%s# %s%s\n' "$dim" "$*" "$off"
}

# The helper, always with the demo's own dirs. Printed commands name it as
# `overlay-helper`; this function is what they run.
overlay-helper() {
    "$BIN" --config-dir "$W/etc" --state-dir "$W/state" --runtime-dir "$W/run" "$@"
}

# run [-x] WANT COMMAND: prints "$ COMMAND", runs it in the workspace and prints
# its output (stdout and stderr); the demo fails unless it exits WANT. -x
# prints the exit code as well. OUT holds the output afterwards.
OUT=
run() {
    local show_rc=false rc
    if [ "$1" = -x ]; then show_rc=true; shift; fi
    local want=$1 cmd=$2
    printf '%s$ %s%s\n' "$bold" "$cmd" "$off"
    OUT=$(eval "$cmd" 2>&1)
    rc=$?
    [ -n "$OUT" ] && printf '%s\n' "$OUT"
    if $show_rc || [ "$rc" -ne "$want" ]; then
        printf '%s[exit %d]%s\n' "$dim" "$rc" "$off"
    fi
    [ "$rc" -eq "$want" ] || die "'$cmd' exited $rc, expected $want"
}

heading "A workspace: a tmpfs at $W, seen only by the demo's namespaces"
mount -t tmpfs -o mode=0755 overlay-helper-demo "$W" || die "mounting a tmpfs on $W failed"
cd "$W" || die "cd $W"
mkdir -p etc lower || die "mkdir"
chmod 0755 etc
note "In the commands below, overlay-helper stands for:"
note "  $BIN"
note "      --config-dir $W/etc --state-dir $W/state --runtime-dir $W/run"
note "(installed, the defaults are /etc/overlay-helper, /var/lib/overlay-helper, /run/overlay-helper)"

heading "An instance config: etc/demo.conf"
cat > etc/demo.conf <<EOF
# Instance "demo". Installed, this would be /etc/overlay-helper/demo.conf.
[Overlay]
# Read-only layers, top-most first; Lower= may repeat.
Lower=$W/lower
# Where writes land; with Work on the same filesystem.
Upper=$W/demo/upper
Work=$W/demo/work
# Where the service sees the merged tree.
Merged=$W/demo/merged
MountFlags=nosuid,nodev
Mode=0755
EOF
chmod 0644 etc/demo.conf   # the helper refuses a config writable by group or others
run 0 'cat etc/demo.conf'

heading "A lower layer with one file"
run 0 'echo "hello from the lower layer" > lower/hello.txt'
run 0 'ls -l lower'

heading "Mount the instance (it creates upper, work and merged)"
run -x 0 'overlay-helper mount demo'
mountpoint -q demo/merged || die "demo/merged is not a mount point after 'mount demo'"
run -x 0 'overlay-helper status demo'
run 0 'findmnt -o TARGET,SOURCE,FSTYPE,OPTIONS demo/merged'
[[ $OUT == *overlay-helper:demo*overlay* ]] || die "findmnt does not show the overlay on demo/merged"

heading "Write through merged: changes land in upper, the lower stays untouched"
run 0 'cat demo/merged/hello.txt'
run 0 'echo "written through merged" > demo/merged/note.txt'
run 0 'echo "changed through merged" >> demo/merged/hello.txt'
run 0 'ls -l demo/upper'
[[ -f demo/upper/note.txt && -f demo/upper/hello.txt ]] || die "the writes did not land in demo/upper"
run 0 'cat demo/upper/hello.txt'
run 0 'ls -l lower && cat lower/hello.txt'
[[ ! -e lower/note.txt && $(cat lower/hello.txt) == "hello from the lower layer" ]] ||
    die "the lower layer was changed"

heading "Mount again: already mounted with the same layers is success"
run -x 0 'overlay-helper mount demo'
[[ $OUT == *"already mounted"* ]] || die "a second mount did not say 'already mounted'"
[ "$(findmnt -rn -o TARGET demo/merged | wc -l)" -eq 1 ] || die "a second overlay was stacked on demo/merged"

heading "A busy mount is refused, never unmounted lazily"
note "a process with its cwd inside merged keeps the mount busy:"
printf '%s$ %s%s\n' "$bold" '(cd demo/merged && exec sleep 60) &' "$off"
(cd demo/merged && exec sleep 60) &
holder=$!
for _ in $(seq 50); do   # until its cwd is inside merged
    [ "$(readlink "/proc/$holder/cwd")" = "$W/demo/merged" ] && break
    sleep 0.1
done
run -x 3 'overlay-helper umount demo'
mountpoint -q demo/merged || die "demo/merged was unmounted while busy"
printf '%s$ %s%s\n' "$bold" 'kill %1; wait %1' "$off"
kill "$holder" || die "kill $holder failed"
wait "$holder" 2>/dev/null
holder=

heading "Unmount: merged is no longer a mount point, the kernel's work/work is gone"
run -x 0 'overlay-helper umount demo'
run -x 32 'mountpoint demo/merged'
run 0 'ls -la demo/work'
[ ! -e demo/work/work ] || die "demo/work/work was left behind"
run -x 0 'overlay-helper umount demo'
[[ $OUT == *"not mounted"* ]] || die "unmounting twice did not say 'not mounted'"

heading "Mount again: upper persists, so the earlier writes are still there"
run -x 0 'overlay-helper mount demo'
run 0 'cat demo/merged/note.txt demo/merged/hello.txt'
[ "$(cat demo/merged/note.txt)" = "written through merged" ] || die "note.txt did not survive a remount"

heading "Purge: unmount, then empty upper, work and merged"
run -x 0 'overlay-helper purge demo'
! mountpoint -q demo/merged || die "demo/merged is still mounted after purge"
run 0 'ls -la demo/upper'
[ -z "$(find demo/upper demo/work demo/merged -mindepth 1)" ] || die "purge left something in upper, work or merged"
run 0 'ls -l lower'
[ "$(cat lower/hello.txt)" = "hello from the lower layer" ] || die "purge changed the lower layer"

heading "A fresh mount shows the lower layer as it was"
run -x 0 'overlay-helper mount demo'
run 0 'ls -l demo/merged && cat demo/merged/hello.txt'
[[ ! -e demo/merged/note.txt && $(cat demo/merged/hello.txt) == "hello from the lower layer" ]] ||
    die "after purge and mount, merged does not show the lower layer as it was"

heading "Unmount, and the same status as JSON"
run -x 0 'overlay-helper umount demo'
run -x 0 'overlay-helper status --json demo'
mounted_false='"mounted": *false'
[[ $OUT =~ $mounted_false ]] || die "status --json does not say \"mounted\":false"
! findmnt -rn -t overlay >/dev/null || die "an overlay is still mounted in the demo's namespace"
