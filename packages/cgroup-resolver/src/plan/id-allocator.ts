/** Ids a plan must not hand out although its dump does not show them (a scoped plan's: the rest of the maps). */
export interface ReservedIds {
  has(id: number): boolean;
  /**
   * Every id below this one is reserved or taken: the search for a free id starts here (a plan
   * in chunks over 100,000 backends would otherwise walk every id the earlier chunks gave out).
   */
  readonly floor?: number;
  /** No id at or above this one is reserved: above it only `taken` is looked at (a first pass reserves nothing past its floor). */
  readonly ceiling?: number;
}

const NONE: ReservedIds = { has: () => false };

/**
 * Hands out the lowest id ≥ 1 not in `taken` nor `reserved`, nor handed out before: ids never
 * collide with the dump's, nor with the rest of the maps when the dump is a part of them.
 */
export function createIdAllocator(taken: Iterable<number>, reserved: ReservedIds = NONE): () => number {
  const used = new Set(taken);
  let next = Math.max(1, Math.floor(reserved.floor ?? 1));
  const ceiling = reserved.ceiling ?? Number.POSITIVE_INFINITY;
  // Every id below `next` is taken, reserved or handed out: the search never goes back.
  return () => {
    while (used.has(next) || (next < ceiling && reserved.has(next))) next++;
    return next++;
  };
}
