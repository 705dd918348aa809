// The defaults a policy gets on admission, as RFC 6902 JSON Patch operations against the
// object as submitted. Only absent fields inside objects that exist are added; nothing is
// replaced, so applying the patch twice changes nothing (the second call returns []).
// The CRD schema declares the same defaults (POLICY_DEFAULTS); a test checks they agree.

import { prop } from '@balanced/k8s';

import { POLICY_DEFAULTS, policyKindOf } from './constants.js';

export interface AddOperation {
  readonly op: 'add';
  readonly path: string;
  readonly value: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function portDefaults(list: unknown, path: string, ops: AddOperation[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry: unknown, i) => {
    if (isObject(entry) && prop(entry, 'protocol') === undefined) ops.push({ op: 'add', path: `${path}/${i}/protocol`, value: POLICY_DEFAULTS.protocol });
  });
}

export function defaultingPatch(object: unknown): AddOperation[] {
  const ops: AddOperation[] = [];
  const kind = policyKindOf(prop(object, 'kind'));
  const spec = prop(object, 'spec');
  if (kind === undefined || !isObject(spec)) return ops;
  const frontend = prop(spec, 'frontend');
  for (const matcher of ['addressMatcher', 'serviceMatcher'] as const) {
    const m = prop(frontend, matcher);
    if (isObject(m)) portDefaults(prop(m, 'toPorts'), `/spec/frontend/${matcher}/toPorts`, ops);
  }
  const backend = prop(spec, 'backend');
  if (kind === 'LocalRedirectPolicy') {
    if (isObject(backend)) portDefaults(prop(backend, 'toPorts'), '/spec/backend/toPorts', ops);
  } else {
    const service = prop(backend, 'serviceEndpoint');
    if (isObject(service)) {
      portDefaults(prop(service, 'toPorts'), '/spec/backend/serviceEndpoint/toPorts', ops);
      if (prop(service, 'redirectMode') === undefined) ops.push({ op: 'add', path: '/spec/backend/serviceEndpoint/redirectMode', value: POLICY_DEFAULTS.redirectMode });
    }
    const address = prop(backend, 'addressEndpoint');
    if (isObject(address)) portDefaults(prop(address, 'toPorts'), '/spec/backend/addressEndpoint/toPorts', ops);
  }
  const config = prop(spec, 'config');
  if (config === undefined) ops.push({ op: 'add', path: '/spec/config', value: { enableOutCluster: POLICY_DEFAULTS.enableOutCluster } });
  else if (isObject(config) && prop(config, 'enableOutCluster') === undefined) ops.push({ op: 'add', path: '/spec/config/enableOutCluster', value: POLICY_DEFAULTS.enableOutCluster });
  return ops;
}
