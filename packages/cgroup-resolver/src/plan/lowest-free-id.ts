// The lowest id ≥ 1 that a map does not hold, kept up to date as the map's ids come and go.
//
// A scan upward from a remembered floor is amortized O(1) while ids are only taken, but a
// released id pulled the floor down to it, and once that id was taken again (the next new
// backend reuses it) the scan walked every held id above it: at 10,000 Services × 10 that was
// ~50,000 lookups on every pass that removed and added an endpoint. Released ids below the
// floor go to a min-heap instead; the floor itself only moves up.

export class LowestFreeId {
  /** Every id below it is held, except those in `released`. */
  private floor = 1;
  /** Released ids below `floor` (a min-heap; an id held again is dropped when it surfaces). */
  private readonly released: number[] = [];
  private readonly inHeap = new Set<number>();

  /** `holds(id)`: the map holds `id` now. */
  constructor(private readonly holds: (id: number) => boolean) {}

  /** Call when the map stops holding `id`. */
  release(id: number): void {
    if (id >= this.floor || this.inHeap.has(id)) return;
    this.inHeap.add(id);
    const heap = this.released;
    heap.push(id);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= id) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = id;
  }

  /** The lowest id ≥ 1 the map does not hold. */
  get value(): number {
    const heap = this.released;
    while (heap.length > 0) {
      const top = heap[0] as number;
      if (!this.holds(top)) return top;
      this.pop();
    }
    while (this.holds(this.floor)) this.floor++;
    return this.floor;
  }

  private pop(): void {
    const heap = this.released;
    this.inHeap.delete(heap[0] as number);
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as number) < (heap[left] as number) ? right : left;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
  }
}
