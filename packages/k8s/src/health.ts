// /healthz (liveness), /readyz (readiness) and /metrics (Prometheus) on one small HTTP server.
// Probes answer with text: `ok`, or what is wrong (kubectl describe shows it on failure).

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

export type ReadyResult = boolean | { ok: boolean; detail?: string };

export interface HealthServerOptions {
  /** 0 = a free port (see `url`). */
  port: number;
  /** Default 0.0.0.0: kubelet probes and Prometheus scrapes come from off the host's loopback. */
  host?: string;
  ready: () => ReadyResult;
  /** Default: always live (a process that can answer is alive). */
  live?: () => boolean;
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
      const live = safe(() => options.live?.() ?? true);
      if (live.ok) reply(res, 200, 'ok\n');
      else reply(res, 500, `not live${live.detail ? `: ${live.detail}` : ''}\n`);
      return;
    }
    case '/readyz': {
      const ready = safe(() => options.ready());
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

/** Run a probe; a probe that throws counts as failing, with its message as the detail. */
function safe(probe: () => ReadyResult): { ok: boolean; detail?: string } {
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
