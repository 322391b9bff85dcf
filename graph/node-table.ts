/**
 * Node indexes numbered 0, 1, 2, … in the order they were added: an open-addressing hash table of
 * node → row in typed arrays. A request looks nodes up a few thousand times (walk steps, tag weights,
 * remembered scores); a Map cost several percent of a request there, and its growth most of the
 * request's garbage. Callers keep per-row values in their own arrays, indexed by row.
 */
export class NodeTable {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  /** 32 − log2(capacity): the hash's top bits pick the slot (Fibonacci hashing), however large the table. */
  private shift: number;
  /** Added nodes by row. */
  nodes: Int32Array;
  size = 0;

  /** Room for `expected` nodes before the table grows. */
  constructor(expected = 8) {
    let capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    this.keys = new Int32Array(capacity).fill(-1);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.nodes = new Int32Array(Math.max(1, expected));
  }

  /** The node's row, or -1. */
  rowOf(node: number): number {
    for (let h = Math.imul(node, 0x9e3779b1) >>> this.shift; ; h = (h + 1) & this.mask) {
      const key = this.keys[h]!;
      if (key === node) return this.values[h]!;
      if (key < 0) return -1;
    }
  }

  /** Numbers a node (not added before: callers check `rowOf` first); returns its row. */
  add(node: number): number {
    if (this.size === this.nodes.length) this.grow();
    this.place(node, this.size);
    this.nodes[this.size] = node;
    return this.size++;
  }

  private place(node: number, row: number): void {
    let h = Math.imul(node, 0x9e3779b1) >>> this.shift;
    while (this.keys[h]! >= 0) h = (h + 1) & this.mask;
    this.keys[h] = node;
    this.values[h] = row;
  }

  /** Twice the room: rows stay as they were, so callers' per-row arrays stay valid (they grow their own). */
  private grow(): void {
    const nodes = new Int32Array(this.nodes.length * 2);
    nodes.set(this.nodes);
    this.nodes = nodes;
    this.keys = new Int32Array(this.keys.length * 2).fill(-1);
    this.values = new Int32Array(this.keys.length);
    this.mask = this.keys.length - 1;
    this.shift--;
    for (let row = 0; row < this.size; row++) this.place(nodes[row]!, row);
  }
}
