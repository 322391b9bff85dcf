/**
 * Partial selection of the K best-scored items: one pass with a size-K min-heap, O(n log K), instead of
 * sorting the whole catalogue. Ties go to the lower item index and NaN scores rank as −∞, so a ranking is a
 * pure function of the scores.
 */
export class TopKSelector {
  private readonly heapScore: Float64Array;
  private readonly heapItem: Int32Array;
  private size = 0;

  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
    this.heapScore = new Float64Array(k);
    this.heapItem = new Int32Array(k);
  }

  /**
   * Writes the best of `scores[offset .. offset + count)` (as item indexes 0..count−1) into `out`, best first,
   * and returns how many were written (fewer than K when fewer items are eligible). Items whose `skipMark`
   * entry equals `skipValue` are not eligible.
   */
  select(scores: Float32Array | Float64Array, offset: number, count: number, out: Uint32Array, skipMark?: Int32Array, skipValue = -1): number {
    this.size = 0;
    for (let item = 0; item < count; item++) {
      if (skipMark !== undefined && skipMark[item] === skipValue) continue;
      this.offer(scores[offset + item]!, item);
    }
    return this.drain(out);
  }

  /** Starts a selection fed by `offer`; `drain` ends it. */
  reset(): void {
    this.size = 0;
  }

  /** Whether `offer(score, item)` would keep the item now (a cheap test before a costly eligibility check). */
  wouldKeep(score: number, item: number): boolean {
    if (this.size < this.k) return true;
    const s = score !== score ? -Infinity : score;
    return s > this.heapScore[0]! || (s === this.heapScore[0] && item < this.heapItem[0]!);
  }

  offer(score: number, item: number): void {
    const hs = this.heapScore;
    const hi = this.heapItem;
    const k = this.k;
    const s = score !== score ? -Infinity : score;
    if (this.size < k) {
      // Sift up: the root is the worst kept item (lowest score, then highest index).
      let c = this.size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (hs[parent]! < s || (hs[parent] === s && hi[parent]! > item)) break;
        hs[c] = hs[parent]!;
        hi[c] = hi[parent]!;
        c = parent;
      }
      hs[c] = s;
      hi[c] = item;
    } else if (s > hs[0]! || (s === hs[0] && item < hi[0]!)) {
      this.siftDown(s, item, k);
    }
  }

  /** Writes the kept items into `out` best first; returns how many. */
  drain(out: Uint32Array): number {
    const size = this.size;
    const hs = this.heapScore;
    const hi = this.heapItem;
    // Pop the worst repeatedly, filling `out` from the back.
    for (let end = size - 1; end >= 0; end--) {
      out[end] = hi[0]!;
      this.siftDown(hs[end]!, hi[end]!, end);
    }
    this.size = 0;
    return size;
  }

  /** Drain with the scores too. */
  drainWithScores(out: Uint32Array, outScores: Float32Array | Float64Array): number {
    const size = this.size;
    const hs = this.heapScore;
    const hi = this.heapItem;
    for (let end = size - 1; end >= 0; end--) {
      out[end] = hi[0]!;
      outScores[end] = hs[0]!;
      this.siftDown(hs[end]!, hi[end]!, end);
    }
    this.size = 0;
    return size;
  }

  /** Puts (s, item) at the root of a heap of `size` entries and sifts it down. */
  private siftDown(s: number, item: number, size: number): void {
    const hs = this.heapScore;
    const hi = this.heapItem;
    let c = 0;
    for (;;) {
      const left = 2 * c + 1;
      if (left >= size) break;
      const right = left + 1;
      let worst = left;
      if (right < size && (hs[right]! < hs[left]! || (hs[right] === hs[left] && hi[right]! > hi[left]!))) worst = right;
      if (s < hs[worst]! || (s === hs[worst] && item > hi[worst]!)) break;
      hs[c] = hs[worst]!;
      hi[c] = hi[worst]!;
      c = worst;
    }
    hs[c] = s;
    hi[c] = item;
  }
}
