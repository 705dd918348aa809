#!/usr/bin/env bash
# Assembles what each image holds as plain folders, without packing (the e2e kernel test runs
# the components from them: test/dsr-images.kernel.test.ts):
#   <dest>/<flavour>/     the flavour's root filesystem with the parts config.sh image_parts
#                         lists (the same parts build.sh layers with umoci: the rootfs.sh
#                         rootfs, Node at /usr/local/bin and the staged app at /app for node)
#   <dest>/<image>.json   the image's runtime config (config.sh image_config, as build.sh
#                         writes it into the OCI config): {"image", "version", "rootfs" (the
#                         flavour folder), "user" ("uid:gid"), "workingDir", "env"
#                         (["NAME=value"]), "entrypoint", "cmd"}
# Cheap when nothing changed: the cached rootfs and Node are reused (a tree is rebuilt only
# when its rootfs or Node changed), the production dependencies are installed again only when
# the lockfile changed; the app's built files are refreshed on every run.
# Needs root (mmdebstrap, ownership), mmdebstrap, and the workspace built (npx tsc -b, the
# cgroup-resolver's BPF objects and the bundles: scripts/setup.sh does all three). Usage: assemble.sh [dest]   (default: <repo>/build/rootfs)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
dest=${1:-$repo/build/rootfs}
cache=$repo/build/cache
command -v mmdebstrap >/dev/null || { echo "assemble: mmdebstrap missing (apt-get install mmdebstrap)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "assemble: run as root (mmdebstrap builds the rootfs in root mode)" >&2; exit 1; }
mkdir -p "$dest" "$cache"
started=$SECONDS

declare -A flavours=()
for name in "${!IMAGES[@]}"; do flavours[${IMAGES[$name]%%|*}]=1; done

# Root filesystems (cached, or built in parallel), Node, the app's production tree.
rootfs_flavours "$cache" "${!flavours[@]}"
node_dir=$("$here/fetch-node.sh" "$cache")
app=$dest/.app
bash "$here/stage-app.sh" "$repo" "$app" >&2

# part_dir <part> <flavour>: the folder holding one part of image_parts
part_dir() {
  case $1 in
    rootfs) "$here/rootfs.sh" "$2" "$cache" ;;
    node) echo "$node_dir/bin" ;;
    app) echo "$app" ;;
    *) echo "assemble: unknown image part $1" >&2; return 1 ;;
  esac
}

# copy_part <source folder> <tree> <path in the image>: the folder's contents at that path
copy_part() {
  mkdir -p "$2$3"
  cp -a "$1/." "$2$3/"
}

for flavour in "${!flavours[@]}"; do
  tree=$dest/$flavour
  # The tree's key: every part but the app (refreshed below), by its source.
  key=""
  while read -r part path; do
    [[ $part == app ]] && continue
    key+="$part=$(part_dir "$part" "$flavour") $path;"
  done < <(image_parts "$flavour")
  key+="rootfs-key=$(cat "$cache/rootfs/$flavour.key")"
  if [[ ! -d $tree || ! -f $tree.key || $(cat "$tree.key") != "$key" ]]; then
    rm -rf "$tree.tmp" "$tree" "$tree.key"
    mkdir "$tree.tmp"
    while read -r part path; do
      [[ $part == app ]] || copy_part "$(part_dir "$part" "$flavour")" "$tree.tmp" "$path"
    done < <(image_parts "$flavour")
    chmod 0755 "$tree.tmp"
    mv "$tree.tmp" "$tree"
    echo "$key" >"$tree.key"
  fi
  while read -r part path; do
    if [[ $part == app ]]; then
      rm -rf "${tree:?}$path"
      copy_part "$app" "$tree" "$path"
    fi
  done < <(image_parts "$flavour")
done

# Each image's config, as JSON (node is the workspace's own).
for name in $(printf '%s\n' "${!IMAGES[@]}" | sort); do
  image_config "$name"
  node -e '
    const fs = require("node:fs");
    const [file, image, version, rootfs, user, workingDir, nEnv, nEntry, ...rest] = process.argv.slice(1);
    const env = rest.splice(0, Number(nEnv));
    const entrypoint = rest.splice(0, Number(nEntry));
    const config = { image, version, rootfs, user, workingDir, env, entrypoint, cmd: rest };
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
  ' "$dest/$name.json" "$name" "$IMAGE_VERSION" "$IMAGE_FLAVOUR" "$IMAGE_USER" "$IMAGE_WORKDIR" \
    "${#IMAGE_ENV[@]}" "${#IMAGE_ENTRYPOINT[@]}" "${IMAGE_ENV[@]}" "${IMAGE_ENTRYPOINT[@]}" "${IMAGE_CMD[@]}"
done
echo "assemble: image trees (${!flavours[*]}) and ${#IMAGES[@]} image configs under ${dest#"$repo"/} in $((SECONDS - started))s" >&2
