import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { initialiseBackend } from '../../gnn/backend.ts';
import { emptyNeighbourhoods } from '../../gnn/edge-features.ts';
import { trainOnGraph } from '../../gnn/graph-model-training.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import { addItemRowGradients, GatOptimizer } from '../../gnn/training/gat-optimizer.ts';
import { DEFAULT_TRAINING } from '../../gnn/training/gat-trainer.ts';
import { batchGradients, batchLoss, lossScaleOf, splitBatch, type TrainingBatch } from '../../gnn/training/training-batch.ts';
import { parameterChecksums, TrainingPeers } from '../../gnn/training/training-peers.ts';
import { SeededRandom } from '../../graph/random.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { policy, syntheticGraph } from '../support/synthetic-graph.ts';
import { captureTfjsState } from '../tfjs-state.ts';

/**
 * Data-parallel training (gnn/training/training-peers.ts): a batch's shards, each scaled by the whole
 * batch, must give the batch's own loss and gradients; worker replicas must stay equal to the model.
 */

const hyper = { dims: 16, heads: 2, fanout: 6, history: 0, scale: 8, seed: 3 };
const ITEMS = 40;
const TAGS = 7;
const weights = { hardNegativeWeight: 0.5 };

function randomBatch(random: SeededRandom, rows: number, sampled: boolean): TrainingBatch {
  const int = (hi: number) => Math.floor(random.float() * hi);
  const neighbourhoods = emptyNeighbourhoods(rows, hyper.fanout, ITEMS);
  for (let i = 0; i < rows * hyper.fanout; i++) {
    if (i % hyper.fanout > 3 && random.float() < 0.5) continue; // some padding
    neighbourhoods.neighbour[i] = int(ITEMS);
    neighbourhoods.typeCode[i] = 1 + int(5);
    neighbourhoods.recency[i] = int(8);
    neighbourhoods.weight[i] = 1;
    neighbourhoods.mask[i] = 1;
  }
  const targets = Int32Array.from({ length: rows }, () => int(ITEMS));
  const k = 2;
  const hardItems = new Int32Array(rows * k).fill(ITEMS);
  const hardMask = new Float32Array(rows * k);
  for (let i = 0; i < rows * k; i += 3) {
    hardItems[i] = int(ITEMS);
    hardMask[i] = 1;
  }
  const columns = sampled ? 15 : ITEMS;
  // About a tenth of each row's columns, and with the full softmax the target's own, as the trainer does.
  const start = new Int32Array(rows + 1);
  const column: number[] = [];
  for (let b = 0; b < rows; b++) {
    for (let c = 0; c < columns; c++) if (random.float() < 0.1 || (!sampled && c === targets[b])) column.push(c);
    start[b + 1] = column.length;
  }
  const excluded = { start, column: Int32Array.from(column) };
  const negatives = sampled
    ? {
        items: Int32Array.from({ length: columns }, () => int(ITEMS)),
        logExpected: Float32Array.from({ length: columns }, () => random.float() - 1),
        targetLogExpected: Float32Array.from({ length: rows }, () => random.float() - 1),
      }
    : null;
  return { neighbourhoods, targets, hard: { items: hardItems, mask: hardMask, perExample: k }, negatives, excluded };
}

/**
 * The training loss of `batchLoss`'s header, in double precision from every item's features: the
 * sampled (or full) softmax cross-entropy plus the weighted hard-negative margins.
 */
function referenceLoss(model: InterestGAT, itemTags: { item: Int32Array; tag: Int32Array }, batch: TrainingBatch): number {
  const { x, z, bias } = tf.tidy(() => {
    const features = model.encodeItems(itemTags);
    const padded = tf.concat<tf.Tensor2D>([features, tf.zeros([1, hyper.dims])]);
    return { x: features.arraySync(), z: model.encodeSubjects(padded, batch.neighbourhoods).arraySync(), bias: Array.from(model.items.bias.dataSync()) };
  });
  const score = (b: number, item: number): number => z[b]!.reduce((sum, v, d) => sum + v * x[item]![d]!, 0) + bias[item]!;
  const rows = batch.targets.length;
  let crossEntropy = 0;
  for (let b = 0; b < rows; b++) {
    const target = batch.targets[b]!;
    const negatives = batch.negatives;
    const columns = negatives ? Array.from(negatives.items) : Array.from({ length: ITEMS }, (_, item) => item);
    const left = new Set(batch.excluded.column.subarray(batch.excluded.start[b], batch.excluded.start[b + 1]));
    const logits = [score(b, target) - (negatives ? negatives.targetLogExpected[b]! : 0)];
    columns.forEach((item, c) => {
      if (!left.has(c)) logits.push(score(b, item) - (negatives ? negatives.logExpected[c]! : 0));
    });
    const max = Math.max(...logits);
    crossEntropy += max + Math.log(logits.reduce((sum, l) => sum + Math.exp(l - max), 0)) - logits[0]!;
  }
  let margins = 0;
  let hardCount = 0;
  const k = batch.hard.perExample;
  for (let slot = 0; slot < rows * k; slot++) {
    if (!batch.hard.mask[slot]) continue;
    const b = Math.floor(slot / k);
    margins += Math.log1p(Math.exp(score(b, batch.hard.items[slot]!) - score(b, batch.targets[b]!)));
    hardCount++;
  }
  return crossEntropy / rows + (weights.hardNegativeWeight * margins) / Math.max(1, hardCount);
}

