// Is this director's ipvs-controller ready? Polled: a probe starts every intervalMs (a slow
// probe eats into the wait, it does not add to it: a hung controller is judged as fast as one
// that answers 503), each bounded by timeoutMs of this process's own running time (a stall of
// the announcer itself is not the controller's fault; see runProbe); `failureThreshold`
// failures in a row make it unhealthy (withdraw everything),
// one success makes it healthy again. Unhealthy until the first success: a director whose
// controller has not programmed IPVS yet must not attract traffic.

/** The probe timeout is checked this often (see runProbe). */
const TIMEOUT_STEP_MS = 100;

export type ProbeResult = boolean | { readonly ok: boolean; readonly detail?: string };

/** One readiness check; should give up when the signal aborts. */
export type ControllerProbe = (signal: AbortSignal) => Promise<ProbeResult>;

export interface GateTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** ms clock; default Date.now. */
  now?(): number;
}

export interface HealthGateOptions {
  readonly probe: ControllerProbe;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failures in a row before the controller counts as unhealthy. */
  readonly failureThreshold: number;
  /** Called whenever `healthy` flips. */
  readonly onChange?: (healthy: boolean, detail: string) => void;
  /** After every probe (for metrics). */
  readonly onProbe?: (ok: boolean, detail: string) => void;
  readonly timers?: GateTimers;
}

export class HealthGate {
  private healthyFlag = false;
  private failures = 0;
  private lastDetail = 'not probed yet';
  private timer: unknown;
  private stopped = true;
  /** stop() was called: a probe it interrupted is not counted. */
  private cancelled = false;
  private inflight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private readonly timers: GateTimers;

  constructor(private readonly options: HealthGateOptions) {
    if (!(options.failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    this.timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  get healthy(): boolean {
    return this.healthyFlag;
  }

  /** Known bad: the last `failureThreshold` probes failed (false before any probe). */
  get failing(): boolean {
    return this.failures >= this.options.failureThreshold;
  }

  /** The last probe's outcome, for /readyz and logs. */
  get detail(): string {
    return this.lastDetail;
  }

  /** Probes now, then every intervalMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.cancelled = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelled = true;
    this.timers.clearTimeout(this.timer);
    this.abort?.abort();
    await this.inflight;
  }

  /** One probe now (also used by start's loop); resolves when it is counted. */
  probeOnce(): Promise<void> {
    if (this.inflight !== undefined) return this.inflight;
    this.inflight = this.runProbe().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private now(): number {
    return this.timers.now?.() ?? Date.now();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      const started = this.now();
      void this.probeOnce().then(() => this.schedule(Math.max(0, this.options.intervalMs - (this.now() - started))));
    }, ms);
  }

  private async runProbe(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    let timer: unknown;
    // timeoutMs counts this process's own running time, in steps. A step that fires late means
    // this process (or the whole node) was stalled — CPU starvation, a long GC — and the answer
    // may already sit unread in the socket: a late step is credited at most twice its length,
    // so after a stall the probe always gets more turns of the event loop to read it. A
    // controller that does not answer still fails after timeoutMs while this process runs.
    const timeout = new Promise<ProbeResult>((resolve) => {
      const limit = this.options.timeoutMs;
      const step = Math.max(1, Math.min(TIMEOUT_STEP_MS, limit));
      let credited = 0;
      let last = this.now();
      let delay = step;
      const tick = (): void => {
        const at = this.now();
        // at least the delay asked for (a clock stepped back gives no extra time), at most 2 steps
        credited += Math.min(Math.max(at - last, delay), 2 * step);
        last = at;
        if (credited < limit) {
          delay = Math.min(step, limit - credited);
          timer = this.timers.setTimeout(tick, delay);
          return;
        }
        abort.abort();
        resolve({ ok: false, detail: `no answer within ${limit} ms` });
      };
      timer = this.timers.setTimeout(tick, delay);
    });
    let result: ProbeResult;
    try {
      result = await Promise.race([this.options.probe(abort.signal), timeout]);
    } catch (e) {
      result = { ok: false, detail: e instanceof Error ? e.message : String(e) };
    } finally {
      this.timers.clearTimeout(timer);
      this.abort = undefined;
    }
    if (this.cancelled) return;
    const ok = typeof result === 'boolean' ? result : result.ok;
    const detail = typeof result === 'boolean' ? (result ? 'ready' : 'not ready') : (result.detail ?? (result.ok ? 'ready' : 'not ready'));
    this.lastDetail = detail;
    this.options.onProbe?.(ok, detail);
    const before = this.healthyFlag;
    if (ok) {
      this.failures = 0;
      this.healthyFlag = true;
    } else {
      this.failures++;
      if (this.failures >= this.options.failureThreshold) this.healthyFlag = false;
    }
    if (this.healthyFlag !== before) this.options.onChange?.(this.healthyFlag, detail);
  }
}
