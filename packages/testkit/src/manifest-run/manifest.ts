// Reading workloads out of parsed manifest documents (deploy/*.yaml): field readers that
// refuse a wrong type with the field's path instead of guessing.

import { isManifestRecord, type ManifestDoc } from '../manifest-schema.js';
import { ManifestRunError } from './types.js';

export type Fields = ManifestDoc;

export function record(value: unknown, path: string): Fields {
  if (value === undefined || value === null) return {};
  if (!isManifestRecord(value)) throw new ManifestRunError(`${path}: expected an object`);
  return value;
}

export function list(value: unknown, path: string): Fields[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ManifestRunError(`${path}: expected a list`);
  return value.map((v, i) => record(v, `${path}[${i}]`));
}

export function strings(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ManifestRunError(`${path}: expected a list of strings`);
  return value as string[];
}

export function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ManifestRunError(`${path}: expected a string`);
  return value;
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ManifestRunError(`${path}: expected true or false`);
  return value;
}

export function optionalInteger(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ManifestRunError(`${path}: expected an integer`);
  return value;
}

/** `kind/namespace/name` of a document. */
export function objectKey(doc: Fields): string {
  const meta = record(doc['metadata'], 'metadata');
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
  return `${String(doc['kind'])}/${ns}${String(meta['name'])}`;
}

const WORKLOAD_KINDS = ['DaemonSet', 'Deployment', 'StatefulSet', 'Job', 'Pod'];

/** The DaemonSet/Deployment/StatefulSet/Job/Pod named `name` among `docs`; throws when absent or ambiguous. */
export function findWorkload(docs: readonly Fields[], name: string): Fields {
  const found = docs.filter((d) => WORKLOAD_KINDS.includes(String(d['kind'])) && record(d['metadata'], 'metadata')['name'] === name);
  if (found.length === 0) throw new ManifestRunError(`no workload named ${name} (${WORKLOAD_KINDS.join(', ')})`);
  if (found.length > 1) throw new ManifestRunError(`${found.length} workloads named ${name}: ${found.map(objectKey).join(', ')}`);
  return found[0]!;
}

/** The pod template's metadata and spec (a Pod's own). */
export function podTemplate(workload: Fields): { metadata: Fields; spec: Fields } {
  if (workload['kind'] === 'Pod') return { metadata: record(workload['metadata'], 'metadata'), spec: record(workload['spec'], 'spec') };
  const template = record(record(workload['spec'], 'spec')['template'], 'spec.template');
  return { metadata: record(template['metadata'], 'spec.template.metadata'), spec: record(template['spec'], 'spec.template.spec') };
}

/** The ConfigMap or Secret `namespace/name` among `docs`. */
export function findObject(docs: readonly Fields[], kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Fields | undefined {
  return docs.find((d) => {
    const meta = record(d['metadata'], 'metadata');
    return d['kind'] === kind && meta['name'] === name && (meta['namespace'] ?? 'default') === namespace;
  });
}

/** A ConfigMap's or Secret's entries as text (Secret `data` is base64; `stringData` wins). */
export function objectData(obj: Fields, kind: 'ConfigMap' | 'Secret'): Map<string, string> {
  const out = new Map<string, string>();
  const data = record(obj['data'], `${kind}.data`);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') throw new ManifestRunError(`${kind}.data.${k}: expected a string`);
    out.set(k, kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v);
  }
  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(record(obj['binaryData'], 'ConfigMap.binaryData'))) {
      if (typeof v !== 'string') throw new ManifestRunError(`ConfigMap.binaryData.${k}: expected a string`);
      out.set(k, Buffer.from(v, 'base64').toString('utf8'));
    }
  } else {
    for (const [k, v] of Object.entries(record(obj['stringData'], 'Secret.stringData'))) {
      if (typeof v !== 'string') throw new ManifestRunError(`Secret.stringData.${k}: expected a string`);
      out.set(k, v);
    }
  }
  return out;
}
