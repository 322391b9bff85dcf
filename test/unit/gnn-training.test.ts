import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { CheckpointError, OutdatedCheckpointError } from '../../base/errors.ts';
import { initialiseBackend } from '../../gnn/backend.ts';
import { loadCheckpoint, modelDirectory, saveCheckpoint } from '../../gnn/checkpoint.ts';
import { emptyNeighbourhoods } from '../../gnn/edge-features.ts';
import { trainOnGraph } from '../../gnn/graph-model-training.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { distinctItems, InterestGAT } from '../../gnn/interest-gat.ts';
import { DEFAULT_TRAINING, type EpochReport } from '../../gnn/training/gat-trainer.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { policy, syntheticGraph } from '../support/synthetic-graph.ts';

const hyper = { dims: 16, heads: 2, fanout: 10, history: 4, scale: 8, seed: 5 };
const options = { ...DEFAULT_TRAINING, epochs: 6, batchSize: 128, learningRate: 0.01, patience: 6 };

describe('GAT training', function () {
  this.timeout(120_000);
  const data = generateSyntheticDataset({ seed: 11, edges: 8_000, users: 120, items: 200, topics: 5, tagsPerTopic: 4, drift: 0, sessions: 0 });
  const graph = syntheticGraph(data, data.interactions.length);
  let trained: Awaited<ReturnType<typeof trainOnGraph>>;
  const epochs: EpochReport[] = [];

  before(async () => {
    await initialiseBackend('auto', pino({ level: 'silent' }));
    trained = await trainOnGraph(graph, policy, hyper, options, { onEpoch: (e) => epochs.push(e) });
  });
  after(() => trained?.model.dispose());

  it('encodes a batch whose neighbours repeat as it encodes each subject alone', () => {
    const model = new InterestGAT({ dims: 8, heads: 2, fanout: 5, history: 0, scale: 8, seed: 2 }, 12, 3);
    const pairs = { item: Int32Array.from([0, 1, 5, 7]), tag: Int32Array.from([0, 2, 1, 0]) };
    const batch = emptyNeighbourhoods(4, 5, 12);
    const neighbours = [3, 3, 7, 12, 12, 7, 0, 3, 11, 12, 3, 3, 3, 3, 3, 1, 2, 4, 6, 8];
    neighbours.forEach((item, i) => {
      batch.neighbour[i] = item;
      batch.mask[i] = item === 12 ? 0 : 1;
      batch.typeCode[i] = 1 + (i % 4);
      batch.recency[i] = i % 3;
      batch.weight[i] = 1;
    });
    const features = tf.tidy(() => tf.concat<tf.Tensor2D>([model.encodeItems(pairs), tf.zeros([1, 8])]));
    try {
      const together = tf.tidy(() => model.encodeSubjects(features, batch).arraySync());
      for (let b = 0; b < 4; b++) {
        const one = emptyNeighbourhoods(1, 5, 12);
        for (const key of ['neighbour', 'mask', 'typeCode', 'recency', 'weight'] as const) one[key].set(batch[key].subarray(b * 5, b * 5 + 5));
        const alone = tf.tidy(() => model.encodeSubjects(features, one).arraySync()[0]!);
        alone.forEach((v, d) => assert.ok(Math.abs(v - together[b]![d]!) < 1e-6, `subject ${b}, dimension ${d}`));
      }
      assert.deepEqual(distinctItems(Int32Array.from([5, 3, 5, 9, 3])), { items: Int32Array.from([5, 3, 9]), slot: Int32Array.from([0, 1, 0, 2, 1]) });
    } finally {
      features.dispose();
      model.dispose();
    }
  });

  it('lowers the loss on the synthetic generator’s data', () => {
    assert.equal(epochs.length, options.epochs);
    assert.ok(epochs.at(-1)!.loss < epochs[0]!.loss * 0.95, `loss ${epochs.map((e) => e.loss.toFixed(3)).join(' → ')}`);
    assert.ok(trained.report.bestValidationRecall > 0);
  });

  it('ranks each user’s planted topics above the others', () => {
    const embeddings = new InterestEmbeddings(trained.model, trained.vocabulary, { version: 't', trainedAt: '', backend: '' }, () => graph);
    embeddings.recomputeAll();
    // Per user, the AUC of items of their planted topics against items of the other topics (0.5 = random).
    const aucs: number[] = [];
    for (let u = 0; u < data.options.users; u++) {
      const user = graph.nodeIndex('user', data.userId(u));
      if (user < 0) continue;
      const favourites = new Set(data.favouriteTopics(u));
      const inTopic: number[] = [];
      const outside: number[] = [];
      for (let i = 0; i < data.options.items; i++) {
        const score = embeddings.score(user, graph.nodeIndex('item', data.itemId(i)));
        (favourites.has(data.itemTopic[i]!) ? inTopic : outside).push(score);
      }
      if (inTopic.length === 0 || outside.length === 0) continue;
      let wins = 0;
      for (const a of inTopic) for (const b of outside) wins += a > b ? 1 : a === b ? 0.5 : 0;
      aucs.push(wins / (inTopic.length * outside.length));
    }
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    const aboveRandom = aucs.filter((a) => a > 0.5).length / aucs.length;
    assert.ok(aucs.length > 100, `${aucs.length} users scored`);
    assert.ok(mean > 0.75, `mean AUC of planted topics ${mean.toFixed(3)}`);
    assert.ok(aboveRandom > 0.9, `${(aboveRandom * 100).toFixed(0)} % of users have their planted topics above random`);
  });

  it('gives identical embeddings after a checkpoint round trip', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gat-checkpoint-'));
    try {
      const summary = { version: 'v1', trainedAt: new Date().toISOString(), backend: 'test', hyper, training: { epochs: 6 } };
      saveCheckpoint(dir, trained.model, trained.vocabulary, summary);
      const loaded = loadCheckpoint(dir)!;
      assert.deepEqual(loaded.summary, summary);
      assert.deepEqual(loaded.vocabulary, trained.vocabulary);
      const before = new InterestEmbeddings(trained.model, trained.vocabulary, summary, () => graph);
      const after = new InterestEmbeddings(loaded.model, loaded.vocabulary, summary, () => graph);
      before.recomputeAll();
      after.recomputeAll();
      let compared = 0;
      for (const node of before.subjects.nodes()) {
        assert.deepEqual(after.subjects.get(node), before.subjects.get(node));
        compared++;
      }
      for (const node of before.items.nodes()) assert.deepEqual(after.items.get(node), before.items.get(node));
      assert.ok(compared >= 100);
      loaded.model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is reproducible: the same seed and data give the same weights', async () => {
    const small = generateSyntheticDataset({ seed: 12, edges: 1_500, users: 30, items: 60, topics: 3, sessions: 0 });
    const smallGraph = syntheticGraph(small, small.interactions.length);
    const quick = { ...options, epochs: 2, patience: 2 };
    const first = await trainOnGraph(smallGraph, policy, hyper, quick);
    const second = await trainOnGraph(smallGraph, policy, hyper, quick);
    const a = first.model.params.snapshot();
    const b = second.model.params.snapshot();
    assert.deepEqual(
      first.report.epochs.map((e) => e.loss),
      second.report.epochs.map((e) => e.loss),
    );
    a.forEach((p, i) => assert.deepEqual(p.values, b[i]!.values, p.name));
    first.model.dispose();
    second.model.dispose();
  });

  it('refuses a damaged checkpoint with a CheckpointError naming the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gat-checkpoint-'));
    const refusedBy = (): unknown[] => {
      const refused: unknown[] = [];
      assert.equal(loadCheckpoint(dir, { onRefused: (e) => refused.push(e) }), null);
      return refused;
    };
    try {
      assert.deepEqual(refusedBy(), []);
      saveCheckpoint(dir, trained.model, trained.vocabulary, { version: 'v2', trainedAt: '', backend: 'test', hyper, training: {} });
      writeFileSync(path.join(modelDirectory(dir), 'gat-v2.bin'), new Uint8Array(16));
      const [damaged] = refusedBy();
      assert.ok(damaged instanceof CheckpointError && /gat-v2\.bin/.test(damaged.message), String(damaged));
      // A model saved by an older engine (dot-product scoring) is refused as outdated, not misread.
      const manifest = path.join(modelDirectory(dir), 'gat-v2.json');
      writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), format: 1 }));
      const [outdated] = refusedBy();
      assert.ok(outdated instanceof OutdatedCheckpointError && outdated.format === 1 && /older version/.test(outdated.message), String(outdated));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
