import hnswlib from 'hnswlib-node';

import type { NodeVectors } from '../../gnn/index.ts';

/**
 * Finds the items with the highest z·x_i + b_i for a query vector z: an exact scan over a packed matrix
 * while the catalogue is small, an HNSW index (hnswlib, inner-product space) above `annThreshold` items.
 * Items are stored as [x_i, b_i] and queries as [z, 1], so the inner product is the model's score.
 *
 * It mirrors the embedding tables: `sync` applies the tables' change journal (new items, retagged items,
 * removed ones) before each search, and a new model (other tables) rebuilds it.
 */
export interface ScoredItem {
  readonly node: number;
  readonly score: number;
}

interface ItemTables {
  readonly items: NodeVectors;
  readonly itemBias: NodeVectors;
}

const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 100;
const HNSW_SEED = 100;

export class ItemVectorIndex {
  private tables: ItemTables | null = null;
  private width = 0;
  private matrix = new Float32Array(0);
  /** Each slot's x_i scaled to length 1 (zeros for a zero vector): cosines for diversity and explanations. */
  private units = new Float32Array(0);
  private nodeOfSlot: number[] = [];
  /** By node index, -1 for none: a request looks up a couple of hundred items, and a Map lookup missed cache more. */
  private slotOfNode = new Int32Array(0);
  private readonly freeSlots: number[] = [];
  private hnsw: hnswlib.HierarchicalNSW | null = null;
  private live = 0;

  constructor(private readonly annThreshold: number) {}

  /** Brings the index in line with `tables` (rebuilding it for new tables). */
  sync(tables: ItemTables): void {
    if (tables !== this.tables) {
      this.rebuild(tables);
      return;
    }
    const changed = tables.items.drainChanges();
    for (const node of new Set(changed)) this.update(node);
    if (!this.hnsw && this.live > this.annThreshold) this.buildHnsw();
  }

  get approximate(): boolean {
    return this.hnsw !== null;
  }

  get size(): number {
    return this.live;
  }

  /** Up to `k` items by descending score for `z` (length dims), skipping those `skip` rejects. */
  search(z: Float32Array, k: number, skip: (node: number) => boolean): ScoredItem[] {
    if (this.live === 0 || k <= 0) return [];
    return this.hnsw ? this.searchHnsw(z, k, skip) : this.scan(z, k, skip);
  }

  /** The item's vector scaled to length 1 (a view, valid until the next `sync`), or null when not indexed. */
  unit(node: number): Float32Array | null {
    const slot = this.unitSlot(node);
    if (slot < 0) return null;
    const dims = this.width - 1;
    return this.units.subarray(slot * dims, (slot + 1) * dims);
  }

  /** The item's slot for `cosine`, or -1 when not indexed. */
  unitSlot(node: number): number {
    return node < this.slotOfNode.length ? this.slotOfNode[node]! : -1;
  }

  /**
   * The cosine of two indexed items' vectors, by slot (`unitSlot`): read in place, where `unit` makes a view
   * per call (MMR and the explanations take about 1,600 of these a request).
   */
  cosine(a: number, b: number): number {
    const u = this.units;
    const dims = this.width - 1;
    let x = a * dims;
    let y = b * dims;
    const end = x + dims;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (; x + 3 < end; x += 4, y += 4) {
      s0 += u[x]! * u[y]!;
      s1 += u[x + 1]! * u[y + 1]!;
      s2 += u[x + 2]! * u[y + 2]!;
      s3 += u[x + 3]! * u[y + 3]!;
    }
    for (; x < end; x++, y++) s0 += u[x]! * u[y]!;
    return s0 + s1 + s2 + s3;
  }

  /** The score of one item, or NaN when it is not indexed. */
  score(z: Float32Array, node: number): number {
    const slot = this.unitSlot(node);
    return slot < 0 ? Number.NaN : this.dot(z, slot);
  }

  private rebuild(tables: ItemTables): void {
    this.tables = tables;
    this.width = tables.items.dims + 1;
    this.matrix = new Float32Array(Math.max(1024, tables.items.size) * this.width);
    this.units = new Float32Array((this.matrix.length / this.width) * tables.items.dims);
    this.nodeOfSlot = [];
    this.slotOfNode = new Int32Array(0);
    this.freeSlots.length = 0;
    this.hnsw = null;
    this.live = 0;
    tables.items.trackChanges();
    tables.items.drainChanges();
    for (const node of tables.items.nodes()) this.update(node);
    if (this.live > this.annThreshold) this.buildHnsw();
  }

