// SPDX-License-Identifier: GPL-2.0
/*
 * Socket-layer Service resolution on cgroup sock_addr hooks (DESIGN.md "cgroup-resolver").
 *
 *   forward  connect4/6, sendmsg4/6:      frontend -> service -> Maglev slot -> backend,
 *                                          rewrite the destination, remember the reverse NAT
 *   reverse  recvmsg4/6, getpeername4/6:  (socket cookie, peer) -> frontend, rewrite the
 *                                          peer back while its service and frontend live
 *
 * Map layouts: resolver.h. One small step per function; each hook is a thin wrapper that
 * passes constants (hook, family, connect or sendmsg) so the compiler drops dead branches.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "resolver.h"
#include "maps.h"

#define NSEC_PER_SEC 1000000000ULL

/* ---- maps (bd_revnat, bd_doomed, bd_counters: maps.h) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_FRONTENDS);
	__type(key, struct frontend_key);
	__type(value, struct frontend_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_frontends SEC(".maps");

/*
 * Template of every service's inner map; real ones differ in max_entries. Sizes, not BTF
 * types: userspace creates the inner maps without BTF, and before Linux 6.2 an inner map
 * must match the template's BTF-derived layout too (timer offset), so a template with a BTF
 * value type refuses them (EINVAL, measured on 6.1). struct service_chunk is read as bytes
 * of that size.
 */
struct service_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct service_chunk));
	__uint(map_flags, BPF_F_INNER_MAP);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, MAX_SERVICES);
	__type(key, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct service_table);
} bd_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_AFFINITY);
	__type(key, struct affinity_key);
	__type(value, struct affinity_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct resolver_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_events SEC(".maps");

/*
 * BTF anchor: puts every resolver.h type in the object's BTF in full. Without it clang 14
 * emits struct service_chunk (reached only through the inner-map template) as a FWD,
 * which libbpf cannot size ("can't determine value size"), and leaves out the types no
 * map names (service_header, resolution_event, the enums), which the TypeScript layout
 * test reads from this object's BTF. The section is not loaded: libbpf skips it.
 */
struct balanced_btf_types {
	struct service_chunk service_chunk;
	struct service_header service_header;
	struct resolution_event resolution_event;
	enum frontend_kind frontend_kind;
	enum resolver_counter resolver_counter;
	enum resolution_hook resolution_hook;
	enum resolution_outcome resolution_outcome;
};
struct balanced_btf_types balanced_btf_types SEC("balanced.btf");

/* ---- working state of one forward resolution ---- */

/* The service header's fields, copied once out of chunk 0. */
struct service {
	__u32 id;
	__u32 table_size;
	__u32 backend_count;
	__u32 flags;
	__u32 affinity_timeout;
	__u32 backends_end;
	__u64 skip_cgroups[MAX_SKIP_CGROUPS];
};

struct fwd {
	__u64 netns_cookie;
	__u64 sock_cookie;
	struct frontend_key frontend; /* what the client asked for; kind = the one that hit */
	__u32 service_id;
	__u32 backend_id;
	struct backend_value backend;
};

/* ---- small steps ---- */

static __always_inline const struct resolver_config *config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bd_config, &zero);
}

/* CFG_F_HOST_NETNS_ONLY: leave sockets of other network namespaces (pods) alone. */
static __always_inline bool netns_in_scope(const struct resolver_config *cfg, __u64 netns_cookie)
{
	if (!cfg || !(cfg->flags & CFG_F_HOST_NETNS_ONLY))
		return true;
	return netns_cookie == cfg->host_netns_cookie;
}