describe('data-parallel GAT training', function () {
  this.timeout(120_000);
  before(async () => {
    await initialiseBackend('auto', pino({ level: 'silent' }));
  });

  for (const sampled of [true, false]) {
    it(`splits a batch into shards whose losses and gradients add up to the batch's (${sampled ? 'sampled' : 'full'} softmax)`, () => {
      const model = new InterestGAT(hyper, ITEMS, TAGS);
      const itemTags = { item: Int32Array.from({ length: 60 }, (_, p) => p % ITEMS), tag: Int32Array.from({ length: 60 }, (_, p) => (p * 5) % TAGS) };
      const batch = randomBatch(new SeededRandom(sampled ? 1 : 2), 9, sampled);
      const scale = lossScaleOf(batch);
      const shards = splitBatch(batch, 3);
      try {
        assert.deepEqual(
          shards.map((s) => s.targets.length),
          [3, 3, 3],
        );
        assert.deepEqual(
          splitBatch(batch, 2).map((s) => s.targets.length),
          [5, 4],
        );
        const tables = new GatOptimizer(model, 0.01);
        const whole = batchGradients(model, itemTags, ITEMS, batch, scale, weights, tables);
        const parts = shards.map((shard) => batchGradients(model, itemTags, ITEMS, shard, scale, weights, tables));
        const partLoss = parts.reduce((sum, p) => sum + p.loss.dataSync()[0]!, 0);
        assert.ok(Math.abs(partLoss - whole.loss.dataSync()[0]!) < 1e-5, `shards ${partLoss} against batch ${whole.loss.dataSync()[0]}`);
        whole.dense.forEach((g, i) => {
          assert.ok(g, `parameter ${i} has a gradient`);
          const expected = g.dataSync();
          const summed = new Float32Array(expected.length);
          for (const p of parts) p.dense[i]!.dataSync().forEach((x, j) => (summed[j]! += x));
          let worst = 0;
          expected.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - summed[j]!))));
          assert.ok(worst < 1e-5, `parameter ${tables.denseVariables[i]!.name}: largest difference ${worst}`);
        });
        // The item rows: the shards' sum has the batch's rows and, row by row, its gradients.
        const summed = addItemRowGradients(
          parts.map((p) => p.items),
          hyper.dims,
        );
        assert.deepEqual(
          [...summed.rows].sort((a, b) => a - b),
          [...whole.items.rows].sort((a, b) => a - b),
        );
        const slotOf = new Map([...summed.rows].map((r, n) => [r, n]));
        let worst = 0;
        whole.items.rows.forEach((r, n) => {
          const m = slotOf.get(r)!;
          worst = Math.max(worst, Math.abs(whole.items.bias[n]! - summed.bias[m]!));
          for (let d = 0; d < hyper.dims; d++)
            worst = Math.max(worst, Math.abs(whole.items.embedding[n * hyper.dims + d]! - summed.embedding[m * hyper.dims + d]!));
        });
        assert.ok(worst < 1e-5, `item rows: largest difference ${worst}`);
        // The tag rows likewise.
        assert.ok(whole.items.tagRows.length > 0);
        assert.deepEqual(
          [...summed.tagRows].sort((a, b) => a - b),
          [...whole.items.tagRows].sort((a, b) => a - b),
        );
        const tagSlot = new Map([...summed.tagRows].map((r, n) => [r, n]));
        let worstTag = 0;
        whole.items.tagRows.forEach((r, n) => {
          const m = tagSlot.get(r)!;
          for (let d = 0; d < hyper.dims; d++)
            worstTag = Math.max(worstTag, Math.abs(whole.items.tags[n * hyper.dims + d]! - summed.tags[m * hyper.dims + d]!));
        });
        assert.ok(worstTag < 1e-5, `tag rows: largest difference ${worstTag}`);
        tables.dispose();
        for (const r of [whole, ...parts]) tf.dispose([r.loss, ...r.dense.filter((g): g is tf.Tensor => g !== null)]);
      } finally {
        model.dispose();
      }
    });
  }

  for (const sampled of [true, false]) {
    it(`computes the loss from the batch's own items as written out over the whole catalogue (${sampled ? 'sampled' : 'full'} softmax)`, () => {
      const model = new InterestGAT(hyper, ITEMS, TAGS);
      const itemTags = { item: Int32Array.from({ length: 60 }, (_, p) => (p * 7) % ITEMS), tag: Int32Array.from({ length: 60 }, (_, p) => (p * 3) % TAGS) };
      const batch = randomBatch(new SeededRandom(sampled ? 5 : 6), 8, sampled);
      try {
        const loss = tf.tidy(() => batchLoss(model, itemTags, ITEMS, batch, lossScaleOf(batch), weights).dataSync()[0]!);
        const expected = referenceLoss(model, itemTags, batch);
        assert.ok(Math.abs(loss - expected) < 1e-4 * Math.abs(expected), `batchLoss ${loss} against ${expected}`);
      } finally {
        model.dispose();
      }
    });
  }

  for (const threads of [2, 3]) {
    it(`trains on ${threads} threads reproducibly (the workers’ replicas are checked against the model every epoch)`, async () => {
      const data = generateSyntheticDataset({ seed: 12, edges: 1_500, users: 30, items: 60, topics: 3, sessions: 0 });
      const graph = syntheticGraph(data, data.interactions.length);
      const options = { ...DEFAULT_TRAINING, epochs: 2, patience: 2, batchSize: 32, threads };
      const first = await trainOnGraph(graph, policy, hyper, options);
      const second = await trainOnGraph(graph, policy, hyper, options);
      try {
        assert.equal(first.report.threads, threads);
        assert.deepEqual(
          first.report.epochs.map((e) => e.loss),
          second.report.epochs.map((e) => e.loss),
        );
        const b = second.model.params.snapshot();
        first.model.params.snapshot().forEach((p, i) => assert.deepEqual(p.values, b[i]!.values, p.name));
      } finally {
        first.model.dispose();
        second.model.dispose();
      }
    });
  }

  it('trains on 2 threads on the cpu backend as on one (the cpu backend hands out its own arrays)', async () => {
    const state = await captureTfjsState();
    try {
      await initialiseBackend('cpu', pino({ level: 'silent' }));
      const data = generateSyntheticDataset({ seed: 12, edges: 1_500, users: 30, items: 60, topics: 3, sessions: 0 });
      const graph = syntheticGraph(data, data.interactions.length);
      const options = { ...DEFAULT_TRAINING, epochs: 2, patience: 2, batchSize: 32 };
      const [one, two] = [
        await trainOnGraph(graph, policy, hyper, { ...options, threads: 1 }),
        await trainOnGraph(graph, policy, hyper, { ...options, threads: 2 }),
      ];
      try {
        assert.equal(two.report.threads, 2);
        one.report.epochs.forEach((e, i) =>
          assert.ok(Math.abs(e.loss - two.report.epochs[i]!.loss) < 1e-5, `epoch ${i + 1}: ${e.loss} against ${two.report.epochs[i]!.loss}`),
        );
      } finally {
        one.model.dispose();
        two.model.dispose();
      }
    } finally {
      await state.restore();
    }
  });

  it('reports a worker replica that differs from the model', async () => {
    const model = new InterestGAT(hyper, ITEMS, TAGS);
    const other = new InterestGAT({ ...hyper, seed: 4 }, ITEMS, TAGS);
    const peers = await TrainingPeers.start(1, {
      backend: tf.getBackend() as 'wasm' | 'cpu',
      hyper,
      items: ITEMS,
      tags: TAGS,
      itemTags: { item: new Int32Array(0), tag: new Int32Array(0) },
      weights,
      learningRate: 0.01,
      params: model.params.list().map((v) => v.dataSync() as Float32Array),
    });
    try {
      await peers.verifyReplicas(parameterChecksums(model.params.list()));
      await assert.rejects(peers.verifyReplicas(parameterChecksums(other.params.list())), /training worker 1's parameter 0 differs from the main model's/);
    } finally {
      await peers.close();
      model.dispose();
      other.dispose();
    }
  });
});
