import type { Backend, SlotTable } from './maglev.js';

export interface BackendShare {
  readonly id: string;
  readonly weight: number;
  /** Slots owned. */
  readonly count: number;
  /** count / M. */
  readonly share: number;
  /** weight / Σ weight. */
  readonly expectedShare: number;
  /** share / expectedShare (1 = exact; NaN for weight 0). */
  readonly ratio: number;
}

export interface QualityReport {
  readonly slots: number;
  readonly emptySlots: number;
  readonly backends: readonly BackendShare[];
  /** Mean slot count over backends with weight > 0. */
  readonly meanCount: number;
  /** Largest count / mean count (the classic Maglev imbalance figure for equal weights). */
  readonly maxOverMean: number;
  readonly minOverMean: number;
  /** Largest share / expected share: the imbalance relative to weights. */
  readonly maxWeightedRatio: number;
  /** Largest |share − expectedShare|, as a fraction of the table. */
  readonly maxShareError: number;
}

/** Per-backend shares of a table against the weights the backends asked for. */
export function quality(table: SlotTable, backends: readonly Backend[]): QualityReport {
  const m = table.slots.length;
  const countsByOwner = new Float64Array(table.keys.length);
  let empty = 0;
  for (let s = 0; s < m; s++) {
    const owner = table.slots[s]!;
    if (owner < 0) empty++;
    else countsByOwner[owner] = countsByOwner[owner]! + 1;
  }
  const countById = new Map<string, number>();
  table.keys.forEach((key, i) => countById.set(key, (countById.get(key) ?? 0) + countsByOwner[i]!));

  const total = backends.reduce((sum, b) => sum + b.weight, 0);
  const shares: BackendShare[] = backends.map((b) => {
    const count = countById.get(b.id) ?? 0;
    const share = m === 0 ? 0 : count / m;
    const expectedShare = total === 0 ? 0 : b.weight / total;
    return { id: b.id, weight: b.weight, count, share, expectedShare, ratio: expectedShare === 0 ? Number.NaN : share / expectedShare };
  });
  const weighted = shares.filter((s) => s.weight > 0);
  const meanCount = weighted.length === 0 ? 0 : (m - empty) / weighted.length;
  let maxCount = 0;
  let minCount = Number.POSITIVE_INFINITY;
  let maxRatio = 0;
  let maxErr = 0;
  for (const s of weighted) {
    maxCount = Math.max(maxCount, s.count);
    minCount = Math.min(minCount, s.count);
    maxRatio = Math.max(maxRatio, s.ratio);
    maxErr = Math.max(maxErr, Math.abs(s.share - s.expectedShare));
  }
  return {
    slots: m,
    emptySlots: empty,
    backends: shares,
    meanCount,
    maxOverMean: meanCount === 0 ? 0 : maxCount / meanCount,
    minOverMean: meanCount === 0 ? 0 : minCount / meanCount,
    maxWeightedRatio: maxRatio,
    maxShareError: maxErr,
  };
}

export interface Disruption {
  readonly slots: number;
  /** Slots whose owner key differs (an empty slot counts as its own owner). */
  readonly changed: number;
  /** changed / slots. */
  readonly fraction: number;
  /** Changed slots whose previous owner is still in the new table: flows moved needlessly. */
  readonly survivorChanged: number;
  /** survivorChanged / slots. */
  readonly survivorFraction: number;
}

/** How many slots changed owner between two tables of the same size (owners compared by key). */
export function disruption(before: SlotTable, after: SlotTable): Disruption {
  const m = before.slots.length;
  if (after.slots.length !== m) throw new RangeError(`tables differ in size (${m} vs ${after.slots.length})`);
  const survivors = new Set(after.keys);
  let changed = 0;
  let survivorChanged = 0;
  for (let s = 0; s < m; s++) {
    const a = before.slots[s]!;
    const b = after.slots[s]!;
    const ka = a < 0 ? undefined : before.keys[a];
    const kb = b < 0 ? undefined : after.keys[b];
    if (ka !== kb) {
      changed++;
      if (ka !== undefined && survivors.has(ka)) survivorChanged++;
    }
  }
  return {
    slots: m,
    changed,
    fraction: m === 0 ? 0 : changed / m,
    survivorChanged,
    survivorFraction: m === 0 ? 0 : survivorChanged / m,
  };
}

