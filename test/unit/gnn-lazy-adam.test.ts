import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { initialiseBackend } from '../../gnn/backend.ts';
import { emptyNeighbourhoods } from '../../gnn/edge-features.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import { GatOptimizer } from '../../gnn/training/gat-optimizer.ts';
import { adamSettings, addRowGradients, LazyAdamTable } from '../../gnn/training/lazy-adam.ts';
import { batchGradients, lossScaleOf, type TrainingBatch } from '../../gnn/training/training-batch.ts';
import { SeededRandom } from '../../graph/random.ts';

/**
 * Row-wise ("lazy") Adam for the item tables (gnn/training/lazy-adam.ts): on the rows a step touches it
 * must be tfjs's dense Adam; the other rows, moments included, must not move.
 */

const ROWS = 6;
const WIDTH = 3;
const RATE = 0.05;

function table(values: Float32Array): tf.Variable {
  return tf.variable(tf.tensor2d(values, [ROWS, WIDTH]));
}

function randomValues(random: SeededRandom, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => random.float() * 2 - 1);
}

/** `rows`' gradients spread into a dense [ROWS × WIDTH] one (zero elsewhere). */
function dense(rows: number[], values: Float32Array): tf.Tensor2D {
  const out = new Float32Array(ROWS * WIDTH);
  rows.forEach((r, n) => out.set(values.subarray(n * WIDTH, (n + 1) * WIDTH), r * WIDTH));
  return tf.tensor2d(out, [ROWS, WIDTH]);
}

function rowOf(values: Float32Array | Int32Array | Uint8Array, r: number): number[] {
  return Array.from(values.subarray(r * WIDTH, (r + 1) * WIDTH));
}

function assertClose(actual: number[], expected: number[], what: string, tolerance = 1e-6): void {
  actual.forEach((a, j) =>
    assert.ok(Math.abs(a - expected[j]!) <= tolerance * Math.max(1, Math.abs(expected[j]!)), `${what}[${j}]: ${a} against ${expected[j]}`),
  );
}