  private update(node: number): void {
    const tables = this.tables!;
    const vector = tables.items.get(node);
    let slot = this.unitSlot(node);
    if (!vector) {
      if (slot < 0) return;
      this.slotOfNode[node] = -1;
      this.nodeOfSlot[slot] = -1;
      this.freeSlots.push(slot);
      this.live--;
      this.hnsw?.markDelete(slot);
      return;
    }
    let reused = false;
    if (slot < 0) {
      reused = this.freeSlots.length > 0;
      slot = this.freeSlots.pop() ?? this.nodeOfSlot.length;
      if (slot === this.nodeOfSlot.length) this.nodeOfSlot.push(node);
      else this.nodeOfSlot[slot] = node;
      if (node >= this.slotOfNode.length) {
        const grown = new Int32Array(Math.max(1024, node + 1, this.slotOfNode.length * 2)).fill(-1);
        grown.set(this.slotOfNode);
        this.slotOfNode = grown;
      }
      this.slotOfNode[node] = slot;
      this.live++;
      this.ensureCapacity(slot + 1);
    }
    const base = slot * this.width;
    this.matrix.set(vector, base);
    this.matrix[base + this.width - 1] = tables.itemBias.get(node)?.[0] ?? 0;
    let norm = 0;
    for (let d = 0; d < vector.length; d++) norm += vector[d]! * vector[d]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const unitBase = slot * vector.length;
    for (let d = 0; d < vector.length; d++) this.units[unitBase + d] = vector[d]! * scale;
    if (this.hnsw) {
      if (this.hnsw.getMaxElements() <= slot) this.hnsw.resizeIndex(Math.max(slot + 1, this.hnsw.getMaxElements() * 2));
      // A reused slot's label is in the index, marked deleted: bring it back, then update its point.
      if (reused) this.hnsw.unmarkDelete(slot);
      this.hnsw.addPoint(this.row(slot), slot);
    }
  }

  private buildHnsw(): void {
    const index = new hnswlib.HierarchicalNSW('ip', this.width);
    index.initIndex({ maxElements: Math.max(1024, this.nodeOfSlot.length * 2), m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: HNSW_SEED });
    for (let slot = 0; slot < this.nodeOfSlot.length; slot++) {
      index.addPoint(this.row(slot), slot);
      if (this.nodeOfSlot[slot]! < 0) index.markDelete(slot);
    }
    this.hnsw = index;
  }

  private searchHnsw(z: Float32Array, k: number, skip: (node: number) => boolean): ScoredItem[] {
    const index = this.hnsw!;
    const query = Array.from(z);
    query.push(1);
    // Ask for more than k so that skipped items (already consumed, filtered) still leave k.
    let want = Math.min(this.live, k + 32);
    for (;;) {
      index.setEf(Math.max(64, want));
      const { neighbors } = index.searchKnn(query, want);
      const out: ScoredItem[] = [];
      for (const slot of neighbors) {
        const node = this.nodeOfSlot[slot]!;
        if (node < 0 || skip(node)) continue;
        out.push({ node, score: this.dot(z, slot) });
        if (out.length === k) break;
      }
      if (out.length === k || want >= this.live) return out.sort((a, b) => b.score - a.score);
      want = Math.min(this.live, want * 2);
    }
  }

  private scan(z: Float32Array, k: number, skip: (node: number) => boolean): ScoredItem[] {
    const heap = new MinHeap(k);
    for (let slot = 0; slot < this.nodeOfSlot.length; slot++) {
      const node = this.nodeOfSlot[slot]!;
      if (node < 0) continue;
      const score = this.dot(z, slot);
      if (heap.full && score <= heap.minScore) continue;
      if (skip(node)) continue;
      heap.push(node, score);
    }
    return heap.sorted();
  }

  private dot(z: Float32Array, slot: number): number {
    const m = this.matrix;
    const dims = this.width - 1;
    const base = slot * this.width;
    let s = m[base + dims]!;
    for (let d = 0; d < dims; d++) s += z[d]! * m[base + d]!;
    return s;
  }

  private row(slot: number): number[] {
    return Array.from(this.matrix.subarray(slot * this.width, (slot + 1) * this.width));
  }

  private ensureCapacity(slots: number): void {
    if (slots * this.width <= this.matrix.length) return;
    const capacity = Math.max(slots, (this.matrix.length / this.width) * 2);
    const grown = new Float32Array(capacity * this.width);
    grown.set(this.matrix);
    this.matrix = grown;
    const grownUnits = new Float32Array(capacity * (this.width - 1));
    grownUnits.set(this.units);
    this.units = grownUnits;
  }
}

/** Keeps the k highest-scoring entries seen. */
export class MinHeap {
  private readonly nodes: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly capacity: number) {}

  get full(): boolean {
    return this.nodes.length >= this.capacity;
  }

  get minScore(): number {
    return this.scores[0] ?? Number.NEGATIVE_INFINITY;
  }

  push(node: number, score: number): void {
    if (this.capacity <= 0) return;
    if (this.full) {
      if (score <= this.scores[0]!) return;
      this.nodes[0] = node;
      this.scores[0] = score;
      this.siftDown(0);
      return;
    }
    this.nodes.push(node);
    this.scores.push(score);
    let i = this.nodes.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.scores[parent]! <= this.scores[i]!) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Highest score first. */
  sorted(): ScoredItem[] {
    return this.nodes.map((node, i) => ({ node, score: this.scores[i]! })).sort((a, b) => b.score - a.score);
  }

  private siftDown(i: number): void {
    const n = this.nodes.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.scores[l]! < this.scores[smallest]!) smallest = l;
      if (r < n && this.scores[r]! < this.scores[smallest]!) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    [this.nodes[a], this.nodes[b]] = [this.nodes[b]!, this.nodes[a]!];
    [this.scores[a], this.scores[b]] = [this.scores[b]!, this.scores[a]!];
  }
}
