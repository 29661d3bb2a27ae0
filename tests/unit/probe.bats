#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# probe, and the ghost-aware umount/mount/purge built on it. Each scenario
# sets propagation on purpose: a holder in a slave namespace makes umount
# fail with EBUSY; one in a private namespace lets it "succeed" and leaves a
# ghost copy behind.

load helpers

M() { echo "$T/state/web/merged"; }

setup_web() {
    simple_instance web
    oh mount web
}

@test "free target: probe exits 0 and says so" {
    simple_instance web
    run oh probe web
    assert_success
    assert_output --partial "free: not mounted"
    run oh probe web --json
    assert_success
    [ "$(json 'd["free"], d["mounted"], d["copies"], d["instance"]')" = "True False [] web" ]
}

@test "mounted, nobody holding: exit 3, one copy in PID 1's namespace, no processes" {
    setup_web
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["mounted"], d["free"], len(d["copies"]), d["copies"][0]["init"], d["copies"][0]["processes"]')" = "True False 1 True []" ]
    run oh probe "$(M)"
    assert_failure 3
    assert_output --partial "the scan finds no process or mount that holds it"
}

@test "cwd in a slave namespace: umount EBUSY exits 3 naming the PID; probe shows cwd" {
    setup_web
    pid=$(in_ns slave sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    assert_output --partial "target is busy"
    assert_output --partial "$pid sleep (cwd)"
    is_mounted "$(M)"
    run oh probe web --json
    assert_failure 3
    [ "$(json '[(c["init"], [(p["pid"], p["refs"]) for p in c["processes"]]) for c in d["copies"]]')" = "[(True, []), (False, [($pid, ['cwd'])])]" ]
}

@test "cwd in a private namespace: umount leaves a ghost, exits 3, Work untouched" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    assert_output --partial "ghost"
    assert_output --partial "$pid sleep (cwd)"
    refute_mounted "$(M)"
    [ -d "$T/state/web/work/work" ]
    run oh probe web --json
    assert_failure 3
    [ "$(json 'd["mounted"], [(c["init"], [(p["pid"], p["refs"]) for p in c["processes"]]) for c in d["copies"]]')" = "False [(False, [($pid, ['cwd'])])]" ]
    kill_wait "$pid"
    run oh umount web
    assert_success
    [ ! -e "$T/state/web/work/work" ]
}

@test "umount --wait waits for the ghost's holder to exit, then finishes" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    ( sleep 0.5; kill "$pid" ) 3>&- &
    start=$(date +%s%N)
    run oh umount web --wait 10
    end=$(date +%s%N)
    assert_success
    [ ! -e "$T/state/web/work/work" ]
    [ $(( (end - start) / 1000000 )) -lt 5000 ]
}

@test "umount --wait on EBUSY retries when the holder exits" {
    setup_web
    hold_cwd "$(M)"
    ( sleep 0.5; kill "$pid" ) 3>&- &
    run oh umount web --wait 10
    assert_success
    refute_mounted "$(M)"
}

@test "an open fd (in PID 1's namespace and in a slave) is named fd:N:PATH" {
    setup_web
    sleep 300 5<"$(M)/hello.txt" 3>&- &
    local here=$!
    track_pid "$here"
    pid=$(in_ns slave sh -c "exec sleep 300 6<'$(M)/hello.txt'")
    run oh probe web --json
    assert_failure 3
    [ "$(json '[(c["init"], [(p["pid"], p["refs"]) for p in c["processes"]]) for c in d["copies"]]')" = "[(True, [($here, ['fd:5:$(M)/hello.txt'])]), (False, [($pid, ['fd:6:$(M)/hello.txt'])])]" ]
    run oh umount web
    assert_failure 3
}

