// Records fault-matrix rows into faults.json under benchResultsDir() (issue 13; bench/results/
// when BALANCED_RECORD_RESULTS=1). Jest runs test
// files in parallel workers, so the read-merge-write is done under an exclusive lock file.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchResultsDir, writeBenchResults } from '../dsr-lab/results-file.js';
import { mergeFaultRows, type FaultRow } from './fault-row.js';

export const FAULTS_RESULTS = 'faults';

/** A lock older than this is from a killed writer and is taken over. */
const STALE_LOCK_MS = 30_000;

async function withLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() - started > STALE_LOCK_MS) {
        await rm(lock, { force: true });
        continue;
      }
      await sleep(20);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Adds or replaces (by name) these rows in faults.json under benchResultsDir(); returns the file's path. */
export async function recordFaults(...rows: FaultRow[]): Promise<string> {
  const dir = benchResultsDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${FAULTS_RESULTS}.json`);
  return withLock(`${file}.lock`, async () => writeBenchResults(FAULTS_RESULTS, mergeFaultRows(await readJson(file), rows)));
}

export type FaultResult = Omit<FaultRow, 'name' | 'passed'>;

/**
 * Starts a scenario: records `name` as not passed, nothing measured, and returns the function
 * that records its result as passed. A test that fails before calling it leaves its row failed
 * (never a stale pass from an earlier run).
 */
export async function faultScenario(name: string, operatorSaw: string): Promise<(result: FaultResult) => Promise<string>> {
  await recordFaults({ name, passed: false, recoverySeconds: null, lostServices: null, droppedConnections: null, operatorSaw: `(failed before the end) ${operatorSaw}` });
  return async (result) => recordFaults({ name, passed: true, ...result });
}

/** Seconds since `startMs` (a Date.now() value), in whole milliseconds. */
export function secondsSince(startMs: number): number {
  return Math.max(0, Math.round(Date.now() - startMs) / 1000);
}
