// Runs the CLI's runCli in this process with captured output: the same code path as the
// binary (main.ts only adds process.argv and process.exitCode), for places where spawning
// node per command is too slow (the lab VM runs under TCG emulation).
import { runCli } from '../src/program.js';
import type { CliRun } from './run-cli.js';

export async function runBalancedHere(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), errIsTty: false, env: process.env });
  return { code, stdout, stderr };
}