@test "an mmap of a file is named mmap:PATH" {
    setup_web
    head -c 8192 /dev/urandom > "$T/lower/blob"
    pid=$(in_ns slave python3 -c "
import mmap, time
f = open('$(M)/blob', 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); f.close()
open('$T/ready', 'w').close()
time.sleep(300)")
    for _ in $(seq 200); do [ -e "$T/ready" ] && break; sleep 0.02; done
    run oh probe web --json
    # python's mmap keeps a dup of the file's fd, so an fd ref comes too
    [ "$(json '[r for c in d["copies"] for p in c["processes"] if p["pid"] == '"$pid"' for r in p["refs"] if not r.startswith("fd:")]')" = "['mmap:$(M)/blob']" ]
}

@test "a process whose root is inside the overlay is named root" {
    setup_web
    python3 -c "import os, time; os.chroot('$(M)'); time.sleep(300)" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_link "/proc/$pid/root" = "$(M)"
    run oh probe web --json
    [ "$(json '[p["refs"] for c in d["copies"] for p in c["processes"] if p["pid"] == '"$pid"']')" = "[['root']]" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid python3 (root)"
}

@test "a submount beneath the target in another namespace is reported and blocks umount" {
    setup_web
    mkdir -p "$(M)/data"
    pid=$(in_ns slave sh -c "mount -t tmpfs sub '$(M)/data' && exec sleep 300")
    run oh probe web --json
    [ "$(json '[c["submounts"] for c in d["copies"] if not c["init"]]')" = "[['$(M)/data']]" ]
    run oh umount web
    assert_failure 3
    assert_output --partial "submount $(M)/data"
}

pin_setup() {
    mkdir -p "$T/pins"
    mount -t tmpfs pins "$T/pins"
    mount --make-private "$T/pins"   # the kernel refuses an nsfs bind on a shared mount
    touch "$T/pins/ns"
}

@test "a namespace pinned only by an nsfs bind mount is found, with what pins it" {
    setup_web
    pin_setup
    pin_ns "$T/pins/ns"
    run oh umount web
    assert_failure 3
    assert_output --partial "pinned by bind:$T/pins/ns"
    run oh probe web --json
    [ "$(json '[(c["init"], c["pinned_by"], c["processes"]) for c in d["copies"]]')" = "[(False, ['bind:$T/pins/ns'], [])]" ]
    umount "$T/pins/ns"
    run oh umount web
    assert_success
}

@test "a namespace pinned only by an open fd on its ns file is found" {
    setup_web
    ns_pid=$(in_ns private sleep 300)
    sleep 300 7<"/proc/$ns_pid/ns/mnt" 3>&- &
    holder=$!
    track_pid "$holder"
    sleep 0.1
    kill_wait "$ns_pid"
    run oh umount web
    assert_failure 3
    run oh probe web --json
    [ "$(json '[(c["init"], c["pinned_by"], c["processes"]) for c in d["copies"]]')" = "[(False, ['fd:$holder:7'], [])]" ]
    kill_wait "$holder"
    run oh umount web
    assert_success
}

@test "many holders at once are all named" {
    setup_web
    pids=()
    for _ in $(seq 20); do
        pids+=("$(in_ns private sh -c "cd '$(M)' && exec sleep 300")")
    done
    run oh probe web --json
    assert_failure 3
    found=$(json 'sorted(p["pid"] for c in d["copies"] for p in c["processes"])')
    expected=$(printf '%s\n' "${pids[@]}" | sort -n | paste -sd, | sed 's/,/, /g')
    [ "$found" = "[$expected]" ]
    [ "$(json 'len([c for c in d["copies"] if not c["init"]])')" = 20 ]
}

@test "mount refuses while a ghost of the instance is alive anywhere, naming it" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    run oh mount web
    assert_failure 3
    assert_output --partial "in use by a live overlay"
    assert_output --partial "$pid sleep"
    refute_mounted "$(M)"
}

@test "purge refuses while a ghost is alive and removes nothing" {
    setup_web
    echo keep > "$(M)/save.dat"
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh purge web
    assert_failure 3
    assert_output --partial ghost
    [ "$(cat "$T/state/web/upper/save.dat")" = keep ]
    [ -d "$T/state/web/work/work" ]
}

@test "probe --watch prints a line at each change and exits 0 once free" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    oh umount web || true
    ( sleep 0.6; kill "$pid" ) 3>&- &
    run oh probe web --watch --timeout 10
    assert_success
    assert_line --index 0 --regexp "^\[t= +0\.[0-9]{2}\] mounted=N copies=1 holders=\[$pid\(sleep\)\]$"
    assert_line --index 1 --regexp "^\[t= +[0-9]+\.[0-9]{2}\] mounted=N copies=0 holders=\[\]$"
}

@test "probe --watch gives up at --timeout with exit 3" {
    setup_web
    run oh probe web --watch --timeout 0.3
    assert_failure 3
    assert_line --index 0 --partial "mounted=Y copies=1"
}

