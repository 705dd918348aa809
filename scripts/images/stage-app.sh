#!/usr/bin/env bash
# Stages the application tree every node image ships at /app: the workspace's package.json
# files, each package's published `files` (built dist, BPF objects, protos) and the production
# dependencies from `npm ci --omit=dev` against the lockfile. Needs the workspace built
# (`npx tsc -b`, the cgroup-resolver's BPF objects and scripts/images/bundle.mjs) first.
# Usage: stage-app.sh <repo> <dest>   (dest is replaced; its node_modules is kept when the
# lockfile and every package.json are those it was installed from: <dest>.deps-key)
set -euo pipefail
repo=$(cd "$1" && pwd)
dest=$2
deps_key=$(cat "$repo/package-lock.json" "$repo/package.json" "$repo"/packages/*/package.json | sha256sum | cut -d' ' -f1)
if [[ -d $dest/node_modules && -f $dest.deps-key && $(cat "$dest.deps-key") == "$deps_key" ]]; then
  find "$dest" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
  reuse_deps=1
else
  rm -rf "$dest" "$dest.deps-key"
  reuse_deps=0
fi
mkdir -p "$dest/packages"
cp "$repo/package.json" "$repo/package-lock.json" "$dest/"
for pkg in "$repo"/packages/*/; do
  name=$(basename "$pkg")
  mkdir -p "$dest/packages/$name"
  cp "$pkg/package.json" "$dest/packages/$name/"
  # the package's published files (package.json "files"), as npm pack would take them
  while IFS= read -r entry; do
    [[ -e $pkg/$entry ]] && cp -a "$pkg/$entry" "$dest/packages/$name/"
  done < <(node -e 'for (const f of require(process.argv[1]).files ?? []) console.log(f)' "$pkg/package.json")
done
[[ -n $(ls "$dest"/packages/cgroup-resolver/dist/bpf/*.bpf.o 2>/dev/null) ]] ||
  { echo "stage-app: packages/cgroup-resolver/dist/bpf/*.bpf.o missing: build the workspace first" >&2; exit 1; }
for pkg in $(source "$repo/scripts/images/config.sh" && image_packages); do
  [[ -f $dest/packages/$pkg/dist/bundle/main.mjs ]] ||
    { echo "stage-app: packages/$pkg/dist/bundle/main.mjs missing: run scripts/images/bundle.mjs first" >&2; exit 1; }
done

# Production dependencies only. Install scripts are not run: the one native module (koffi)
# comes prebuilt in its per-platform optional package.
if ((!reuse_deps)); then
  (cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
fi

# What a running component never reads: build info, declarations, source maps, docs, and
# koffi's musl build (the images are glibc).
find "$dest" \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' \
  -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY*' \) -type f -delete
rm -rf "$dest"/node_modules/@koromix/koffi-linux-x64/musl_x64
rm -f "$dest/package-lock.json" "$dest/node_modules/.package-lock.json"
echo "$deps_key" >"$dest.deps-key"
