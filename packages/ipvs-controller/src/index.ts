// The director controller: startController (the binary's wiring), its Controller/Reconciler/DesiredIndex parts, and the pure planner and kernel model the cli and benches use.
export { startController, type ControllerConfig, type RunningController } from './app.js';
export { Controller, type ControllerOptions } from './controller.js';
export { Reconciler, describeOp, type ReconcileOptions, type ReconcileReport, type ReconcilerOptions } from './reconciler.js';
export { ipvsKernel, type IpvsKernel } from './kernel.js';
export { DesiredIndex, desiredSource, type DesiredIndexOptions } from './desired-index.js';
export type { ActualService, DesiredDestination, DesiredService } from './model.js';
export { plan, type Plan, type PlanContext } from './plan.js';
export { inDirectorOrder } from './order.js';
export { applyToModel, dumpModel, type ModelDestination, type ModelService } from './kernel-model.js';
export { cidrOwnership, serviceOwnership } from './ownership.js';
export { ControllerMetrics, type ControllerMetricsOptions } from './metrics.js';
export { desiredNames } from './metric-names.js';
// The heap settings a director runs with (the benches start the controller the same way).
export { DEFAULT_HEAP_GROWING_PERCENT, DIRECTOR_NODE_OPTIONS, limitHeapGrowth } from '@balanced/k8s';
