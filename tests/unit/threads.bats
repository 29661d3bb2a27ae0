#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# Holders that only a thread is: one in a mount namespace of its own, one
# with an fd table of its own, and the threads of a process whose leader has
# exited. /proc/PID shows the leader alone; the probe must read
# /proc/PID/task/TID where a thread's namespace, fs or fd table is its own,
# and name the thread.

load helpers

M() { echo "$T/state/web/merged"; }

# A python3 process whose one extra thread runs $1 (python, with libc,
# merged, out and os at hand) and then writes its TID to $T/tid; the main
# thread runs $2 (default: sleep). Sets $pid.
thread_client() {
    python3 -c 'import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
merged, out = sys.argv[1], sys.argv[2]
def check(r, what):
    if r != 0:
        raise OSError(ctypes.get_errno(), what)
def thread():
    exec(sys.argv[3])
    with open(out + ".tmp", "w") as f:
        f.write(str(threading.get_native_id()))
    os.rename(out + ".tmp", out)
    time.sleep(300)
threading.Thread(target=thread, daemon=True).start()
while not os.path.exists(out):
    time.sleep(0.01)
exec(sys.argv[4])
time.sleep(300)' "$(M)" "$T/tid" "$1" "${2:-pass}" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until test -s "$T/tid"
    tid=$(cat "$T/tid")
}

