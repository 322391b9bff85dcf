import assert from 'node:assert/strict';

import { NodeVectors } from '../../gnn/node-vectors.ts';
import { SeededRandom } from '../../graph/random.ts';
import { ItemVectorIndex } from '../../src/recommendations/item-vector-index.ts';

/** The item index: exact scan below the threshold, HNSW above it, both mirroring the embedding tables. */
describe('ItemVectorIndex', () => {
  const dims = 16;
  const random = new SeededRandom(99);
  const vector = () => Float32Array.from({ length: dims }, () => random.normal());

  function tables(n: number): { items: NodeVectors; itemBias: NodeVectors } {
    const items = new NodeVectors(dims);
    const itemBias = new NodeVectors(1);
    for (let node = 0; node < n; node++) {
      items.set(node, vector());
      itemBias.set(node, [random.normal() * 0.1]);
    }
    return { items, itemBias };
  }

  const never = () => false;

  it('scans exactly below the threshold: the true top k by z·x + b, in order', () => {
    const t = tables(500);
    const index = new ItemVectorIndex(10_000);
    index.sync(t);
    assert.equal(index.approximate, false);
    const z = vector();
    const expected = Array.from({ length: 500 }, (_, node) => ({ node, score: index.score(z, node) })).sort((a, b) => b.score - a.score);
    let manual = t.itemBias.get(7)![0]!;
    for (let d = 0; d < dims; d++) manual += z[d]! * t.items.get(7)![d]!;
    assert.ok(Math.abs(index.score(z, 7) - manual) < 1e-5);
    assert.deepEqual(
      index.search(z, 10, never).map((s) => s.node),
      expected.slice(0, 10).map((s) => s.node),
    );
    const odd = index.search(z, 10, (node) => node % 2 === 1);
    assert.ok(odd.every((s) => s.node % 2 === 0) && odd.length === 10);
  });

  it('finds nearly the same top 10 with HNSW above the threshold (recall ≥ 0.9)', () => {
    const t = tables(4_000);
    const exact = new ItemVectorIndex(1_000_000);
    const approximate = new ItemVectorIndex(1_000);
    exact.sync(t);
    approximate.sync(t);
    assert.equal(approximate.approximate, true);
    let found = 0;
    for (let q = 0; q < 50; q++) {
      const z = vector();
      const truth = new Set(exact.search(z, 10, never).map((s) => s.node));
      found += approximate.search(z, 10, never).filter((s) => truth.has(s.node)).length;
    }
    assert.ok(found / 500 >= 0.9, `recall@10 ${found / 500}`);
  });

  it('follows the tables: a changed item moves, a new one appears, a removed one is gone', () => {
    for (const threshold of [1_000_000, 100]) {
      const t = tables(400);
      const index = new ItemVectorIndex(threshold);
      index.sync(t);
      const z = vector();
      const scaled = Float32Array.from(z, (v) => v * 10);
      t.items.set(42, scaled);
      index.sync(t);
      assert.equal(index.search(z, 1, never)[0]!.node, 42, `changed item first (threshold ${threshold})`);
      t.items.set(
        1_000,
        Float32Array.from(z, (v) => v * 20),
      );
      t.itemBias.set(1_000, [0]);
      index.sync(t);
      assert.equal(index.search(z, 1, never)[0]!.node, 1_000, 'new item first');
      t.items.delete(1_000);
      index.sync(t);
      assert.equal(index.search(z, 1, never)[0]!.node, 42, 'removed item gone');
      assert.equal(index.size, 400);
      // A removed item's slot is reused by the next new one.
      t.items.set(
        2_000,
        Float32Array.from(z, (v) => v * 30),
      );
      index.sync(t);
      assert.equal(index.search(z, 1, never)[0]!.node, 2_000, 'reused slot');
    }
  });

  it('keeps every item vector at length 1 for cosines, following changes', () => {
    const t = tables(50);
    const index = new ItemVectorIndex(10_000);
    index.sync(t);
    const check = (node: number) => {
      const x = t.items.get(node)!;
      const unit = index.unit(node)!;
      const norm = Math.hypot(...x);
      x.forEach((v, d) => assert.ok(Math.abs(unit[d]! - v / norm) < 1e-6, `node ${node}, dimension ${d}`));
    };
    check(3);
    t.items.set(3, vector());
    t.items.set(60, vector());
    t.itemBias.set(60, [0]);
    index.sync(t);
    check(3);
    check(60);
    t.items.set(4, new Float32Array(dims));
    index.sync(t);
    assert.deepEqual(Array.from(index.unit(4)!), new Array(dims).fill(0), 'a zero vector stays zero');
    t.items.delete(5);
    index.sync(t);
    assert.equal(index.unit(5), null);
    assert.equal(index.unitSlot(5), -1);
    // Cosines by slot, read in place, are the dot products of the unit vectors.
    for (const [a, b] of [
      [3, 60],
      [3, 3],
      [7, 11],
      [4, 9],
    ] as const) {
      const expected = index.unit(a)!.reduce((sum, v, d) => sum + v * index.unit(b)![d]!, 0);
      assert.ok(Math.abs(index.cosine(index.unitSlot(a), index.unitSlot(b)) - expected) < 1e-9, `cosine of ${a} and ${b}`);
    }
    assert.ok(Math.abs(index.cosine(index.unitSlot(3), index.unitSlot(3)) - 1) < 1e-6);
  });
});
