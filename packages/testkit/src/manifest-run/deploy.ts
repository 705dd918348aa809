// The documents of a deploy/ folder (every *.yaml but kustomization.yaml), as the runner reads them.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { CustomResourceDefinition } from '../apiserver/resources.js';
import { isManifestRecord, readYamlFile, type ManifestDoc } from '../manifest-schema.js';
import { findRepoRoot } from '../repo-root.js';

export function readDeployDocuments(dir: string = join(findRepoRoot(), 'deploy')): ManifestDoc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => readYamlFile(join(dir, f)));
}

/** What the test API server needs to serve the CustomResourceDefinitions among `docs` (their storage version). */
export function servedCustomResources(docs: readonly ManifestDoc[]): CustomResourceDefinition[] {
  const out: CustomResourceDefinition[] = [];
  for (const doc of docs) {
    if (doc['kind'] !== 'CustomResourceDefinition') continue;
    const spec = isManifestRecord(doc['spec']) ? doc['spec'] : {};
    const names = isManifestRecord(spec['names']) ? spec['names'] : {};
    const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isManifestRecord) : [];
    const storage = versions.find((v) => v['storage'] === true) ?? versions[0];
    const subresources = isManifestRecord(storage?.['subresources']) ? storage['subresources'] : {};
    out.push({
      group: String(spec['group']),
      version: String(storage?.['name']),
      plural: String(names['plural']),
      kind: String(names['kind']),
      namespaced: spec['scope'] === 'Namespaced',
      statusSubresource: subresources['status'] !== undefined,
    });
  }
  return out;
}
