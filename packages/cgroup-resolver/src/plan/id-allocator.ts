/** Hands out the lowest id ≥ 1 not in `taken` (which it extends): ids never collide with the dump's. */
export function createIdAllocator(taken: Iterable<number>): () => number {
  const used = new Set(taken);
  let next = 1;
  return () => {
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
}
