/** Why programming one pod failed; stable strings, used as metric labels and in Events. */
export type TunnelErrorReason =
  /** The resolver found no namespace (sandbox gone or not ready), or it vanished meanwhile. */
  | 'NetnsNotFound'
  /** No resolver could answer (runtime socket unreachable, /proc unreadable). */
  | 'NetnsLookupFailed'
  /** The path found is the node's own namespace: refused, never programmed. */
  | 'HostNetns'
  /** No interface in the namespace holds the pod IP. */
  | 'PodIpNotFound'
  /** tunl0 is missing and cannot be created (ipip module not loaded on the node). */
  | 'TunnelUnavailable'
  | 'NetlinkFailed'
  | 'SysctlFailed'
  | 'IptablesFailed';

export class PodTunnelError extends Error {
  override readonly name = 'PodTunnelError';
  constructor(
    readonly reason: TunnelErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
