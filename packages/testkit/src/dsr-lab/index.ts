export {
  planDsrLab,
  planNamespaces,
  clientEndpoints,
  type DsrLabOptions,
  type DsrLabPlan,
  type ClientPlan,
  type RouterPlan,
  type DirectorPlan,
  type NodePlan,
  type PodPlan,
  type LabLink,
} from './plan.js';
export { createDsrTopology, type DsrTopology } from './topology.js';
export { CleanupStack } from './cleanup.js';
export { ipBatch, setSysctls, readSysctls } from './netns-config.js';
export { renderRouterBirdConfig, renderDirectorBirdConfig } from './bird-config.js';
export { startBird, type BirdDaemon, type StartBirdOptions } from './bird-daemon.js';
export {
  parseIpJsonRoutes,
  readVipRoutes,
  birdVipNexthops,
  waitForVipNexthops,
  pinVipRoute,
  unpinVipRoute,
  disconnectDirector,
  PIN_METRIC,
  type VipRoute,
} from './router-routes.js';
export {
  DIRECTOR_IPVS_SYSCTLS,
  labServiceKeys,
  programDirectorManually,
  setDestinationWeight,
  readDirectorTable,
  readIpvsConnections,
} from './director-manual.js';
export { configurePodTunnelManually, IPIP_OVERHEAD } from './pod-manual.js';
export { startRouterBird, startDirectorBird, startPodServers, startLabClient } from './steps.js';
export { createDsrLab, type CreateDsrLabOptions, type DsrLab, type DsrLabSteps } from './lab.js';
export { RECORD_RESULTS_ENV, benchResultsDir, writeBenchResults } from './results-file.js';
