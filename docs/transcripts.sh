#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/transcripts.sh BIN: re-captures the transcripts of docs/RUNBOOK.md
# from this build. Prints each scenario's commands and their real output as
# markdown console blocks on stdout, in the order the RUNBOOK tells them;
# whoever updates the RUNBOOK pastes them in and fixes the prose around them
# (PIDs and namespace numbers change from run to run).
#
#   sudo docs/transcripts.sh build/overlay-helper > /tmp/transcripts.md
#
# Everything runs as PID 1 of a private mount and PID namespace (the script
# re-executes itself there), with scratch mounts standing in for /etc,
# /var/lib/overlay-helper, /run and /srv, so the printed paths are the
# production ones and the host's mounts are never touched. Every process it
# starts lives in that PID namespace and dies with it. Needs jq, python3,
# util-linux and psmisc.
set -u

if [ "${OH_TRANSCRIPT_INSIDE:-}" != 1 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "$0: needs root (it mounts overlays)" >&2; exit 1; }
    if [ $# -ne 1 ] || [ ! -x "$1" ]; then echo "usage: $0 BIN" >&2; exit 2; fi
    bin=$(realpath "$1")
    exec env OH_TRANSCRIPT_INSIDE=1 OH_BIN="$bin" \
        unshare --mount --pid --fork --mount-proc --propagation private -- "$0"
fi

M=/var/lib/overlay-helper/web-3/merged
U=/var/lib/overlay-helper/web-3/upper
W=/var/lib/overlay-helper/web-3/work
started=()

setup() {
    mount -t tmpfs demo-tmp /tmp
    mkdir -p /tmp/.etc/up /tmp/.etc/wk /tmp/.varlib/up /tmp/.varlib/wk /tmp/sbin
    mount -t overlay demo-etc -o lowerdir=/etc,upperdir=/tmp/.etc/up,workdir=/tmp/.etc/wk /etc
    mkdir -p /etc/overlay-helper
    mount -t overlay demo-varlib -o lowerdir=/var/lib,upperdir=/tmp/.varlib/up,workdir=/tmp/.varlib/wk /var/lib
    mkdir -p /var/lib/overlay-helper
    mount -t tmpfs -o mode=0755 state /var/lib/overlay-helper
    mount --make-shared /var/lib/overlay-helper      # as / is on a systemd host
    mount -t tmpfs -o mode=0755 run /run             # private: nsfs binds need that
    mount -t tmpfs -o mode=0755 srv /srv
    mount -t tmpfs -o mode=0755 sbin /usr/local/sbin
    cp "$OH_BIN" /usr/local/sbin/overlay-helper
    export PATH=/usr/local/sbin:$PATH
    mkdir -p /srv/web/base/usr/bin /srv/web/base/var/log/web /srv/web/base/htdocs
    echo '<h1>web</h1>' > /srv/web/base/htdocs/index.html
    cp /bin/sleep /srv/web/base/usr/bin/web-worker
    printf '[Overlay]\nLower=/srv/web/base\n' > /etc/overlay-helper/web-3.conf
    chmod 0644 /etc/overlay-helper/web-3.conf
    overlay-helper -q mount web-3
}

# show CMD: the command as typed, its output (stdout and stderr), its exit.
show() {
    local rc
    printf '# %s\n' "$1"
    bash -c "$1" 2>&1
    rc=$?
    printf '[exit %d]\n' "$rc"
}

block() {
    printf '\n### %s\n\n```console\n' "$1"
    shift
    local c
    for c in "$@"; do show "$c"; done
    printf '```\n'
}

# bg CMD: starts CMD in the background, remembers its PID in $LAST.
bg() {
    bash -c "$1" &
    LAST=$!
    started+=("$LAST")
    sleep 0.3
}

# A private namespace whose only process exits while PIN holds its ns file
# as fd 7: no process is left in it, only the fd keeps it (and its copy).
fd_pin() {
    bg "exec unshare --mount --propagation private sleep 3600"
    local ns=$LAST
    bg "exec sleep 3600 7</proc/$ns/ns/mnt"
    PIN=$LAST
    kill "$ns"
    sleep 0.3
}

stop_all() {
    local p
    for p in "${started[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
    started=()
}

# A process in namespace NS's mount namespace whose comm is COMM (the
# exec'd worker, not its unshare parent).
worker_in_ns() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && { echo "${p#/proc/}"; return; }
    done
}

