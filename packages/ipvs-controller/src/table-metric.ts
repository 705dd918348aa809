import { Counter, Gauge, type CounterConfiguration, type GaugeConfiguration } from 'prom-client';

/** One series read from elsewhere: its labels and its value now. */
export interface Sample<T extends string> {
  /**
   * Keep one object per series across reads and metrics: the registry formats it once (see
   * below), so the same object shared by several metrics costs one formatting.
   */
  readonly labels: Readonly<Record<T, string>>;
  readonly value: number;
}

type Values<T extends string> = Awaited<ReturnType<Counter<T>['get']>>['values'];

/**
 * The samples as prom-client's registry takes them. The labels go in `sharedLabels`, which the
 * registry flattens to text once per object and caches (a WeakMap, as it does for histogram
 * buckets): at 100,000 destinations × 6 metrics a scrape took 4.3–4.6 s of CPU instead of
 * 5.2–6.2 s with plain labels (2 busy cores). It is prom-client 15's registry, not its typed API: the
 * metrics tests check the label text, so a prom-client that dropped it fails them.
 */
function values<T extends string>(samples: readonly Sample<T>[]): Values<T> {
  return samples.map((s) => ({ labels: {}, sharedLabels: s.labels, value: s.value }));
}

/**
 * A counter whose samples are read from elsewhere at scrape time (kernel counters that only
 * grow: IPVS stats, nftables rule counters). prom-client's Counter can only `inc()`; setting a
 * read value through it costs a reset, a labels hash and validation per sample, and keeps
 * every sample in its hash map between scrapes. This one hands the registry the samples as
 * read, typed `counter` (a Gauge cannot be).
 */
export class TableCounter<T extends string> extends Counter<T> {
  constructor(
    config: Omit<CounterConfiguration<T>, 'collect'>,
    private readonly samples: () => Promise<readonly Sample<T>[]>,
  ) {
    super(config);
  }

  override async get(): ReturnType<Counter<T>['get']> {
    const base = await super.get();
    return { ...base, values: values(await this.samples()) };
  }
}

/** The same for values that go up and down (weights, connection counts). */
export class TableGauge<T extends string> extends Gauge<T> {
  constructor(
    config: Omit<GaugeConfiguration<T>, 'collect'>,
    private readonly samples: () => Promise<readonly Sample<T>[]>,
  ) {
    super(config);
  }

  override async get(): ReturnType<Gauge<T>['get']> {
    const base = await super.get();
    return { ...base, values: values(await this.samples()) };
  }
}
