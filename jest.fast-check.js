// Property tests in CI run with one fixed seed, so a run is repeatable and a landing is never
// decided by the draw of a random counterexample; anywhere else each run draws new seeds and
// explores. FC_SEED=<n> replays a seed (fast-check prints it with every counterexample).
import fc from 'fast-check';

const CI_SEED = 20261205;
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI === 'true' ? CI_SEED : undefined;
if (seed !== undefined) {
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, not ${process.env.FC_SEED}`);
  fc.configureGlobal({ ...(fc.readConfigureGlobal() ?? {}), seed });
}
