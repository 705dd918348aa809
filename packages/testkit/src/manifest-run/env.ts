// A container's environment as the kubelet builds it (pure): `env` entries in order (plain
// values with $(VAR) references to earlier entries, the downward API's fieldRef, ConfigMap and
// Secret keys), `envFrom`, and the $(VAR) expansion of command and args.

import { findObject, objectData, list, optionalBoolean, optionalString, record, type Fields } from './manifest.js';
import { ManifestRunError, type PodFacts } from './types.js';

/**
 * Kubernetes' $(VAR) expansion: `$(NAME)` becomes NAME's value when `lookup` knows it and stays
 * as written otherwise; `$$` is an escaped `$` (so `$$(NAME)` gives `$(NAME)`); any other `$` stays.
 */
export function expandReferences(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    const next = input[i + 1];
    if (c !== '$' || next === undefined) {
      out += c;
    } else if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** The pod fields the downward API's fieldRef may name, from the given facts. */
export function fieldRefValue(fieldPath: string, facts: PodFacts & { namespace: string; serviceAccountName: string }, metadata: Fields, where: string): string {
  switch (fieldPath) {
    case 'metadata.name':
      return facts.podName;
    case 'metadata.namespace':
      return facts.namespace;
    case 'metadata.uid':
      if (facts.uid === undefined) throw new ManifestRunError(`${where}: fieldRef metadata.uid: no pod uid given`);
      return facts.uid;
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return facts.serviceAccountName;
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
  }
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (m !== null) {
    const value = record(metadata[m[1]!], `metadata.${m[1]!}`)[m[2]!];
    return typeof value === 'string' ? value : '';
  }
  throw new ManifestRunError(`${where}: fieldRef ${JSON.stringify(fieldPath)} is not a field the downward API offers`);
}

export interface EnvContext {
  readonly facts: PodFacts & { namespace: string; serviceAccountName: string };
  /** The pod template's metadata (labels, annotations). */
  readonly metadata: Fields;
  /** ConfigMaps and Secrets that env may refer to. */
  readonly objects: readonly Fields[];
}

function keyRef(kind: 'ConfigMap' | 'Secret', ref: Fields, ctx: EnvContext, where: string): string | undefined {
  const name = optionalString(ref['name'], `${where}.name`) ?? '';
  const key = optionalString(ref['key'], `${where}.key`) ?? '';
  const optional = optionalBoolean(ref['optional'], `${where}.optional`) ?? false;
  const obj = findObject(ctx.objects, kind, ctx.facts.namespace, name);
  const value = obj === undefined ? undefined : objectData(obj, kind).get(key);
  if (value === undefined && !optional) throw new ManifestRunError(`${where}: ${kind} ${ctx.facts.namespace}/${name} has no key ${JSON.stringify(key)}`);
  return value;
}

/** The manifest's part of the environment (`envFrom`, then `env`), in order, values resolved. */
export function containerEnv(container: Fields, ctx: EnvContext, where: string): [string, string][] {
  const out: [string, string][] = [];
  const set = (name: string, value: string): void => {
    const i = out.findIndex(([n]) => n === name);
    if (i >= 0) out.splice(i, 1);
    out.push([name, value]);
  };
  for (const [i, from] of list(container['envFrom'], `${where}.envFrom`).entries()) {
    const prefix = optionalString(from['prefix'], `${where}.envFrom[${i}].prefix`) ?? '';
    const kind = from['configMapRef'] !== undefined ? 'ConfigMap' : from['secretRef'] !== undefined ? 'Secret' : undefined;
    if (kind === undefined) throw new ManifestRunError(`${where}.envFrom[${i}]: neither configMapRef nor secretRef`);
    const ref = record(from[kind === 'ConfigMap' ? 'configMapRef' : 'secretRef'], `${where}.envFrom[${i}]`);
    const name = optionalString(ref['name'], `${where}.envFrom[${i}].name`) ?? '';
    const obj = findObject(ctx.objects, kind, ctx.facts.namespace, name);
    if (obj === undefined) {
      if (optionalBoolean(ref['optional'], `${where}.envFrom[${i}].optional`) === true) continue;
      throw new ManifestRunError(`${where}.envFrom[${i}]: no ${kind} ${ctx.facts.namespace}/${name}`);
    }
    for (const [k, v] of objectData(obj, kind)) set(`${prefix}${k}`, v);
  }
  for (const [i, entry] of list(container['env'], `${where}.env`).entries()) {
    const name = optionalString(entry['name'], `${where}.env[${i}].name`);
    if (name === undefined || name === '') throw new ManifestRunError(`${where}.env[${i}]: no name`);
    const at = `${where}.env[${name}]`;
    const value = optionalString(entry['value'], `${at}.value`);
    const from = entry['valueFrom'] === undefined ? undefined : record(entry['valueFrom'], `${at}.valueFrom`);
    if (from === undefined) {
      // $(VAR) refers to the entries before this one.
      const earlier = new Map(out);
      set(name, expandReferences(value ?? '', (n) => earlier.get(n)));
      continue;
    }
    if (from['fieldRef'] !== undefined) {
      const path = optionalString(record(from['fieldRef'], `${at}.valueFrom.fieldRef`)['fieldPath'], `${at}.valueFrom.fieldRef.fieldPath`) ?? '';
      set(name, fieldRefValue(path, ctx.facts, ctx.metadata, at));
    } else if (from['configMapKeyRef'] !== undefined || from['secretKeyRef'] !== undefined) {
      const kind = from['configMapKeyRef'] !== undefined ? 'ConfigMap' : 'Secret';
      const v = keyRef(kind, record(from[kind === 'ConfigMap' ? 'configMapKeyRef' : 'secretKeyRef'], at), ctx, `${at}.valueFrom`);
      if (v !== undefined) set(name, v);
    } else {
      throw new ManifestRunError(`${at}.valueFrom: only fieldRef, configMapKeyRef and secretKeyRef are supported (${Object.keys(from).join(', ')})`);
    }
  }
  return out;
}

/** `NAME=value` entries (an image's Env) as pairs; throws on an entry without `=`. */
export function parseEnvEntries(entries: readonly string[], where: string): [string, string][] {
  return entries.map((e) => {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new ManifestRunError(`${where}: bad environment entry ${JSON.stringify(e)}`);
    return [e.slice(0, eq), e.slice(eq + 1)];
  });
}

/** `base` with `over` applied: a name already in `base` keeps its place and takes the new value (the image's env, then the container's). */
export function mergeEnv(base: readonly (readonly [string, string])[], over: readonly (readonly [string, string])[]): [string, string][] {
  const out: [string, string][] = base.map(([n, v]) => [n, v]);
  for (const [n, v] of over) {
    const i = out.findIndex(([m]) => m === n);
    if (i >= 0) out[i] = [n, v];
    else out.push([n, v]);
  }
  return out;
}
