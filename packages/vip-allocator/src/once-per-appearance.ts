/**
 * Report each problem once while it lasts: a problem present in consecutive passes is sent
 * once; one that goes away and comes back is sent again. `reset()` forgets everything (a new
 * leadership term reports afresh).
 */
export class OncePerAppearance<T> {
  private active = new Set<string>();

  constructor(private readonly id: (item: T) => string) {}

  /** The items that are new since the last call. */
  fresh(items: readonly T[]): T[] {
    const next = new Set<string>();
    const out: T[] = [];
    for (const item of items) {
      const id = this.id(item);
      if (next.has(id)) continue;
      next.add(id);
      if (!this.active.has(id)) out.push(item);
    }
    this.active = next;
    return out;
  }

  reset(): void {
    this.active = new Set();
  }
}
