export { planMaps, type PlanOptions } from './plan-maps.js';
export { applyToDump } from './apply-to-dump.js';
export { assignBackendIds, type BackendAssignment } from './backend-ids.js';
export { assignServiceIds } from './service-ids.js';
export { MIN_TABLE_SIZE, backendMaglevId, createTableBuilder, tableSizeFor, type BuiltTable, type TableBuilder } from './service-table.js';
export { serviceFlags } from './service-flags.js';
export { SERVICE_MAX_BACKENDS, SVC_F_AFFINITY, SVC_F_LOCAL_ONLY, SVC_F_REFUSE_EMPTY } from '../maps/layout.js';
export { backendKey, compareFrontends, frontendKey } from './keys.js';
export { PlanInputError } from './plan-errors.js';
