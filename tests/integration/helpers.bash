# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared harness of the integration suites: each .bats file boots one real
# systemd in a container (setup_file), drives the shipped units in it with
# systemctl, and powers it off (teardown_file). Each test registers the units,
# instances and processes it makes, and teardown removes them, so the tests of
# a file do not see each other's leftovers.
#
# tests/run starts these files in the host's namespaces. The container's root
# and every mount the harness makes live in a private mount namespace
# (container.sh runs under unshare --mount --propagation private) that dies
# with the container, so nothing here can leave a mount on the host.
#
# In the container: $C_PID is its PID 1 (systemd), `c CMD...` runs CMD in all
# its namespaces, and $C_ROOT is its / as seen from the host.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
OVERLAY_HELPER_BIN="${OVERLAY_HELPER_BIN:-$REPO/build/overlay-helper}"
# OH_DEB=PATH.deb: the container gets that package installed (dpkg -i), not
# OVERLAY_HELPER_BIN and the checkout's units (make check, CI).
STATE=/var/lib/overlay-helper
LOWER=/srv/oh-it/lower
# What each test made, for teardown: files in $BATS_TEST_TMPDIR (c_unit may
# run in a pipeline's subshell), one name per line.
registered() {
    [ -e "$BATS_TEST_TMPDIR/$1" ] && cat "$BATS_TEST_TMPDIR/$1"
    true
}

register() {
    local list=$1
    shift
    printf '%s\n' "$@" >> "$BATS_TEST_TMPDIR/$list"
}

# journalctl MESSAGE_ID= of the helper's "joined PID 1's namespace" warning.
# shellcheck disable=SC2034 # (used by the .bats files)
MSGID_NS_ESCAPE=2add0ea19c9b4947b7afdef7d2a2244c

# Skips (with the reason) only when this machine cannot run systemd-nspawn at
# all; anything that goes wrong after that is a failure. bats 1.8 cannot skip
# from setup_file, so the reason goes to setup() through C_SKIP.
nspawn_unusable() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs root: boots a systemd container with systemd-nspawn"
    elif ! command -v systemd-nspawn >/dev/null; then
        echo "systemd-nspawn is not installed (apt-get install systemd-container, or make deps)"
    elif [ ! -x /lib/systemd/systemd ]; then
        echo "no /lib/systemd/systemd to boot in a container"
    elif ! unshare --mount true 2>/dev/null; then
        echo "cannot create mount namespaces here (no CAP_SYS_ADMIN?)"
    elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
        echo "the kernel has no overlayfs"
    fi
}

requires_nspawn() {
    [ -z "${C_SKIP:-}" ] || skip "$C_SKIP"
}

# ms_since T0: milliseconds since T0 (a ${EPOCHREALTIME/./} value).
ms_since() {
    echo $(( (${EPOCHREALTIME/./} - $1) / 1000 ))
}

# Prints a "# ..." line into the TAP stream (timings, notes).
note() {
    echo "# $*" >&3
}