@test "threads: a thread in a mount namespace of its own holds a ghost: found, thread named" {
    simple_instance web
    oh mount web
    # CLONE_NEWNS from one thread, every mount made private there (so the
    # unmount does not reach it), then its cwd inside Merged.
    thread_client 'check(libc.unshare(0x20000), "unshare")
check(libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None), "mount")
os.chdir(merged)'
    [ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
    [ "$(readlink "/proc/$pid/task/$tid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
    umount "$(M)"
    [ -d "$T/state/web/work/work" ]
    run oh probe web --json
    assert_failure 3
    [ "$(json '[(c["init"], [(p["pid"], p["tid"], p["comm"], p["refs"]) for p in c["processes"]]) for c in d["copies"]]')" = "[(False, [($pid, $tid, 'python3', ['cwd'])])]" ]
    run oh probe web
    assert_failure 3
    assert_line --regexp "^ +$pid +python3 +- +\[thread $tid\] cwd$"
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3 (thread $tid) (cwd)"
    [ -d "$T/state/web/work/work" ]
    run oh mount web
    assert_failure 3
    refute_mounted "$(M)"
    # reaped, every thread with it (a zombie leader may outlive its threads' exit)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
}

@test "threads: a thread with an fd table of its own (CLONE_FILES) holds an fd inside Merged" {
    simple_instance web
    oh mount web
    echo data > "$(M)/held"
    thread_client 'check(libc.unshare(0x400), "unshare")
global held_fd
held_fd = os.open(os.path.join(merged, "held"), os.O_RDONLY)'
    # the process's own table (the leader's) has no fd inside Merged
    for f in "/proc/$pid/fd"/*; do
        [ "$(readlink "$f")" != "$(M)/held" ]
    done
    fd=
    for f in "/proc/$pid/task/$tid/fd"/*; do
        [ "$(readlink "$f")" = "$(M)/held" ] && fd=${f##*/}
    done
    [ -n "$fd" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3 (thread:$tid:fd:$fd:$(M)/held)"
    is_mounted "$(M)"
    run oh probe web --json
    assert_failure 3
    [ "$(json '[(p["pid"], p["tid"], p["refs"]) for c in d["copies"] for p in c["processes"]]')" = "[($pid, None, ['thread:$tid:fd:$fd:$(M)/held'])]" ]
    # reaped, every thread with it (a zombie leader may outlive its threads' exit)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    run oh umount web
    assert_success
}

@test "threads: a process whose leader exited, another thread's cwd inside Merged" {
    simple_instance web
    oh mount web
    # the thread's chdir moves the shared cwd; then the main thread alone
    # ends (SYS_exit, not exit_group): a zombie leader, /proc/PID/cwd unreadable
    thread_client 'os.chdir(merged)' 'libc.syscall(60, 0)'
    wait_until sh -c "[ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]"
    run readlink "/proc/$pid/cwd"
    assert_failure
    [ "$(readlink "/proc/$pid/task/$tid/cwd")" = "$(M)" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3 (thread $tid) (cwd)"
    is_mounted "$(M)"
    run oh probe web --json
    assert_failure 3
    [ "$(json '[(p["pid"], p["tid"], p["refs"]) for c in d["copies"] for p in c["processes"]]')" = "[($pid, $tid, ['cwd'])]" ]
    # reaped, every thread with it (a zombie leader may outlive its threads' exit)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    run oh umount web
    assert_success
}

@test "threads: the mountinfo fallback finds a thread's own namespace too" {
    simple_instance web
    oh mount web
    thread_client 'check(libc.unshare(0x20000), "unshare")
check(libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None), "mount")
os.chdir(merged)'
    umount "$(M)"
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh probe web --json
    assert_failure 3
    [ "$(json '[(c["init"], [(p["pid"], p["tid"], p["refs"]) for p in c["processes"]]) for c in d["copies"]]')" = "[(False, [($pid, $tid, ['cwd'])])]" ]
}

@test "threads: a thread's own fds beyond the first eight are summed up as fds" {
    simple_instance web
    oh mount web
    for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i" > "$(M)/f$i"; done
    thread_client 'check(libc.unshare(0x400), "unshare")
global held
held = [os.open(os.path.join(merged, "f%d" % i), os.O_RDONLY) for i in range(1, 11)]'
    run oh umount web
    assert_failure 3
    assert_output --partial " and 2 more fds)"
    run oh probe web --json
    assert_failure 3
    [ "$(json "sum(r.startswith('thread:$tid:fd:') for c in d['copies'] for p in c['processes'] for r in p['refs'])")" = 10 ]
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
}

@test "threads: a namespace pinned by a thread's own fd names the thread" {
    simple_instance web
    oh mount web
    # a namespace with a copy of Merged, then only a thread's fd on it
    unshare --mount --propagation private sleep 300 3>&- &
    sp=$!
    track_pid "$sp"
    wait_until sh -c "[ \"\$(readlink /proc/$sp/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]"
    SP=$sp thread_client 'check(libc.unshare(0x400), "unshare")
global ns_fd
ns_fd = os.open("/proc/%s/ns/mnt" % os.environ["SP"], os.O_RDONLY)'
    fd=
    for f in "/proc/$pid/task/$tid/fd"/*; do
        [ "$(readlink "$f")" = "$(readlink "/proc/$sp/ns/mnt")" ] && fd=${f##*/}
    done
    [ -n "$fd" ]
    kill -9 "$sp"
    wait "$sp" 2>/dev/null || true
    umount "$(M)"
    run oh probe web --json
    assert_failure 3
    [ "$(json '[c["pinned_by"] for c in d["copies"]]')" = "[['fd:$pid:$fd (thread $tid)']]" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "pinned by fd:$pid:$fd (thread $tid)"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
}

@test "threads: a thread in a namespace of its own whose own fd table holds PID 1's mount is named" {
    simple_instance web
    oh mount web
    echo data > "$(M)/held"
    # The fd is opened through PID 1's mount, then the thread takes its own
    # fd table and mount namespace and unmounts its own copy; the leader
    # closes its copy of the fd. Only the thread's fd keeps PID 1's mount
    # busy, and its namespace holds no copy.
    thread_client 'global held_fd
held_fd = os.open(os.path.join(merged, "held"), os.O_RDONLY)
check(libc.unshare(0x400 | 0x20000), "unshare")
check(libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None), "mount")
check(libc.umount2(merged.encode(), 0), "umount")' 'os.close(held_fd)'
    [ "$(readlink "/proc/$pid/task/$tid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
    fd=
    for f in "/proc/$pid/task/$tid/fd"/*; do
        [ "$(readlink "$f")" = "$(M)/held" ] && fd=${f##*/}
    done
    [ -n "$fd" ]
    wait_until sh -c '! ls -l /proc/$1/fd | grep -q held' sh "$pid"
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3"
    assert_output --partial "thread:$tid:fd:$fd:$(M)/held"
    is_mounted "$(M)"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    run oh umount web
    assert_success
}
