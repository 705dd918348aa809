import type { ClusterObjects } from './cluster-objects.js';
import { readCluster } from './cluster-read.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { readManifests } from './manifests.js';
import { withProgress } from './progress.js';

/** Options every subcommand that reads cluster state takes. */
export interface SourceOptions {
  readonly kubeconfig?: string;
  readonly file?: readonly string[];
  readonly timeout: number;
}

/** The cluster state from --kubeconfig or -f files; undefined when neither was given. */
export async function readSource(io: CliIo, o: SourceOptions): Promise<ClusterObjects | undefined> {
  const files = o.file ?? [];
  if (o.kubeconfig !== undefined && files.length > 0) throw new UsageError('give either --kubeconfig or -f files, not both');
  if (files.length > 0) {
    const read = await readManifests(files);
    for (const line of read.skipped) io.err(`skipped ${line}\n`);
    return read.objects;
  }
  if (o.kubeconfig !== undefined) {
    const kubeconfig = o.kubeconfig;
    return withProgress(io, `reading the cluster (${kubeconfig})`, () => readCluster({ kubeconfig, timeoutMs: o.timeout * 1000, warn: (m) => io.err(`warning: ${m}\n`) }));
  }
  return undefined;
}
