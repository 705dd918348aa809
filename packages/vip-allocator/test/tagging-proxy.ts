// A loopback HTTP proxy in front of the test API server, one per allocator replica, so a test
// knows which replica sent each request (the API server cannot tell them apart). Streams
// (watches) pass through; a hook may act on a request just before it is forwarded, or answer
// it in the API server's place (a refusal, an outage).

import { createServer, request, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  /** Global order across every proxy sharing the log. */
  readonly seq: number;
  readonly who: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  /** Filled in when the API server answered. */
  status?: number;
  /** Whatever the test wants to note at forwarding time (e.g. the Lease holder). */
  readonly note: string | undefined;
}

export interface RequestLog {
  readonly entries: ProxiedRequest[];
  seq: number;
}

/** What a hook answers instead of the API server (the request is then not forwarded). */
export interface ProxyReply {
  readonly status: number;
  readonly body: unknown;
}

export type ProxyHook = (method: string, path: string, body: unknown) => ProxyReply | void;

export interface ProxyOptions {
  /** Hold every watch event this long before passing it on (a cache that lags behind). */
  watchDelayMs?: number;
}

export class TaggingProxy {
  private readonly upstream = new Set<ClientRequest>();
  hook: ProxyHook | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string, who: string, log: RequestLog, note?: () => string | undefined, options: ProxyOptions = {}): Promise<TaggingProxy> {
    const targetUrl = new URL(target);
    // Read by the request handler, assigned once the server listens (after the handler exists).
    // eslint-disable-next-line prefer-const
    let proxy: TaggingProxy | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        let body: unknown;
        try {
          body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          body = raw.toString('utf8');
        }
        const entry: ProxiedRequest | undefined =
          req.method === 'GET' ? undefined : { seq: ++log.seq, who, method: req.method ?? '', path, body, note: note?.() };
        if (entry !== undefined) log.entries.push(entry);
        const reply = proxy?.hook?.(req.method ?? '', path, body);
        if (reply !== undefined) {
          if (entry !== undefined) entry.status = reply.status;
          res.writeHead(reply.status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(reply.body));
          return;
        }
        const up = request(
          { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
          (upRes: IncomingMessage) => {
            if (entry !== undefined) entry.status = upRes.statusCode;
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.flushHeaders(); // a watch sends its headers at once and may then stay quiet
            const delay = options.watchDelayMs ?? 0;
            const watching = /[?&]watch=(true|1)/.test(req.url ?? '') || path.includes('/watch/');
            if (!watching || delay <= 0) {
              upRes.pipe(res);
              return;
            }
            // Same delay for every chunk: timers of equal length fire in order.
            upRes.on('data', (chunk: Buffer) => setTimeout(() => res.write(chunk), delay));
            upRes.on('end', () => setTimeout(() => res.end(), delay));
          },
        );
        proxy?.upstream.add(up);
        up.on('close', () => proxy?.upstream.delete(up));
        up.on('error', () => res.destroy());
        res.on('close', () => up.destroy());
        up.end(raw);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TaggingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  async close(): Promise<void> {
    for (const up of this.upstream) up.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
