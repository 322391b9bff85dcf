import assert from 'node:assert/strict';

import { pino } from 'pino';

import { initialiseBackend } from '../../gnn/backend.ts';
import { trainingInputFromGraph, vocabularyOf } from '../../gnn/graph-training-input.ts';
import { IncrementalUpdater } from '../../gnn/incremental-updater.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { NodeKindCode } from '../../graph/model.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { applySynthetic, policy, syntheticGraph } from '../support/synthetic-graph.ts';

const info = { version: 'test', trainedAt: new Date(0).toISOString(), backend: 'test' };

function maxDifference(a: InterestEmbeddings, b: InterestEmbeddings, graph: InterestGraph): { subjects: number; items: number; worst: number } {
  let worst = 0;
  let subjects = 0;
  let items = 0;
  for (let node = 0; node < graph.nodeBound; node++) {
    if (!graph.hasNode(node)) continue;
    const kind = graph.nodeKindCode(node);
    const pair =
      kind === NodeKindCode.item ? [a.items.get(node), b.items.get(node)] : kind === NodeKindCode.tag ? null : [a.subjects.get(node), b.subjects.get(node)];
    if (!pair) continue;
    const [x, y] = pair;
    assert.ok(x && y, `node ${graph.externalId(node)} has a vector in both tables`);
    for (let d = 0; d < x.length; d++) worst = Math.max(worst, Math.abs(x[d]! - y[d]!));
    if (kind === NodeKindCode.item) items++;
    else subjects++;
  }
  return { subjects, items, worst };
}

describe('incremental embedding updates', function () {
  this.timeout(60_000);
  before(() => initialiseBackend('auto', pino({ level: 'silent' })));

  for (const coLiked of [0, 5]) {
    it(`equal a full recompute within 1e-5 for every node after a stream of interactions (${coLiked} co-liked items)`, async () => {
      const data = generateSyntheticDataset({ seed: 7, edges: 6_000, users: 80, items: 240, topics: 6, outOfOrder: 0.05 });
      // The model knows the catalogue and the first half of the log; the second half arrives as a stream.
      const graph = syntheticGraph(data, 3_000);
      // Co-liked lists are the model's, fixed when it was trained: found from the first half.
      const vocabulary = trainingInputFromGraph(graph, policy, vocabularyOf(graph), coLiked).vocabulary;
      assert.equal(vocabulary.coLiked !== undefined, coLiked > 0);
      const model = new InterestGAT({ dims: 16, heads: 2, fanout: 8, history: 4, scale: 8, seed: 3, coLiked }, vocabulary.items.length, vocabulary.tags.length);
      const live = new InterestEmbeddings(model, vocabulary, info, () => graph);
      live.recomputeAll();
      const updater = new IncrementalUpdater(
        () => live,
        () => graph,
      );

      for (let from = 3_000; from < 6_000; from += 137) {
        updater.interactionsAdded(applySynthetic(graph, data, from, from + 137));
        if (from % 3 === 0) await updater.settled();
      }
      // A brand-new item with tags only (cold start) and a retagged item, then a new user on the new item.
      const fresh = graph.addNode('item', 'brand-new');
      graph.setItemTags(fresh, [data.topics[0]!.tags[0]!, data.topics[0]!.tags[1]!], Date.UTC(2025, 0, 1));
      const retagged = graph.nodeIndex('item', data.itemId(5));
      graph.setItemTags(retagged, [data.topics[1]!.tags[2]!], Date.UTC(2025, 0, 1));
      updater.itemsChanged([fresh, retagged]);
      const newcomer = graph.addNode('user', 'newcomer');
      graph.addEdge(newcomer, fresh, 1, Date.UTC(2025, 0, 2), 1);
      updater.interactionsAdded([newcomer]);
      // An erased user disappears from the tables.
      const erased = graph.nodeIndex('user', data.userId(0));
      graph.removeNode(erased);
      updater.nodeRemoved(erased);
      await updater.settled();

      assert.equal(live.subjects.has(erased), false);
      const full = new InterestEmbeddings(model, vocabulary, info, () => graph);
      full.recomputeAll();
      const diff = maxDifference(live, full, graph);
      assert.ok(diff.subjects > 80 && diff.items > 240, `compared ${diff.subjects} subjects and ${diff.items} items`);
      assert.ok(diff.worst <= 1e-5, `largest difference ${diff.worst}`);
      // The stream really moved the embeddings: the first half's vectors differ from the final ones.
      const before = new InterestEmbeddings(model, vocabulary, info, () => syntheticGraph(data, 3_000));
      before.recomputeAll();
      const user = graph.nodeIndex('user', data.userId(1));
      const moved = before.subjects.get(user)!.some((v, d) => Math.abs(v - full.subjects.get(user)![d]!) > 1e-3);
      assert.ok(moved, 'user-1 embedding changed over the stream');
      model.dispose();
    });
  }

  it('updates only the subjects whose neighbourhood changed', async () => {
    const data = generateSyntheticDataset({ seed: 8, edges: 2_000, users: 40, items: 100, topics: 4 });
    const graph = syntheticGraph(data, 2_000);
    const vocabulary = vocabularyOf(graph);
    const model = new InterestGAT({ dims: 8, heads: 2, fanout: 6, history: 2, scale: 8, seed: 1 }, vocabulary.items.length, vocabulary.tags.length);
    const live = new InterestEmbeddings(model, vocabulary, info, () => graph);
    live.recomputeAll();
    const updater = new IncrementalUpdater(
      () => live,
      () => graph,
    );
    const user = graph.nodeIndex('user', data.userId(2));
    graph.addEdge(user, graph.nodeIndex('item', data.itemId(3)), 3, Date.UTC(2026, 0, 1), 1);
    updater.interactionsAdded([user]);
    await updater.settled();
    assert.equal(updater.updated, 1);
    assert.equal(updater.drainLatencies().length, 1);
    model.dispose();
  });
});
