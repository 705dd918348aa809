#!/usr/bin/env bash
# Installs whatever is missing for the demo and the tests, then builds. Idempotent and quiet
# when everything is already there. Debian 12; apt packages only when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang/llvm/libbpf-dev/bpftool build the cgroup-resolver's BPF objects; libbpf1 is what it loads them with;
# nftables for the resolver benchmark's kube-proxy-nftables baseline.
# redis-server: the resolver's resolution-events stream tests.
# mmdebstrap + umoci: `npm run images` (a Debian rootfs and OCI archives, no registry needed).
# chromium: the demo report's rendering test (headless; 23 packages, 113 MB download, 412 MB, ~46 s).
APT_PACKAGES=(qemu-system-x86 linux-image-amd64 ipvsadm bird2 iproute2 iptables nftables busybox-static kmod cpio xz-utils python3 clang llvm libbpf-dev libbpf1 bpftool redis-server mmdebstrap umoci chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi

# npm ci when node_modules is absent or older than the lockfile
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc -b
# tsc writes bins without the execute bit; npm ci ran before dist existed and skipped the links
# of the workspaces' bins (node_modules/.bin/balanced, …): link them now.
chmod +x packages/*/dist/main.js
npm rebuild --workspaces --ignore-scripts --loglevel=error >/dev/null
# The cgroup-resolver's BPF objects (dist/bpf/*.bpf.o): build outputs, compiled with Debian's clang.
bash packages/cgroup-resolver/bpf/build.sh
# What the images run: each component bundled into one module (dist/bundle/main.mjs).
node scripts/images/bundle.mjs .
# Tests are compiled by swc, which only strips types: check them (and src) here.
npx tsc -p tsconfig.test.json
# The images' root filesystems as folders (build/rootfs: scripts/images/assemble.sh), which the
# e2e kernel test runs the components from as their manifests declare. Here rather than in the
# test: it needs root, mmdebstrap and the network (Debian, npm) on the host, none of which the
# lab VM has; cold ~2 min (two mmdebstrap runs in parallel), a few seconds when cached.
if [[ $(id -u) -eq 0 ]] && command -v mmdebstrap >/dev/null; then
  bash scripts/images/assemble.sh
else
  echo "setup: image trees not assembled (needs root and mmdebstrap): test/dsr-images.kernel.test.ts will skip (fail in CI)" >&2
fi
