// One row of the fault matrix (issue 13): what a fault test saw, in the shape of
// bench/results/faults.json. Pure: validation and merging, no I/O (fault-matrix.ts writes).

export interface FaultRow {
  /** Stable scenario name; rows are merged by it, so separate test files each add their own. */
  readonly name: string;
  readonly passed: boolean;
  /** From the fault's end until the state was whole again; null when not measured. */
  readonly recoverySeconds: number | null;
  /** Services whose kernel/BIRD/status state went missing at any point during the fault. */
  readonly lostServices: number | null;
  /** Live connections that broke; null when the scenario carries no traffic. */
  readonly droppedConnections: number | null;
  /** What an operator was shown: Events, metrics, readiness. */
  readonly operatorSaw: string;
}

export interface FaultMatrix {
  readonly bench: 'faults';
  readonly rows: readonly FaultRow[];
}

const NAME = /^[a-z0-9][a-z0-9 ,:./()+'_-]*$/i;

function countOrNull(row: FaultRow, field: 'lostServices' | 'droppedConnections'): void {
  const v = row[field];
  if (v !== null && !(Number.isInteger(v) && v >= 0)) throw new RangeError(`fault row ${row.name}: ${field} must be a count or null, got ${String(v)}`);
}

/** Throws a RangeError naming the field when the row cannot go into the matrix. */
export function checkFaultRow(row: FaultRow): FaultRow {
  if (typeof row.name !== 'string' || !NAME.test(row.name) || row.name.length > 200) throw new RangeError(`bad fault row name ${JSON.stringify(row.name)}`);
  if (typeof row.passed !== 'boolean') throw new RangeError(`fault row ${row.name}: passed must be a boolean`);
  const r = row.recoverySeconds;
  if (r !== null && !(Number.isFinite(r) && r >= 0)) throw new RangeError(`fault row ${row.name}: recoverySeconds must be ≥ 0 or null, got ${String(r)}`);
  countOrNull(row, 'lostServices');
  countOrNull(row, 'droppedConnections');
  if (typeof row.operatorSaw !== 'string' || row.operatorSaw.trim() === '') throw new RangeError(`fault row ${row.name}: operatorSaw must say what the operator saw`);
  return {
    name: row.name,
    passed: row.passed,
    recoverySeconds: r,
    lostServices: row.lostServices,
    droppedConnections: row.droppedConnections,
    operatorSaw: row.operatorSaw,
  };
}

function isRow(v: unknown): v is FaultRow {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  try {
    checkFaultRow(v as FaultRow);
    return true;
  } catch {
    return false;
  }
}

/**
 * The matrix after `rows` are recorded into `existing` (whatever faults.json held: unreadable
 * content counts as empty, and unreadable rows in it are dropped): a row replaces the one with
 * its name; rows sorted by name.
 */
export function mergeFaultRows(existing: unknown, rows: readonly FaultRow[]): FaultMatrix {
  const byName = new Map<string, FaultRow>();
  const old = typeof existing === 'object' && existing !== null ? (existing as { rows?: unknown }).rows : undefined;
  if (Array.isArray(old)) for (const r of old) if (isRow(r)) byName.set(r.name, checkFaultRow(r));
  for (const r of rows) byName.set(r.name, checkFaultRow(r));
  return { bench: 'faults', rows: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}
