// The HTTPS server the API server calls: POST /validate and POST /mutate (AdmissionReview
// v1 in, AdmissionReview v1 out), GET /healthz and /readyz for kubelet probes (over the same
// TLS the API server uses, so a probe proves the certificate loads). Metrics are on the
// separate plain-HTTP health server (app.ts).

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ReadyResult } from '@balanced/k8s';

import { admissionResponse, parseAdmissionReview, type AdmissionRequest } from './admission-review.js';
import type { KeyPair } from './certificates.js';
import { secureContextOptions } from './certificates.js';
import type { Endpoint, WebhookMetrics } from './metrics.js';
import type { Decision } from './review.js';

/** The API server sends at most ~3 MiB (object + oldObject); refuse anything far larger. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  readonly host: string;
  /** 0 = a free port. */
  readonly port: number;
  readonly keyPair: KeyPair;
  readonly validate: (request: AdmissionRequest) => Decision;
  readonly mutate: (request: AdmissionRequest) => Decision;
  readonly ready: () => ReadyResult;
  readonly metrics: WebhookMetrics;
}

export interface WebhookServer {
  readonly url: string;
  readonly server: Server;
  /** Serve this pair to new connections from now on. */
  useKeyPair(pair: KeyPair): void;
  close(): Promise<void>;
}

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(`body larger than ${MAX_BODY_BYTES} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

async function review(options: WebhookServerOptions, endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  let body: unknown;
  try {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) throw new BadRequest(`content-type must be application/json, got ${JSON.stringify(type)}`, 415);
    const raw = await readBody(req);
    try {
      body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new BadRequest('the body is not JSON');
    }
  } catch (err) {
    options.metrics.recordRequest(endpoint, '', '', 'bad_request', seconds());
    reply(res, err instanceof BadRequest ? err.status : 400, `${err instanceof Error ? err.message : String(err)}\n`);
    return;
  }
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) {
    options.metrics.recordRequest(endpoint, '', '', 'bad_request', seconds());
    reply(res, 400, `${parsed.message}\n`);
    return;
  }
  const { request } = parsed;
  const decision = endpoint === 'validate' ? options.validate(request) : options.mutate(request);
  options.metrics.recordRequest(endpoint, request.kind.kind, request.operation, decision.verdict.allowed ? 'allowed' : 'denied', seconds(), decision.denial);
  reply(res, 200, JSON.stringify(admissionResponse(request.uid, decision.verdict)), 'application/json');
}

function probe(res: ServerResponse, result: ReadyResult, what: string): void {
  const r = typeof result === 'boolean' ? { ok: result } : result;
  if (r.ok) reply(res, 200, 'ok\n');
  else reply(res, 503, `not ${what}${r.detail ? `: ${r.detail}` : ''}\n`);
}

async function handle(options: WebhookServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'https://localhost').pathname;
  const endpoint: Endpoint | undefined = path === '/validate' ? 'validate' : path === '/mutate' ? 'mutate' : undefined;
  if (endpoint !== undefined) {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      reply(res, 405, 'method not allowed: the API server POSTs AdmissionReviews here\n');
      return;
    }
    await review(options, endpoint, req, res);
    return;
  }
  if (path === '/healthz' || path === '/readyz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      reply(res, 405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') reply(res, 200, 'ok\n');
    else {
      let result: ReadyResult;
      try {
        result = options.ready();
      } catch (err) {
        result = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
      probe(res, result, 'ready');
    }
    return;
  }
  reply(res, 404, 'not found: POST /validate or /mutate\n');
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const server = createServer({ ...secureContextOptions(options.keyPair), minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(options, req, res).catch((err: unknown) => {
      const endpoint: Endpoint = (req.url ?? '').startsWith('/mutate') ? 'mutate' : 'validate';
      options.metrics.recordRequest(endpoint, '', '', 'error', 0);
      reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, family } = server.address() as AddressInfo;
  const shown = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '::1' : options.host;
  const url = `https://${family === 'IPv6' || shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  return {
    url,
    server,
    useKeyPair(pair) {
      server.setSecureContext(secureContextOptions(pair));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
