// What the cluster cache does with a failed list or watch besides retrying it: remember it per
// kind (for readiness), count it (balanced_informer_errors_total{kind,code}) and log it, at most
// once a minute per kind while it lasts, and once more when the kind recovers.
//
// An informer error heals by itself (the cache restarts the informer with backoff), so a
// streak is over as soon as a list or a watch succeeds again.

import { ApiException } from '@kubernetes/client-node';
import { Counter } from 'prom-client';

/** The part of a pino Logger the cache uses (a pino Logger is one). */
export interface CacheLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/** A run of failures of one kind's list or watch, not yet followed by a success. */
export interface InformerErrorStreak {
  /** `403`, `401`, `500`, … or a socket error (`ECONNREFUSED`), or `unknown`. */
  readonly code: string;
  /** One line, e.g. `HTTP 403: services is forbidden: …`. */
  readonly message: string;
  /** Clock time of the first failure of the streak. */
  readonly since: number;
  /** Failures in the streak. */
  readonly count: number;
}

export const INFORMER_ERRORS_METRIC = 'balanced_informer_errors_total';

/** HTTP status, socket error code or `unknown`, and one line saying what happened. */
export function classifyInformerError(err: unknown): { code: string; message: string } {
  if (err instanceof ApiException) {
    return { code: String(err.code), message: `HTTP ${err.code}: ${messageOfBody(err.body)}` };
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    const message = typeof e.message === 'string' ? e.message : JSON.stringify(err);
    if (typeof e.statusCode === 'number') return { code: String(e.statusCode), message: `HTTP ${e.statusCode}: ${message}` };
    if (typeof e.code === 'number') return { code: String(e.code), message: `HTTP ${e.code}: ${message}` };
    if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code)) return { code: e.code, message };
    const cause = e.cause as { code?: unknown } | undefined;
    if (typeof cause?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(cause.code)) return { code: cause.code, message };
    return { code: 'unknown', message };
  }
  return { code: 'unknown', message: String(err) };
}

function messageOfBody(body: unknown): string {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body;
    }
  }
  if (typeof value === 'object' && value !== null) {
    const message = (value as { message?: unknown }).message;
    return typeof message === 'string' ? message : JSON.stringify(value);
  }
  return String(value);
}

export interface InformerErrorsOptions {
  readonly log: CacheLog | undefined;
  readonly now: () => number;
  /** While a streak lasts, log it again at most this often. */
  readonly logIntervalMs: number;
}

/** Per kind: the current streak; one counter for every kind. */
export class InformerErrors {
  readonly counter = new Counter({
    name: INFORMER_ERRORS_METRIC,
    help: 'Failed lists and watches of the cluster cache, by kind and HTTP status (or socket error code)',
    labelNames: ['kind', 'code'] as const,
    registers: [],
  });
  private readonly streaks = new Map<string, InformerErrorStreak & { loggedAt: number; loggedCount: number }>();

  constructor(private readonly options: InformerErrorsOptions) {}

  failed(kind: string, err: unknown): void {
    const { code, message } = classifyInformerError(err);
    this.counter.inc({ kind, code });
    const now = this.options.now();
    const before = this.streaks.get(kind);
    const streak = { code, message, since: before?.since ?? now, count: (before?.count ?? 0) + 1, loggedAt: before?.loggedAt ?? -Infinity, loggedCount: before?.loggedCount ?? 0 };
    const changed = before === undefined || before.code !== code;
    if (changed || now - streak.loggedAt >= this.options.logIntervalMs) {
      this.options.log?.warn(
        { kind, code, failures: streak.count, sinceMs: now - streak.since, ...(before === undefined ? {} : { failuresSinceLastLog: streak.count - streak.loggedCount }) },
        `cluster cache: ${kind} ${before === undefined ? 'failed' : 'still failing'} (${message}); retrying with backoff, reading the last known state meanwhile`,
      );
      streak.loggedAt = now;
      streak.loggedCount = streak.count;
    }
    this.streaks.set(kind, streak);
  }

  succeeded(kind: string): void {
    const streak = this.streaks.get(kind);
    if (streak === undefined) return;
    this.streaks.delete(kind);
    this.options.log?.info({ kind, failures: streak.count, afterMs: this.options.now() - streak.since }, `cluster cache: ${kind} recovered`);
  }

  /** The kind's current streak, if it is failing. */
  streak(kind: string): InformerErrorStreak | undefined {
    const s = this.streaks.get(kind);
    return s === undefined ? undefined : { code: s.code, message: s.message, since: s.since, count: s.count };
  }
}
