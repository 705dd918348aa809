export { findRepoRoot, findWorkspaceRootFrom, labCacheDir } from './repo-root.js';
export { run, runChecked, type ExecResult } from './exec.js';
export {
  KERNEL_ENV,
  compareKernelVersions,
  selectKernelVersion,
  findKernelVersion,
  extractVmlinux,
  ensureVmlinux,
} from './vm/kernel.js';
export { INITRAMFS_MODULES, parseShowDepends, initramfsModuleFiles, initramfsKey, ensureInitramfs } from './vm/initramfs.js';
export { renderInitScript, type InitScriptOptions } from './vm/init-script.js';
export { renderRunScript, type GuestCommand, type RunScriptOptions } from './vm/run-script.js';
export { cpioNewc, cpioNewcGz, type CpioEntry } from './vm/cpio.js';
export { RUN_EXIT_MARKER, parseRunExit, stripCr, consoleTail, consoleDecoder } from './vm/console.js';
export { buildQemuArgs, qemuOptValue, type QemuArgsOptions } from './vm/qemu-args.js';
export { GUEST_EXCHANGE_DIR, GUEST_MODULES, IN_VM_ENV, MOUNT_TAGS } from './vm/guest.js';
export { LabBootError } from './vm/errors.js';
export { forwardedEnv } from './cli/lab-command.js';
export { shQuote } from './vm/shell.js';
export {
  runInVm,
  defaultGuestEnv,
  type RunInVmOptions,
  type RunInVmCommonOptions,
  type RunInVmResult,
} from './vm/run.js';
export {
  uniqueName,
  createNetns,
  deleteNetns,
  createVethPair,
  deleteVeth,
  execInNetns,
  spawnInNetns,
  withNetns,
  type NetnsScope,
  type VethEnd,
  type VethEndSpec,
  type VethPair,
} from './netns.js';
export * from './apiserver/index.js';
export { CLIENT_NET, DEST_NET, clientAddress, clientKey, createMhLab, parseIpvsConn, type Client, type ConnEntry, type MhLab, type ProbeOptions, type ProbeResult } from './mh-probe.js';
export * from './dsr-lab/index.js';
export * from './traffic/index.js';
export { manualTimers, type ManualTimers } from './manual-timers.js';
export * from './resolver-lab/index.js';
export { ENDPOINT_SLOTS, endpointChurn, initialEndpoints, seededRandom, type EndpointChange, type EndpointChangeKind, type EndpointChurnOptions } from './bench/endpoint-churn.js';
export { benchEndpointSlice, type BenchSliceSpec } from './bench/bench-slice.js';
export * from './faults/index.js';
export {
  builtinSchemaErrors,
  crdSchemaErrors,
  crdSchemas,
  deployCrdSchemas,
  isManifestRecord,
  manifestSchemaErrors,
  readYamlDocuments,
  readYamlFile,
  schemaKey,
  type ManifestDoc,
} from './manifest-schema.js';
export * from './policies/index.js';
export * from './manifest-run/index.js';
export { eventually } from './eventually.js';
export { createTestCa, opensslAvailable, SecretDir, type TestCa } from './test-ca.js';
