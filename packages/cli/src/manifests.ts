import { readFile } from 'node:fs/promises';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ClusterObjects } from './cluster-objects.js';
import { CliError, messageOf } from './errors.js';

export interface ManifestRead {
  readonly objects: ClusterObjects;
  /** Documents that were skipped (other kinds), one line each. */
  readonly skipped: readonly string[];
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads multi-document YAML (or JSON) files of Services, EndpointSlices, Pods, Nodes,
 * VipPools, LocalRedirectPolicies and BalancingPolicies (a `kind: List` is opened). Namespaced
 * objects without a namespace get `default`, as kubectl would apply them; a Pod without
 * `metadata.uid` gets {@link manifestPodUid}, as the API server would give it one (a
 * LocalRedirectPolicy uses only pods with a uid: the agent finds a pod's cgroup by it). Other
 * kinds are skipped and named in `skipped`.
 */
export async function readManifests(files: readonly string[]): Promise<ManifestRead> {
  const services: V1Service[] = [];
  const endpointSlices: V1EndpointSlice[] = [];
  const pods: V1Pod[] = [];
  const nodes: V1Node[] = [];
  const vipPools: unknown[] = [];
  const localRedirectPolicies: unknown[] = [];
  const balancingPolicies: unknown[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${messageOf(e)}`);
    }
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) throw new CliError(`${file}: not YAML`);
    docs.forEach((doc, i) => {
      if (doc.errors.length > 0) throw new CliError(`${file}: document ${i + 1}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const items = isRec(value) && value.kind === 'List' && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
      for (const item of items) {
        if (!isRec(item) || typeof item.kind !== 'string') throw new CliError(`${file}: document ${i + 1}: not a Kubernetes object (no kind)`);
        const meta = isRec(item.metadata) ? item.metadata : {};
        const name = typeof meta.name === 'string' ? meta.name : '';
        if (name === '') throw new CliError(`${file}: document ${i + 1}: ${item.kind} without metadata.name`);
        const namespaced = { ...item, metadata: { namespace: 'default', ...meta } };
        switch (item.kind) {
          case 'Service':
            services.push(namespaced as V1Service);
            break;
          case 'EndpointSlice':
            endpointSlices.push(namespaced as V1EndpointSlice);
            break;
          case 'Pod': {
            const m = namespaced.metadata;
            pods.push({ ...namespaced, metadata: { uid: manifestPodUid(m.namespace, name), ...m } } as V1Pod);
            break;
          }
          case 'Node':
            nodes.push(item as V1Node);
            break;
          case 'VipPool':
            vipPools.push(item);
            break;
          case 'LocalRedirectPolicy':
            localRedirectPolicies.push(item);
            break;
          case 'BalancingPolicy':
            balancingPolicies.push(item);
            break;
          default:
            skipped.push(`${file}: document ${i + 1}: ${item.kind} ${name} (not read by balanced's CLI)`);
        }
      }
    });
  }
  return { objects: { services, endpointSlices, pods, nodes, vipPools, localRedirectPolicies, balancingPolicies }, skipped };
}

/** The uid a manifest Pod without one is read with: stable, and never the uid of a real pod (not a UUID). */
export function manifestPodUid(namespace: unknown, name: string): string {
  return `manifest:${typeof namespace === 'string' ? namespace : 'default'}/${name}`;
}