@test "probe takes a path inside the mount, and a mount point" {
    setup_web
    mkdir -p "$(M)/sub"
    hold_cwd "$(M)/sub"
    run oh probe "$(M)/sub" --json
    assert_failure 3
    [ "$(json 'd["target"], [p["pid"] for c in d["copies"] for p in c["processes"]]')" = "$(M) [$pid]" ]
    # the mountinfo way (kernels before 6.8) finds the mount by its id too
    OVERLAY_HELPER_NO_STATMOUNT=1 run oh probe "$(M)/sub" --json
    assert_failure 3
    [ "$(json 'd["target"], [p["pid"] for c in d["copies"] for p in c["processes"]]')" = "$(M) [$pid]" ]
}

@test "the mountinfo fallback finds the same ghosts and pins" {
    setup_web
    pin_setup
    pin_ns "$T/pins/ns"
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    export OVERLAY_HELPER_NO_STATMOUNT=1
    run oh umount web
    assert_failure 3
    run oh probe web --json
    [ "$(json 'sorted((c["pinned_by"], [p["pid"] for p in c["processes"]]) for c in d["copies"])')" = "[([], [$pid]), (['bind:$T/pins/ns'], [])]" ]
    kill_wait "$pid"
    umount "$T/pins/ns"
    run oh umount web
    assert_success
}

@test "a non-root caller sees what it can and is told what it could not inspect" {
    setup_web
    hold_cwd "$(M)"
    chmod 0755 "$T" "$T/state" "$T/state/web"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$OVERLAY_HELPER_BIN" probe "$(M)"
    [ "$status" -eq 3 ]
    assert_output --partial "could not be inspected"
}

@test "a non-root caller never hears 'free' while a root-owned ghost lives: it cannot tell (exit 1)" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    chmod 0755 "$T" "$T/etc" "$T/state" "$T/state/web"
    chmod 0644 "$T/etc/web.conf"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" probe web
    assert_failure 1
    assert_output --partial "cannot tell whether it is free"
    refute_output --regexp "^web: free"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" probe web --json
    assert_failure 1
    assert_output --partial '"free":false'
    # as root: the ghost, named
    run oh probe web
    assert_failure 3
    assert_output --partial "$pid"
    kill_wait "$pid"
    run oh umount web
    assert_success
}

@test "bad probe usage exits 2" {
    run oh probe
    assert_failure 2
    run oh probe /no/such/thing
    assert_failure 2
    assert_output --partial "probe: no such path: /no/such/thing"
    run oh probe nosuch
    assert_failure 2
    assert_output --partial "'nosuch' is neither a configured instance"
    run oh probe web --interval 0
    assert_failure 2
}

@test "probe --watch --json prints one JSON object per change" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    oh umount web || true
    ( sleep 0.5; kill "$pid" ) 3>&- &
    run oh probe web --watch --json --timeout 10
    assert_success
    [ "${#lines[@]}" -eq 2 ]
    printf '%s\n' "${lines[0]}" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['t'] < 0.5 and d['free'] is False and d['copies'][0]['processes'][0]['pid'] == $pid, d"
    printf '%s\n' "${lines[1]}" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['free'] is True and d['copies'] == [], d"
}

@test "an older ghost behind a hand-made mount: umount and mount both refuse" {
    setup_web
    pid=$(in_ns private sh -c "cd '$(M)' && exec sleep 300")
    run oh umount web
    assert_failure 3
    # someone mounts the same layers by hand (the kernel only warns)
    mount -t overlay overlay -o "lowerdir=$T/lower,upperdir=$T/state/web/upper,workdir=$T/state/web/work" "$(M)"
    run oh mount web
    assert_failure 3
    assert_output --partial "another overlay on the same Upper"
    run oh umount web
    assert_failure 3
    assert_output --partial "$pid sleep"
    [ -d "$T/state/web/work/work" ]
    run oh mount web
    assert_failure 3
    kill_wait "$pid"
    run oh umount web
    assert_success
    run oh mount web
    assert_success
}

# Starts a python3 holding N fds on FILE (raising its own fd limit), tracked
# for teardown; sets $pid once all N are open.
hold_fds() {
    python3 -c '
import os, resource, sys, time
n = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
fds = [os.open(sys.argv[1], os.O_RDONLY) for _ in range(n)]
open(sys.argv[3], "w").close()
time.sleep(300)
' "$1" "$2" "$T/fds-ready" 3>&- &
    pid=$!
    track_pid "$pid"
    wait_until test -e "$T/fds-ready"
}

