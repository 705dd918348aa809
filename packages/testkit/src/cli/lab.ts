#!/usr/bin/env node
import { resolve } from 'node:path';
import { findRepoRoot } from '../repo-root.js';
import { LabBootError } from '../vm/errors.js';
import { runInVm } from '../vm/run.js';
import { LAB_USAGE, forwardedEnv, guestCwd, labInvocation } from './lab-command.js';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

async function main(): Promise<number> {
  const repo = findRepoRoot();
  // Relative paths (jest's config, example files) resolve against the repository root.
  const jestCache = process.env.BALANCED_LAB_JEST_CACHE_DIR;
  const invocation = labInvocation(
    process.argv.slice(2),
    process.execPath,
    guestCwd(process.cwd(), repo),
    ...(jestCache !== undefined && jestCache !== '' ? [resolve(repo, jestCache)] : []),
  );
  if (invocation === undefined) {
    process.stderr.write(`${LAB_USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  let atLineStart = true;
  try {
    const result = await runInVm({
      command: invocation.command,
      env: { ...forwardedEnv(process.env, process.stdout.isTTY === true), ...invocation.env },
      cwd: invocation.cwd,
      timeoutMs: positiveInt('BALANCED_LAB_TIMEOUT_MS', 600_000),
      memoryMb: positiveInt('BALANCED_LAB_MEMORY_MB', 1024),
      cpus: positiveInt('BALANCED_LAB_CPUS', 2),
      ...(process.env.BALANCED_LAB_TRACE === '1' ? { kernelAppend: 'lab.trace' } : {}),
      onOutput: (text) => {
        if (text !== '') atLineStart = text.endsWith('\n');
        process.stdout.write(text);
      },
    });
    if (!atLineStart) process.stdout.write('\n');
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`lab: guest exited ${result.exitCode}; boot+run ${secs} s (${result.attempts} boot${result.attempts > 1 ? 's' : ''})\n`);
    return result.exitCode;
  } catch (e) {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (e instanceof LabBootError) {
      process.stderr.write(`\n!!!!! LAB VM BOOT FAILURE after ${secs} s (${e.attempts} attempts) !!!!!\n${e.message}\n`);
      return 125;
    }
    process.stderr.write(`\n!!!!! lab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 125;
  }
}

process.exitCode = await main();
