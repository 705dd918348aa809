export { cidrOwnership, InvalidCidrError } from '@balanced/k8s';
export type { PodRef } from './pod-view.js';
export { desiredPods, compareIpv4, type DesiredInput, type DesiredPods, type PodTarget, type SkippedPod, type SkipReason } from './desired.js';
export { MSS_CHAIN, renderMssRules, parseMangleSave, planMss, renderMssRestore, type MssOp, type MssState } from './mss-rules.js';
export {
  TUNNEL_DEVICE,
  IPIP_OVERHEAD,
  TCP_IPV4_HEADERS,
  RP_FILTER_LOOSE,
  TUNNEL_RP_FILTER,
  planTunnel,
  describeTunnelOps,
  type TunnelActual,
  type TunnelOp,
  type TunnelPlan,
} from './tunnel-plan.js';
export { PodTunnelError, type TunnelErrorReason } from './errors.js';
export { FirstFoundResolver, NetnsResolveError, type PodNetnsResolver } from './netns/resolver.js';
export { ProcScanResolver, cgroupMentionsPod, type ProcScanOptions } from './netns/proc-scan.js';
export { sandboxNetns, type SandboxNetns } from './netns/cri-info.js';
export {
  CriResolver,
  CriError,
  CRI_PROTO_PATH,
  CRI_PROTO_OPTIONS,
  CRI_RUNTIME_SERVICE,
  POD_UID_LABEL,
  loadCriPackage,
  type CriResolverOptions,
} from './netns/cri.js';
export { DEFAULT_CRI_SOCKETS, chooseResolver, type ResolverChoice } from './resolvers.js';
export { nsenterIptables, type NamespaceIptables, type NsenterIptablesOptions } from './iptables.js';
export { PodNamespace, type PodNamespaceOptions } from './pod-namespace.js';
export { TunnelProgrammer, type PodProgrammer, type ProgramResult, type TunnelProgrammerOptions } from './programmer.js';
export { EndpointController, type EndpointControllerOptions, type PassReport, type PodOutcome, type Timers, type VisitPurpose } from './controller.js';
export { EndpointMetrics } from './metrics.js';
export { PodEventReporter, type EventSink } from './event-reporter.js';
export { startEndpointController, type EndpointControllerConfig, type RunningEndpointController } from './app.js';