c() {
    # Units written since the last reload (c_unit): reload before systemctl.
    if [ "$1" = systemctl ] && [ -e "$BATS_TEST_TMPDIR/reload" ]; then
        rm -f "$BATS_TEST_TMPDIR/reload"
        c systemctl daemon-reload
    fi
    nsenter --target "$C_PID" --all -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

container_boot() {
    C_SKIP=$(nspawn_unusable)
    export C_SKIP
    [ -z "$C_SKIP" ] || return 0
    boot_container || { container_stop; return 1; }
}

boot_container() {
    local name t0 i state
    [ -x "$OVERLAY_HELPER_BIN" ] || { echo "no helper binary at $OVERLAY_HELPER_BIN: run make" >&2; return 1; }

    C_DIR=$(mktemp -d /tmp/oh-it.XXXXXX)
    name="oh-it-${BATS_TEST_FILENAME##*/}"
    name="${name%.bats}-$$"
    t0=${EPOCHREALTIME/./}
    # A unified cgroup hierarchy as on a stock Debian 12 host, where this one
    # may run a hybrid; systemd's KillMode= handling depends on it.
    if grep -qw cgroup2 /proc/filesystems; then
        export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
    fi
    unshare --mount --propagation private -- "$BATS_TEST_DIRNAME/container.sh" \
        "$C_DIR" "$name" "$REPO" "$OVERLAY_HELPER_BIN" "${OH_DEB:-}" \
        </dev/null >"$C_DIR/console.log" 2>&1 3>&- &
    C_NSPAWN=$!
    export C_DIR C_NSPAWN

    for ((i = 0; i < 1000; i++)); do
        C_PID=$(pgrep -P "$C_NSPAWN" -x systemd) && break
        if ! kill -0 "$C_NSPAWN" 2>/dev/null; then
            echo "the container did not start:" >&2
            cat "$C_DIR/console.log" >&2
            return 1
        fi
        sleep 0.01
    done
    [ -n "$C_PID" ] || { echo "no systemd in the container after 10 s" >&2; return 1; }
    export C_PID C_ROOT=/proc/$C_PID/root
    for ((i = 0; i < 1000; i++)); do
        [ -S "$C_ROOT/run/systemd/private" ] && break
        sleep 0.01
    done
    state=$(c systemctl is-system-running --wait)
    if [ "$state" != running ]; then
        echo "the container's systemd is '$state', not 'running':" >&2
        c systemctl --failed --no-legend >&2
        return 1
    fi
    C_BOOT_MS=$(ms_since "$t0")
    export C_BOOT_MS
    note "boot: ${C_BOOT_MS} ms to 'running' (systemd $(c systemctl --version | awk 'NR == 1 { print $2 }'))"
    populate_lower
}

# Powers the container off (SIGTERM to nspawn), SIGKILL after 10 s. Its
# private mount namespace, and every mount in it, goes with it.
container_poweroff() {
    local t0 i st
    [ -n "${C_NSPAWN:-}" ] || return 0
    st=$(awk '{ print $3 }' "/proc/$C_NSPAWN/stat" 2>/dev/null) || st=gone
    if [ "$st" = Z ] || [ "$st" = gone ]; then   # powered off by a test
        wait "$C_NSPAWN" 2>/dev/null || true
        return 0
    fi
    t0=${EPOCHREALTIME/./}
    kill -TERM "$C_NSPAWN" 2>/dev/null
    # Not necessarily our child (a test runs in a subshell): wait for the
    # zombie, which the file's shell reaps.
    for ((i = 0; i < 1000; i++)); do
        st=$(awk '{ print $3 }' "/proc/$C_NSPAWN/stat" 2>/dev/null) || break
        [ "$st" = Z ] && break
        sleep 0.01
    done
    if [ "$i" -ge 1000 ]; then
        echo "the container did not power off in 10 s; killing it" >&2
        kill -KILL "$C_NSPAWN" 2>/dev/null
    fi
    wait "$C_NSPAWN" 2>/dev/null || true
    note "poweroff: $(ms_since "$t0") ms"
}

container_stop() {
    container_poweroff
    C_NSPAWN=
    [ -n "${C_DIR:-}" ] && rm -rf --one-file-system "$C_DIR"
    true
}

setup_file() {
    container_boot
}

teardown_file() {
    local rc=0
    container_leaks || rc=1
    container_stop
    return "$rc"
}

# What the file's tests left behind in the container: overlays mounted in
# PID 1's namespace (beyond its root), lock files, failed units.
container_leaks() {
    local left
    [ -z "${C_SKIP:-}" ] && [ -n "${C_PID:-}" ] && [ -d "/proc/$C_PID" ] || return 0
    left=$(c sh -c 'findmnt -rn -t overlay -o TARGET | grep -vx /
        ls -A /run/overlay-helper
        systemctl --failed --plain --no-legend')
    [ -z "$left" ] || { echo "the tests left behind: $left" >&2; return 1; }
}

setup() {
    requires_nspawn
    # shellcheck disable=SC2034 # the test's start, for its timing notes
    C_T0=${EPOCHREALTIME/./}
}

teardown() {
    [ -z "${C_SKIP:-}" ] || return 0
    [ -n "${C_PID:-}" ] && [ -d "/proc/$C_PID" ] || return 0
    if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
        echo "--- the container's journal, last 40 lines:" >&2
        c journalctl --no-pager -o short-monotonic -n 40 >&2 || true
    fi
    clean_test
}

# Stops and forgets the test's units, unmounts and empties its instances,
# removes its files.
clean_test() {
    local u i f
    for u in $(registered units); do
        c systemctl stop "$u" 2>/dev/null
        c systemctl kill --signal=KILL "$u" 2>/dev/null
    done
    for u in $(registered units); do
        c systemctl reset-failed "$u" 2>/dev/null
    done
    for i in $(registered instances); do
        c overlay-helper -q purge --wait 5 "$i" || echo "teardown: could not purge $i" >&2
        rm -f "$C_ROOT/etc/overlay-helper/$i.conf"
        c rmdir "$STATE/$i/upper" "$STATE/$i/work" "$STATE/$i/merged" "$STATE/$i" 2>/dev/null
    done
    for f in $(registered files); do
        rm -rf "${C_ROOT:?}$f"
        touch "$BATS_TEST_TMPDIR/reload"
    done
    c systemctl --version >/dev/null  # reloads, if files went
    true
}

# The lower layer every instance uses: programs that run from merged/.
populate_lower() {
    local l=$C_ROOT$LOWER
    mkdir -p "$l/bin" "$l/data"
    echo "from the lower layer" > "$l/hello.txt"
    # The example's program: writes through the overlay, then serves.
    cat > "$l/bin/start" <<'EOF'
#!/bin/sh
here=$(dirname "$(dirname "$0")")
echo "started $$" >> "$here/data/runs"
exec sleep infinity
EOF
    # Leaves a child behind with its cwd in merged/data (ignoring SIGTERM
    # with "ignore-term"), then serves.
    cat > "$l/bin/start-child" <<'EOF'
#!/bin/sh
here=$(dirname "$(dirname "$0")")
if [ "${1:-}" = ignore-term ]; then
    (trap '' TERM; cd "$here/data" && exec sleep infinity) &
else
    (cd "$here/data" && exec sleep infinity) &
fi
exec sleep infinity
EOF
    chmod 0755 "$l/bin/start" "$l/bin/start-child"
}

# c_instance NAME [CONFIG LINE...]: /etc/overlay-helper/NAME.conf with the
# common lower layer.
c_instance() {
    local name=$1 line
    shift
    {
        echo "[Overlay]"
        echo "Lower=$LOWER"
        for line in "$@"; do echo "$line"; done
    } > "$C_ROOT/etc/overlay-helper/$name.conf"
    chmod 0644 "$C_ROOT/etc/overlay-helper/$name.conf"
    register instances "$name"
}

# c_unit NAME: writes stdin to /etc/systemd/system/NAME (a unit, or a drop-in
# as UNIT.d/FILE); the next `c systemctl` reloads first.
c_unit() {
    local path=/etc/systemd/system/$1
    mkdir -p "$(dirname "$C_ROOT$path")"
    cat > "$C_ROOT$path"
    case "$1" in
    */*) register files "${path%/*}" ;;
    *) register files "$path" ;;
    esac
    touch "$BATS_TEST_TMPDIR/reload"
}

# use_unit UNIT...: registers units for teardown (stop, kill, reset-failed).
use_unit() {
    register units "$@"
}

# prop UNIT PROPERTY: one property's value.
prop() {
    c systemctl show --property="$2" --value "$1"
}

assert_unit_state() {
    local state
    state=$(prop "$1" ActiveState)/$(prop "$1" Result)
    if [ "$state" != "$2" ]; then
        echo "$1 is $state, expected $2" >&2
        c systemctl status --no-pager "$1" >&2 || true
        return 1
    fi
}

# The exit status of a unit's last ExecStopPost= command.
stop_post_status() {
    prop "$1" ExecStopPost | grep -o 'status=[0-9]*' | tail -1 | cut -d= -f2
}

# wait_unit UNIT STATE: waits up to 10 s for ActiveState STATE (jobs that
# systemctl does not wait for, e.g. StopWhenUnneeded=).
wait_unit() {
    local i
    for ((i = 0; i < 1000; i++)); do
        [ "$(prop "$1" ActiveState)" = "$2" ] && return 0
        sleep 0.01
    done
    echo "$1 is $(prop "$1" ActiveState) after 10 s, expected $2" >&2
    return 1
}

merged() { echo "$STATE/$1/merged"; }
upper() { echo "$STATE/$1/upper"; }
work() { echo "$STATE/$1/work"; }

# assert_mounted INSTANCE: mounted in the container's PID 1 namespace.
assert_mounted() {
    c findmnt --noheadings --mountpoint "$(merged "$1")" --types overlay >/dev/null || {
        echo "$1 is not mounted on $(merged "$1") in PID 1's namespace" >&2
        return 1
    }
}

# assert_gone INSTANCE: no copy of the overlay in any namespace: not in any
# process's mountinfo in the container, and probe (which also sees namespaces
# no process is in) says free. And the kernel's Work/work is gone.
assert_gone() {
    local holders
    # shellcheck disable=SC2016 # expanded by the container's sh
    holders=$(c sh -c 'grep -l -- "upperdir=$1," /proc/[0-9]*/mountinfo 2>/dev/null' sh "$(upper "$1")" || true)
    if [ -n "$holders" ]; then
        echo "copies of $1 survive, in the mountinfo of: ${holders//$'\n'/ }" >&2
        c overlay-helper probe "$1" >&2
        return 1
    fi
    run c overlay-helper probe --json "$1"
    assert_success
    assert_output --partial '"free":true'
    if c test -e "$(work "$1")/work"; then
        echo "$(work "$1")/work is still there" >&2
        return 1
    fi
}

# journal_of INSTANCE [journalctl args]: the helper's entries for INSTANCE.
journal_of() {
    local i=$1
    shift
    c journalctl --no-pager "OVERLAY_HELPER_INSTANCE=$i" "$@"
}

# timed_stop UNIT: systemctl stop, sets STOP_MS.
timed_stop() {
    local t0=${EPOCHREALTIME/./}
    c systemctl stop "$1"
    # shellcheck disable=SC2034 # for the caller
    STOP_MS=$(ms_since "$t0")
}

# unit_pids UNIT: the PIDs in the unit's cgroup.
unit_pids() {
    c cat "/sys/fs/cgroup$(prop "$1" ControlGroup)/cgroup.procs" 2>/dev/null
}

# main_pid_cwd UNIT: the cwd of the unit's main process.
main_pid_cwd() {
    c readlink "/proc/$(prop "$1" MainPID)/cwd"
}

# wait_runs INSTANCE N: waits up to 10 s until the lower's start program has
# written N lines to upper/data/runs (Type=exec returns once it is exec'd,
# before it has run; on a loaded machine that can take a while).
wait_runs() {
    local i
    for ((i = 0; i < 1000; i++)); do
        [ "$(c cat "$(upper "$1")/data/runs" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
        sleep 0.01
    done
    echo "$(upper "$1")/data/runs has fewer than $2 lines after 10 s" >&2
    return 1
}
