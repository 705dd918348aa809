export { createProgram, runCli } from './program.js';
export { processIo, type CliIo } from './io.js';
export { CliError, ReportedFailure, UsageError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
export { PLAN_COMPONENTS } from './commands/plan.js';
export { STATUS_COMPONENTS, DEFAULT_BIRD_SOCKET } from './commands/status.js';
export { DEFAULT_PIN_ROOT } from './options.js';
export { readManifests, type ManifestRead } from './manifests.js';
export type { ClusterObjects } from './cluster-objects.js';
