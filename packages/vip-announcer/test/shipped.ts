// What deploy/vip-announcer.yaml ships, read for tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { findRepoRoot } from '@balanced/testkit';

interface ShippedDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: ShippedContainer[] } } };
}

export interface ShippedContainer {
  name: string;
  args?: string[];
  readinessProbe?: { httpGet?: { host?: string } };
  livenessProbe?: { httpGet?: { host?: string } };
}

function deployDocs(): ShippedDoc[] {
  return parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-announcer.yaml'), 'utf8')).map((d) => d.toJS() as ShippedDoc);
}

/** A container of the DaemonSet of deploy/vip-announcer.yaml. */
export function deployContainer(name: string): ShippedContainer {
  const ds = deployDocs().find((d) => d.kind === 'DaemonSet');
  const c = ds?.spec?.template?.spec?.containers?.find((x) => x.name === name);
  if (c === undefined) throw new Error(`deploy/vip-announcer.yaml has no DaemonSet container ${name}`);
  return c;
}

/** The data of a ConfigMap of deploy/vip-announcer.yaml. */
export function deployConfigMap(name: string): Record<string, string> {
  const docs = deployDocs();
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name);
  if (cm?.data === undefined) throw new Error(`deploy/vip-announcer.yaml has no ConfigMap ${name}`);
  return cm.data;
}
