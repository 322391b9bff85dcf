import assert from 'node:assert/strict';
import { isoTimestamp } from '../../src/recommendations/explanation-path.ts';
import { EdgeTypeCode } from '../../graph/model.ts';
import { PositiveEdges } from '../../graph/positive-edges.ts';
import { ReachedItems } from '../../src/recommendations/graph-walks.ts';
import { InteractionAdjacency } from '../../src/recommendations/interaction-adjacency.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { policy, syntheticGraph } from '../support/synthetic-graph.ts';
import { SeededRandom } from '../../src/synthetic/random.ts';

/** Small parts of the query layer written for speed, checked against the plain versions they replace. */
describe('query-layer parts', () => {
  it('formats timestamps exactly as Date.toISOString does, years 0000–9999 and beyond', () => {
    const random = new SeededRandom(5);
    const cases = [0, -1, 1, 86_399_999, 86_400_000, 951_782_400_000, 4_107_542_399_999, -62_167_219_200_000, 253_402_300_799_999];
    for (let i = 0; i < 20_000; i++) cases.push(Math.floor((random.float() * 2 - 1) * 253_402_300_799_999));
    for (const ms of cases) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
    // Outside the four-digit years it hands over to Date, extended years included.
    assert.equal(isoTimestamp(253_402_300_800_000), '+010000-01-01T00:00:00.000Z');
    assert.equal(isoTimestamp(-62_167_219_200_001), '-000001-12-31T23:59:59.999Z');
    assert.throws(() => isoTimestamp(Number.NaN), RangeError);
  });

  it('numbers the items a walk reaches by first visit and finds each again', () => {
    const reached = new ReachedItems(500);
    const random = new SeededRandom(8);
    const expected = new Map<number, number>();
    for (let step = 0; step < 500; step++) {
      const node = Math.floor(random.float() * 2_000_000);
      const row = reached.rowOf(node);
      if (expected.has(node)) assert.equal(row, expected.get(node));
      else {
        assert.equal(row, -1);
        expected.set(node, reached.add(node));
      }
    }
    assert.equal(reached.size, expected.size);
    for (const [node, row] of expected) {
      assert.equal(reached.rowOf(node), row);
      assert.equal(reached.nodes[row], node);
    }
    assert.equal(reached.rowOf(2_000_001), -1);
    assert.equal(new ReachedItems(0).rowOf(3), -1);
  });

  it('counts the subjects who liked both items, leaving out the one asking', () => {
    const data = generateSyntheticDataset({ seed: 4, edges: 6_000, users: 300, items: 40, topics: 3, sessions: 0 });
    const graph = syntheticGraph(data, data.interactions.length);
    const adjacency = new InteractionAdjacency(() => graph, new PositiveEdges(policy));
    adjacency.warm();
    const items = Array.from({ length: 40 }, (_, i) => graph.nodeIndex('item', data.itemId(i))).filter((n) => n >= 0);
    let checked = 0;
    for (const a of items) {
      for (const b of items) {
        const both = [...adjacency.positiveSubjectsOf(a)].filter((u) => adjacency.positiveSubjectsOf(b).includes(u));
        for (const exclude of [-1, both[0] ?? -1, adjacency.positiveSubjectsOf(a)[0] ?? -1]) {
          assert.equal(adjacency.sharedSubjects(a, b, exclude), both.filter((u) => u !== exclude).length, `items ${a}, ${b} without ${exclude}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 1_000);

    // A remembered count follows the graph: a new like of b by someone who liked a counts at once.
    const [a, b] = [items[0]!, items[1]!];
    const before = adjacency.sharedSubjects(a, b, -1);
    const newcomer = [...adjacency.positiveSubjectsOf(a)].find((u) => !adjacency.positiveSubjectsOf(b).includes(u))!;
    graph.addEdge(newcomer, b, EdgeTypeCode.like, graph.latestTimestamp + 1, policy.typeWeights.like);
    assert.equal(adjacency.sharedSubjects(a, b, -1), before + 1);
    assert.equal(adjacency.sharedSubjects(b, a, newcomer), before);
  });
});
