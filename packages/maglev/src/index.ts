// Maglev: createMaglev (weighted lookup table), kernelMh/explain (exact model of the kernel's ip_vs_mh), the kernel's mh config, and table quality/disruption figures.
export {
  ALLOWED_TABLE_SIZES,
  createMaglev,
  type Backend,
  type Hash128,
  type Maglev,
  type MaglevOptions,
  type MaglevTable,
  type MaglevWarning,
  type SlotTable,
} from './maglev.js';
export {
  explain,
  kernelMh,
  mhHashkey,
  type KernelMhModel,
  type MhDestination,
  type MhExplanation,
  type MhOptions,
  type MhService,
} from './kernel-mh.js';
export { readKernelMhConfig, type KernelMhConfig, type ReadKernelMhConfigOptions } from './kernel-config.js';
export { disruption, quality, type Disruption, type QualityReport } from './quality.js';
export type { AddressFamily } from './address.js';
export { MaglevError, type MaglevErrorCode } from './errors.js';
