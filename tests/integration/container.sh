#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# container.sh DIR NAME REPO BIN [DEB]: boots a real systemd in a container,
# for the integration suites (helpers.bash: container_boot). Run it under
#   unshare --mount --propagation private
# so every mount made here lives in a private namespace that dies with the
# container: nothing can leak onto the host, whatever becomes of the test.
#
# The container's / is an overlay of the host's / (writes go to a tmpfs), with
# the built helper, its units and tmpfiles.d installed by `make install` (or,
# given DEB, that package installed with dpkg, as a user's machine has it), the
# example units in /etc/systemd/system, the host image's extra units masked
# (boot to "running" in ~0.3 s) and the journal copied to the console. The state dir gets a tmpfs of its own:
# an overlay cannot be the upper layer of another. Ends by exec'ing
# systemd-nspawn, so this process's PID is the container's nspawn.
set -euo pipefail
dir=$1 name=$2 repo=$3 bin=$4 deb=${5:-}

mkdir -p "$dir/t"
mount -t tmpfs -o mode=0755 oh-it "$dir/t"
mkdir "$dir/t/upper" "$dir/t/work" "$dir/t/root"
mount -t overlay oh-it-root -o "lowerdir=/,upperdir=$dir/t/upper,workdir=$dir/t/work" "$dir/t/root"
root=$dir/t/root

rm -f "$root/etc/machine-id"
systemd-machine-id-setup --root="$root" >/dev/null
mkdir -p "$root/etc/systemd/system"
for unit in postgresql.service postgresql@.service getty@.service serial-getty@.service \
        console-getty.service container-getty@.service systemd-timesyncd.service \
        systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
        systemd-resolved.service ssh.service ssh.socket cron.service rsyslog.service \
        syslog.socket e2scrub_reap.service systemd-pstore.service apt-daily.service \
        apt-daily-upgrade.service man-db.service; do
    ln -sfn /dev/null "$root/etc/systemd/system/$unit"
done
for timer in "$root"/lib/systemd/system/*.timer; do
    [ -e "$timer" ] && ln -sfn /dev/null "$root/etc/systemd/system/${timer##*/}"
done

# The journal on the console too (console.log on the host): what happens at
# shutdown outlives the container's journal.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nForwardToConsole=yes\nMaxLevelConsole=info\n' \
    > "$root/etc/systemd/journald.conf.d/oh-it-console.conf"

if [ -n "$deb" ]; then
    # The package's maintainer scripts run here as on a user's machine, but
    # with no systemd running in the root they find nothing to start.
    cp "$deb" "$root/tmp/overlay-helper.deb"
    mount --bind /dev "$root/dev"
    chroot "$root" dpkg -i /tmp/overlay-helper.deb >/dev/null
    umount "$root/dev"
    rm "$root/tmp/overlay-helper.deb"
    examples=$root/usr/share/doc/overlay-helper/examples
else
    # -o: install the binary the suite was asked to test, never rebuild it here.
    make -s -C "$repo" --no-print-directory -o "$bin" install BIN="$bin" DESTDIR="$root" PREFIX=/usr >/dev/null
    examples=$repo/units/examples
fi
install -m 0644 "$examples"/*.service "$root/etc/systemd/system/"

exec systemd-nspawn --quiet --directory="$root" --machine="$name" --register=no --keep-unit \
    --link-journal=no --boot --tmpfs=/var/lib/overlay-helper
