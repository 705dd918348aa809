export { plan, type Plan, type PlanContext } from './plan.js';
export { applyToModel, dumpModel, ModelError, type ModelDestination, type ModelService } from './kernel-model.js';
export type { ActualService, DesiredDestination, DesiredService } from './model.js';
export { drainKey } from './keys.js';
