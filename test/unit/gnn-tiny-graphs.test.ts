import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { InsufficientTrainingDataError } from '../../base/errors.ts';
import { initialiseBackend } from '../../gnn/backend.ts';
import { emptyNeighbourhoods } from '../../gnn/edge-features.ts';
import { trainOnGraph } from '../../gnn/graph-model-training.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import { DEFAULT_TRAINING } from '../../gnn/training/gat-trainer.ts';
import { baseWeight } from '../../graph/edge-weight.ts';
import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, type InteractionType } from '../../graph/model.ts';
import { policy } from '../support/synthetic-graph.ts';

const hyper = { dims: 8, heads: 2, fanout: 6, history: 2, scale: 8, seed: 3 };
const options = { ...DEFAULT_TRAINING, epochs: 5, patience: 2, threads: 1 };
const T0 = Date.UTC(2025, 0, 1);

/** A graph of `[user, item, type]` interactions, one minute apart in the order given. */
function graphOf(events: ReadonlyArray<readonly [number, number, InteractionType]>): InterestGraph {
  const graph = new InterestGraph();
  events.forEach(([user, item, type], i) => {
    const u = graph.addNode('user', `user-${user}`);
    const it = graph.addNode('item', `item-${item}`);
    graph.addEdge(u, it, EdgeTypeCode[type], T0 + i * 60_000, baseWeight(policy, type, null));
  });
  return graph;
}

/** 150 events by 10 users over 30 items, as the report had them: `type(i)` picks each one's type. */
function smallGraph(type: (i: number) => InteractionType): InterestGraph {
  return graphOf(Array.from({ length: 150 }, (_, i) => [i % 10, (i * 7) % 30, type(i)] as const));
}

describe('GAT training on tiny graphs', function () {
  this.timeout(120_000);
  before(async () => {
    // The wasm backend, where zero-size tensors crashed the Transpose kernel ("divide by zero").
    await initialiseBackend('auto', pino({ level: 'silent' }));
  });

  it('refuses a graph of views only with a typed error, not a kernel crash', async () => {
    await assert.rejects(
      trainOnGraph(
        smallGraph(() => 'view'),
        policy,
        hyper,
        options,
      ),
      InsufficientTrainingDataError,
    );
    // Likes that are each user's first interaction have nothing before them to learn from either.
    const firstLikes = smallGraph((i) => (i < 10 ? 'like' : 'view'));
    await assert.rejects(trainOnGraph(firstLikes, policy, hyper, options), InsufficientTrainingDataError);
  });

  it('trains every epoch on 140 views and 10 likes, where nothing is left to validate on', async () => {
    const graph = smallGraph((i) => (i >= 140 ? 'like' : 'view'));
    const { model, vocabulary, report } = await trainOnGraph(graph, policy, hyper, options);
    try {
      assert.equal(report.examples, 10);
      assert.equal(report.validationSubjects, 0);
      // No validation set: no early stopping on a recall that is always 0.
      assert.equal(report.epochs.length, options.epochs);
      assert.equal(report.bestEpoch, options.epochs);
      assert.ok(report.epochs.every((e) => Number.isFinite(e.loss)));
      const embeddings = new InterestEmbeddings(model, vocabulary, { version: 't', trainedAt: '', backend: 'wasm' }, () => graph);
      const counts = embeddings.recomputeAll();
      assert.deepEqual(counts, { items: 30, subjects: 10 });
      assert.ok(embeddings.subjects.get(graph.nodeIndex('user', 'user-3'))!.every(Number.isFinite));
    } finally {
      model.dispose();
    }
  });

  it('trains data-parallel when the last batch has fewer rows than threads', async () => {
    // 17 batches of 2 (enough to start a worker), the last one a single row: its second shard is empty.
    const events: Array<readonly [number, number, InteractionType]> = [];
    for (let user = 0; user < 11; user++) for (let n = 0; n < 5; n++) events.push([user, (user * 3 + n) % 30, 'like']);
    const graph = graphOf(events);
    const { model, report } = await trainOnGraph(graph, policy, hyper, { ...options, epochs: 1, batchSize: 2, threads: 2 });
    try {
      assert.equal(report.examples, 33);
      assert.equal(report.threads, 2);
      assert.ok(Number.isFinite(report.epochs[0]!.loss));
    } finally {
      model.dispose();
    }
  });

  it('encodes an empty batch of subjects as an empty result', () => {
    const model = new InterestGAT(hyper, 12, 0);
    const features = tf.zeros<tf.Rank.R2>([13, hyper.dims]);
    try {
      const z = model.encodeSubjects(features, emptyNeighbourhoods(0, hyper.fanout, 12));
      assert.deepEqual(z.shape, [0, hyper.dims]);
      z.dispose();
    } finally {
      features.dispose();
      model.dispose();
    }
  });
});
