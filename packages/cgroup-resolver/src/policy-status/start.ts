// One status writer per cluster: every resolver agent (a DaemonSet) campaigns for one Lease in
// its own namespace, and only the holder writes policy statuses. The others compute nothing;
// when the holder goes away another agent takes the Lease and writes whatever is out of date.

import type { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '@balanced/k8s';
import type { Registry } from 'prom-client';

import { policyStatusApi, type PolicyStatusApi } from './api.js';
import { PolicyStatusMetrics } from './metrics.js';
import type { StatusLog } from './pass.js';
import type { PolicyStatusPorts } from './types.js';
import { PolicyStatusWriter, type PolicyStatusWriterOptions } from './writer.js';

export const POLICY_STATUS_LEASE = 'balanced-policy-status';

export interface PolicyStatusConfig {
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Lease: the agent's own. */
  readonly namespace: string;
  /** This agent's identity among the candidates (its node name). */
  readonly identity: string;
  /** Default POLICY_STATUS_LEASE. */
  readonly leaseName?: string;
  /** Lease timings (LeaderElector's defaults: 15 s, 10 000 ms, 2000 ms). */
  readonly lease?: { readonly durationSeconds?: number; readonly renewDeadlineMs?: number; readonly retryPeriodMs?: number };
  readonly objects: () => readonly unknown[];
  readonly synced: () => boolean;
  readonly ports: PolicyStatusPorts;
  /** Where balanced_resolver_policy_status_* are registered (the agent's /metrics registry). */
  readonly registry: Registry;
  readonly log: StatusLog;
  /** Default: the API server of kubeConfig. */
  readonly api?: PolicyStatusApi;
  /** Scheduling of passes (see PolicyStatusWriterOptions). */
  readonly writer?: Pick<PolicyStatusWriterOptions, 'debounceMs' | 'resyncMs' | 'backoffMs' | 'timers' | 'now' | 'onPass'>;
}

export interface RunningPolicyStatus {
  readonly writer: PolicyStatusWriter;
  readonly elector: LeaderElector;
  /** Stop writing, then give up the Lease (another agent takes over at once). */
  stop(): Promise<void>;
}

export function startPolicyStatus(config: PolicyStatusConfig): RunningPolicyStatus {
  const { log } = config;
  const metrics = new PolicyStatusMetrics(config.registry);
  const leaseName = config.leaseName ?? POLICY_STATUS_LEASE;
  const lease = `${config.namespace}/${leaseName}`;
  // The callbacks run only once the elector is started, after both exist.
  const elector = new LeaderElector(config.kubeConfig, {
    namespace: config.namespace,
    name: leaseName,
    identity: config.identity,
    ...(config.lease?.durationSeconds !== undefined ? { leaseDurationSeconds: config.lease.durationSeconds } : {}),
    ...(config.lease?.renewDeadlineMs !== undefined ? { renewDeadlineMs: config.lease.renewDeadlineMs } : {}),
    ...(config.lease?.retryPeriodMs !== undefined ? { retryPeriodMs: config.lease.retryPeriodMs } : {}),
    onStartedLeading: () => {
      log.info({ lease }, 'writing policy statuses (this agent holds the lease)');
      writer.leadershipStarted();
    },
    onStoppedLeading: () => {
      log.info({ lease }, 'no longer writing policy statuses');
      writer.leadershipStopped();
    },
    onError: (e) => log.debug({ err: e.message }, 'policy status lease attempt failed'),
  });
  const writer = new PolicyStatusWriter({
    objects: config.objects,
    synced: config.synced,
    ports: config.ports,
    api: config.api ?? policyStatusApi(config.kubeConfig),
    isLeader: () => elector.isLeader(),
    metrics,
    log,
    onError: (e) => log.warn({ err: e.message }, 'policy status pass failed; retrying'),
    ...config.writer,
  });
  writer.start();
  elector.start();
  return {
    writer,
    elector,
    async stop() {
      await writer.stop();
      await elector.stop();
    },
  };
}
