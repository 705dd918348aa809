// Reads the bd_events ring buffer without ever blocking the event loop.
//
// libbpf's ring_buffer__poll blocks in epoll_wait and calls the sample callback on the
// calling thread. Called through koffi's async path it would run on a libuv worker and call
// JavaScript from that foreign thread for every event. Instead the wait and the reading are
// split: epoll_wait on the ring buffer's epoll fd runs on a libuv worker (koffi .async, no
// callback involved), and when it reports data ring_buffer__consume runs on the main thread,
// which reads what is there without waiting and calls the sample callback synchronously,
// on this thread. One worker thread of the pool is busy in epoll_wait at a time; it returns
// at least every `waitMs`, so close() never waits longer than that.
import { BpfError } from '../libbpf/errors.js';
import { bind, bindAsync, lastErrno, lazyProto, libbpf, libc, loadKoffi, type NativePointer } from '../libbpf/library.js';

// koffi is loaded when a reader is created, not when this module is imported.
const sampleFn = lazyProto('int (void *ctx, void *data, size_t size)');

const ring = {
  create: bind<(mapFd: number, sample: bigint, ctx: null, opts: null) => NativePointer | null>(
    libbpf,
    'void *ring_buffer__new(int map_fd, void *sample_cb, void *ctx, const void *opts)',
  ),
  consume: bind<(rb: NativePointer) => number>(libbpf, 'int ring_buffer__consume(void *rb)'),
  epollFd: bind<(rb: NativePointer) => number>(libbpf, 'int ring_buffer__epoll_fd(void *rb)'),
  free: bind<(rb: NativePointer) => void>(libbpf, 'void ring_buffer__free(void *rb)'),
};

/**
 * Copies a record out of the ring into a reused buffer: ~0.2 µs a record, where a koffi.view
 * of it (an external ArrayBuffer per record) and a copy of that cost ~9.
 */
const memcpy = bind<(dest: Uint8Array, src: NativePointer, n: number) => unknown>(libc, 'void *memcpy(void *dest, const void *src, size_t n)');

/** epoll_wait on koffi's worker thread. */
const epollWait = bindAsync<[epfd: number, events: Buffer, max: number, timeoutMs: number], number>(
  libc,
  'int epoll_wait(int epfd, void *events, int maxevents, int timeout)',
);

/** struct epoll_event is packed on x86-64: u32 events + u64 data. */
const EPOLL_EVENT_BYTES = 12;
const MAX_WAIT_FAILURES = 10;

export interface RingReaderOptions {
  /** fd of the BPF_MAP_TYPE_RINGBUF map (ResolverMaps.fd('bd_events')); not closed by the reader. */
  readonly mapFd: number;
  /**
   * Called on the main thread with each record, in ring order. The bytes are a buffer the
   * reader reuses: valid during the call only (copy what must outlive it). Must not throw.
   */
  readonly onRecord: (bytes: Uint8Array) => void;
  /** Called once the records of one consume are delivered (a batch boundary). */
  readonly onBatch?: (records: number) => void;
  /** Called when reading fails for good (the reader stops). */
  readonly onError?: (error: Error) => void;
  /** Longest single epoll_wait (ms); bounds close(). Default 200. */
  readonly waitMs?: number;
  /**
   * After a wake-up, let records gather this long before reading them (ms). The kernel wakes
   * the reader only for the first record after it caught up, so this bounds wake-ups (and
   * thread-pool round trips) to ~1000/batchMs a second however many connects there are; the
   * ring (256 KiB, ~2,500 records) must hold what arrives meanwhile. Default 10; 0 = read at once.
   */
  readonly batchMs?: number;
}

export class RingReader {
  private rb: NativePointer | null;
  private readonly callback: bigint;
  private readonly epfd: number;
  private readonly events = Buffer.alloc(EPOLL_EVENT_BYTES);
  private readonly waitMs: number;
  private readonly batchMs: number;
  private stopping = false;
  private waiting: Promise<void> | undefined;
  private records = 0;
  /** The record being delivered (grown to the largest record seen; a view per size). */
  private scratch = new Uint8Array(256);
  private scratchView = this.scratch.subarray(0, 0);

  constructor(private readonly options: RingReaderOptions) {
    this.waitMs = options.waitMs ?? 200;
    this.batchMs = options.batchMs ?? 10;
    const koffi = loadKoffi();
    this.callback = koffi.register(
      (_ctx: unknown, data: NativePointer | null, size: number | bigint): number => {
        if (data === null) return 0;
        // A copy: the record's memory is handed back to the kernel when the callback returns.
        const bytes = this.copy(data, Number(size));
        this.records += 1;
        try {
          this.options.onRecord(bytes);
        } catch {
          // never throw into libbpf
        }
        return 0;
      },
      sampleFn(),
    );
    const rb = ring.create(options.mapFd, this.callback, null, null);
    if (rb === null) {
      const errno = lastErrno();
      koffi.unregister(this.callback);
      throw new BpfError({ code: 'BPF_MAP_OP', op: 'ring_buffer__new bd_events', map: 'bd_events', errno });
    }
    this.rb = rb;
    this.epfd = ring.epollFd(rb);
  }

  private copy(data: NativePointer, n: number): Uint8Array {
    if (n > this.scratch.byteLength) {
      this.scratch = new Uint8Array(Math.max(n, this.scratch.byteLength * 2));
      this.scratchView = this.scratch.subarray(0, n);
    } else if (this.scratchView.byteLength !== n) {
      this.scratchView = this.scratch.subarray(0, n);
    }
    if (n > 0) memcpy(this.scratch, data, n);
    return this.scratchView;
  }

  /** Starts waiting for records. */
  start(): void {
    if (this.waiting !== undefined || this.rb === null) return;
    this.waiting = this.loop();
  }

  /** Reads whatever is in the ring now (main thread, never waits). Returns records delivered. */
  drain(): number {
    if (this.rb === null) return 0;
    this.records = 0;
    const n = ring.consume(this.rb);
    if (n < 0) throw new BpfError({ code: 'BPF_MAP_OP', op: 'ring_buffer__consume bd_events', map: 'bd_events', errno: -n });
    const delivered = this.records;
    if (delivered > 0) this.options.onBatch?.(delivered);
    return delivered;
  }

  /** Stops waiting (within waitMs), reads what is left, and frees the ring buffer. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.waiting;
    if (this.rb === null) return;
    try {
      this.drain();
    } catch {
      // closing anyway
    }
    ring.free(this.rb);
    this.rb = null;
    loadKoffi().unregister(this.callback);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let n: number;
      try {
        n = await this.wait();
      } catch (e) {
        this.options.onError?.(e as Error);
        return;
      }
      if (this.stopping) return;
      if (n < 0) {
        // errno lives on the worker thread that waited; EINTR (a signal) is the only failure
        // epoll_wait has on a valid fd, so a few in a row are tolerated.
        failures += 1;
        if (failures < MAX_WAIT_FAILURES) continue;
        this.options.onError?.(new BpfError({ code: 'BPF_MAP_OP', op: 'epoll_wait on bd_events', map: 'bd_events', detail: `${failures} failures in a row` }));
        return;
      }
      failures = 0;
      if (n === 0) continue;
      if (this.batchMs > 0) await new Promise((r) => setTimeout(r, this.batchMs));
      try {
        this.drain();
      } catch (e) {
        this.options.onError?.(e as Error);
        return;
      }
    }
  }

  private wait(): Promise<number> {
    return new Promise((resolve, reject) => {
      epollWait(this.epfd, this.events, 1, this.waitMs, (err, n) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(n)));
    });
  }
}
