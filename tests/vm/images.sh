# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds what tests/vm/run boots, under $VM_CACHE, each item keyed by its
# inputs so that a second run reuses it:
#   apt/                 a private apt (own sources, state and cache): the
#                        host's /etc/apt and dpkg database are never touched
#   kernels/PKG/         a kernel .deb unpacked with dpkg-deb -x, depmod run
#   base-KEY/            debootstrap --variant=minbase of $VM_SUITE
#   rootfs-KEY-KVER.img  base + that kernel's modules, made by mkfs.ext4 -d
#   initrd-KEY-KVER.gz   busybox and the modules needed to reach the rootfs
# Nothing is mounted on the host: debootstrap's own /proc and /sys mounts
# live in a private mount namespace that ends with it.
# Functions print progress on stderr and their result (a path) on stdout.

VM_SUITE="${VM_SUITE:-bookworm}"
VM_MIRROR="${VM_MIRROR:-}"
VM_SECURITY_MIRROR="${VM_SECURITY_MIRROR:-}"
VM_KEYRING="${VM_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"
# Modules the initramfs loads to reach the rootfs and the project disk.
VM_BOOT_MODULES="virtio_pci virtio_blk ext4"

vm_log() {
    echo "vm: $*" >&2
}

vm_sha() {
    sha256sum | cut -c1-16
}

# The host's mirror for $VM_SUITE (the first deb.debian.org-style URI in
# /etc/apt/sources.list*), so a registry mirror configured there is reused.
vm_host_mirror() {
    local want=$1 f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        case "$f" in
        *.sources)
            uri=$(awk -v want="$want" '
                /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) print u }
                /^$/ { u = "" }' "$f" | head -1) ;;
        *)
            uri=$(awk -v want="$want" '$1 == "deb" {
                for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i + 1) == want) print $i; break } }' \
                "$f" | head -1) ;;
        esac
        if [ -n "$uri" ]; then
            echo "${uri%/}"
            return 0
        fi
    done
    return 1
}

vm_mirrors() {
    [ -n "$VM_MIRROR" ] || VM_MIRROR=$(vm_host_mirror "$VM_SUITE") || VM_MIRROR=http://deb.debian.org/debian
    [ -n "$VM_SECURITY_MIRROR" ] ||
        VM_SECURITY_MIRROR=$(vm_host_mirror "$VM_SUITE-security") ||
        VM_SECURITY_MIRROR=http://deb.debian.org/debian-security
}

# A private apt: APT_CONFIG is read before anything else, and it points
# every directory (config parts, sources, state, cache, dpkg status) into
# $VM_CACHE/apt, so the host's apt setup neither applies nor changes.
vm_apt_setup() {
    local a="$VM_CACHE/apt"
    vm_mirrors
    mkdir -p "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/etc/sources.list.d" \
        "$a/state/lists/partial" "$a/cache/archives/partial" "$VM_CACHE/debs"
    [ -e "$a/state/status" ] || : > "$a/state/status"
    cat > "$a/apt.conf" <<EOF
Dir::Etc "$a/etc";
Dir::Etc::Parts "$a/etc/apt.conf.d";
Dir::Etc::SourceList "$a/etc/sources.list";
Dir::Etc::SourceParts "$a/etc/sources.list.d";
Dir::Etc::Preferences "$a/etc/preferences";
Dir::Etc::PreferencesParts "$a/etc/preferences.d";
Dir::State "$a/state";
Dir::State::status "$a/state/status";
Dir::Cache "$a/cache";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
    local s
    {
        for s in "$VM_SUITE" "$VM_SUITE-updates" "$VM_SUITE-backports"; do
            echo "deb [signed-by=$VM_KEYRING] $VM_MIRROR $s main"
        done
        echo "deb [signed-by=$VM_KEYRING] $VM_SECURITY_MIRROR $VM_SUITE-security main"
    } > "$a/etc/sources.list"
    export APT_CONFIG="$a/apt.conf"
    # Offline, the lists of the last run still name the cached kernels.
    if ! apt-get update -qq >&2; then
        compgen -G "$a/state/lists/*_Packages*" >/dev/null || return 1
        vm_log "apt-get update failed: using the package lists of the last run"
    fi
}

