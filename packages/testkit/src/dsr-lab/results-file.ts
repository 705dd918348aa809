import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot } from '../repo-root.js';

/** Set to 1 to let the tests that measure as they go record their figures in bench/results/. */
export const RECORD_RESULTS_ENV = 'BALANCED_RECORD_RESULTS';

/**
 * Where tests write the figures they measure: `<repo>/bench/results` (the committed record that
 * docs/benchmarks.md quotes) only when BALANCED_RECORD_RESULTS=1, else a folder under the
 * temporary directory, so that an ordinary test run never rewrites the record.
 */
export function benchResultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[RECORD_RESULTS_ENV] === '1' ? join(findRepoRoot(), 'bench', 'results') : join(tmpdir(), 'balanced-bench-results');
}

/** Writes `<benchResultsDir()>/<name>.json` (pretty-printed, trailing newline); returns its path. */
export async function writeBenchResults(name: string, data: unknown): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new RangeError(`bad results name ${name}`);
  const dir = benchResultsDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