describe('lazy Adam for the item tables', () => {
  before(async () => {
    await initialiseBackend('auto', pino({ level: 'silent' }));
  });

  it('takes dense Adam’s step on the rows it is given and leaves the others as they were', () => {
    const random = new SeededRandom(3);
    const initial = randomValues(random, ROWS * WIDTH);
    const lazyVariable = table(initial);
    const denseVariable = table(initial);
    const lazy = new LazyAdamTable(lazyVariable, adamSettings(RATE));
    const optimizer = tf.train.adam(RATE);
    try {
      const rows = [4, 1];
      const gradients = randomValues(random, rows.length * WIDTH);
      lazy.step({ rows: Int32Array.from(rows), values: gradients });
      lazy.flush();
      tf.tidy(() => optimizer.applyGradients([{ name: denseVariable.name, tensor: dense(rows, gradients) }]));
      const after = lazyVariable.dataSync() as Float32Array;
      const expected = denseVariable.dataSync() as Float32Array;
      for (let r = 0; r < ROWS; r++) {
        if (rows.includes(r)) {
          assertClose(rowOf(after, r), rowOf(expected, r), `row ${r}`);
          assert.notDeepEqual(rowOf(after, r), rowOf(initial, r), `row ${r} moved`);
        } else assert.deepEqual(rowOf(after, r), rowOf(initial, r), `row ${r} untouched`);
      }
    } finally {
      optimizer.dispose();
      tf.dispose([lazyVariable, denseVariable]);
    }
  });

  it('equals dense Adam over several steps on rows touched every step', () => {
    const random = new SeededRandom(4);
    const initial = randomValues(random, ROWS * WIDTH);
    const lazyVariable = table(initial);
    const denseVariable = table(initial);
    const lazy = new LazyAdamTable(lazyVariable, adamSettings(RATE));
    const optimizer = tf.train.adam(RATE);
    try {
      const rows = [0, 1, 2, 3, 4, 5];
      for (let step = 0; step < 5; step++) {
        const gradients = randomValues(random, rows.length * WIDTH);
        lazy.step({ rows: Int32Array.from(rows), values: gradients });
        tf.tidy(() => optimizer.applyGradients([{ name: denseVariable.name, tensor: dense(rows, gradients) }]));
      }
      lazy.flush();
      assertClose(Array.from(lazyVariable.dataSync()), Array.from(denseVariable.dataSync()), 'table', 1e-5);
    } finally {
      optimizer.dispose();
      tf.dispose([lazyVariable, denseVariable]);
    }
  });

  it('resumes a row touched again after a gap from its undecayed moments, with the bias correction of the global step', () => {
    const random = new SeededRandom(5);
    const initial = randomValues(random, ROWS * WIDTH);
    const variable = table(initial);
    const settings = adamSettings(RATE);
    const lazy = new LazyAdamTable(variable, settings);
    try {
      const g1 = randomValues(random, WIDTH);
      const g2 = randomValues(random, WIDTH);
      const g3 = randomValues(random, WIDTH);
      lazy.step({ rows: Int32Array.of(2), values: g1 }); // t = 1: row 2
      lazy.step({ rows: Int32Array.of(5), values: g2 }); // t = 2: row 5 only; row 2 must not move
      lazy.flush();
      const afterGap = variable.dataSync() as Float32Array;
      lazy.step({ rows: Int32Array.of(2), values: g3 }); // t = 3: row 2 again
      lazy.flush();
      const after = variable.dataSync() as Float32Array;
      // TensorFlow's LazyAdamOptimizer, in double precision: moments updated only at t = 1 and t = 3.
      const { beta1, beta2, epsilon } = settings;
      const expected = rowOf(initial, 2).map((w0, j) => {
        const m1 = (1 - beta1) * g1[j]!;
        const v1 = (1 - beta2) * g1[j]! ** 2;
        const w1 = w0 - (RATE * (m1 / (1 - beta1))) / (Math.sqrt(v1 / (1 - beta2)) + epsilon);
        const m3 = beta1 * m1 + (1 - beta1) * g3[j]!;
        const v3 = beta2 * v1 + (1 - beta2) * g3[j]! ** 2;
        return w1 - (RATE * (m3 / (1 - beta1 ** 3))) / (Math.sqrt(v3 / (1 - beta2 ** 3)) + epsilon);
      });
      assertClose(rowOf(after, 2), expected, 'row 2 after the gap');
      // Dense Adam would have moved row 2 at t = 2 with its momentum; lazy Adam leaves it.
      const w1 = rowOf(initial, 2).map((w0, j) => w0 - RATE * Math.sign(g1[j]!) * (1 / (1 + epsilon / Math.abs(g1[j]!))));
      assertClose(rowOf(afterGap, 2), w1, 'row 2 during the gap');
      for (const r of [0, 1, 3, 4]) assert.deepEqual(rowOf(after, r), rowOf(initial, r), `row ${r} never touched`);
    } finally {
      variable.dispose();
    }
  });

  it('adds shards’ row gradients by row, in shard order', () => {
    const sum = addRowGradients(
      [
        { rows: Int32Array.of(3, 1), values: Float32Array.of(1, 2, 10, 20) },
        { rows: Int32Array.of(1, 7), values: Float32Array.of(0.5, 0.25, 4, 8) },
      ],
      2,
    );
    assert.deepEqual(sum.rows, Int32Array.of(3, 1, 7));
    assert.deepEqual(sum.values, Float32Array.of(1, 2, 10.5, 20.25, 4, 8));
  });

  it('updates only the item and tag rows a training step reads, and every row it reads', () => {
    const items = 50;
    const hyper = { dims: 8, heads: 2, fanout: 4, history: 0, scale: 8, seed: 2 };
    const model = new InterestGAT(hyper, items, 5);
    const optimizer = new GatOptimizer(model, 0.01);
    const before = { e: model.items.embedding.dataSync().slice(), b: model.items.bias.dataSync().slice(), g: model.items.tagEmbedding.dataSync().slice() };
    try {
      // Two subjects over items 0–5, targets 6 and 7, sampled negatives 8–11, hard negative 12.
      const neighbourhoods = emptyNeighbourhoods(2, 4, items);
      [0, 1, 2, 3, 3, 4, 5, items].forEach((item, i) => {
        neighbourhoods.neighbour[i] = item;
        neighbourhoods.mask[i] = item < items ? 1 : 0;
        neighbourhoods.typeCode[i] = 1;
        neighbourhoods.weight[i] = 1;
      });
      const batch: TrainingBatch = {
        neighbourhoods,
        targets: Int32Array.of(6, 7),
        hard: { items: Int32Array.of(12, items), mask: Float32Array.of(1, 0), perExample: 1 },
        negatives: { items: Int32Array.of(8, 9, 10, 11), logExpected: new Float32Array(4), targetLogExpected: new Float32Array(2) },
        excluded: { start: Int32Array.of(0, 0, 0), column: new Int32Array(0) },
      };
      // Items 0 and 9 carry tags 1 and 2; item 30, never read, carries tag 4.
      const step = batchGradients(
        model,
        { item: Int32Array.of(0, 9, 30), tag: Int32Array.of(1, 2, 4) },
        items,
        batch,
        lossScaleOf(batch),
        { hardNegativeWeight: 0.5 },
        optimizer,
      );
      assert.deepEqual(
        [...step.items.rows].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      );
      assert.deepEqual(
        [...step.items.tagRows].sort((a, b) => a - b),
        [1, 2],
      );
      optimizer.apply(step);
      tf.dispose([step.loss, ...step.dense.filter((g): g is tf.Tensor => g !== null)]);
      optimizer.flush();
      const e = model.items.embedding.dataSync();
      const b = model.items.bias.dataSync();
      for (let item = 0; item < items; item++) {
        const row = (values: Float32Array | Int32Array | Uint8Array) => Array.from(values.subarray(item * 8, (item + 1) * 8));
        if (item <= 12) assert.notDeepEqual(row(e), row(before.e), `item ${item}'s embedding moved`);
        else {
          assert.deepEqual(row(e), row(before.e), `item ${item}'s embedding`);
          assert.equal(b[item], before.b[item], `item ${item}'s bias`);
        }
      }
      const g = model.items.tagEmbedding.dataSync();
      for (let tag = 0; tag < 5; tag++) {
        const row = (values: Float32Array | Int32Array | Uint8Array) => Array.from(values.subarray(tag * 8, (tag + 1) * 8));
        if (tag === 1 || tag === 2) assert.notDeepEqual(row(g), row(before.g), `tag ${tag} moved`);
        else assert.deepEqual(row(g), row(before.g), `tag ${tag} did not move`);
      }
      // Biases are read for targets, negatives and hard negatives (not for neighbours).
      for (const item of [6, 7, 8, 11, 12]) assert.notEqual(b[item], before.b[item], `item ${item}'s bias moved`);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
});