# The newest linux-image-SERIES*-cloud-amd64 that apt knows, in any of the
# suites (a full package name is taken as it is).
vm_kernel_resolve() {
    local series=$1 re p best=""
    case "$series" in
    linux-image-*) echo "$series"; return 0 ;;
    esac
    re="^linux-image-${series//./\\.}[.-][0-9].*-cloud-amd64\$"
    for p in $(apt-cache pkgnames linux-image- | grep -E "$re" | sort -V); do
        [ -n "$(apt-cache madison "$p")" ] && best=$p
    done
    [ -n "$best" ] || { vm_log "no linux-image-$series*-cloud-amd64 in the private apt's suites"; return 1; }
    echo "$best"
}

# Downloads PKG with the private apt and unpacks it; prints the directory.
vm_deb_unpack() {
    local pkg=$1 dir="$VM_CACHE/unpacked/$1" deb
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir"
        (cd "$VM_CACHE/debs" && apt-get download -qq "$pkg") >&2 || return 1
        deb=$(find "$VM_CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" -printf '%T@ %p\n' |
            sort -n | tail -1 | cut -d' ' -f2-)
        [ -n "$deb" ] || return 1
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir" || return 1
        touch "$dir/.done"
    fi
    echo "$dir"
}

# Unpacks kernel PKG and runs depmod (the .deb ships no modules.dep);
# prints the kernel version (the name of its lib/modules directory).
vm_kernel_fetch() {
    local pkg=$1 dir kver
    dir=$(vm_deb_unpack "$pkg") || return 1
    kver=$(find "$dir/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -1)
    if [ -z "$kver" ] || [ ! -e "$dir/boot/vmlinuz-$kver" ]; then
        vm_log "$pkg: no kernel in the package"
        return 1
    fi
    [ -e "$dir/lib/modules/$kver/modules.dep" ] || depmod -b "$dir" "$kver" || return 1
    echo "$kver"
}

# Each key hashes the function that builds the item, not this whole file:
# an edit elsewhere does not throw away a 10-minute debootstrap.
vm_base_key() {
    { echo "$VM_SUITE $VM_MIRROR"; echo "$VM_PACKAGES" | tr -s ' \t\n' '\n' | sed '/^$/d' | sort -u
      declare -f vm_base_build; } | vm_sha
}

# debootstrap runs in its own mount and PID namespaces: the /proc and /sys
# it mounts in the target, and any daemon a maintainer script starts, end
# with it.
vm_base_build() {
    local key dir tmp pkgs
    key=$(vm_base_key)
    dir="$VM_CACHE/base-$key"
    if [ -e "$dir/.done" ]; then
        echo "$dir"
        return 0
    fi
    tmp="$VM_CACHE/base-$key.tmp"
    rm -rf "$tmp"
    mkdir -p "$VM_CACHE/debootstrap-debs"
    pkgs=$(echo "$VM_PACKAGES" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//')
    vm_log "debootstrap --variant=minbase $VM_SUITE (packages: $pkgs)"
    local t0=$SECONDS
    if ! unshare --mount --pid --fork --propagation private \
        debootstrap --variant=minbase --include="$pkgs" --cache-dir="$VM_CACHE/debootstrap-debs" \
        "$VM_SUITE" "$tmp" "$VM_MIRROR" > "$VM_CACHE/debootstrap.log" 2>&1; then
        vm_log "debootstrap failed; the end of $VM_CACHE/debootstrap.log:"
        tail -20 "$VM_CACHE/debootstrap.log" >&2
        return 1
    fi
    rm -f "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin
    echo ohvm > "$tmp/etc/hostname"
    mkdir -p "$tmp/project"
    vm_log "rootfs base built in $((SECONDS - t0)) s"
    # keep one base: an older key's is stale
    local old
    for old in "$VM_CACHE"/base-*; do
        [ "$old" = "$tmp" ] || rm -rf "$old"
    done
    touch "$tmp/.done"
    mv "$tmp" "$dir"
    echo "$dir"
}

# base + the modules of kernel KVER (from unpacked PKG) as an ext4 image.
vm_rootfs_image() {
    local pkg=$1 kver=$2 base key img stage mb
    base=$(vm_base_build) || return 1
    key=$(basename "$base")
    key=$({ echo "$key $pkg"; declare -f vm_rootfs_image; } | vm_sha)
    img="$VM_CACHE/rootfs-$key-$kver.img"
    if [ -e "$img" ]; then
        echo "$img"
        return 0
    fi
    local t0=$SECONDS
    stage="$VM_CACHE/stage-$kver"
    rm -rf "$stage"
    cp -a "$base" "$stage"
    rm -f "$stage/.done"
    mkdir -p "$stage/usr/lib/modules"
    cp -a "$VM_CACHE/unpacked/$pkg/lib/modules/$kver" "$stage/usr/lib/modules/"
    mb=$(du -sm "$stage" | cut -f1)
    rm -f "$img.tmp"
    truncate -s "$((mb * 13 / 10 + 512))M" "$img.tmp"
    if ! mkfs.ext4 -q -F -L ohvm-root -d "$stage" "$img.tmp" >&2; then
        rm -rf "$stage" "$img.tmp"
        return 1
    fi
    rm -rf "$stage"
    rm -f "$VM_CACHE"/rootfs-*-"$kver".img
    mv "$img.tmp" "$img"
    vm_log "rootfs image for $kver built in $((SECONDS - t0)) s"
    echo "$img"
}

# A gzip'd cpio: static busybox, /init, and the modules (dependencies
# first, decompressed for busybox's insmod) that reach the two disks.
vm_initrd() {
    local pkg=$1 kver=$2 key img bb tmp mods m line
    key=$({ declare -f vm_initrd; cat "$VM_DIR/initramfs-init"; echo "$VM_BOOT_MODULES"; } | vm_sha)
    img="$VM_CACHE/initrd-$key-$kver.gz"
    if [ -e "$img" ]; then
        echo "$img"
        return 0
    fi
    bb=$(vm_deb_unpack busybox-static) || return 1
    mods="$VM_CACHE/unpacked/$pkg"
    tmp=$(mktemp -d "$VM_CACHE/initrd.XXXXXX")
    mkdir -p "$tmp/bin" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/root" "$tmp/modules"
    cp "$bb/bin/busybox" "$tmp/bin/busybox"
    cp "$VM_DIR/initramfs-init" "$tmp/init"
    chmod 0755 "$tmp/init"
    : > "$tmp/modules/order"
    for m in $VM_BOOT_MODULES; do
        while read -r line; do
            case "$line" in
            insmod\ *) ;;
            *) continue ;;
            esac
            line=${line#insmod }
            line=${line%% *}
            local name
            name=$(basename "$line")
            name=${name%.xz}
            name=${name%.zst}
            grep -qx "$name" "$tmp/modules/order" && continue
            case "$line" in
            *.xz) xz -dc "$line" > "$tmp/modules/$name" ;;
            *.zst) zstd -qdc "$line" > "$tmp/modules/$name" ;;
            *) cp "$line" "$tmp/modules/$name" ;;
            esac || { rm -rf "$tmp"; return 1; }
            echo "$name" >> "$tmp/modules/order"
        done < <(modprobe -d "$mods" -S "$kver" --show-depends "$m")
    done
    (cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$img.tmp" || {
        rm -rf "$tmp" "$img.tmp"
        return 1
    }
    rm -rf "$tmp"
    rm -f "$VM_CACHE"/initrd-*-"$kver".gz
    mv "$img.tmp" "$img"
    echo "$img"
}

# Items a run uses are touched; those no run used for 14 days (an older
# kernel's after a Debian update) are removed.
vm_cache_prune() {
    find "$VM_CACHE" -maxdepth 1 \( -name 'rootfs-*.img' -o -name 'initrd-*.gz' \) -mtime +14 -delete
    find "$VM_CACHE/debs" -maxdepth 1 -name '*.deb' -mtime +14 -delete
    find "$VM_CACHE/unpacked" -mindepth 1 -maxdepth 1 -mtime +14 -exec rm -rf {} +
}
