import assert from 'node:assert/strict';

import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, edgeTypeMask, HAS_TAG } from '../../graph/model.ts';

const VIEW = EdgeTypeCode.view;
const RATING = EdgeTypeCode.rating;
const DISLIKE = EdgeTypeCode.dislike;

function neighbours(graph: InterestGraph, node: number, mask?: number): string[] {
  const out: string[] = [];
  graph.forEachOutEdge(node, (_e, other) => void out.push(graph.externalId(other)), mask);
  return out;
}

describe('InterestGraph', () => {
  it('gives each (kind, id) one node, and keeps kinds in separate namespaces', () => {
    const g = new InterestGraph();
    const u = g.addNode('user', '42');
    assert.equal(g.addNode('user', '42'), u);
    const i = g.addNode('item', '42');
    assert.notEqual(i, u);
    assert.equal(g.nodeIndex('item', '42'), i);
    assert.equal(g.nodeIndex('session', '42'), -1);
    assert.equal(g.nodeKind(i), 'item');
    assert.equal(g.externalId(u), '42');
  });

  it('appends edges past its initial capacity without losing any', () => {
    const g = new InterestGraph({ nodes: 16, edges: 16 });
    const users = Array.from({ length: 50 }, (_, k) => g.addNode('user', `u${k}`));
    const items = Array.from({ length: 30 }, (_, k) => g.addNode('item', `i${k}`));
    let count = 0;
    for (const u of users)
      for (let k = 0; k < 20; k++) {
        g.addEdge(u, items[(u + k) % items.length]!, VIEW, k, 0.1);
        count++;
      }
    assert.equal(g.counts().interactions, count);
    for (const u of users) assert.equal(neighbours(g, u).length, 20);
    let inTotal = 0;
    for (const i of items) inTotal += g.inDegreeOf(i);
    assert.equal(inTotal, count);
  });

  it('filters neighbours by edge type', () => {
    const g = new InterestGraph();
    const u = g.addNode('user', 'u');
    const [a, b, c] = ['a', 'b', 'c'].map((id) => g.addNode('item', id)) as [number, number, number];
    g.addEdge(u, a, VIEW, 1, 0.1);
    g.addEdge(u, b, RATING, 2, 1);
    g.addEdge(u, c, DISLIKE, 3, -0.8);
    assert.deepEqual(neighbours(g, u, edgeTypeMask(['rating', 'dislike'])), ['c', 'b']);
    assert.deepEqual(neighbours(g, u, edgeTypeMask(['view'])), ['a']);
    const viewers: string[] = [];
    g.forEachInEdge(a, (_e, s) => void viewers.push(g.externalId(s)), edgeTypeMask(['view']));
    assert.deepEqual(viewers, ['u']);
  });

  it('stops iterating when the visitor returns false', () => {
    const g = new InterestGraph();
    const u = g.addNode('user', 'u');
    for (let k = 0; k < 10; k++) g.addEdge(u, g.addNode('item', `i${k}`), VIEW, k, 0.1);
    let seen = 0;
    g.forEachOutEdge(u, () => ++seen < 3);
    assert.equal(seen, 3);
  });

  it('lists edges by recency even when they arrived out of timestamp order', () => {
    const g = new InterestGraph();
    const u = g.addNode('user', 'u');
    const stamps = [50, 10, 40, 30, 20, 60];
    stamps.forEach((ts, k) => g.addEdge(u, g.addNode('item', `i${ts}`), VIEW, ts, 0.1 * k));
    const recent = g.recentOutEdges(u, 4).map((e) => g.edgeTimestamp(e));
    assert.deepEqual(recent, [60, 50, 40, 30]);
    // Still right after more late arrivals, and for in-lists too.
    g.addEdge(u, g.addNode('item', 'i35'), VIEW, 35, 0.1);
    assert.deepEqual(
      g.recentOutEdges(u, 10).map((e) => g.edgeTimestamp(e)),
      [60, 50, 40, 35, 30, 20, 10],
    );
    const item = g.addNode('item', 'hot');
    for (const [k, ts] of [7, 3, 9, 1].entries()) g.addEdge(g.addNode('user', `v${k}`), item, VIEW, ts, 0.1);
    assert.deepEqual(
      g.recentInEdges(item, 3).map((e) => g.edgeTimestamp(e)),
      [9, 7, 3],
    );
  });

  it('removes a user with all their edges, leaving others intact', () => {
    const g = new InterestGraph();
    const u1 = g.addNode('user', 'u1');
    const u2 = g.addNode('user', 'u2');
    const i = g.addNode('item', 'i');
    const j = g.addNode('item', 'j');
    g.addEdge(u1, i, VIEW, 1, 0.1);
    g.addEdge(u1, j, RATING, 2, 1);
    g.addEdge(u2, i, VIEW, 3, 0.1);
    assert.equal(g.removeNode(u1), 2);
    assert.equal(g.nodeIndex('user', 'u1'), -1);
    assert.equal(g.hasNode(u1), false);
    assert.throws(() => g.externalId(u1), RangeError);
    const viewersOfI: string[] = [];
    g.forEachInEdge(i, (_e, s) => void viewersOfI.push(g.externalId(s)));
    assert.deepEqual(viewersOfI, ['u2']);
    assert.equal(g.inDegreeOf(j), 0);
    assert.deepEqual(g.recentInEdges(j, 10), []);
    assert.equal(g.counts().users, 1);
    assert.equal(g.counts().interactions, 1);
    // A returning user with the same id starts from nothing.
    const again = g.addNode('user', 'u1');
    assert.notEqual(again, u1);
    assert.deepEqual(neighbours(g, again), []);
  });

  it('compacts deleted edges away without changing what readers see', () => {
    const g = new InterestGraph();
    const items = Array.from({ length: 5 }, (_, k) => g.addNode('item', `i${k}`));
    const users = Array.from({ length: 20 }, (_, k) => g.addNode('user', `u${k}`));
    users.forEach((u, k) => items.forEach((i, m) => g.addEdge(u, i, VIEW, k * 10 + m, 0.1)));
    for (const u of users.slice(0, 10)) g.removeNode(u);
    const before = items.map((i) => g.recentInEdges(i, 100));
    assert.ok(g.counts().deletedEdges > 0);
    g.compact();
    assert.equal(g.counts().deletedEdges, 0);
    assert.deepEqual(
      items.map((i) => g.recentInEdges(i, 100)),
      before,
    );
  });

  it("replaces an item's tags", () => {
    const g = new InterestGraph();
    const item = g.addNode('item', 'm');
    g.setItemTags(item, ['genre:Drama', 'genre:War'], 1);
    g.setItemTags(item, ['genre:War', 'keyword:tanks'], 2);
    assert.deepEqual(neighbours(g, item, 1 << HAS_TAG).sort(), ['genre:War', 'keyword:tanks']);
    assert.equal(g.counts().itemTags, 2);
    assert.equal(g.counts().tags, 3, 'tag nodes stay; only the edges change');
    assert.equal(g.counts().interactions, 0);
  });

  it('decays edge weights with time and not tag edges', () => {
    const g = new InterestGraph();
    const u = g.addNode('user', 'u');
    const i = g.addNode('item', 'i');
    const e = g.addEdge(u, i, RATING, 0, 1);
    assert.ok(Math.abs(g.edgeWeight(e, 10, 10) - 0.5) < 1e-12);
    const t = g.addEdge(i, g.addNode('tag', 't'), HAS_TAG, 0, 1);
    assert.equal(g.edgeWeight(t, 1e12, 10), 1);
    assert.equal(g.latestTimestamp, 0, 'tag edges do not move the event clock');
  });

  it('stays under 64 bytes per edge in its typed arrays', () => {
    const g = new InterestGraph();
    const users = Array.from({ length: 1000 }, (_, k) => g.addNode('user', `u${k}`));
    const items = Array.from({ length: 500 }, (_, k) => g.addNode('item', `i${k}`));
    const edges = 200_000;
    for (let k = 0; k < edges; k++) g.addEdge(users[k % 1000]!, items[(k * 7) % 500]!, VIEW, k, 0.1);
    assert.ok(g.typedArrayBytes() / edges < 64, `${g.typedArrayBytes() / edges} bytes per edge`);
  });
});
