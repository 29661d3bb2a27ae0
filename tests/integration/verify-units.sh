#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# verify-units.sh [--installed INSTANCE]: systemd-analyze verify of the shipped
# units: units/*.service, units/examples/*.service and each drop-in in
# units/examples/*.conf attached to a scratch service (a plain one and a
# template instance). Templates are verified as instances (NAME@INSTANCE).
#
# From a source tree (make lint) the units are copied to a scratch unit dir
# and nothing is installed, so two checks cannot pass there and are reported,
# not failed: the helper at /usr/sbin/overlay-helper (installed by make
# install) and the example's program inside merged/ (there once the overlay
# is mounted). Man pages are not looked up either.
#
# --installed INSTANCE (in the integration suite's container, where make
# install put the helper and its units, the examples are in
# /etc/systemd/system and INSTANCE is mounted): the installed units, strict,
# man pages included.
set -uo pipefail

installed=
instance=lint
if [ "${1:-}" = --installed ]; then
    installed=1
    instance=${2:?usage: verify-units.sh [--installed INSTANCE]}
fi
src=$(cd "$(dirname "$0")/../.." && pwd)/units
scratch=$(mktemp -d /tmp/oh-verify.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

names=()
if [ -z "$installed" ]; then
    cp "$src"/*.service "$src"/examples/*.service "$scratch/"
fi
for unit in "$src"/*.service "$src"/examples/*.service; do
    unit=${unit##*/}
    case "$unit" in
    *@.service) names+=("${unit%@.service}@$instance.service") ;;
    *) names+=("$unit") ;;
    esac
done
for dropin in "$src"/examples/*.conf; do
    base=oh-verify-$(basename "$dropin" .conf)
    printf '[Unit]\nDescription=drop-in check\n[Service]\nExecStart=/bin/true\n' \
        > "$scratch/$base.service"
    cp "$scratch/$base.service" "$scratch/$base@.service"
    mkdir -p "$scratch/$base.service.d" "$scratch/$base@.service.d"
    cp "$dropin" "$scratch/$base.service.d/"
    cp "$dropin" "$scratch/$base@.service.d/"
    names+=("$base.service" "$base@$instance.service")
done

# systemd-analyze adds the dirs of the files it is given to the unit search
# path (a template's instance need not exist as a file); a bare name loads
# from the system's unit path.
args=()
for name in "${names[@]}"; do
    case "$installed:$name" in
    1:oh-verify-*|:*) args+=("$scratch/$name") ;;
    *) args+=("$name") ;;
    esac
done

cd "$scratch" || exit 1
if [ -n "$installed" ]; then
    out=$(systemd-analyze verify "${args[@]}" 2>&1)
    rc=$?
    [ -z "$out" ] || echo "$out"
    echo "verified: ${names[*]}"
    exit "$rc"
fi

out=$(SYSTEMD_UNIT_PATH="$scratch:" systemd-analyze verify --man=no "${args[@]}" 2>&1)
tolerated='Command (/usr/sbin/overlay-helper|/var/lib/overlay-helper/[^ ]*/merged/[^ ]*) is not executable'
errors=$(grep -vE "$tolerated" <<<"$out" | grep -v '^$')
if [ -n "$errors" ]; then
    echo "$out"
    exit 1
fi
grep -E "$tolerated" <<<"$out" | sort -u | sed 's/^/not installed here (checked by tests\/integration): /'
echo "verified: ${names[*]}"
