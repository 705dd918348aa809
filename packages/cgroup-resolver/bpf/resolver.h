/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of the cgroup-resolver's maps: layouts, sizes and constants.
 * Included by every BPF program; mirrored by src/maps/layout.ts, which a test checks
 * against the compiled object's BTF (sizes and member offsets), so a field added on one
 * side only fails the build instead of corrupting a pinned map.
 *
 * Addresses are always 16 bytes: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
 * So an IPv4-mapped address on an IPv6 socket finds the IPv4 frontend with no extra code.
 * Ports are in network byte order; everything else is host order.
 *
 * Every struct has explicit padding (no hole the compiler fills on its own); keys are
 * zeroed before lookup.
 */
#ifndef BALANCED_RESOLVER_H
#define BALANCED_RESOLVER_H

/* BPF programs built against vmlinux.h (CO-RE) already have __u8 etc. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- map sizes (max_entries). Hash maps are BPF_F_NO_PREALLOC: memory follows use. ---- */
#define MAX_FRONTENDS 262144
#define MAX_SERVICES 65536
#define MAX_BACKENDS 262144
#define MAX_REVNAT 65536   /* LRU: preallocated by the kernel */
#define MAX_AFFINITY 16384 /* LRU: preallocated by the kernel */
#define MAX_DOOMED 65536
#define EVENTS_RING_BYTES (256 * 1024)

/* ---- frontends: (address, port, protocol, kind) -> service id ---- */
enum frontend_kind {
	FRONTEND_KIND_REDIRECT = 0,  /* LocalRedirectPolicy: looked up first */
	FRONTEND_KIND_BALANCING = 1, /* BalancingPolicy */
	FRONTEND_KIND_SERVICE = 2,   /* the Service itself: looked up last */
	FRONTEND_KIND_COUNT = 3,
};

struct frontend_key {
	__u8 addr[16];
	__u16 port; /* network order */
	__u8 proto; /* IPPROTO_TCP (6) or IPPROTO_UDP (17) */
	__u8 kind;  /* enum frontend_kind */
};

struct frontend_value {
	__u32 service_id; /* key into service_tables; never 0 */
};

/*
 * ---- service tables: service id -> inner ARRAY map (HASH_OF_MAPS) ----
 * One inner map per service holds everything a reader needs, so publishing a service is
 * one atomic swap of the outer map's value (the inner map is complete before the swap):
 *
 *   chunk 0                      struct service_header
 *   chunks 1 .. backends_end-1   backend ids, u32, SERVICE_IDS_PER_CHUNK per chunk, in the
 *                                order the Maglev table indexes (its sorted order)
 *   chunks backends_end ..       Maglev lookup table: u16 index into the backend list,
 *                                SERVICE_SLOTS_PER_CHUNK per chunk, table_size entries
 *
 * max_entries = 1 + ceil(backend_count / 16) + ceil(table_size / 32). Inner maps differ in
 * size, so the template and every inner map carry BPF_F_INNER_MAP. A table of u16 indices
 * (not u32 ids) halves the kernel memory every node pays for every Service.
 */
#define SERVICE_CHUNK_BYTES 64
#define SERVICE_IDS_PER_CHUNK 16
#define SERVICE_SLOTS_PER_CHUNK 32
#define SERVICE_MAX_BACKENDS 65535

/* service_header.flags */
#define SVC_F_AFFINITY 0x1       /* ClientIP affinity: same backend per client netns */
#define SVC_F_LOCAL_ONLY 0x2     /* backends are this node's only (informational) */
#define SVC_F_REFUSE_EMPTY 0x4   /* no backend: connect/sendmsg fail with ECONNREFUSED;
                                  * without it an empty table falls through to the next
                                  * frontend kind (LocalRedirectPolicy fallback) */

/*
 * Skip list: a client whose cgroup, or one of its ancestors at levels 1 ..
 * SKIP_CGROUP_LEVELS, has one of these cgroup v2 ids (the cgroup folder's inode number) is
 * not resolved through this service: the lookup goes on with the next frontend kind, as if
 * this frontend did not exist. A LocalRedirectPolicy service lists the pod-level cgroups of
 * its own backend pods on this node, so a node-local DNS cache forwarding to the real
 * kube-dns ClusterIP reaches the Service, not itself.
 * Unused entries are 0 (no cgroup has id 0). Userspace writes the ids ascending, packed at
 * the front. Tables written before the skip list existed have zeros there (it was pad):
 * read as "no skip ids", so pinned maps of an older agent need no migration.
 */
#define MAX_SKIP_CGROUPS 4
#define SKIP_CGROUP_LEVELS 16

struct service_header {
	__u32 table_size;       /* M: Maglev table entries (0 when backend_count is 0) */
	__u32 backend_count;    /* backends in the list (weight-0 ones included: no slots) */
	__u32 flags;            /* SVC_F_* */
	__u32 affinity_timeout; /* seconds, with SVC_F_AFFINITY */
	__u32 backends_end;     /* first chunk of the Maglev table = 1 + ceil(backend_count/16) */
	__u32 revision;         /* bumped by userspace on each publish (diagnostics) */
	__u64 skip_cgroups[MAX_SKIP_CGROUPS]; /* cgroup ids not resolved through this service */
	__u8 pad[8];
};

