import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { initialiseBackend } from '../../gnn/backend.ts';
import { EDGE_TYPE_CLASSES, emptyNeighbourhoods, type NeighbourhoodBatch, RECENCY_BUCKETS } from '../../gnn/edge-features.ts';
import { vocabularyOf } from '../../gnn/graph-training-input.ts';
import { IncrementalUpdater } from '../../gnn/incremental-updater.ts';
import { buildTimelines } from '../../gnn/interaction-timelines.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { type GatHyperparameters, InterestGAT } from '../../gnn/interest-gat.ts';
import { GatOptimizer } from '../../gnn/training/gat-optimizer.ts';
import { DEFAULT_TRAINING, trainGat, type TrainingInput } from '../../gnn/training/gat-trainer.ts';
import { batchGradients, lossScaleOf, type TrainingBatch } from '../../gnn/training/training-batch.ts';
import { mulberry32 } from '../../graph/random.ts';
import { type EmbeddingHost, EmbeddingService, type EmbeddingSettings } from '../../src/embeddings/embedding-service.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { applySynthetic, policy, syntheticGraph } from '../support/synthetic-graph.ts';

/**
 * Every GNN path that runs again and again in a server, forward passes, training steps and runs,
 * incremental updates and the hot swap of a newly trained model, leaves tfjs's tensor count as it found it:
 * a tensor left behind per call is memory (wasm heap, or native memory) that is never given back.
 */

const quiet = pino({ level: 'silent' });
const info = { version: 'test', trainedAt: new Date(0).toISOString(), backend: 'test' };

interface Memory {
  readonly tensors: number;
  readonly bytes: number;
}

function memory(): Memory {
  const { numTensors, numBytes } = tf.memory();
  return { tensors: numTensors, bytes: numBytes };
}

function assertSameMemory(after: Memory, before: Memory, what: string): void {
  assert.equal(after.tensors, before.tensors, `${what}: ${after.tensors - before.tensors} tensor(s) (${after.bytes - before.bytes} bytes) more than before`);
  assert.equal(after.bytes, before.bytes, `${what}: ${after.bytes - before.bytes} bytes more than before`);
}

/** Runs `run` and fails when it leaves more (or fewer) tensors than there were before it. */
async function assertNoLeak(what: string, run: () => unknown): Promise<void> {
  const before = memory();
  await run();
  assertSameMemory(memory(), before, what);
}

const HYPER: GatHyperparameters = { dims: 8, heads: 2, fanout: 5, history: 2, scale: 8, seed: 4 };
const ITEMS = 24;
const TAGS = 4;
const SUBJECTS = 16;

/** A tiny synthetic timeline: 16 subjects with 10 interactions each over 24 items, a few of them dislikes. */
function tinyInput(): TrainingInput {
  const random = mulberry32(21);
  const n = SUBJECTS * 10;
  const subject = Int32Array.from({ length: n }, (_, r) => r % SUBJECTS);
  const negative = Uint8Array.from({ length: n }, () => (random() < 0.1 ? 1 : 0));
  const timelines = buildTimelines(SUBJECTS, {
    length: n,
    subject,
    // Each subject keeps to a third of the catalogue, so there is something to learn.
    item: Int32Array.from(subject, (s) => ((s % 3) * 8 + Math.floor(random() * 8)) % ITEMS),
    typeCode: Uint8Array.from(negative, (neg) => (neg ? 3 : 1 + Math.floor(random() * 2))),
    weight: Float32Array.from(negative, (neg) => (neg ? -1 : 1)),
    ts: Float64Array.from({ length: n }, (_, r) => Date.UTC(2025, 0, 1) + r * 3_600_000),
    positive: Uint8Array.from(negative, (neg) => 1 - neg),
  });
  const pairs = Array.from({ length: ITEMS }, (_, i) => [[i, i % TAGS], ...(i % 2 ? [[i, (i + 1) % TAGS]] : [])]).flat();
  return { timelines, itemTags: { item: Int32Array.from(pairs, (p) => p[0]!), tag: Int32Array.from(pairs, (p) => p[1]!) }, items: ITEMS };
}

/** A batch of `size` subjects over the item rows, padded with row `padRow`; row 0 has one real neighbour, row 1 none. */
function randomNeighbourhoods(random: () => number, size: number, padRow: number): NeighbourhoodBatch {
  const width = HYPER.fanout + HYPER.history;
  const batch = emptyNeighbourhoods(size, width, padRow);
  for (let b = 0; b < size; b++) {
    const real = b === 0 ? 1 : b === 1 ? 0 : 1 + Math.floor(random() * width);
    for (let j = 0; j < real; j++) {
      const s = b * width + j;
      batch.neighbour[s] = Math.floor(random() * padRow);
      batch.typeCode[s] = Math.floor(random() * EDGE_TYPE_CLASSES);
      batch.recency[s] = Math.floor(random() * RECENCY_BUCKETS);
      batch.weight[s] = random() * 2 - 1;
      batch.mask[s] = 1;
    }
  }
  return batch;
}

