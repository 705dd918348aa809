// What deploy/vip-announcer.yaml ships, read for tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { findRepoRoot } from '@balanced/testkit';

/** The data of a ConfigMap of deploy/vip-announcer.yaml. */
export function deployConfigMap(name: string): Record<string, string> {
  const docs = parseAllDocuments(readFileSync(join(findRepoRoot(), 'deploy', 'vip-announcer.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> });
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name);
  if (cm?.data === undefined) throw new Error(`deploy/vip-announcer.yaml has no ConfigMap ${name}`);
  return cm.data;
}
