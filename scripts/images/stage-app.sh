#!/usr/bin/env bash
# Stages the application tree every node image ships at /app: the workspace's package.json
# files, each package's published `files` (built dist, BPF objects, protos) and the production
# dependencies from `npm ci --omit=dev` against the lockfile. Needs the workspace built
# (`npx tsc -b` and the cgroup-resolver's BPF objects) first.
# Usage: stage-app.sh <repo> <dest>   (dest is replaced)
set -euo pipefail
repo=$(cd "$1" && pwd)
dest=$2
rm -rf "$dest"
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

# Production dependencies only. Install scripts are not run: the one native module (koffi)
# comes prebuilt in its per-platform optional package.
(cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)

# What a running component never reads: build info, declarations, source maps, docs, and
# koffi's musl build (the images are glibc).
find "$dest" \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' \
  -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY*' \) -type f -delete
rm -rf "$dest"/node_modules/@koromix/koffi-linux-x64/musl_x64
rm -f "$dest/package-lock.json" "$dest/node_modules/.package-lock.json"