static __always_inline bool proto_supported(__u32 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* ::ffff:a.b.c.d from an IPv4 address in network order. */
static __always_inline void addr_from_v4(__u8 addr[16], __u32 ip4)
{
	__u32 w[4] = { 0, 0, bpf_htonl(0x0000ffff), ip4 };

	__builtin_memcpy(addr, w, sizeof(w));
}

static __always_inline bool addr_is_v4mapped(const __u8 addr[16])
{
	__u32 w[3];

	__builtin_memcpy(w, addr, sizeof(w));
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline __u32 addr_v4_part(const __u8 addr[16])
{
	__u32 ip4;

	__builtin_memcpy(&ip4, addr + 12, sizeof(ip4));
	return ip4;
}

/* The address and port in the context: destination (forward) or peer (reverse). */
static __always_inline void ctx_addr(const struct bpf_sock_addr *ctx, __u8 addr[16], const bool v6)
{
	if (v6) {
		__u32 w[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

		__builtin_memcpy(addr, w, sizeof(w));
	} else {
		addr_from_v4(addr, ctx->user_ip4);
	}
}

/* Write an address and port into the context (IPv4 hooks: the IPv4 part). */
static __always_inline void ctx_rewrite(struct bpf_sock_addr *ctx, const __u8 addr[16], __u16 port,
					const bool v6)
{
	if (v6) {
		__u32 w[4];

		__builtin_memcpy(w, addr, sizeof(w));
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
	} else {
		ctx->user_ip4 = addr_v4_part(addr);
	}
	ctx->user_port = port;
}

/* SplitMix64/Murmur3 finalizer: spreads a cookie over the Maglev slots. Userspace tools
 * that predict a slot (explain) must use the same function. */
static __always_inline __u32 hash_u64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (__u32)x;
}

static __always_inline const struct frontend_value *frontend_lookup(struct frontend_key *key, __u8 kind)
{
	key->kind = kind;
	return bpf_map_lookup_elem(&bd_frontends, key);
}

/* Chunk 0 of a service's inner map, copied. Returns false if it is missing. */
static __always_inline bool service_read(void *table, __u32 id, struct service *svc)
{
	__u32 zero = 0;
	const struct service_chunk *chunk = bpf_map_lookup_elem(table, &zero);

	if (!chunk)
		return false;
	svc->id = id;
	svc->table_size = chunk->header.table_size;
	svc->backend_count = chunk->header.backend_count;
	svc->flags = chunk->header.flags;
	svc->affinity_timeout = chunk->header.affinity_timeout;
	svc->backends_end = chunk->header.backends_end;
	__builtin_memcpy(svc->skip_cgroups, chunk->header.skip_cgroups, sizeof(svc->skip_cgroups));
	return true;
}

static __always_inline bool skip_listed(const struct service *svc, __u64 cgroup_id)
{
	int i;

#pragma unroll
	for (i = 0; i < MAX_SKIP_CGROUPS; i++)
		if (svc->skip_cgroups[i] == cgroup_id)
			return true;
	return false;
}

/*
 * The calling task's cgroup or one of its ancestors (levels 1 .. SKIP_CGROUP_LEVELS) is in
 * the service's skip list. Only services with a skip list pay for the walk; it stops at the
 * task's own level (the ancestor id is 0 below it). Root (level 0) is never listed.
 */
static __always_inline bool client_skipped(const struct service *svc)
{
	__u64 id;
	int level;

	if (!svc->skip_cgroups[0])
		return false;
	if (skip_listed(svc, bpf_get_current_cgroup_id()))
		return true;
	for (level = 1; level <= SKIP_CGROUP_LEVELS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		if (skip_listed(svc, id))
			return true;
	}
	return false;
}

/* Maglev table: slot -> index into the backend list. */
static __always_inline bool slot_index(void *table, const struct service *svc, __u32 hash, __u32 *index)
{
	__u32 slot = hash % svc->table_size;
	__u32 chunk_no = svc->backends_end + slot / SERVICE_SLOTS_PER_CHUNK;
	const struct service_chunk *chunk = bpf_map_lookup_elem(table, &chunk_no);
	__u32 i;

	if (!chunk)
		return false;
	i = chunk->slots[slot & (SERVICE_SLOTS_PER_CHUNK - 1)];
	if (i >= svc->backend_count)
		return false;
	*index = i;
	return true;
}

/* Backend list: index -> backend id. */
static __always_inline bool backend_id_at(void *table, __u32 index, __u32 *backend_id)
{
	__u32 chunk_no = 1 + index / SERVICE_IDS_PER_CHUNK;
	const struct service_chunk *chunk = bpf_map_lookup_elem(table, &chunk_no);

	if (!chunk)
		return false;
	*backend_id = chunk->ids[index & (SERVICE_IDS_PER_CHUNK - 1)];
	return true;
}

/* The slot hash when no affinity entry applies: ClientIP affinity by the client's netns,
 * UDP by the socket (one unconnected socket keeps one backend), TCP at random. */
static __always_inline __u32 pick_hash(struct bpf_sock_addr *ctx, const struct fwd *f,
				       const struct service *svc)
{
	if (svc->flags & SVC_F_AFFINITY)
		return hash_u64(f->netns_cookie);
	if (f->frontend.proto == IPPROTO_UDP)
		return hash_u64(f->sock_cookie);
	return bpf_get_prandom_u32();
}

/* A live affinity entry whose backend still sits at its index: reuse it (and refresh it). */
static __always_inline bool affinity_find(void *table, const struct service *svc,
					  const struct affinity_key *key, __u64 now,
					  __u32 *index, __u32 *backend_id)
{
	struct affinity_value *av = bpf_map_lookup_elem(&bd_affinity, key);
	__u32 i, id;

	if (!av)
		return false;
	if (now - av->last_used_ns >= (__u64)svc->affinity_timeout * NSEC_PER_SEC)
		return false;
	i = av->index;
	if (i >= svc->backend_count || !backend_id_at(table, i, &id) || id != av->backend_id)
		return false;
	av->last_used_ns = now;
	*index = i;
	*backend_id = id;
	count(CNT_AFFINITY_HIT);
	return true;
}

static __always_inline void affinity_store(const struct affinity_key *key, __u64 now,
					   __u32 index, __u32 backend_id)
{
	struct affinity_value av = { .last_used_ns = now, .backend_id = backend_id, .index = index };

	bpf_map_update_elem(&bd_affinity, key, &av, BPF_ANY);
}

/* Service -> backend (id and address). False: the published tables are inconsistent. */
static __always_inline bool backend_pick(struct bpf_sock_addr *ctx, void *table,
					 const struct service *svc, struct fwd *f)
{
	const struct backend_value *be;
	struct affinity_key akey;
	__u64 now = 0;
	__u32 index;
	bool affine = svc->flags & SVC_F_AFFINITY;
	bool found = false;

	if (affine) {
		__builtin_memset(&akey, 0, sizeof(akey));
		akey.netns_cookie = f->netns_cookie;
		akey.service_id = svc->id;
		now = bpf_ktime_get_ns();
		found = affinity_find(table, svc, &akey, now, &index, &f->backend_id);
	}
	if (!found) {
		if (!slot_index(table, svc, pick_hash(ctx, f, svc), &index) ||
		    !backend_id_at(table, index, &f->backend_id))
			return false;
	}
	be = bpf_map_lookup_elem(&bd_backends, &f->backend_id);
	if (!be)
		return false;
	__builtin_memcpy(&f->backend, be, sizeof(f->backend));
	if (affine && !found)
		affinity_store(&akey, now, index, f->backend_id);
	return true;
}

static __always_inline bool revnat_equal(const struct revnat_value *a, const struct revnat_value *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] &&
	       x[5] == y[5];
}

/* (socket cookie, backend) -> frontend. sendmsg runs per datagram: write only on change. */
static __always_inline void revnat_store(const struct fwd *f, const bool only_if_changed)
{
	struct revnat_key key;
	struct revnat_value val;
	const struct revnat_value *old;

	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = f->sock_cookie;
	__builtin_memcpy(key.addr, f->backend.addr, sizeof(key.addr));
	key.port = f->backend.port;

	__builtin_memset(&val, 0, sizeof(val));
	__builtin_memcpy(val.addr, f->frontend.addr, sizeof(val.addr));
	val.port = f->frontend.port;
	val.proto = f->frontend.proto;
	val.kind = f->frontend.kind;
	val.service_id = f->service_id;

	if (only_if_changed) {
		old = bpf_map_lookup_elem(&bd_revnat, &key);
		if (old && revnat_equal(old, &val))
			return;
	}
	bpf_map_update_elem(&bd_revnat, &key, &val, BPF_ANY);
}

static __always_inline void event_emit(const struct resolver_config *cfg, const struct fwd *f,
				       const __u8 hook, const __u8 outcome)
{
	struct resolution_event *ev;

	if (!cfg || !(cfg->flags & CFG_F_EVENTS))
		return;
	ev = bpf_ringbuf_reserve(&bd_events, sizeof(*ev), 0);
	if (!ev) {
		count(CNT_EVENTS_DROPPED);
		return;
	}
	ev->timestamp_ns = bpf_ktime_get_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->netns_cookie = f->netns_cookie;
	ev->socket_cookie = f->sock_cookie;
	__builtin_memcpy(ev->frontend_addr, f->frontend.addr, sizeof(ev->frontend_addr));
	__builtin_memcpy(ev->backend_addr, f->backend.addr, sizeof(ev->backend_addr));
	ev->frontend_port = f->frontend.port;
	ev->backend_port = f->backend.port;
	ev->service_id = f->service_id;
	ev->backend_id = f->backend_id;
	ev->proto = f->frontend.proto;
	ev->hook = hook;
	ev->outcome = outcome;
	ev->kind = f->frontend.kind;
	if (bpf_get_current_comm(ev->comm, sizeof(ev->comm)))
		__builtin_memset(ev->comm, 0, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
}

/* connect()/sendmsg() fail at once with ECONNREFUSED (a bare return 0 would be EPERM). */
static __always_inline int refuse(struct bpf_sock_addr *ctx, const struct resolver_config *cfg,
				  struct fwd *f, const __u8 hook, __u32 counter, const __u8 outcome)
{
	count(counter);
	event_emit(cfg, f, hook, outcome);
	bpf_set_retval(-ECONNREFUSED);
	return 0;
}

/* ---- forward: connect4/6, sendmsg4/6 ---- */

static __always_inline int xlate_fwd(struct bpf_sock_addr *ctx, const __u8 hook, const bool v6,
				     const bool sendmsg)
{
	const struct resolver_config *cfg = config_get();
	const struct frontend_value *fv;
	struct service svc;
	struct fwd f;
	void *table;
	__u32 proto;
	__u8 kind;

	__builtin_memset(&f, 0, sizeof(f));
	f.netns_cookie = bpf_get_netns_cookie(ctx);
	if (!netns_in_scope(cfg, f.netns_cookie)) {
		count(CNT_SKIPPED_NETNS);
		return 1;
	}
	proto = ctx->protocol;
	if (!proto_supported(proto))
		return 1;

	ctx_addr(ctx, f.frontend.addr, v6);
	f.frontend.port = ctx->user_port;
	f.frontend.proto = proto;

	for (kind = 0; kind < FRONTEND_KIND_COUNT; kind++) {
		fv = frontend_lookup(&f.frontend, kind);
		if (!fv)
			continue;
		f.service_id = fv->service_id;
		f.sock_cookie = bpf_get_socket_cookie(ctx);

		table = bpf_map_lookup_elem(&bd_services, &f.service_id);
		if (!table || !service_read(table, f.service_id, &svc))
			return refuse(ctx, cfg, &f, hook, CNT_NO_BACKEND, OUTCOME_NO_BACKEND);
		if (client_skipped(&svc)) {
			count(CNT_SKIPPED_SELF);
			continue;
		}
		if (!svc.backend_count || !svc.table_size) {
			if (svc.flags & SVC_F_REFUSE_EMPTY)
				return refuse(ctx, cfg, &f, hook, CNT_REFUSED, OUTCOME_REFUSED);
			count(CNT_FALLTHROUGH);
			continue;
		}
		if (!backend_pick(ctx, table, &svc, &f))
			return refuse(ctx, cfg, &f, hook, CNT_NO_BACKEND, OUTCOME_NO_BACKEND);
		if (!v6 && !addr_is_v4mapped(f.backend.addr))
			return refuse(ctx, cfg, &f, hook, CNT_NO_BACKEND, OUTCOME_FAMILY_MISMATCH);

		ctx_rewrite(ctx, f.backend.addr, f.backend.port, v6);
		revnat_store(&f, sendmsg);
		count(CNT_RESOLVED);
		event_emit(cfg, &f, hook, OUTCOME_RESOLVED);
		return 1;
	}
	return 1;
}

/* ---- reverse: recvmsg4/6, getpeername4/6 ---- */

/* The entry's service is still published and its frontend still names that service. */
static __always_inline bool revnat_live(const struct revnat_value *rv)
{
	struct frontend_key key;
	const struct frontend_value *fv;

	if (!bpf_map_lookup_elem(&bd_services, &rv->service_id))
		return false;
	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memcpy(key.addr, rv->addr, sizeof(key.addr));
	key.port = rv->port;
	key.proto = rv->proto;
	key.kind = rv->kind;
	fv = bpf_map_lookup_elem(&bd_frontends, &key);
	return fv && fv->service_id == rv->service_id;
}

/* Always returns 1: these hooks cannot fail the call (the verifier refuses set_retval). */
static __always_inline int xlate_rev(struct bpf_sock_addr *ctx, const bool v6)
{
	struct revnat_key key;
	const struct revnat_value *rv;

	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = bpf_get_socket_cookie(ctx);
	ctx_addr(ctx, key.addr, v6);
	key.port = ctx->user_port;

	rv = bpf_map_lookup_elem(&bd_revnat, &key);
	if (!rv)
		return 1;
	if (!revnat_live(rv) || (!v6 && !addr_is_v4mapped(rv->addr))) {
		count(CNT_REVNAT_STALE);
		return 1;
	}
	ctx_rewrite(ctx, rv->addr, rv->port, v6);
	count(CNT_REVNAT);
	return 1;
}

/* ---- hooks ---- */

SEC("cgroup/connect4")
int balanced_connect4(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, HOOK_CONNECT4, false, false);
}

SEC("cgroup/connect6")
int balanced_connect6(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, HOOK_CONNECT6, true, false);
}

SEC("cgroup/sendmsg4")
int balanced_sendmsg4(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, HOOK_SENDMSG4, false, true);
}

SEC("cgroup/sendmsg6")
int balanced_sendmsg6(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, HOOK_SENDMSG6, true, true);
}

SEC("cgroup/recvmsg4")
int balanced_recvmsg4(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, false);
}

SEC("cgroup/recvmsg6")
int balanced_recvmsg6(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, true);
}

SEC("cgroup/getpeername4")
int balanced_getpeername4(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, false);
}

SEC("cgroup/getpeername6")
int balanced_getpeername6(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, true);
}

char LICENSE[] SEC("license") = "GPL";