# thread_holder COND: a python3 process whose one extra thread evaluates
# COND (libc at hand; false: it fails), then moves its cwd into Merged; waits
# until it is there.
thread_holder() {
    rm -f /tmp/thread-ready
    python3 -c 'import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def thread():
    if not eval(sys.argv[3]):
        raise OSError(ctypes.get_errno(), sys.argv[3])
    os.chdir(sys.argv[1])
    open(sys.argv[2], "w").close()
    time.sleep(3600)
threading.Thread(target=thread, daemon=True).start()
time.sleep(3600)' "$M" /tmp/thread-ready "$1" &
    started+=("$!")
    for _ in $(seq 50); do [ -e /tmp/thread-ready ] && break; sleep 0.1; done
}

reset() {
    stop_all
    sleep 0.2
    overlay-helper -q umount web-3 --wait 5 >/dev/null 2>&1
    overlay-helper -q mount web-3
}

setup

# 1: a shell with its cwd inside; a worker in a slave namespace.
mkfifo /tmp/tty
bash --norc < /tmp/tty &
SHELL_PID=$!
started+=("$SHELL_PID")
exec 9>/tmp/tty
echo "cd $M" >&9
bg "unshare --mount --propagation slave sh -c 'cd $M && exec $M/usr/bin/web-worker 3600 3>>$M/var/log/web/access.log'"
sleep 0.3
WORKER=$(worker_in_ns web-worker)
block "1. busy: a process holds it" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "overlay-helper probe $M/htdocs" \
    "readlink /proc/$WORKER/ns/mnt /proc/1/ns/mnt" \
    "setpriv --reuid=65534 --regid=65534 --clear-groups overlay-helper probe web-3"
kill "$WORKER"
sleep 0.3
( sleep 2; echo "cd /" >&9 ) &
block "1. --wait" \
    "overlay-helper umount web-3" \
    "time overlay-helper umount web-3 --wait 30" \
    "overlay-helper probe web-3"
exec 9>&-
reset

# 1b: a sandboxed service's slave copy that holds nothing (logind-like).
bg "unshare --mount --propagation slave sleep 3600"
block "1b. a slave copy that holds nothing receives the unmount" \
    "overlay-helper probe web-3" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3"
reset

# 2: a ghost: the same worker in a private namespace.
bg "unshare --mount --propagation private sh -c 'cd $M/htdocs && exec $M/usr/bin/web-worker 3600'"
GHOST=$(worker_in_ns web-worker)
block "2. ghost in waiting, before the unmount" \
    "overlay-helper probe web-3"
block "2. the ghost" \
    "overlay-helper umount web-3" \
    "findmnt $M; ls -a $W" \
    "overlay-helper probe web-3" \
    "setpriv --reuid=65534 --regid=65534 --clear-groups overlay-helper probe web-3" \
    "nsenter -t $GHOST -m findmnt -o TARGET,SOURCE,FSTYPE,PROPAGATION $M" \
    "overlay-helper mount web-3" \
    "overlay-helper purge web-3"
( sleep 3; kill "$GHOST" ) &
block "2. watch, then clean up" \
    "overlay-helper probe web-3 --watch --timeout 30" \
    "overlay-helper umount web-3" \
    "overlay-helper mount web-3"
stop_all

# 2, submount: a slave namespace that mounts beneath merged.
mkdir -p "$M/data"
bg "unshare --mount --propagation slave sh -c 'mount -t tmpfs scratch $M/data && exec sleep 3600'"
SUB=$LAST
block "2. a ghost with a submount" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "nsenter -t $SUB -m umount $M/data" \
    "nsenter -t $SUB -m umount $M" \
    "overlay-helper umount web-3"
reset

# 2a: a second overlay mounted by hand next to a ghost.
bg "unshare --mount --propagation private sh -c 'cd $M && exec $M/usr/bin/web-worker 3600'"
GHOST=$(worker_in_ns web-worker)
overlay-helper -q umount web-3 >/dev/null 2>&1
dmesg -C 2>/dev/null
block "2a. upperdir is in-use" \
    "mount -t overlay overlay -o lowerdir=/srv/web/base,upperdir=$U,workdir=$W $M" \
    "dmesg | grep overlayfs | tail -2" \
    "overlay-helper probe web-3" \
    "overlay-helper probe web-3 --json | jq -c '[.copies[] | {mnt_ns, init, propagation}]'" \
    "overlay-helper mount web-3" \
    "overlay-helper umount web-3" \
    "overlay-helper mount web-3; ls -a $W"
kill "$GHOST"
sleep 0.3
block "2a. after the older copy ended" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3"
stop_all
overlay-helper -q mount web-3

# 6: holders no mount table shows: the kernel's own answer.
mkdir -p "$M/sub" /tmp/nested/up /tmp/nested/wk /tmp/nested/m
mount -t overlay nested -o "lowerdir=$M/sub,upperdir=/tmp/nested/up,workdir=/tmp/nested/wk" /tmp/nested/m
umount -l "$M" 2>/dev/null
block "6. a nested overlay's hidden clone" \
    "findmnt -t overlay -o TARGET,SOURCE" \
    "overlay-helper probe web-3" \
    "overlay-helper probe web-3 --json | jq -c '{mounted, free, kernel_in_use, copies}'" \
    "overlay-helper status web-3" \
    "overlay-helper mount web-3"
