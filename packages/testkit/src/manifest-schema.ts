// Schema checks for Kubernetes manifests, shared by the tests that validate deploy/, example/
// and the docs' YAML examples: built-in kinds against the OpenAPI schema shipped by
// kubernetes-models, custom kinds against the openAPIV3Schema of the CRDs in deploy/.
// ajv and kubernetes-models are loaded on first use only, so importing @balanced/testkit costs
// nothing for the code that never checks a manifest (the CLI's `lab` command, the lab runner).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

import { findRepoRoot } from './repo-root.js';

export type ManifestDoc = Record<string, unknown>;

export function isManifestRecord(v: unknown): v is ManifestDoc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every non-empty document of a multi-document YAML text; throws naming `source` on a syntax error. */
export function readYamlDocuments(text: string, source: string): ManifestDoc[] {
  const out: ManifestDoc[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) throw new Error(`${source}: ${d.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = d.toJS();
    if (js === null || js === undefined) continue;
    if (!isManifestRecord(js)) throw new Error(`${source}: a document is not an object`);
    out.push(js);
  }
  return out;
}

export function readYamlFile(path: string): ManifestDoc[] {
  return readYamlDocuments(readFileSync(path, 'utf8'), path);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const rec = (v: unknown): ManifestDoc => (isManifestRecord(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `apiVersion kind` of a document, the key of crdSchemas(). */
export function schemaKey(doc: ManifestDoc): string {
  return `${str(doc['apiVersion'])} ${str(doc['kind'])}`;
}

/** The openAPIV3Schema of every CRD version among `docs`, by `group/version Kind`. */
export function crdSchemas(docs: readonly ManifestDoc[]): Map<string, ManifestDoc> {
  const out = new Map<string, ManifestDoc>();
  for (const doc of docs) {
    if (doc['kind'] !== 'CustomResourceDefinition') continue;
    const spec = rec(doc['spec']);
    const group = str(spec['group']);
    const kind = str(rec(spec['names'])['kind']);
    for (const v of arr(spec['versions'])) {
      out.set(`${group}/${str(rec(v)['name'])} ${kind}`, rec(rec(rec(v)['schema'])['openAPIV3Schema']));
    }
  }
  return out;
}

/** The CRD schemas of every manifest under `<repo>/deploy/`. */
export function deployCrdSchemas(root: string = findRepoRoot()): Map<string, ManifestDoc> {
  const dir = join(root, 'deploy');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  return crdSchemas(files.flatMap((f) => readYamlFile(join(dir, f))));
}

interface Model {
  validate(): void;
}
type ModelClass = new (data: ManifestDoc) => Model;

/** The kubernetes-models class for apiVersion + kind (core kinds in kubernetes-models/v1). */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const cls = mod[kind];
  return typeof cls === 'function' ? (cls as ModelClass) : undefined;
}

/** Why a built-in object fails the Kubernetes OpenAPI schema, or undefined when it passes. */
export async function builtinSchemaErrors(doc: ManifestDoc): Promise<string | undefined> {
  const cls = await modelFor(str(doc['apiVersion']), str(doc['kind']));
  if (cls === undefined) return `no Kubernetes schema for ${schemaKey(doc)}`;
  try {
    new cls(doc).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

interface Validator {
  (data: unknown): boolean;
  errors?: readonly { readonly instancePath: string; readonly message?: string }[] | null;
}
interface SchemaCompiler {
  compile(schema: ManifestDoc): Validator;
}
let compiler: SchemaCompiler | undefined;
const compiled = new WeakMap<ManifestDoc, Validator>();
/** OpenAPI formats Kubernetes schemas use that ajv does not know: accepted as they are (the API server checks them). */
const KUBERNETES_FORMATS = { int32: true, int64: true, 'date-time': true, byte: true } as const;

/** Why a custom object fails its CRD's openAPIV3Schema (CEL rules are not evaluated), or undefined. */
export async function crdSchemaErrors(schema: ManifestDoc, doc: ManifestDoc): Promise<string | undefined> {
  if (compiler === undefined) {
    const { Ajv } = await import('ajv');
    compiler = new Ajv({ strict: false, allErrors: true, formats: KUBERNETES_FORMATS });
  }
  const validate = compiled.get(schema) ?? compiler.compile(schema);
  compiled.set(schema, validate);
  if (validate(doc)) return undefined;
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

/** A custom kind's CRD schema when `crds` has one, else the built-in Kubernetes schema. */
export async function manifestSchemaErrors(doc: ManifestDoc, crds: ReadonlyMap<string, ManifestDoc>): Promise<string | undefined> {
  const schema = crds.get(schemaKey(doc));
  return schema === undefined ? builtinSchemaErrors(doc) : crdSchemaErrors(schema, doc);
}
