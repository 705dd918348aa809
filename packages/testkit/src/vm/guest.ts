/** Where the writable exchange share is mounted inside the guest (after the tmpfs on /run). */
export const GUEST_EXCHANGE_DIR = '/run/lab-exchange';
/** The script the guest init runs, inside the exchange folder. */
export const RUN_SCRIPT_NAME = 'run.sh';
/** File in the exchange folder holding the repository's absolute path. */
export const REPO_PATH_FILE = 'repo-path';
/** Set to "1" in the guest command's environment. */
export const IN_VM_ENV = 'BALANCED_LAB_VM';
/** 9p mount tags (host root read-only, repository read-write, exchange read-write). */
export const MOUNT_TAGS = { root: 'hostroot', repo: 'labrepo', exchange: 'labxchg' } as const;
/** Modules the guest loads from the shared root's /lib/modules (failures are tolerated). */
// The guest kernel cannot autoload modules (its usermode modprobe runs in the initramfs root),
// so everything tests need is loaded up front: IPVS, tunnels, links, and netfilter for NOTRACK.
export const GUEST_MODULES = ['ip_vs', 'ip_vs_mh', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_wlc', 'ip_vs_lc', 'ip_vs_sh', 'ip_vs_dh', 'ipip', 'dummy', 'veth', 'nf_tables', 'nft_compat', 'xt_CT', 'nf_conntrack', 'xt_tcpudp', 'xt_TCPMSS', 'xt_tcpmss'] as const;
