// /healthz (liveness), /readyz (readiness) and /metrics (Prometheus) on one small HTTP server.
// Probes answer with text: `ok`, or what is wrong (kubectl describe shows it on failure).
//
// What the words mean, for every component built on @balanced/k8s:
// - **Ready** = its caches are synced and its recent passes succeed. In detail:
//   - ClusterCache.readiness(): every watched kind has listed, and no kind has kept failing
//     (no successful list+watch) beyond its grace period: 30 s for refused credentials
//     (401/403, which will not heal by themselves), 120 s for anything else (API server down,
//     5xx, network: it hits every replica at once, and a director tier that withdraws itself
//     over an API outage turns it into a traffic outage). See DEFAULT_ERROR_GRACE_MS.
//   - PassLoop.readiness(): a pass has succeeded, and passes have not kept failing for
//     longer than failureGraceMs (default 10 s).
// - **Live** = the loop makes progress: PassLoop.liveness() turns false once one pass has run
//   for longer than stallMs (default 120 s), so the kubelet restarts a wedged process.
// - Informer failures are logged (rate-limited: the first, then once a minute per kind, then
//   the recovery) and counted in `balanced_informer_errors_total{kind,code}`
//   (code: HTTP status, or a socket error such as ECONNREFUSED).
//
// Wiring: pass the cache and the loop(s) as `checks`; the server ANDs their readiness and
// liveness with the component's own `ready`/`live` (whose detail comes first) and registers
// their metrics in `registry`:
//
//   startHealthServer({ port, registry, checks: [cache, loop], ready: () => componentReady })
//
// A check is anything with readiness(), liveness() and/or metrics() (HealthCheck).

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Metric, Registry } from 'prom-client';

export type ReadyResult = boolean | ProbeResult;

/** A probe's answer; `detail` says what is wrong (or what is right). */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail?: string;
}

/** Something whose health counts: a ClusterCache, a PassLoop, … (every method optional). */
export interface HealthCheck {
  readiness?(): ProbeResult;
  liveness?(): ProbeResult;
  metrics?(): readonly Metric[];
}

export interface HealthServerOptions {
  /** 0 = a free port (see `url`). */
  port: number;
  /** Default 0.0.0.0: kubelet probes and Prometheus scrapes come from off the host's loopback. */
  host?: string;
  ready: () => ReadyResult;
  /** Default: always live (a process that can answer is alive). */
  live?: () => ReadyResult;
  /** Caches and loops whose readiness/liveness count too, and whose metrics are registered in `registry`. */
  checks?: readonly HealthCheck[];
  registry: Registry;
}

export interface HealthServer {
  /** http://<host>:<port>, with a wildcard host shown as loopback. */
  readonly url: string;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const host = options.host ?? '0.0.0.0';
  for (const check of options.checks ?? []) {
    for (const metric of check.metrics?.() ?? []) {
      const name = (metric as unknown as { name: string }).name;
      if (options.registry.getSingleMetric(name) === undefined) options.registry.registerMetric(metric);
    }
  }
  const server = createServer((req, res) => {
    void handle(options, req, res).catch((err: unknown) => {
      reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, family } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = `http://${family === 'IPv6' || shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(options: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
    reply(res, 404, 'not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(res, 405, 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/healthz': {
      const live = combine([safe(() => options.live?.() ?? true), ...(options.checks ?? []).map((c) => safe(() => c.liveness?.() ?? true))]);
      if (live.ok) reply(res, 200, 'ok\n');
      else reply(res, 500, `not live${live.detail ? `: ${live.detail}` : ''}\n`);
      return;
    }
    case '/readyz': {
      const ready = combine([safe(() => options.ready()), ...(options.checks ?? []).map((c) => safe(() => c.readiness?.() ?? true))]);
      if (ready.ok) reply(res, 200, ready.detail ? `ok: ${ready.detail}\n` : 'ok\n');
      else reply(res, 503, `not ready${ready.detail ? `: ${ready.detail}` : ''}\n`);
      return;
    }
    case '/metrics': {
      const body = await options.registry.metrics();
      reply(res, 200, body, options.registry.contentType);
      return;
    }
  }
}

/** All must be ok; the details, in order, joined by `; `. */
export function combineProbes(results: readonly ProbeResult[]): ProbeResult {
  const details = results.map((r) => r.detail).filter((d): d is string => d !== undefined && d !== '');
  const ok = results.every((r) => r.ok);
  return details.length === 0 ? { ok } : { ok, detail: details.join('; ') };
}
const combine = combineProbes;

/** Run a probe; a probe that throws counts as failing, with its message as the detail. */
function safe(probe: () => ReadyResult): ProbeResult {
  try {
    const result = probe();
    return typeof result === 'boolean' ? { ok: result } : result;
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
