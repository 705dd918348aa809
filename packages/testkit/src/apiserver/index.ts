export { TestApiServer, type TestApiServerOptions, type RestartOptions, type LoadResult } from './server.js';
export { ADMIN_USER } from './access.js';
export { authorize, forbiddenMessage, ruleAllows, serviceAccountUser, type RbacObjects, type RequestAttributes, type UserInfo } from './rbac.js';
export { ObjectStore, type ListOptions, type StoreEvent, type StoreListener, kubeTimestamp } from './store.js';
export {
  ResourceRegistry,
  BUILTIN_RESOURCES,
  apiVersionOf,
  type CustomResourceDefinition,
  type ResourceType,
} from './resources.js';
export type { RecordedRequest } from './router.js';
export type { KubeObject, ObjectMeta, StoredObject } from './types.js';
export type { StatusObject, StatusReason } from './status.js';
export { parseLabelSelector, matchesLabels, parseFieldSelector } from './selectors.js';
export { mergePatch, jsonPatch } from './patch.js';
export { testKubeConfig, testKubeconfigYaml } from './kubeconfig.js';
