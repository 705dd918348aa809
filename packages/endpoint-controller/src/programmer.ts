import type { PodTarget } from './desired.js';
import { PodTunnelError, errorMessage } from './errors.js';
import type { NamespaceIptables } from './iptables.js';
import type { PodNetnsResolver } from './netns/resolver.js';
import { PodNamespace } from './pod-namespace.js';
import { planTunnel, type TunnelOp } from './tunnel-plan.js';

export interface ProgramResult {
  /** The namespace path the resolver found. */
  readonly netns: string;
  /** What was changed (empty: it already was as wanted). */
  readonly ops: readonly TunnelOp[];
  readonly mtu: number | undefined;
  readonly mss: number | undefined;
}

/** Brings one pod's namespace to what it should hold. Throws PodTunnelError. */
export interface PodProgrammer {
  program(target: PodTarget): Promise<ProgramResult>;
}

export interface TunnelProgrammerOptions {
  readonly resolver: PodNetnsResolver;
  /** Only addresses inside our VIP CIDRs are removed. */
  readonly owns: (ip: string) => boolean;
  readonly iptables: NamespaceIptables;
  /** The node's own namespace, never programmed. Default /proc/1/ns/net. */
  readonly hostNetns?: string;
}

/** resolve → open (pinned) → read → plan (pure) → apply. */
export class TunnelProgrammer implements PodProgrammer {
  constructor(private readonly options: TunnelProgrammerOptions) {}

  async program(target: PodTarget): Promise<ProgramResult> {
    let path: string | null;
    try {
      path = await this.options.resolver.resolve(target);
    } catch (e) {
      throw new PodTunnelError('NetnsLookupFailed', errorMessage(e), { cause: e });
    }
    if (path === null) {
      throw new PodTunnelError('NetnsNotFound', `no network namespace found for the pod (${this.options.resolver.name}): its sandbox is gone or not ready`);
    }
    const ns = PodNamespace.open(path, { iptables: this.options.iptables, ...(this.options.hostNetns !== undefined ? { hostNetns: this.options.hostNetns } : {}) });
    try {
      const actual = await ns.read(target.podIP);
      const plan = planTunnel(target.vips, target.podIP, actual, this.options.owns);
      if (!plan.ok) throw new PodTunnelError(plan.reason, plan.message);
      await ns.apply(plan.ops);
      return { netns: path, ops: plan.ops, mtu: plan.mtu, mss: plan.mss };
    } finally {
      ns.close();
    }
  }
}