umount /tmp/nested/m
block "6. once the nested overlay is gone" \
    "overlay-helper probe web-3" \
    "overlay-helper umount web-3"
overlay-helper -q mount web-3

# 3, bind pin.
# The kernel refuses (EINVAL) an nsfs bind of a namespace whose id is not
# newer than ours; 6.18 hands ids out in per-CPU batches, so which CPU the
# new namespace is made on decides. Try each until one takes.
touch /run/x
for cpu in $(seq 0 $(($(nproc) - 1))); do
    taskset -c "$cpu" unshare --mount=/run/x --propagation private true 2>/dev/null && break
done
block "3. pinned by a bind mount" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "findmnt -t nsfs" \
    "overlay-helper mount web-3" \
    "umount /run/x" \
    "overlay-helper umount web-3"
stop_all
overlay-helper -q mount web-3

# 3, fd pin: a namespace's only process exits while another holds its ns file.
fd_pin
block "3. pinned by an fd" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "ls -l /proc/$PIN/fd/7; ps -o pid,ppid,comm,args -p $PIN"
( sleep 2; kill "$PIN" ) &
block "3. fd pin gone" \
    "overlay-helper probe web-3 --watch" \
    "overlay-helper umount web-3"
stop_all
overlay-helper -q mount web-3

# 3, fd pin and umount --wait: the pinning process ends 1.5 s in.
fd_pin
( sleep 1.5; kill "$PIN" ) &
block "3. fd pin, umount --wait" \
    "time overlay-helper umount web-3 --wait 10"
stop_all
overlay-helper -q mount web-3

# 7: holders no copy shows: a bind mount elsewhere, a loop device, a thread.
mkdir -p "$M/sub" /srv/elsewhere
mount --bind "$M/sub" /srv/elsewhere
block "7. a bind mount elsewhere" \
    "overlay-helper probe web-3" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "umount /srv/elsewhere" \
    "overlay-helper umount web-3"
overlay-helper -q mount web-3
truncate -s 1M "$M/disk.img"
if LOOP=$(losetup -f --show "$M/disk.img" 2>/dev/null); then
    block "7. a loop device" \
        "overlay-helper probe web-3" \
        "overlay-helper umount web-3" \
        "losetup -d $LOOP"
    while losetup "$LOOP" >/dev/null 2>&1; do sleep 0.1; done
fi
rm -f "$M/disk.img"
thread_holder 'libc.unshare(0x200) == 0'   # CLONE_FS: a cwd of its own
block "7. a thread with a cwd of its own" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3" \
    "overlay-helper probe web-3 --json | jq -c '.copies[].processes'"
stop_all
sleep 0.2
overlay-helper -q umount web-3 >/dev/null 2>&1
overlay-helper -q mount web-3
# a thread in a mount namespace of its own (CLONE_NEWNS, all private), its
# cwd inside: /proc/PID shows the leader alone, in PID 1's namespace
thread_holder 'libc.unshare(0x20000) == 0 and libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) == 0'
block "7. a thread in a mount namespace of its own" \
    "overlay-helper probe web-3" \
    "overlay-helper umount web-3" \
    "overlay-helper probe web-3 --json | jq -c '.copies[] | {init, propagation, processes}'"
stop_all
sleep 0.2
overlay-helper -q umount web-3 >/dev/null 2>&1
overlay-helper -q mount web-3

# 4: the helper started in a unit-like namespace.
block "4. the helper itself as the holder" \
    "cd $M && unshare --mount --propagation slave umount $M" \
    "unshare --mount --propagation private umount $M; echo \"umount said \$?\"; findmnt -o TARGET,SOURCE $M" \
    "cd $M && unshare --mount --propagation slave overlay-helper umount web-3"
overlay-helper -q mount web-3
block "4. private" \
    "cd $M && unshare --mount --propagation private overlay-helper umount web-3"
overlay-helper -q mount web-3
block "4. wrapped" \
    "cd $M && unshare --mount --propagation private nsenter --mount=/proc/1/ns/mnt -- overlay-helper umount web-3" \
    "cd $M && unshare --mount --propagation private nsenter --mount=/proc/1/ns/mnt -- sh -c 'pwd; readlink /proc/self/cwd'"
overlay-helper -q mount web-3

# 5: JSON, with four holders.
cat > /tmp/holders.sh <<'EOF'
json=$(overlay-helper probe web-3 --json); rc=$?
echo "probe exit: $rc"
if [ "$rc" -eq 3 ]; then
    jq -r '.copies[].processes[] | "\(.pid) \(.comm) \(.refs | join(","))"' <<<"$json"
