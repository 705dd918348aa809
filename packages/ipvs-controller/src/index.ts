export { plan, type Plan, type PlanContext } from './plan.js';
export { applyToModel, dumpModel, ModelError, type ModelDestination, type ModelService } from './kernel-model.js';
export type { ActualService, DesiredDestination, DesiredService } from './model.js';
export { drainKey } from './keys.js';
export { Reconciler, describeOp, type ReconcileReport, type ReconcilerOptions } from './reconciler.js';
export { ipvsKernel, type IpvsKernel } from './kernel.js';
export { planVips, syncVips, type VipSyncResult } from './vips.js';
export { renderNotrack, applyNotrack, NOTRACK_CHAIN, type NotrackRules, type NotrackOptions } from './notrack.js';
export { applySysctls, DIRECTOR_SYSCTLS, type SysctlChange } from './sysctls.js';
