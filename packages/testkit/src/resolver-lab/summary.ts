import type { LoopAttempt } from './resolver-client.js';

export interface ParsedEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Parses `10.0.0.1:80` or `[fd00::1]:80` (the form the client's `peers`/`sources` keys use). */
export function parseEndpoint(text: string): ParsedEndpoint {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(text) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(text);
  if (m === null) throw new Error(`bad endpoint ${JSON.stringify(text)} (want a.b.c.d:port or [v6]:port)`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in ${JSON.stringify(text)}`);
  return { address: m[1]!, port };
}

/** The inverse of {@link parseEndpoint}. */
export function formatEndpoint(e: ParsedEndpoint): string {
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    count: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    mean: values.length === 0 ? Number.NaN : sum / values.length,
  };
}

export interface TimelineSummary {
  readonly attempts: number;
  readonly ok: number;
  readonly failed: number;
  /** Successful attempts per backend. */
  readonly backends: Record<string, number>;
  /** Failed attempts per error. */
  readonly failures: Record<string, number>;
  /** Times the answering backend differs from the previous successful attempt's. */
  readonly switches: readonly { readonly t: number; readonly from: string; readonly to: string }[];
  /** Longest run of consecutive failures: its first and last attempt times and count. */
  readonly longestOutage: { readonly from: number; readonly to: number; readonly attempts: number } | undefined;
  /** Largest gap between two consecutive attempts' start times (ms). */
  readonly maxGapMs: number;
}

/** Summarises a churn loop's timeline (attempt order = time order). */
export function summarizeTimeline(timeline: readonly LoopAttempt[]): TimelineSummary {
  const backends: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const switches: { t: number; from: string; to: string }[] = [];
  let last: string | undefined;
  let run: { from: number; to: number; attempts: number } | undefined;
  let longest: { from: number; to: number; attempts: number } | undefined;
  let maxGapMs = 0;
  let ok = 0;
  timeline.forEach((a, i) => {
    if (i > 0) maxGapMs = Math.max(maxGapMs, a.t - timeline[i - 1]!.t);
    if (a.ok) {
      ok += 1;
      backends[a.backend] = (backends[a.backend] ?? 0) + 1;
      if (last !== undefined && last !== a.backend) switches.push({ t: a.t, from: last, to: a.backend });
      last = a.backend;
      run = undefined;
    } else {
      failures[a.error] = (failures[a.error] ?? 0) + 1;
      run = run === undefined ? { from: a.t, to: a.t, attempts: 1 } : { from: run.from, to: a.t, attempts: run.attempts + 1 };
      if (longest === undefined || run.attempts > longest.attempts) longest = run;
    }
  });
  return { attempts: timeline.length, ok, failed: timeline.length - ok, backends, failures, switches, longestOutage: longest, maxGapMs };
}

/** Share of each key in counts (0..1), keys sorted. */
export function shares(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, total === 0 ? 0 : v / total]),
  );
}
