#!/usr/bin/env bash
# `npm run images:verify`: proves each OCI archive under build/images (from `npm run images`):
# unpacks it with umoci and runs, in the unpacked root filesystem (chroot, own mount, pid and
# network namespaces, /proc mounted), the image's own entrypoint with `--help` as the image's
# user, and the tools its component needs. Also checks that every image deploy/*.yaml names is
# built. Prints failures (every check with IMAGES_VERIFY_VERBOSE=1) and "N passed, N failed";
# exits non-zero on any failure. Needs root and umoci.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
images=$repo/build/images
tmp=$(mktemp -d /tmp/balanced-images-verify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() {
  passed=$((passed + 1))
  [[ ${IMAGES_VERIFY_VERBOSE:-0} != 1 ]] || echo "ok   $*"
}
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check <description> <command...>: passes when the command exits 0
check() {
  local what=$1; shift
  local log=$tmp/log
  if "$@" >"$log" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/     /' "$log" | tail -20; fi
}
# Runs a command inside the unpacked rootfs $rootfs as uid:gid $user with the image's env.
in_image() {
  local env_args=()
  while IFS= read -r e; do env_args+=("$e"); done <"$bundle/env"
  unshare --mount --pid --net --fork --mount-proc="$rootfs/proc" \
    chroot --userspec="$user" "$rootfs" /usr/bin/env -i "${env_args[@]}" "$@"
}
# grep_out <pattern> <command...>: the command succeeds and prints the pattern
grep_out() {
  local pattern=$1; shift
  local text
  text=$(in_image "$@" 2>&1) || { echo "$text"; return 1; }
  grep -q -e "$pattern" <<<"$text" || { echo "expected /$pattern/ in:"; echo "$text"; return 1; }
}

# Every image deploy/*.yaml names must be one this build makes, with the same tag.
while read -r ref; do
  name=${ref#balanced/}; name=${name%%:*}; tag=${ref##*:}
  check "deploy names $ref: archive built with that tag" \
    grep -q "\"org.opencontainers.image.ref.name\":\"$tag\"" <(tar -xOf "$images/$name.tar" index.json 2>/dev/null)
done < <(grep -ho 'image: *balanced/[a-z0-9-]*:[A-Za-z0-9._-]*' "$repo"/deploy/*.yaml | sed 's/image: *//' | sort -u)

for name in $(printf '%s\n' "${!IMAGES[@]}" | sort); do
  IFS='|' read -r flavour want_user pkg _ <<<"${IMAGES[$name]}"
  archive=$images/$name.tar
  if [[ ! -f $archive ]]; then fail "$name: $archive missing (run npm run images)"; continue; fi
  if [[ -n $pkg ]]; then tag=$IMAGE_TAG; else tag=$BIRD_TAG; fi
  layout=$tmp/$name.oci
  bundle=$tmp/$name.bundle
  mkdir -p "$layout"
  tar -xf "$archive" -C "$layout"
  if ! umoci unpack --image "$layout:$tag" "$bundle" >"$tmp/log" 2>&1; then
    fail "$name: umoci unpack"; sed 's/^/     /' "$tmp/log"; continue
  fi
  ok "$name: umoci unpack $layout:$tag"
  rootfs=$bundle/rootfs
  node -e '
    const c = require(process.argv[1]);
    const fs = require("node:fs");
    fs.writeFileSync(process.argv[2] + "/env", c.process.env.join("\n") + "\n");
    fs.writeFileSync(process.argv[2] + "/args", c.process.args.join("\n") + "\n");
    fs.writeFileSync(process.argv[2] + "/user", `${c.process.user.uid}:${c.process.user.gid}`);
  ' "$bundle/config.json" "$bundle"
  user=$(cat "$bundle/user")
  mapfile -t args <"$bundle/args"
  check "$name: image user is $want_user:$want_user" test "$user" = "$want_user:$want_user"
  check "$name: /bin/sh runs" in_image /bin/sh -c 'exit 0'
  if [[ -n $pkg ]]; then
    check "$name: entrypoint is node + packages/$pkg/dist/bundle/main.mjs" \
      test "${args[*]}" = "/usr/local/bin/node /app/packages/$pkg/dist/bundle/main.mjs"
    check "$name: node is v$NODE_VERSION" grep_out "^v$NODE_VERSION\$" /usr/local/bin/node --version
    check "$name: '${args[*]} --help' as $user" grep_out 'Usage:' "${args[@]}" --help
    check "$name: no devDependencies shipped" test ! -e "$rootfs/app/node_modules/jest" -a ! -e "$rootfs/app/node_modules/typescript" -a ! -e "$rootfs/app/node_modules/esbuild"
  else
    check "$name: bird is BIRD $tag" grep_out "BIRD version $tag" bird --version
    check "$name: birdc present" test -x "$rootfs/usr/sbin/birdc"
    check "$name: sleep present (preStop hook)" in_image sleep 0
  fi
  case $flavour in
    node)
      check "$name: ip (iproute2)" grep_out 'iproute2' ip -V
      check "$name: nft" grep_out 'nftables' nft --version
      check "$name: nsenter" in_image nsenter --version
      # The iptables wrapper, in the verify's own empty network namespace (no rules anywhere:
      # nft), as root whatever the image's user: these checks are of the rootfs's tools.
      user=0:0 check "$name: iptables picks nft on an empty node" grep_out 'nf_tables' iptables --version
      user=0:0 check "$name: ip6tables-save picks nft on an empty node" grep_out 'nf_tables' sh -c 'ip6tables-save -V'
      user=0:0 check "$name: iptables-restore honours BALANCED_IPTABLES_MODE=legacy" \
        grep_out 'legacy' sh -c 'BALANCED_IPTABLES_MODE=legacy iptables-restore --version'
      user=0:0 check "$name: iptables picks legacy when the kubelet's hint chain is in legacy" \
        grep_out 'legacy' sh -c 'iptables-legacy -t mangle -N KUBE-IPTABLES-HINT && iptables --version'
      user=0:0 check "$name: iptables picks nft when the kubelet's hint chain is in nft (legacy has more rules)" \
        grep_out 'nf_tables' sh -c 'iptables-legacy -A INPUT -j ACCEPT && iptables-legacy -A INPUT -j ACCEPT &&
          iptables-nft -t mangle -N KUBE-IPTABLES-HINT && iptables --version'
      user=0:0 check "$name: iptables picks the backend with more rules without a hint" \
        grep_out 'legacy' sh -c 'iptables-legacy -A INPUT -j ACCEPT && iptables-save -V'
      check "$name: BPF objects shipped" test -s "$rootfs/app/packages/cgroup-resolver/dist/bpf/resolver.bpf.o" -a \
        -s "$rootfs/app/packages/cgroup-resolver/dist/bpf/sock_destroy.bpf.o"
      check "$name: libbpf.so.1 loads" in_image /usr/local/bin/node --input-type=module \
        -e "const { default: koffi } = await import('/app/node_modules/koffi/index.js'); koffi.load('libbpf.so.1');"
      ;;
  esac
  rm -rf "$layout" "$bundle"
done

echo "images-verify: $passed passed, $failed failed"
((failed == 0))
