type Row = Float32Array | Int32Array;

/**
 * Fixed-width vectors keyed by graph node index, packed into one growable typed array (Float32Array by
 * default): serving's embedding tables. A row is replaced in one synchronous copy, so a reader never sees
 * half of an update.
 */
export class NodeVectors<T extends Row = Float32Array> {
  private slotOf = new Int32Array(0);
  private nodeOf = new Int32Array(0);
  private values: T;
  private used = 0;
  private readonly free: number[] = [];
  /** Nodes set or deleted since the last `drainChanges`, once `trackChanges` turned the journal on. */
  private journal: number[] | null = null;

  constructor(
    readonly dims: number,
    capacity = 1024,
    private readonly allocate: (length: number) => T = (length) => new Float32Array(length) as T,
  ) {
    this.values = allocate(Math.max(1, capacity) * dims);
  }

  get size(): number {
    return this.used - this.free.length;
  }

  has(node: number): boolean {
    return node < this.slotOf.length && this.slotOf[node]! >= 0;
  }

  /** A view of the node's vector (valid until the next `set` that grows the table), or null. */
  get(node: number): T | null {
    if (!this.has(node)) return null;
    const slot = this.slotOf[node]!;
    return this.values.subarray(slot * this.dims, (slot + 1) * this.dims) as T;
  }

  set(node: number, vector: ArrayLike<number>, offset = 0): void {
    let slot = node < this.slotOf.length ? this.slotOf[node]! : -1;
    if (slot < 0) {
      slot = this.free.pop() ?? this.used++;
      this.ensureNode(node);
      this.ensureSlot(slot);
      this.slotOf[node] = slot;
      this.nodeOf[slot] = node;
    }
    const base = slot * this.dims;
    for (let d = 0; d < this.dims; d++) this.values[base + d] = vector[offset + d]!;
    this.journal?.push(node);
  }

  /** Starts recording which nodes change, for one consumer that mirrors the table (an ANN index). */
  trackChanges(): void {
    this.journal ??= [];
  }

  /** Nodes set or deleted since the last call (repeats possible), and clears the record. */
  drainChanges(): number[] {
    if (!this.journal || this.journal.length === 0) return [];
    const changed = this.journal;
    this.journal = [];
    return changed;
  }

  delete(node: number): void {
    if (!this.has(node)) return;
    const slot = this.slotOf[node]!;
    // Zero the values: an erased user's embedding must not linger in memory.
    this.values.fill(0, slot * this.dims, (slot + 1) * this.dims);
    this.slotOf[node] = -1;
    this.nodeOf[slot] = -1;
    this.free.push(slot);
    this.journal?.push(node);
  }

  /** Nodes with a vector, in slot order. */
  *nodes(): IterableIterator<number> {
    for (let slot = 0; slot < this.used; slot++) if (this.nodeOf[slot]! >= 0) yield this.nodeOf[slot]!;
  }

  bytes(): number {
    return this.values.byteLength + this.slotOf.byteLength + this.nodeOf.byteLength;
  }

  private ensureNode(node: number): void {
    if (node < this.slotOf.length) return;
    const grown = new Int32Array(Math.max(node + 1, this.slotOf.length * 2, 1024)).fill(-1);
    grown.set(this.slotOf);
    this.slotOf = grown;
  }

  private ensureSlot(slot: number): void {
    if (slot >= this.nodeOf.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.nodeOf.length * 2, 1024)).fill(-1);
      grown.set(this.nodeOf);
      this.nodeOf = grown;
    }
    if ((slot + 1) * this.dims > this.values.length) {
      const grown = this.allocate(Math.max((slot + 1) * this.dims, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
  }
}
