// Interleaved measurement rounds for benchmarks on a shared machine. Measuring case A for a
// minute and then case B lets drift (other tenants, frequency, caches) decide their ratio;
// running every case once per round, REPEAT rounds, spreads that drift over all of them.
// The order is rotated each round so no case always runs first (or right after the same
// neighbour), and each case keeps its run with the median p50 across the rounds.

/** `items` rotated left by `round` (0-based): round 0 keeps the order, round 1 starts at the second. */
export function rotated(items, round) {
  if (items.length === 0) return [];
  const k = ((round % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * The run with the median p50 (for an even count the upper one), plus `repeats`: every
 * run's p50 in round order (so drift across the rounds stays visible).
 */
export function medianRun(runs) {
  if (runs.length === 0) throw new Error('medianRun: no runs');
  const sorted = [...runs].sort((a, b) => a.p50Us - b.p50Us);
  return { ...sorted[Math.floor(sorted.length / 2)], repeats: runs.map((x) => x.p50Us) };
}

/**
 * Runs `passes` (arrays of units `{ key, group, optional?, run: () => Promise<{ p50Us }> }`)
 * for `rounds` rounds: each round runs every pass in turn, each pass's units once in an
 * order rotated by the round. A unit that throws ends the bench unless it is `optional`;
 * then its whole group is dropped from later rounds and reported in `failures`.
 * `onRound(round, runsOfThatRound)` is called after each round (round 0-based).
 * Returns `results` (key → medianRun) for every unit whose group did not fail.
 */
export async function interleave(passes, rounds, onRound = () => undefined) {
  const runs = new Map();
  const failures = new Map();
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map();
    for (const pass of passes) {
      for (const unit of rotated(pass, round)) {
        if (failures.has(unit.group)) continue;
        let result;
        try {
          result = await unit.run();
        } catch (e) {
          if (!unit.optional) throw e;
          failures.set(unit.group, e);
          continue;
        }
        thisRound.set(unit.key, result);
        if (!runs.has(unit.key)) runs.set(unit.key, []);
        runs.get(unit.key).push(result);
      }
    }
    onRound(round, thisRound);
  }
  const results = new Map();
  for (const pass of passes) {
    for (const unit of pass) {
      if (!failures.has(unit.group) && runs.has(unit.key)) results.set(unit.key, medianRun(runs.get(unit.key)));
    }
  }
  return { results, failures };
}

/**
 * The median over the rounds of xs[i] / ys[i] (two cases' p50s of the same rounds, in round
 * order): the ratio where both ran under the same conditions. Null when the lengths differ or
 * there is no round.
 */
export function pairedMedianRatio(xs, ys) {
  if (xs.length === 0 || xs.length !== ys.length) return null;
  const ratios = xs.map((x, i) => x / ys[i]).sort((a, b) => a - b);
  const mid = Math.floor(ratios.length / 2);
  return ratios.length % 2 === 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
}
