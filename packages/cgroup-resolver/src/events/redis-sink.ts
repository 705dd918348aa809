// Resolution events as entries of a Redis stream (XADD key MAXLEN ~ N * field value …).
// Never in the way of resolution: events wait in a bounded queue while Redis is away (what
// does not fit is dropped and counted), are written in pipelined batches while it is there,
// and the client reconnects by itself for as long as the resolver runs.
import { createRequire } from 'node:module';
import type * as Ioredis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';

/** ioredis, loaded when a Redis output is configured (~6 MB of RSS an agent without one never pays). */
const loadIoredis = (): typeof Ioredis => createRequire(import.meta.url)('ioredis') as typeof Ioredis;

export type RedisDropReason = 'queue-full' | 'write-failed';

export interface RedisSinkOptions {
  /** `redis://[user:pass@]host:port[/db]`, `rediss://…`, or `unix:///path/to/redis.sock`. */
  readonly url: string;
  readonly stream: string;
  /** MAXLEN ~ cap of the stream. */
  readonly maxLen: number;
  /** Events held while Redis is slow or away. */
  readonly queueLimit: number;
  /** Entries per pipeline. Default 512. */
  readonly batch?: number;
  readonly onWritten?: (n: number) => void;
  readonly onDropped?: (n: number, reason: RedisDropReason) => void;
  /** Connection state changes and errors (rate-limited by the caller if it likes). */
  readonly onState?: (state: 'ready' | 'down', detail?: string) => void;
}

/** ioredis options for a URL (a unix socket as `unix:///path`). */
export function redisConnection(url: string): { readonly target: string | undefined; readonly options: RedisOptions } {
  const reconnect: RedisOptions = {
    // Commands are never queued inside ioredis: the sink holds its own bounded queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect for ever, at most every 2 s.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    connectTimeout: 2000,
    lazyConnect: true,
  };
  if (url.startsWith('unix://')) return { target: undefined, options: { ...reconnect, path: url.slice('unix://'.length) } };
  if (!/^rediss?:\/\//.test(url)) throw new RangeError(`events Redis URL must start with redis://, rediss:// or unix://, got ${url}`);
  return { target: url, options: reconnect };
}

export class RedisStreamSink {
  private readonly redis: Redis;
  private queue: string[][] = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;
  private readonly batch: number;
  private ready = false;

  constructor(private readonly options: RedisSinkOptions) {
    if (!(options.maxLen >= 1)) throw new RangeError(`stream cap must be ≥ 1, got ${options.maxLen}`);
    if (!(options.queueLimit >= 1)) throw new RangeError(`queue limit must be ≥ 1, got ${options.queueLimit}`);
    this.batch = options.batch ?? 512;
    const { target, options: redisOptions } = redisConnection(options.url);
    const { Redis: RedisClient } = loadIoredis();
    this.redis = target === undefined ? new RedisClient(redisOptions) : new RedisClient(target, redisOptions);
    this.redis.on('ready', () => {
      this.ready = true;
      this.options.onState?.('ready');
      this.schedule();
    });
    this.redis.on('close', () => {
      if (this.ready) this.options.onState?.('down');
      this.ready = false;
    });
    // Without a listener ioredis would report every failed reconnect as an unhandled error.
    this.redis.on('error', (e: Error) => {
      if (this.ready) this.options.onState?.('down', e.message);
    });
    this.redis.connect().catch(() => {
      // retryStrategy keeps trying; state changes arrive through the events above
    });
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Queues one entry's fields (or drops it when the queue is full). */
  push(fields: string[]): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.queueLimit) {
      this.options.onDropped?.(1, 'queue-full');
      return;
    }
    this.queue.push(fields);
    this.schedule();
  }

  /** Writes what is queued if Redis is there (waits at most `ms`), then disconnects. */
  async close(ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.ready && (this.queue.length > 0 || this.flushing) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.closed = true;
    this.redis.disconnect();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || !this.ready || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.ready && this.queue.length > 0 && !this.closed) {
        const entries = this.queue.length <= this.batch ? this.queue : this.queue.slice(0, this.batch);
        this.queue = entries === this.queue ? [] : this.queue.slice(this.batch);
        const pipeline = this.redis.pipeline();
        const cap = String(this.options.maxLen);
        for (const fields of entries) pipeline.xadd(this.options.stream, 'MAXLEN', '~', cap, '*', ...fields);
        let written = 0;
        try {
          const results = await pipeline.exec();
          for (const [error] of results ?? []) if (error === null) written += 1;
        } catch {
          // connection lost mid-batch: nothing of it is known to be written
        }
        if (written > 0) this.options.onWritten?.(written);
        if (written < entries.length) this.options.onDropped?.(entries.length - written, 'write-failed');
      }
    } finally {
      this.flushing = false;
    }
    this.schedule();
  }
}