export interface ScenarioResult extends Disruption {
  /** The backend added, removed or drained. */
  readonly id: string;
  /** The minimum a perfect scheme moves: that backend's weight share. */
  readonly ideal: number;
  /** fraction − ideal: slots moved between backends that did not change. */
  readonly excess: number;
}

export interface DisruptionScenarios {
  readonly backends: number;
  readonly added: ScenarioResult;
  readonly removed: ScenarioResult;
  readonly drained: ScenarioResult;
}

export interface DisruptionScenarioOptions {
  /** The backend to remove and to drain; default the first in the list. */
  readonly target?: string;
  /** The backend to add; default id "added-backend" with the target's weight. */
  readonly added?: Backend;
}

/**
 * Disruption when one backend is added, removed, or drained (weight 0), each against the
 * ideal (that backend's share of the total weight). `build` turns a backend list into a
 * table, e.g. `(b) => maglev.build(b)`.
 */
export function disruptionScenarios(
  build: (backends: readonly Backend[]) => SlotTable,
  backends: readonly Backend[],
  options: DisruptionScenarioOptions = {},
): DisruptionScenarios {
  const target = backends.find((b) => b.id === (options.target ?? backends[0]?.id));
  if (!target) throw new RangeError('disruptionScenarios needs a target backend that is in the list');
  const added = options.added ?? { id: 'added-backend', weight: target.weight };
  const total = backends.reduce((sum, b) => sum + b.weight, 0);
  const base = build(backends);
  const scenario = (id: string, next: readonly Backend[], ideal: number): ScenarioResult => {
    const d = disruption(base, build(next));
    return { ...d, id, ideal, excess: d.fraction - ideal };
  };
  return {
    backends: backends.length,
    added: scenario(added.id, [...backends, added], added.weight / (total + added.weight)),
    removed: scenario(target.id, backends.filter((b) => b !== target), target.weight / total),
    drained: scenario(target.id, backends.map((b) => (b === target ? { id: b.id, weight: 0 } : b)), target.weight / total),
  };
}

export interface ReportInput {
  readonly title?: string;
  readonly quality?: QualityReport;
  readonly disruption?: DisruptionScenarios;
  /** How many of the most over-loaded backends to list; default 5. */
  readonly top?: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(3)}%`;

/** Plain-text report for a terminal: summary figures, the most loaded backends, disruption. */
export function formatReport(input: ReportInput): string {
  const lines: string[] = [];
  if (input.title) lines.push(input.title, '='.repeat(input.title.length));
  const q = input.quality;
  if (q) {
    const weighted = q.backends.filter((b) => b.weight > 0).length;
    lines.push(
      `slots ${q.slots}, backends ${q.backends.length} (${weighted} weighted), empty slots ${q.emptySlots}`,
      `mean slots/backend ${q.meanCount.toFixed(2)}; max/mean ${q.maxOverMean.toFixed(4)}; min/mean ${q.minOverMean.toFixed(4)}`,
      `max share/expected ${q.maxWeightedRatio.toFixed(4)}; max |share − expected| ${pct(q.maxShareError)}`,
    );
    const top = [...q.backends].filter((b) => b.weight > 0).sort((a, b) => b.ratio - a.ratio).slice(0, input.top ?? 5);
    if (top.length > 0) {
      const idWidth = Math.max(7, ...top.map((b) => b.id.length));
      lines.push('', `${'backend'.padEnd(idWidth)}  weight  slots     share  expected   ratio`);
      for (const b of top) {
        lines.push(
          `${b.id.padEnd(idWidth)}  ${String(b.weight).padStart(6)}  ${String(b.count).padStart(5)}  ${pct(b.share).padStart(8)}  ${pct(b.expectedShare).padStart(8)}  ${b.ratio.toFixed(4)}`,
        );
      }
    }
  }
  const d = input.disruption;
  if (d) {
    if (lines.length > 0) lines.push('');
    lines.push(`disruption (${d.backends} backends)   moved     ideal    excess`);
    for (const [name, r] of [['add', d.added], ['remove', d.removed], ['drain', d.drained]] as const) {
      lines.push(`  ${name.padEnd(7)} ${r.id.padEnd(12).slice(0, 12)} ${pct(r.fraction).padStart(8)}  ${pct(r.ideal).padStart(8)}  ${pct(r.excess).padStart(8)}`);
    }
  }
  return lines.join('\n') + '\n';
}
