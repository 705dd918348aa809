import { execFile } from 'node:child_process';
import { constants } from 'node:os';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; a signal-terminated process reports 128 + signal number when known, else 1. */
  readonly code: number;
}

/** Runs a program with an argument array (never a shell string). Resolves with its status. */
export function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      file,
      [...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolvePromise({ stdout, stderr, code: 0 });
          return;
        }
        if (typeof error.code === 'number') {
          resolvePromise({ stdout, stderr, code: error.code });
        } else if (error.signal) {
          resolvePromise({ stdout, stderr, code: 128 + (constants.signals[error.signal] ?? 0) });
        } else {
          reject(error);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like {@link run} but throws when the program exits non-zero. */
export async function runChecked(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}
