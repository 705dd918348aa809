// Runs the built `balanced` binary (packages/cli/dist/main.js) as a user would, and returns
// its exit status and output. Build first: npx tsc -b packages/cli/tsconfig.build.json.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(CLI_ROOT, 'dist', 'main.js');
export const FIXTURES = join(CLI_ROOT, 'test', 'fixtures');
export const CLUSTER = join(FIXTURES, 'cluster.yaml');
/** LocalRedirectPolicy / BalancingPolicy over CLUSTER (read with it). */
export const POLICIES = join(FIXTURES, 'policies.yaml');
export const ANNOUNCER = join(FIXTURES, 'announcer.yaml');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runBalanced(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (npx tsc -b packages/cli/tsconfig.build.json)`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`balanced ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
}
