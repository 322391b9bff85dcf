import assert from 'node:assert/strict';

import { InteractionAdjacency } from '../../graph/interaction-adjacency.ts';
import { EdgeTypeCode, HAS_TAG, INTERACTION_MASK } from '../../graph/model.ts';
import { NodeTable } from '../../graph/node-table.ts';
import { PositiveEdges } from '../../graph/positive-edges.ts';
import { SeededRandom } from '../../graph/random.ts';
import { SeedWalks, walkScore } from '../../graph/walks.ts';
import { ItemCatalogue } from '../../src/catalogue/item-catalogue.ts';
import { groupedDigits, isoTimestamp, PathNodes, tagLabel } from '../../src/recommendations/explanation-path.ts';
import { TagLists, type TagSpan } from '../../src/recommendations/tag-affinity.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { policy, syntheticGraph } from '../support/synthetic-graph.ts';

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

  it('groups the digits of counts as toLocaleString does', () => {
    const random = new SeededRandom(12);
    const cases = [0, 1, 9, 10, 999, 1_000, 1_001, 99_999, 100_000, 999_999, 1_000_000, 1_234_567, -1, -1_000, -987_654_321, Number.MAX_SAFE_INTEGER, 1.5];
    for (let i = 0; i < 5_000; i++) cases.push(Math.floor(random.float() * 10 ** Math.floor(random.float() * 12)));
    for (const n of cases) assert.equal(groupedDigits(n), n.toLocaleString('en-US'), String(n));
  });

  for (const expectedSize of [500, 3]) {
    it(`numbers nodes by first addition and finds each again (room for ${expectedSize} at first)`, () => {
      const reached = new NodeTable(expectedSize);
      const random = new SeededRandom(8);
      const expected = new Map<number, number>();
      for (let step = 0; step < 500; step++) {
        // Few distinct values, so nodes come back, and some of them collide in the table.
        const node = Math.floor(random.float() * (step % 2 ? 2_000_000 : 300));
        const row = reached.rowOf(node);
        if (expected.has(node)) assert.equal(row, expected.get(node));
        else {
          assert.equal(row, -1);
          expected.set(node, reached.add(node));
        }
      }
      assert.equal(reached.size, expected.size);
      assert.deepEqual(
        [...expected.values()],
        [...expected.keys()].map((_, i) => i),
      );
      for (const [node, row] of expected) {
        assert.equal(reached.rowOf(node), row);
        assert.equal(reached.nodes[row], node);
      }
      assert.equal(reached.rowOf(2_000_001), -1);
    });
  }

  it('keeps numbering nodes through many growths, past 65,536 slots', () => {
    const table = new NodeTable(1);
    const nodes = Array.from({ length: 100_000 }, (_, i) => (i * 7_919) % 1_000_003);
    for (const node of nodes) assert.equal(table.add(node), table.size - 1);
    assert.equal(table.size, nodes.length);
    nodes.forEach((node, row) => {
      if (table.rowOf(node) !== row) assert.fail(`node ${node}: row ${table.rowOf(node)}, expected ${row}`);
    });
    assert.equal(table.rowOf(1_000_004), -1);
  });

  it('finds nothing in an empty node table', () => {
    assert.equal(new NodeTable(0).rowOf(3), -1);
    assert.equal(new NodeTable(0).rowOf(0), -1);
  });

  it('walks from each seed through its likers to their items, exactly, and splits each score by seed', () => {
    const data = generateSyntheticDataset({ seed: 6, edges: 8_000, users: 300, items: 60, topics: 3, sessions: 0 });
    const graph = syntheticGraph(data, data.interactions.length);
    const adjacency = new InteractionAdjacency(() => graph, new PositiveEdges(policy));
    adjacency.warm();
    const subject = Array.from({ length: 300 }, (_, u) => graph.nodeIndex('user', data.userId(u))).find(
      (u) => u >= 0 && adjacency.positiveItemsOf(u).length >= 7,
    )!;
    const seeds = [...adjacency.positiveItemsOf(subject)].slice(0, 7).map((item, s) => ({ item, edge: -1, weight: 1 + s }));
    // A liked item whose list changed since the lists were packed is read from its rebuilt list.
    graph.addEdge(graph.nodeIndex('user', data.userId(1)), seeds[2]!.item, EdgeTypeCode.like, graph.latestTimestamp + 1, policy.typeWeights.like);
    // Plainly, from the graph's own edges: hop_s(i) = Σ over the seed's likers v (the subject left out, at most
    // `cap` of them, evenly spread) of (|items(v)| / read) / (likers walked · √|items(v)|), for each of the
    // items of v read (at most `itemsCap`, evenly spread).
    const likedBy = (node: number, outgoing: boolean): number[] => {
      const found = new Set<number>();
      const visit = (e: number, other: number) => {
        if (new PositiveEdges(policy).isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) found.add(other);
      };
      if (outgoing) graph.forEachOutEdge(node, visit, INTERACTION_MASK);
      else graph.forEachInEdge(node, visit, INTERACTION_MASK);
      return [...found].sort((a, b) => a - b);
    };
    const spread = <T>(all: readonly T[], most: number): T[] =>
      Array.from({ length: Math.min(most, all.length) }, (_, k) => all[Math.floor((k * all.length) / Math.min(most, all.length))]!);
    for (const [cap, itemsCap, perRequest, counted] of [
      [1_000, 1_000, 1e9, 1e9],
      [5, 1_000, 1e9, 1e9],
      [1_000, 4, 1e9, 1e9],
      [1_000, 1_000, 1_500, 1e9],
      [1_000, 1_000, 1_500, 2],
    ] as const) {
      const walks = new SeedWalks(adjacency, { likersPerSeed: cap, itemsPerLiker: itemsCap, itemsPerRequest: perRequest, likersCountedToPlan: counted });
      const walk = walks.walk(seeds, subject, graph.nodeBound);
      const hop = new Map<string, number>();
      const expected = new Map<number, number>();
      // Each seed's spread, thinned to every step-th liker so that the request reads about `perRequest` items:
      // shared out smallest seed first, each taking at most an even share of what is left. What a seed would
      // read is counted on a spread of `counted` of its likers, scaled up to all but the subject.
      const spreads = seeds.map((seed) => spread(likedBy(seed.item, false), cap));
      const reads = spreads.map((likers) => {
        const sample = spread(likers, counted).filter((v) => v !== subject);
        const read = sample.reduce((sum, v) => sum + Math.min(itemsCap, likedBy(v, true).length), 0);
        return sample.length === 0 ? 0 : (read * likers.filter((v) => v !== subject).length) / sample.length;
      });
      const steps = seeds.map(() => 1);
      let remaining: number = perRequest;
      [...seeds.keys()]
        .sort((a, b) => reads[a]! - reads[b]! || a - b)
        .forEach((s, i) => {
          const share = remaining / (seeds.length - i);
          steps[s] = reads[s]! <= share ? 1 : Math.ceil(reads[s]! / Math.max(1, share));
          remaining = Math.max(0, remaining - reads[s]! / steps[s]);
        });
      if (perRequest < 1e9)
        assert.ok(
          steps.some((step) => step > 1),
          `steps ${steps.join(' ')}`,
        );
      seeds.forEach((seed, s) => {
        const likers = spreads[s]!.filter((v, k) => k % steps[s]! === 0 && v !== subject);
        for (const v of likers) {
          const items = likedBy(v, true);
          const read = spread(items, itemsCap);
          for (const item of read) {
            const share = items.length / read.length / (likers.length * Math.sqrt(items.length));
            hop.set(`${item}/${s}`, (hop.get(`${item}/${s}`) ?? 0) + share);
            expected.set(item, (expected.get(item) ?? 0) + seed.weight * share);
          }
        }
      });
      assert.equal(walk.rows.size, expected.size, `limits ${cap}, ${itemsCap}, ${perRequest}, ${counted}: the same items reached`);
      for (const [item, score] of expected)
        assert.ok(
          Math.abs(walkScore(walk, item) - score) < 1e-9,
          `limits ${cap}, ${itemsCap}, ${perRequest}, ${counted}: walk(${item}) ${walkScore(walk, item)}, expected ${score}`,
        );
      // The split by seed of a few items' scores adds up to their scores, through a liker of both.
      const items = [...expected.keys()].slice(0, 5);
      const shares = walks.shares(walk, items, graph.nodeBound);
      for (const item of items) {
        const row = shares.rows.rowOf(item);
        let sum = 0;
        seeds.forEach((seed, s) => {
          const cell = row * shares.seeds + s;
          assert.ok(Math.abs(shares.hop[cell]! - (hop.get(`${item}/${s}`) ?? 0)) < 1e-12);
          sum += seed.weight * shares.hop[cell]!;
          const via = shares.via[cell]!;
          if (shares.hop[cell]! > 0) {
            assert.notEqual(via, subject);
            assert.ok(likedBy(via, true).includes(item) && likedBy(via, true).includes(seed.item), `${via} liked both ${seed.item} and ${item}`);
          } else assert.equal(via, -1);
        });
        assert.ok(Math.abs(sum - walkScore(walk, item)) < 1e-9);
      }
    }
  });

  it("finds each item's newest positive interaction, packed at start and after changes", () => {
    const data = generateSyntheticDataset({ seed: 9, edges: 5_000, users: 200, items: 40, topics: 3, sessions: 0 });
    const graph = syntheticGraph(data, data.interactions.length);
    const positives = new PositiveEdges(policy);
    const adjacency = new InteractionAdjacency(() => graph, positives);
    adjacency.warm();
    const items = Array.from({ length: 40 }, (_, i) => graph.nodeIndex('item', data.itemId(i))).filter((n) => n >= 0);
    // Plainly: the in-edges in the graph's recency order (newest first), the first positive one.
    const expected = (item: number, exclude: number): number => {
      const edges: number[] = [];
      graph.forEachInEdge(item, (e) => void edges.push(e));
      edges.sort((a, b) => graph.edgeTimestamp(b) - graph.edgeTimestamp(a) || b - a);
      return edges.find((e) => graph.edgeSource(e) !== exclude && positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) ?? -1;
    };
    const check = (): void => {
      for (const item of items) {
        const latest = expected(item, -1);
        assert.equal(adjacency.latestPositiveEdge(item, -1), latest, `item ${item}`);
        if (latest >= 0)
          assert.equal(
            adjacency.latestPositiveEdge(item, graph.edgeSource(latest)),
            expected(item, graph.edgeSource(latest)),
            `item ${item} without its latest fan`,
          );
      }
    };
    check();
    // A newer like takes over; a newer dislike does not.
    const [a, b] = [items[0]!, items[1]!];
    const user = graph.nodeIndex('user', data.userId(3));
    const like = graph.addEdge(user, a, EdgeTypeCode.like, graph.latestTimestamp + 10, policy.typeWeights.like);
    graph.addEdge(user, b, EdgeTypeCode.dislike, graph.latestTimestamp + 10, policy.typeWeights.dislike);
    assert.equal(adjacency.latestPositiveEdge(a, -1), like);
    check();
  });

  for (const packed of [false, true]) {
    it(`keeps items' tags and tags' items as the graph has them, through retagging (${packed ? 'packed at start' : 'read per node'})`, () => {
      const data = generateSyntheticDataset({ seed: 3, edges: 2_000, users: 100, items: 30, topics: 3, sessions: 0 });
      const graph = syntheticGraph(data, data.interactions.length);
      const lists = new TagLists(() => graph);
      if (packed) lists.warm();
      const span: TagSpan = { nodes: new Int32Array(0), from: 0, to: 0 };
      const plain = (node: number, outgoing: boolean): number[][] => {
        const pairs: number[][] = [];
        const visit = (edge: number, other: number) => void pairs.push([other, edge]);
        if (outgoing) graph.forEachOutEdge(node, visit, 1 << HAS_TAG);
        else graph.forEachInEdge(node, visit, 1 << HAS_TAG);
        return pairs;
      };
      const pairs = (list: { nodes: Int32Array; edges: Int32Array }) => Array.from(list.nodes, (n, i) => [n, list.edges[i]!]);
      const items = Array.from({ length: 30 }, (_, i) => graph.nodeIndex('item', data.itemId(i))).filter((n) => n >= 0);
      const check = () => {
        for (const item of items) {
          assert.deepEqual(pairs(lists.tagsOf(item)), plain(item, true), `tags of ${item}`);
          lists.locateTags(item, span);
          assert.deepEqual(
            Array.from(span.nodes.subarray(span.from, span.to)),
            plain(item, true).map(([tag]) => tag),
            `tags of ${item} in place`,
          );
          for (const [tag] of plain(item, true)) assert.deepEqual(pairs(lists.itemsOf(tag!)), plain(tag!, false), `items of ${tag}`);
        }
      };
      check();
      const item = items[0]!;
      graph.setItemTags(item, ['tag:new', graph.externalId(plain(items[1]!, true)[0]![0]!)], graph.latestTimestamp + 1);
      check();
      assert.deepEqual(
        Array.from(lists.tagsOf(item).nodes, (t) => graph.externalId(t)).sort(),
        ['tag:new', graph.externalId(plain(items[1]!, true)[0]![0]!)].sort(),
      );
      assert.equal(lists.itemsOf(graph.nodeIndex('tag', 'tag:new')).nodes[0], item);
      assert.equal(lists.tagsOf(-1).nodes.length, 0);
      lists.locateTags(-1, span);
      assert.equal(span.to - span.from, 0);
    });
  }

  it('names path nodes by the catalogue as it is now, kept from one response to the next', () => {
    const data = generateSyntheticDataset({ seed: 3, edges: 500, users: 30, items: 10, topics: 2, sessions: 0 });
    const graph = syntheticGraph(data, data.interactions.length);
    const catalogue = new ItemCatalogue();
    for (const item of data.catalogue()) catalogue.put(item);
    const nodes = new PathNodes(catalogue);
    const item = graph.nodeIndex('item', data.itemId(0));
    const first = nodes.node(graph, item);
    assert.deepEqual(first, { kind: 'item', id: data.itemId(0), label: catalogue.title(data.itemId(0)) });
    assert.equal(nodes.node(graph, item), first, 'the same node object, not written again');
    const tag = new TagLists(() => graph).tagsOf(item).nodes[0]!;
    assert.deepEqual(nodes.node(graph, tag), { kind: 'tag', id: graph.externalId(tag), label: tagLabel(graph.externalId(tag)) });
    // A new title shows at once; so does an item taken out of the catalogue (named by its id).
    catalogue.put({ id: data.itemId(0), title: 'Renamed', tags: [] });
    assert.equal(nodes.node(graph, item).label, 'Renamed');
    catalogue.delete(data.itemId(0));
    assert.equal(nodes.node(graph, item).label, data.itemId(0));
    // Another graph: nothing carried over, even for the same index.
    const other = syntheticGraph(generateSyntheticDataset({ seed: 4, edges: 500, users: 30, items: 10, topics: 2, sessions: 0 }), 500);
    assert.equal(nodes.node(other, item).id, other.externalId(item));
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
