import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when `dir/package.json` declares npm workspaces (the monorepo root). */
function isWorkspaceRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'workspaces' in pkg;
  } catch {
    return false;
  }
}

/** Walks up from `start` to the first directory whose package.json has "workspaces". */
export function findWorkspaceRootFrom(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (isWorkspaceRoot(dir)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let cached: string | undefined;

/**
 * The repository root: found from this package's own location, falling back to the
 * current working directory. Never a fixed path (CI may clone anywhere, even under /tmp).
 */
export function findRepoRoot(): string {
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findWorkspaceRootFrom(here) ?? findWorkspaceRootFrom(process.cwd());
  if (root === undefined) {
    throw new Error(`cannot find the repository root (a package.json with "workspaces") above ${here} or ${process.cwd()}`);
  }
  cached = root;
  return root;
}

/** `<repo>/.lab`: the lab's cache folder (gitignored). */
export function labCacheDir(): string {
  return join(findRepoRoot(), '.lab');
}