/** A training batch over the tiny input's items: full softmax, each row leaving out its target's column. */
function trainingBatch(random: () => number, rows: number): TrainingBatch {
  const targets = Int32Array.from({ length: rows }, () => Math.floor(random() * ITEMS));
  const k = 2;
  const hardItems = Int32Array.from({ length: rows * k }, (_, i) => (i % 3 === 0 ? Math.floor(random() * ITEMS) : ITEMS));
  return {
    neighbourhoods: randomNeighbourhoods(random, rows, ITEMS),
    targets,
    hard: { items: hardItems, mask: Float32Array.from(hardItems, (item) => (item < ITEMS ? 1 : 0)), perExample: k },
    negatives: null,
    excluded: { start: Int32Array.from({ length: rows + 1 }, (_, b) => b), column: targets.slice() },
  };
}

describe('GNN tensor leaks', function () {
  this.timeout(60_000);
  before(() => initialiseBackend('auto', quiet));

  it('the check itself catches a single leaked tensor', async () => {
    let leaked: tf.Tensor | null = null;
    await assert.rejects(
      assertNoLeak('a deliberate leak', () => {
        leaked = tf.tidy(() => tf.keep(tf.add(tf.scalar(1), tf.scalar(2))));
      }),
      /a deliberate leak: 1 tensor\(s\) \(4 bytes\) more than before/,
    );
    (leaked as tf.Tensor | null)?.dispose();
  });

  describe('the model', () => {
    it('leaves nothing behind once disposed, nor do its parameters restored from a snapshot', async () => {
      await assertNoLeak('new InterestGAT, then dispose', () => {
        const model = new InterestGAT(HYPER, ITEMS, TAGS);
        model.params.restore(model.params.snapshot());
        model.dispose();
      });
    });
  });

  describe('forward passes', () => {
    let model: InterestGAT;
    let features: tf.Tensor2D;
    const input = tinyInput();
    before(() => {
      model = new InterestGAT(HYPER, ITEMS, TAGS);
      features = tf.tidy(() => tf.concat<tf.Tensor2D>([model.encodeItems(input.itemTags), tf.zeros([1, HYPER.dims])]));
    });
    after(() => {
      features.dispose();
      model.dispose();
    });

    it('encodeSubjects, on a batch and on an empty one', async () => {
      const batch = randomNeighbourhoods(mulberry32(1), 7, ITEMS);
      await assertNoLeak('encodeSubjects', () => model.encodeSubjects(features, batch).dispose());
      await assertNoLeak('encodeSubjects, empty batch', () =>
        model.encodeSubjects(features, emptyNeighbourhoods(0, HYPER.fanout + HYPER.history, ITEMS)).dispose(),
      );
    });

    it('encodeSubjectsWithAttention', async () => {
      const batch = randomNeighbourhoods(mulberry32(2), 7, ITEMS);
      await assertNoLeak('encodeSubjectsWithAttention', () => {
        const { z, attention } = model.encodeSubjectsWithAttention(features, batch);
        tf.dispose([z, attention]);
      });
    });

    it('encodeItems, and encodeRows for trained and untrained items', async () => {
      await assertNoLeak('encodeItems', () => model.encodeItems(input.itemTags).dispose());
      await assertNoLeak('encodeRows', () =>
        model.items.encodeRows(Int32Array.from([3, -1, 5]), { item: Int32Array.from([0, 1, 1]), tag: Int32Array.from([1, 2, 3]) }).dispose(),
      );
    });
  });

  describe('training', () => {
    it("one optimiser step leaves nothing behind (after the first, which creates Adam's moments), nor does the optimiser once disposed", async () => {
      const input = tinyInput();
      const model = new InterestGAT(HYPER, ITEMS, TAGS);
      const random = mulberry32(3);
      try {
        const beforeOptimizer = memory();
        const optimizer = new GatOptimizer(model, 0.01);
        const step = (): void => {
          const batch = trainingBatch(random, 12);
          const gradients = batchGradients(model, input.itemTags, ITEMS, batch, lossScaleOf(batch), { hardNegativeWeight: 0.5 }, optimizer);
          optimizer.apply(gradients);
          tf.dispose([gradients.loss, ...gradients.dense.filter((g): g is tf.Tensor => g !== null)]);
        };
        step();
        await assertNoLeak('a training step', step);
        await assertNoLeak('a training step, then flushing the item tables', () => {
          step();
          optimizer.flush();
        });
        optimizer.dispose();
        assertSameMemory(memory(), beforeOptimizer, 'GatOptimizer created, stepped and disposed');
      } finally {
        model.dispose();
      }
    });

    it('a short trainGat run on a tiny synthetic timeline leaves nothing behind', async () => {
      const input = tinyInput();
      const model = new InterestGAT(HYPER, ITEMS, TAGS);
      try {
        await assertNoLeak('trainGat, 3 epochs', async () => {
          const report = await trainGat(model, input, { ...DEFAULT_TRAINING, epochs: 3, batchSize: 32, patience: 5, threads: 1 });
          assert.equal(report.epochs.length, 3);
          assert.ok(report.validationSubjects > 0, 'validation ran');
        });
      } finally {
        model.dispose();
      }
    });
  });

  describe('serving', () => {
    const data = generateSyntheticDataset({ seed: 8, edges: 2_000, users: 40, items: 100, topics: 4 });

    describe('embeddings of the live graph', () => {
      const graph = syntheticGraph(data, 1_500);
      const vocabulary = vocabularyOf(graph);
      let model: InterestGAT;
      let live: InterestEmbeddings;
      before(() => {
        model = new InterestGAT({ ...HYPER, fanout: 6 }, vocabulary.items.length, vocabulary.tags.length);
        live = new InterestEmbeddings(model, vocabulary, info, () => graph);
      });
      after(() => model.dispose());

      it('a full recompute', async () => {
        await assertNoLeak('recomputeAll', () => live.recomputeAll());
      });

      it('a stream of incremental updates through the updater: new interactions, a retagged item, a new user, an erasure', async () => {
        const updater = new IncrementalUpdater(
          () => live,
          () => graph,
        );
        await assertNoLeak('incremental updates', async () => {
          for (let from = 1_500; from < 2_000; from += 100) {
            updater.interactionsAdded(applySynthetic(graph, data, from, from + 100));
            await updater.settled();
          }
          const retagged = graph.nodeIndex('item', data.itemId(5));
          graph.setItemTags(retagged, [data.topics[1]!.tags[0]!], Date.UTC(2025, 0, 1));
          updater.itemsChanged([retagged]);
          const newcomer = graph.addNode('user', 'newcomer');
          graph.addEdge(newcomer, retagged, 1, Date.UTC(2025, 0, 2), 1);
          updater.interactionsAdded([newcomer]);
          await updater.settled();
          const erased = graph.nodeIndex('user', data.userId(0));
          graph.removeNode(erased);
          updater.nodeRemoved(erased);
          await updater.settled();
        });
        assert.ok(updater.updated > 10, `${updater.updated} subjects updated`);
      });

      it('a virtual subject (embedInteractions)', async () => {
        await assertNoLeak('embedInteractions', () =>
          live.embedInteractions([graph.nodeIndex('item', data.itemId(1)), graph.nodeIndex('item', data.itemId(2))], 1, 1),
        );
      });
    });

    describe('the embedding service', () => {
      let dataDir: string;
      const settings: EmbeddingSettings = {
        backend: 'auto',
        model: { ...HYPER, fanout: 6 },
        epochs: 2,
        trainOnStart: false,
        minInteractions: 10,
        refreshMinutes: 0,
        refreshMinNewInteractions: 1,
        fineTuneEpochs: 1,
      };
      const hostOf = (graph: ReturnType<typeof syntheticGraph>): EmbeddingHost => ({ graph, weightPolicy: policy, dataDir, subscribe: () => () => undefined });
      beforeEach(() => {
        dataDir = mkdtempSync(path.join(tmpdir(), 'gnn-leaks-'));
      });
      afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

      it("hot-swaps a newly trained model in without leaving the old one's tensors, and closing releases every tensor", async () => {
        const host = hostOf(syntheticGraph(data, 1_500));
        const before = memory();
        const service = await EmbeddingService.start(host, settings, quiet);
        try {
          assert.equal(await service.retrain({ fineTune: false }), true);
          const first = service.embeddings();
          const inService = memory();
          // Fine-tuned from the model in service, then swapped in: the old model is disposed.
          assert.equal(await service.retrain({ fineTune: true }), true);
          assert.notEqual(service.embeddings(), first, 'a new model is in service');
          assertSameMemory(memory(), inService, 'hot swap of a fine-tuned model');
          assert.equal(await service.retrain({ fineTune: false }), true);
          assertSameMemory(memory(), inService, 'hot swap of a model trained from scratch');
        } finally {
          await service.close();
        }
        assertSameMemory(memory(), before, 'service started, trained twice, closed');
      });

      it('loads the saved model at start-up and releases it on close', async () => {
        const host = hostOf(syntheticGraph(data, 1_500));
        const trainer = await EmbeddingService.start(host, settings, quiet);
        await trainer.retrain({ fineTune: false });
        await trainer.close();
        await assertNoLeak('start with a saved model, then close', async () => {
          const service = await EmbeddingService.start(host, settings, quiet);
          assert.equal(service.status().loaded, true, 'the saved model is loaded');
          await service.close();
        });
      });
    });
  });
});
