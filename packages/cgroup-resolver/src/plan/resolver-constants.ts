// Constants of bpf/resolver.h the pure code needs (the loader's codec mirrors the layouts).

/** service_header.flags: ClientIP affinity (same backend per client netns). */
export const SVC_F_AFFINITY = 0x1;
/** service_header.flags: the backends are this node's only (informational). */
export const SVC_F_LOCAL_ONLY = 0x2;
/** service_header.flags: no backend ⇒ connect()/sendmsg() fail with ECONNREFUSED. */
export const SVC_F_REFUSE_EMPTY = 0x4;

/** Most backends one service table can list (its Maglev slots are u16 indices). */
export const SERVICE_MAX_BACKENDS = 65535;