fi
EOF
mkfifo /tmp/tty2
bash --norc < /tmp/tty2 &
started+=("$!")
exec 9>/tmp/tty2
echo "cd $M" >&9
bg "exec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 3600 4<$M/htdocs/index.html"
bg "unshare --mount --propagation slave sh -c 'cd $M && exec $M/usr/bin/web-worker 3600 3>>$M/var/log/web/access.log'"
bg "unshare --mount --propagation private sh -c 'cd $M && exec sleep 3600'"
block "5. JSON" \
    "overlay-helper probe web-3 --json | jq -c 'del(.copies)'" \
    "overlay-helper probe web-3 --json | jq -c '.copies[]'" \
    "overlay-helper probe web-3 --json | jq -r '.copies[].processes[].pid'" \
    "overlay-helper probe web-3 --json | jq -r '.copies[] | .mnt_ns as \$ns | .processes[] | [\$ns, .pid, .comm, (.refs | join(\" \"))] | @tsv'" \
    "overlay-helper probe web-3 --json | jq -c '{mounted, free, holders, other_ns: [.copies[] | select(.init | not) | {mnt_ns, propagation, pinned_by, pids: [.processes[].pid]}]}'" \
    "overlay-helper probe web-3 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted({p[\"pid\"] for c in d[\"copies\"] for p in c[\"processes\"]}))'" \
    "bash /tmp/holders.sh" \
    "setpriv --reuid=65534 --regid=65534 --clear-groups overlay-helper probe web-3" \
    "setpriv --reuid=65534 --regid=65534 --clear-groups overlay-helper probe web-3 --json | jq -c '{mounted, free, holders, unreadable}'" \
    "overlay-helper probe nosuch; overlay-helper probe /nonexistent"
exec 9>&-
stop_all
overlay-helper -q umount web-3 --wait 5 >/dev/null 2>&1
overlay-helper -q mount web-3

# 5, --watch --json: a ghost whose holder ends 2 s in.
bg "unshare --mount --propagation private sh -c 'cd $M && exec $M/usr/bin/web-worker 3600'"
GHOST=$(worker_in_ns web-worker)
overlay-helper -q umount web-3 >/dev/null 2>&1
( sleep 2; kill "$GHOST" ) &
block "5. --watch --json" \
    "overlay-helper probe web-3 --watch --json --timeout 30 | jq -c '{t, mounted, free, pids: [.copies[].processes[].pid]}'"
stop_all
overlay-helper -q umount web-3 --wait 5 >/dev/null 2>&1

# 8: image lowers: one device shared, a holder of the device after the last
# unmount, a writer, a stale view.
G=/var/lib/overlay-helper
mkdir -p /tmp/game/bin
echo v1 > /tmp/game/version
cp /bin/sleep /tmp/game/bin/game-server
mkfs.erofs --quiet /srv/game-base.erofs /tmp/game
printf '[Overlay]\nLower=/srv/game-base.erofs\n' > /etc/overlay-helper/game@.conf
chmod 0644 /etc/overlay-helper/game@.conf
overlay-helper -q mount game@1
overlay-helper -q mount game@2
DEV=$(losetup -n -O NAME -j /srv/game-base.erofs)
mkdir -p /tmp/peek
bg "exec unshare --mount --propagation private sh -c 'umount $G/game@1/merged $G/game@2/merged && mount -o ro $DEV /tmp/peek && exec sleep 3600'"
block "8. image lowers" \
    "overlay-helper mount game@3" \
    "losetup -l -O NAME,RO,AUTOCLEAR,BACK-FILE" \
    "grep -c ' /run/overlay-helper/images/' /proc/self/mountinfo" \
    "overlay-helper status game@3" \
    "overlay-helper probe /srv/game-base.erofs" \
    "overlay-helper umount game@1" \
    "overlay-helper umount game@2" \
    "overlay-helper umount game@3" \
    "overlay-helper probe $DEV" \
    "overlay-helper probe $DEV --json | jq -c '{free, device_claimed, loop_devices, device_users}'"
PEEK=$LAST
( sleep 1; kill "$PEEK" ) &
block "8. waited for" \
    "overlay-helper umount game@3 --wait 10" \
    "losetup -l -j /srv/game-base.erofs | wc -l"
stop_all
bg "exec sleep 3600 7>>/srv/game-base.erofs"
block "8. a writer" \
    "overlay-helper mount game@1"
stop_all
overlay-helper -q mount game@1
block "8. a stale view" \
    "touch /srv/game-base.erofs; overlay-helper mount game@2" \
    "overlay-helper umount game@1; overlay-helper mount game@2"
overlay-helper -q umount game@2 >/dev/null 2>&1
true
