#!/usr/bin/env bash
# Builds (once) a Debian root filesystem of one flavour (config.sh ROOTFS_PACKAGES) with
# mmdebstrap, from the host's configured Debian sources, and prints its folder. A cached rootfs
# is reused; delete build/cache/rootfs to take newer Debian packages.
# Usage: rootfs.sh <flavour> [cache-dir]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
flavour=$1
cache=${2:-$here/../../build/cache}
packages=${ROOTFS_PACKAGES[$flavour]:?unknown rootfs flavour $flavour}
mkdir -p "$cache/rootfs"
cache=$(cd "$cache" && pwd)
dir=$cache/rootfs/$flavour
key="$DEBIAN_SUITE $packages"
if [[ -f $dir.key && $(cat "$dir.key") == "$key" && -d $dir ]]; then
  echo "$dir"
  exit 0
fi

# The host's Debian sources (suite, updates and security), as apt on this machine uses them.
sources=()
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  [[ -s $f ]] && { sources=("$f"); break; }
done

tmp=$dir.tmp
# a killed mmdebstrap can leave its mounts behind: never delete through them
for d in "$tmp" "$dir"; do
  if [[ -d $d ]] && findmnt -rno TARGET | grep -q "^$d/"; then
    echo "rootfs: $d still has mounts; unmount them first" >&2
    exit 1
  fi
done
rm -rf "$tmp" "$dir" "$dir.key"
# essential: dpkg, dash, coreutils, util-linux and friends (maintainer scripts need them; the
# ipvs-controller's init container runs sh). Documentation, man pages and locales are left out
# (copyright files stay).
mmdebstrap --quiet --mode=root --variant=essential --arch=amd64 \
  --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  "$DEBIAN_SUITE" "$tmp" "${sources[@]}" >&2
# mmdebstrap has unmounted everything now. Device nodes come from the runtime; apt's lists,
# caches and logs are of no use in an image.
rm -rf "$tmp"/dev/* "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/* "$tmp"/var/cache/debconf/*-old "$tmp"/var/log/*
# the unprivileged user of the non-root images
echo "nonroot:x:$NONROOT_ID:$NONROOT_ID:nonroot:/nonexistent:/usr/sbin/nologin" >>"$tmp/etc/passwd"
echo "nonroot:x:$NONROOT_ID:" >>"$tmp/etc/group"
if [[ $flavour == node ]]; then
  sh "$here/install-iptables-wrapper.sh" "$here/../../images/iptables-wrapper" "$tmp"
fi
mv "$tmp" "$dir"
echo "$key" >"$dir.key"
echo "$dir"
