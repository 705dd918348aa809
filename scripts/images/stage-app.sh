#!/usr/bin/env bash
# Stages the application tree every node image ships at /app: what the component bundles
# (scripts/images/bundle.mjs) read at run time and nothing else. Per image package (config.sh
# image_packages) the files in RUNTIME_FILES below; in node_modules the bundles' externals and
# their dependencies (scripts/images/prune-deps.mjs), from `npm ci --omit=dev` against the
# lockfile. Needs the workspace built (`npx tsc -b`, the cgroup-resolver's BPF objects and
# scripts/images/bundle.mjs) first.
# Usage: stage-app.sh <repo> <dest>   (dest is replaced; its node_modules is kept when the
# lockfile, every package.json and the pruning rule are those it was made from: <dest>.deps-key)
set -euo pipefail
repo=$(cd "$1" && pwd)
dest=$2
here=$repo/scripts/images

# Per image package, relative to it: the bundle (config.sh IMAGE_ENTRYPOINT; esbuild writes
# that one file) and what a bundle reads by path at run time: the cgroup-resolver's BPF objects
# (src/loader/resolver-programs.ts, from import.meta.url) and the endpoint-controller's CRI proto
# (src/netns/cri.ts, the same way; @grpc/proto-loader reads it). Patterns that match nothing in
# a package are skipped. package.json is not read (the bundles are .mjs) but says what the
# folder is.
RUNTIME_FILES=(package.json dist/bundle/main.mjs 'dist/bpf/*.bpf.o' 'proto/*.proto')

mapfile -t image_pkgs < <(source "$here/config.sh" && image_packages)
# (bundle.mjs's path goes through the environment: as process.argv[1] it would run as a script)
externals=$(BUNDLE_MJS=$here/bundle.mjs node --input-type=module \
  -e 'const { EXTERNAL } = await import(process.env.BUNDLE_MJS); console.log(EXTERNAL.join(" "))')
# The key of the installed (and pruned) node_modules: what npm installs from, and what the
# pruning keeps (this script, prune-deps.mjs, the externals, the packages they are resolved from).
deps_key=$({
  cat "$repo/package-lock.json" "$repo/package.json" "$repo"/packages/*/package.json "$here/stage-app.sh" "$here/prune-deps.mjs"
  echo "externals: $externals; from: ${image_pkgs[*]}"
} | sha256sum | cut -d' ' -f1)
if [[ -d $dest/node_modules && -f $dest.deps-key && $(cat "$dest.deps-key") == "$deps_key" ]]; then
  # keep node_modules and any workspace package's own node_modules
  find "$dest" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name packages -exec rm -rf {} +
  [[ ! -d $dest/packages ]] || find "$dest/packages" -mindepth 2 -maxdepth 2 ! -name node_modules -exec rm -rf {} +
  reuse_deps=1
else
  rm -rf "$dest" "$dest.deps-key"
  reuse_deps=0
fi
mkdir -p "$dest/packages"
# npm ci needs every workspace package's package.json; the ones no image runs go after it.
cp "$repo/package.json" "$repo/package-lock.json" "$dest/"
for pkg in "$repo"/packages/*/; do
  mkdir -p "$dest/packages/$(basename "$pkg")"
  cp "$pkg/package.json" "$dest/packages/$(basename "$pkg")/"
done
for pkg in "${image_pkgs[@]}"; do
  [[ -f $repo/packages/$pkg/dist/bundle/main.mjs ]] ||
    { echo "stage-app: packages/$pkg/dist/bundle/main.mjs missing: run scripts/images/bundle.mjs first" >&2; exit 1; }
  (
    cd "$repo/packages/$pkg"
    shopt -s nullglob
    # shellcheck disable=SC2206 # the patterns are meant to expand here
    files=(${RUNTIME_FILES[@]})
    cp -a --parents "${files[@]}" "$dest/packages/$pkg/"
  )
done
[[ -n $(ls "$dest"/packages/cgroup-resolver/dist/bpf/*.bpf.o 2>/dev/null) ]] ||
  { echo "stage-app: packages/cgroup-resolver/dist/bpf/*.bpf.o missing: build the workspace first" >&2; exit 1; }
[[ -n $(ls "$dest"/packages/endpoint-controller/proto/*.proto 2>/dev/null) ]] ||
  { echo "stage-app: packages/endpoint-controller/proto/*.proto missing" >&2; exit 1; }

# Production dependencies only. Install scripts are not run: the one native module (koffi)
# comes prebuilt in its per-platform optional package.
if ((!reuse_deps)); then
  (cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
fi
# Then only what the bundles load from node_modules: the externals and their dependencies.
node "$here/prune-deps.mjs" "$dest" "${image_pkgs[@]}"
for pkg in "$dest"/packages/*/; do
  [[ " ${image_pkgs[*]} " == *" $(basename "$pkg") "* ]] || rm -rf "$pkg"
done

# What a running component never reads: build info, declarations, source maps, docs, and
# koffi's musl build (the images are glibc).
find "$dest" \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' \
  -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY*' \) -type f -delete
rm -rf "$dest"/node_modules/@koromix/koffi-linux-x64/musl_x64
rm -f "$dest/package-lock.json" "$dest/node_modules/.package-lock.json"
echo "$deps_key" >"$dest.deps-key"
