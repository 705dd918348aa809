import type { ServiceOptions } from '../model.js';
import { SVC_F_AFFINITY, SVC_F_LOCAL_ONLY, SVC_F_REFUSE_EMPTY } from '../maps/layout.js';

/** service_header.flags for a desired service's options. */
export function serviceFlags(options: ServiceOptions): number {
  return (
    (options.affinityTimeoutSeconds === undefined ? 0 : SVC_F_AFFINITY) |
    (options.localOnly ? SVC_F_LOCAL_ONLY : 0) |
    (options.refuseWhenEmpty ? SVC_F_REFUSE_EMPTY : 0)
  );
}