struct service_chunk {
	union {
		struct service_header header;
		__u32 ids[SERVICE_IDS_PER_CHUNK];
		__u16 slots[SERVICE_SLOTS_PER_CHUNK];
		__u8 bytes[SERVICE_CHUNK_BYTES];
	};
};

/* ---- backends: backend id -> address ---- */
#define BACKEND_F_LOCAL 0x1 /* on this node */

struct backend_value {
	__u8 addr[16];
	__u16 port; /* network order */
	__u8 flags; /* BACKEND_F_* */
	__u8 pad;
};

/* ---- reverse NAT: (socket cookie, backend) -> frontend. LRU. ---- */
struct revnat_key {
	__u64 cookie;
	__u8 addr[16]; /* backend */
	__u16 port;    /* backend, network order */
	__u8 pad[6];
};

struct revnat_value {
	__u8 addr[16]; /* frontend */
	__u16 port;    /* frontend, network order */
	__u8 proto;
	__u8 kind;     /* frontend kind, to check the frontend still maps to service_id */
	__u32 service_id;
};

/* ---- affinity: (client netns cookie, service id) -> backend. LRU. ---- */
struct affinity_key {
	__u64 netns_cookie;
	__u32 service_id;
	__u32 pad;
};

struct affinity_value {
	__u64 last_used_ns; /* bpf_ktime_get_ns() */
	__u32 backend_id;
	__u32 index; /* position in the service's backend list, checked on use */
};

/* ---- doomed: backends just removed from a service; the socket iterator closes the
 * sockets resolved to them (through revnat). Filled and emptied by userspace. ---- */
struct doomed_key {
	__u32 service_id;
	__u16 port;    /* backend, network order */
	__u16 pad;
	__u8 addr[16]; /* backend */
};

/* ---- config: one entry ---- */
#define CFG_F_HOST_NETNS_ONLY 0x1 /* resolve only in the host network namespace */
#define CFG_F_EVENTS 0x2          /* write resolution events to the ring buffer */

struct resolver_config {
	__u64 host_netns_cookie;
	__u32 flags; /* CFG_F_* */
	__u32 pad;
};

/* ---- counters: PERCPU_ARRAY of __u64, index: ---- */
enum resolver_counter {
	CNT_RESOLVED = 0,     /* forward rewrites */
	CNT_REFUSED = 1,      /* ECONNREFUSED: service with no backend */
	CNT_FALLTHROUGH = 2,  /* empty non-refusing table, next kind tried */
	CNT_NO_BACKEND = 3,   /* slot named a backend id missing from backends (must stay 0) */
	CNT_REVNAT = 4,       /* reverse rewrites */
	CNT_REVNAT_STALE = 5, /* reverse entry whose service or frontend is gone: not rewritten */
	CNT_AFFINITY_HIT = 6,
	CNT_EVENTS_DROPPED = 7,
	CNT_DESTROYED = 8,    /* sockets closed by the iterator */
	CNT_SKIPPED_NETNS = 9, /* host-netns-only mode: pod namespace skipped */
	CNT_SKIPPED_SELF = 10, /* client in a service's skip list: next frontend kind tried */
	CNT_MAX = 16,
};

/* ---- events: ring buffer records ---- */
enum resolution_hook {
	HOOK_CONNECT4 = 0, HOOK_CONNECT6 = 1, HOOK_SENDMSG4 = 2, HOOK_SENDMSG6 = 3,
	HOOK_RECVMSG4 = 4, HOOK_RECVMSG6 = 5, HOOK_GETPEERNAME4 = 6, HOOK_GETPEERNAME6 = 7,
};

/* Failures carry their reason: the outcome is the one field a consumer needs to count them. */
enum resolution_outcome {
	OUTCOME_RESOLVED = 0,
	OUTCOME_REFUSED = 1,         /* service with no backend (and SVC_F_REFUSE_EMPTY) */
	OUTCOME_NO_BACKEND = 2,      /* table or backend missing from the maps (must not happen) */
	OUTCOME_FAMILY_MISMATCH = 3, /* IPv4 socket, IPv6 backend */
};

#define EVENT_COMM_BYTES 16 /* TASK_COMM_LEN */

struct resolution_event {
	__u64 timestamp_ns;
	__u64 cgroup_id;
	__u64 netns_cookie;
	__u64 socket_cookie;
	__u8 frontend_addr[16];
	__u8 backend_addr[16];
	__u16 frontend_port; /* network order */
	__u16 backend_port;  /* network order */
	__u32 service_id;
	__u32 backend_id;
	__u8 proto;
	__u8 hook;    /* enum resolution_hook */
	__u8 outcome; /* enum resolution_outcome */
	__u8 kind;    /* enum frontend_kind */
	char comm[EVENT_COMM_BYTES]; /* calling task's name (bpf_get_current_comm), NUL-padded */
};

#endif
