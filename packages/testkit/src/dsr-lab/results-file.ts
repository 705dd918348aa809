import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findRepoRoot } from '../repo-root.js';

/** Writes `<repo>/bench/results/<name>.json` (pretty-printed, trailing newline); returns its path. */
export async function writeBenchResults(name: string, data: unknown): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new RangeError(`bad results name ${name}`);
  const dir = join(findRepoRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