@test "a holder with 5,000 fds: umount's message is summarised and keeps its advice; JSON lists all" {
    setup_web
    hold_fds "$(M)/hello.txt" 5000
    run oh umount web
    assert_failure 3
    assert_output --partial "target is busy"
    assert_output --partial "$pid python3"
    assert_output --partial "and 4,992 more fds"
    assert_output --partial "Run 'overlay-helper probe web' for details"
    [ "${#output}" -lt 4000 ]
    run oh probe web --json
    assert_failure 3
    [ "$(json "sum(len(p['refs']) for c in d['copies'] for p in c['processes'] if p['pid'] == $pid)")" = 5000 ]
    # the human table is the details view: every fd, nothing cut
    run oh probe web
    assert_failure 3
    [ "$(printf '%s\n' "$output" | grep -o 'fd:[0-9]*:' | sort -u | wc -l)" -eq 5000 ]
}

@test "many processes and namespaces: umount's message counts the ones it leaves out" {
    setup_web
    pid=$(in_ns slave sh -c "cd '$(M)' && for i in \$(seq 20); do sleep 300 & done; exec sleep 300")
    many_children() { [ "$(wc -w < "/proc/$pid/task/$pid/children")" -eq 20 ]; }
    wait_until many_children
    # no newline at the end of that file: read says EOF, having read them all
    read -ra kids < "/proc/$pid/task/$pid/children" || [ "${#kids[@]}" -eq 20 ]
    for c in "${kids[@]}"; do track_pid "$c"; done
    run oh umount web
    assert_failure 3
    assert_output --partial "and 5 more processes"
    assert_output --partial "Run 'overlay-helper probe web' for details"
    for _ in $(seq 9); do in_ns slave sh -c "cd '$(M)' && exec sleep 300" > /dev/null; done
    run oh umount web
    assert_failure 3
    assert_output --regexp "; and 2 more namespaces \([0-9]+ process(es)? in them\); not unmounting"
    assert_output --partial "Run 'overlay-helper probe web' for details"
    run oh probe web --json
    assert_failure 3
    [ "$(json 'len([c for c in d["copies"] if not c["init"]]), sum(len(c["processes"]) for c in d["copies"])')" = "10 30" ]
}

# True when probe names N processes holding web.
cwd_holders_are() {
    local n
    n=$(oh probe web --json | python3 -c 'import json, sys
print(sum(len(c["processes"]) for c in json.load(sys.stdin)["copies"]))')
    [ "$n" -eq "$1" ]
}

@test "--watch lines stay bounded with many holders, and keep the exact total" {
    setup_web
    for _ in $(seq 40); do
        (cd "$(M)" && exec sleep 300) 3>&- &
        track_pid $!
    done
    wait_until cwd_holders_are 40
    run oh probe web --watch --timeout 0.2
    assert_failure 3
    assert_output --regexp "holders=\[[0-9]+\(sleep\)( [0-9]+\(sleep\)){31} and 8 more \(40 in all\)\]"
}

@test "submounts of a copy on other filesystems (hidden, nested, a bind) are listed alike on both paths" {
    simple_instance web
    # mounted before the overlay, beneath its Merged: hidden by it, yet beneath it
    mkdir -p "$(M)/under" "$T/elsewhere"
    mount -t tmpfs under "$(M)/under"
    oh mount web
    mkdir -p "$(M)/data" "$(M)/bind" "$T/state/web/merged.d" "$T/state/web/merged0"
    # siblings whose names start like Merged's are not beneath it
    mount -t tmpfs sib "$T/state/web/merged.d"
    mount -t tmpfs sib "$T/state/web/merged0"
    pid=$(in_ns slave sh -c "mount -t tmpfs sub '$(M)/data' && mkdir '$(M)/data/deep' &&
        mount -t tmpfs deep '$(M)/data/deep' && mount --bind '$T/elsewhere' '$(M)/bind' && exec sleep 300")
    # (PID 1's copy is left out: on the statmount path its min_mnt_id, the
    # overlay's own id, leaves out the older hidden mount there)
    q='[sorted(c["submounts"]) for c in d["copies"] if not c["init"]]'
    want="[['$(M)/bind', '$(M)/data', '$(M)/data/deep', '$(M)/under']]"
    run oh probe web --json
    [ "$(json "$q")" = "$want" ]
    export OVERLAY_HELPER_NO_STATMOUNT=1
    run oh probe web --json
    [ "$(json "$q")" = "$want" ]
    unset OVERLAY_HELPER_NO_STATMOUNT
    kill_wait "$pid"
    umount "$T/state/web/merged.d" "$T/state/web/merged0"
}
