#!/usr/bin/env sh
# Installs images/iptables-wrapper into a root filesystem as /usr/local/sbin/iptables-wrapper
# and links the six iptables entry points to it (PATH puts /usr/local/sbin first).
# Usage: install-iptables-wrapper.sh <wrapper file> <rootfs>
set -eu
wrapper=$1
root=$2
install -D -m 0755 "$wrapper" "$root/usr/local/sbin/iptables-wrapper"
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sfn iptables-wrapper "$root/usr/local/sbin/$t"
done
