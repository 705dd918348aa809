/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps declared by more than one BPF object. resolver.bpf.o and sock_destroy.bpf.o both
 * include this file, so their definitions are identical (type, key, value, max_entries,
 * flags) and libbpf, opening either object with the same pin_root_path, reuses the map
 * the other one pinned (LIBBPF_PIN_BY_NAME) instead of failing its compatibility check.
 *
 * Include after resolver.h and <bpf/bpf_helpers.h>, and after either <linux/bpf.h> or
 * vmlinux.h (for BPF_MAP_TYPE_* and BPF_F_*).
 */
#ifndef BALANCED_MAPS_H
#define BALANCED_MAPS_H

/* (socket cookie, backend) -> frontend: written by connect/sendmsg, read by
 * recvmsg/getpeername and by the socket iterators. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_REVNAT);
	__type(key, struct revnat_key);
	__type(value, struct revnat_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_revnat SEC(".maps");

/* (service id, backend) -> 1: backends just removed; filled and emptied by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_DOOMED);
	__type(key, struct doomed_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_doomed SEC(".maps");

/* enum resolver_counter -> count, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bd_counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&bd_counters, &counter);

	if (value)
		__sync_fetch_and_add(value, 1);
}

#endif
