// SPDX-License-Identifier: GPL-2.0
/*
 * Socket iterators that close the sockets resolved to backends just removed from a
 * service (kernel >= 6.5: bpf_sock_destroy kfunc, iter/tcp and iter/udp only).
 *
 * For each socket: (cookie, destination) -> bd_revnat -> (service id, destination) ->
 * bd_doomed; a doomed one is destroyed (the application sees ECONNABORTED and reconnects,
 * which resolves again). Userspace fills bd_doomed, reads an iterator created from each
 * program to the end, then empties bd_doomed.
 *
 * Only full, connected sockets: TCP listeners, request sockets and TIME_WAIT are skipped,
 * and UDP sockets that are not connected (unconnected ones resolve per datagram, so a
 * removed backend is simply no longer picked).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "resolver.h"
#include "maps.h"

#define AF_INET 2
#define AF_INET6 10

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* The socket's destination as the forward hooks stored it: IPv4 as ::ffff:a.b.c.d, IPv6
 * (including IPv4-mapped on a v6 socket) as is. False for other families. */
static __always_inline bool sock_dest(const struct sock_common *skc, struct revnat_key *key)
{
	__u32 w[4];

	switch (skc->skc_family) {
	case AF_INET:
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = skc->skc_daddr;
		break;
	case AF_INET6:
		w[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		w[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		w[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		w[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
		break;
	default:
		return false;
	}
	__builtin_memcpy(key->addr, w, sizeof(w));
	key->port = skc->skc_dport;
	return true;
}

/* The service the socket was resolved through still lists its backend as doomed. */
static __always_inline bool sock_doomed(struct sock_common *skc)
{
	struct revnat_key key;
	struct doomed_key dkey;
	const struct revnat_value *rv;

	__builtin_memset(&key, 0, sizeof(key));
	if (!sock_dest(skc, &key))
		return false;
	key.cookie = bpf_get_socket_cookie(skc);
	rv = bpf_map_lookup_elem(&bd_revnat, &key);
	if (!rv)
		return false;

	__builtin_memset(&dkey, 0, sizeof(dkey));
	dkey.service_id = rv->service_id;
	dkey.port = key.port;
	__builtin_memcpy(dkey.addr, key.addr, sizeof(dkey.addr));
	return bpf_map_lookup_elem(&bd_doomed, &dkey) != NULL;
}

static __always_inline void sock_destroy_if_doomed(struct sock_common *skc)
{
	if (sock_doomed(skc) && bpf_sock_destroy(skc) == 0)
		count(CNT_DESTROYED);
}

SEC("iter/tcp")
int balanced_destroy_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	if (state == TCP_LISTEN || state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV)
		return 0;
	sock_destroy_if_doomed(skc);
	return 0;
}

SEC("iter/udp")
int balanced_destroy_udp(struct bpf_iter__udp *ctx)
{
	struct sock *sk = (struct sock *)ctx->udp_sk;

	if (!sk)
		return 0;
	if (sk->__sk_common.skc_state != TCP_ESTABLISHED) /* not connected */
		return 0;
	sock_destroy_if_doomed(&sk->__sk_common);
	return 0;
}

/* The network namespaces to walk: for every process (thread-group leader), its pid and its
 * network namespace's inode, 8 bytes per process (struct netns_of_task), in one read of one
 * iterator instead of a stat of /proc/<pid>/ns/net per process. The pid is the one of the
 * host's (initial) pid namespace: the agent runs with hostPID, so its /proc names it alike. */
struct netns_of_task {
	__u32 pid;
	__u32 netns_inum;
};

SEC("iter/task")
int balanced_netns_of_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct netns_of_task rec;
	struct nsproxy *nsproxy;
	struct net *net;

	if (!task || task->pid != task->tgid)
		return 0;
	nsproxy = task->nsproxy;
	if (!nsproxy) /* exiting */
		return 0;
	net = nsproxy->net_ns;
	if (!net)
		return 0;
	rec.pid = task->tgid;
	rec.netns_inum = net->ns.inum;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
