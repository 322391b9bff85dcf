import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { selectBackend } from '../../gnn/backend.ts';
import { restoreStockGradients } from '../../gnn/kernels/gradients.ts';
import { isFused, registerFusedKernels, restoreStockKernels } from '../../gnn/kernels/registry.ts';
import { ROW_NORMALIZE, scaledUnitRows } from '../../gnn/kernels/row-normalize.ts';
import { expNonPositive, SAMPLED_SOFTMAX_CROSS_ENTROPY, sampledSoftmaxCrossEntropy } from '../../gnn/kernels/softmax-cross-entropy.ts';
import { SPARSE_MAT_MUL, sparseMatMul } from '../../gnn/kernels/sparse-matmul.ts';
import { SeededRandom } from '../../graph/random.ts';
import { captureTfjsState, type TfjsState } from '../tfjs-state.ts';

/**
 * Our fused UnsortedSegmentSum kernels (gnn/kernels) against the stock ops. On cpu the reference is tfjs's
 * own cpu kernel (put back with restoreStockKernels); wasm has no stock kernel, so its reference is the cpu
 * backend's stock result. UnsortedSegmentSum is also the gradient of gather, which is how the GAT uses it.
 */

const TOLERANCE = 1e-5;

interface Evaluated {
  readonly shape: number[];
  readonly dtype: tf.DataType;
  readonly values: number[];
}

type Kernels = 'fused' | 'stock';

/** Runs `compute` on `backend` with our kernels or the stock ones in place, and reads the result. */
async function evaluate(backend: string, kernels: Kernels, compute: () => tf.Tensor): Promise<Evaluated> {
  await tf.setBackend(backend);
  if (kernels === 'fused') registerFusedKernels(backend);
  else {
    restoreStockKernels(backend);
    restoreStockGradients();
  }
  assert.equal(isFused(tf.UnsortedSegmentSum, backend), kernels === 'fused', `${kernels} UnsortedSegmentSum in place on ${backend}`);
  const result = tf.tidy(compute);
  try {
    return { shape: result.shape, dtype: result.dtype, values: Array.from(await result.data()) };
  } finally {
    result.dispose();
  }
}

function assertClose(actual: Evaluated, expected: Evaluated, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++) worst = Math.max(worst, Math.abs(actual.values[i]! - expected.values[i]!));
  assert.ok(worst <= TOLERANCE, `${what}: largest difference ${worst} exceeds ${TOLERANCE}`);
}

/** Seeded test data: floats in [-1, 1), integers in [lo, hi). */
function floats(random: SeededRandom, n: number): number[] {
  return Array.from({ length: n }, () => random.float() * 2 - 1);
}
function ints(random: SeededRandom, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + Math.floor(random.float() * (hi - lo)));
}

/**
 * Hooks for a suite on the wasm backend: tfjs's state is captured first, the wasm backend is loaded (from
 * node_modules) with our kernels registered, and the state is put back after the suite.
 */
function onWasmBackend(): void {
  let state: TfjsState;
  before(async () => {
    state = await captureTfjsState();
    await selectBackend('wasm', pino({ level: 'silent' }));
  });
  after(async () => {
    await state.restore();
  });
}

interface Case {
  readonly name: string;
  readonly compute: () => tf.Tensor;
}

const random = new SeededRandom(20261123);

/** Forward `tf.unsortedSegmentSum`. The data is drawn once, so every backend sees the same numbers. */
const FORWARD_CASES: Case[] = (() => {
  const rank1 = { x: floats(random, 40), ids: ints(random, 40, 0, 7) };
  const rank2 = { x: floats(random, 60 * 5), ids: ints(random, 60, 0, 9) };
  const rank3 = { x: floats(random, 30 * 3 * 4), ids: ints(random, 30, 0, 6) };
  // Negative ids and ids ≥ numSegments contribute nothing.
  const outOfRange = { x: floats(random, 50 * 3), ids: ints(random, 50, -3, 8) };
  const outOfRange1 = { x: floats(random, 30), ids: ints(random, 30, -2, 6) };
  const integers = { x: ints(random, 50 * 3, -100, 100), ids: ints(random, 50, 0, 5) };
  return [
    { name: 'rank 1', compute: () => tf.unsortedSegmentSum(tf.tensor1d(rank1.x), tf.tensor1d(rank1.ids, 'int32'), 7) },
    { name: 'rank 2', compute: () => tf.unsortedSegmentSum(tf.tensor2d(rank2.x, [60, 5]), tf.tensor1d(rank2.ids, 'int32'), 9) },
    { name: 'rank 3', compute: () => tf.unsortedSegmentSum(tf.tensor3d(rank3.x, [30, 3, 4]), tf.tensor1d(rank3.ids, 'int32'), 6) },
    {
      name: 'ids outside [0, numSegments)',
      compute: () => tf.unsortedSegmentSum(tf.tensor2d(outOfRange.x, [50, 3]), tf.tensor1d(outOfRange.ids, 'int32'), 5),
    },
    {
      name: 'rank 1, ids outside [0, numSegments)',
      compute: () => tf.unsortedSegmentSum(tf.tensor1d(outOfRange1.x), tf.tensor1d(outOfRange1.ids, 'int32'), 4),
    },
    { name: 'empty input', compute: () => tf.unsortedSegmentSum(tf.zeros([0, 4]), tf.zeros([0], 'int32'), 3) },
    {
      name: 'int32 values',
      compute: () => tf.unsortedSegmentSum(tf.tensor2d(integers.x, [50, 3], 'int32'), tf.tensor1d(integers.ids, 'int32'), 5),
    },
  ];
})();

/** The gradient of `tf.gather`, which tfjs computes with UnsortedSegmentSum; indices repeat on purpose. */
const GRADIENT_CASES: Case[] = (() => {
  const rows = { params: floats(random, 20 * 6), indices: ints(random, 70, 0, 20), upstream: floats(random, 70 * 6) };
  const middle = { params: floats(random, 4 * 12 * 3), indices: ints(random, 30, 0, 12), upstream: floats(random, 4 * 30 * 3) };
  const nested = { params: floats(random, 15 * 8), indices: ints(random, 5 * 10, 0, 15), upstream: floats(random, 5 * 10 * 8) };
  const gradientOf = (params: tf.Tensor, indices: tf.Tensor, upstream: tf.Tensor, axis: number) =>
    tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, indices, axis), upstream)))(params);
  return [
    {
      name: 'rows (axis 0), repeated indices',
      compute: () => gradientOf(tf.tensor2d(rows.params, [20, 6]), tf.tensor1d(rows.indices, 'int32'), tf.tensor2d(rows.upstream, [70, 6]), 0),
    },
    {
      name: 'axis 1, repeated indices',
      compute: () => gradientOf(tf.tensor3d(middle.params, [4, 12, 3]), tf.tensor1d(middle.indices, 'int32'), tf.tensor3d(middle.upstream, [4, 30, 3]), 1),
    },
    {
      name: '2-D indices (a batch of neighbour lists)',
      compute: () =>
        gradientOf(tf.tensor2d(nested.params, [15, 8]), tf.tensor2d(nested.indices, [5, 10], 'int32'), tf.tensor3d(nested.upstream, [5, 10, 8]), 0),
    },
  ];
})();

describe('fused UnsortedSegmentSum kernels', function () {
  onWasmBackend();

  describe('forward tf.unsortedSegmentSum', () => {
    for (const { name, compute } of FORWARD_CASES) {
      it(`${name}: cpu equals the stock cpu kernel`, async () => {
        const stock = await evaluate('cpu', 'stock', compute);
        const fused = await evaluate('cpu', 'fused', compute);
        assertClose(fused, stock, name);
      });

      it(`${name}: wasm equals the cpu backend`, async () => {
        const reference = await evaluate('cpu', 'stock', compute);
        const fused = await evaluate('wasm', 'fused', compute);
        assertClose(fused, reference, name);
      });
    }

    // The stock cpu kernel returns float32 for int32 input (it multiplies by a float mask); ours keep the dtype.
    it('keeps int32 values int32, as TensorFlow does, and sums them exactly', async () => {
      const integers = FORWARD_CASES.find((c) => c.name === 'int32 values')!;
      const reference = await evaluate('cpu', 'stock', integers.compute);
      for (const backend of ['cpu', 'wasm']) {
        const fused = await evaluate(backend, 'fused', integers.compute);
        assert.equal(fused.dtype, 'int32', backend);
        assert.deepEqual(fused.values, reference.values, backend);
      }
    });

    it('returns zeros for segments no id names, including with empty input', async () => {
      for (const backend of ['cpu', 'wasm']) {
        const out = await evaluate(backend, 'fused', () => tf.unsortedSegmentSum(tf.zeros([0, 4]), tf.zeros([0], 'int32'), 3));
        assert.deepEqual(out.shape, [3, 4], backend);
        assert.ok(
          out.values.every((v) => v === 0),
          backend,
        );
      }
    });
  });

  describe('gradient of tf.gather', () => {
    for (const { name, compute } of GRADIENT_CASES) {
      it(`${name}: cpu equals the stock cpu kernel`, async () => {
        const stock = await evaluate('cpu', 'stock', compute);
        const fused = await evaluate('cpu', 'fused', compute);
        assertClose(fused, stock, name);
      });

      it(`${name}: wasm equals the cpu backend`, async () => {
        const reference = await evaluate('cpu', 'stock', compute);
        const fused = await evaluate('wasm', 'fused', compute);
        assertClose(fused, reference, name);
      });
    }
  });

  it('swaps in and out of the kernel registry without leaking tensors', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    for (const kernels of ['stock', 'fused', 'stock', 'fused'] as const) await evaluate('cpu', kernels, FORWARD_CASES[1]!.compute);
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('wasm hot-path kernels (row gather, matMul without transposes, shared identity and cast)', function () {
  onWasmBackend();

  const r = new SeededRandom(7);
  const table = floats(r, 40 * 6);
  const a = floats(r, 3 * 5 * 7);
  const b = floats(r, 3 * 7 * 4);
  // Drawn once: each case runs twice (reference and ours) on the same inputs.
  const rows30 = ints(r, 30, 0, 40);
  const rows12 = ints(r, 12, 0, 40);
  const rows9 = ints(r, 9, 0, 40);
  const rows25 = ints(r, 25, 0, 40);
  const smallInts = ints(r, 20, -5, 5);
  const cases: Case[] = [
    { name: 'gather rows of a matrix', compute: () => tf.gather(tf.tensor2d(table, [40, 6]), tf.tensor1d(rows30, 'int32')) },
    { name: 'gather with 2-D indices', compute: () => tf.gather(tf.tensor2d(table, [40, 6]), tf.tensor2d(rows12, [3, 4], 'int32')) },
    { name: 'gather from a vector', compute: () => tf.gather(tf.tensor1d(table.slice(0, 40)), tf.tensor1d(rows9, 'int32')) },
    { name: 'gather int32 rows', compute: () => tf.gather(tf.tensor2d(smallInts, [10, 2], 'int32'), tf.tensor1d([9, 0, 9, 3], 'int32')) },
    { name: 'gather along axis 1 (stock path)', compute: () => tf.gather(tf.tensor2d(table, [40, 6]), tf.tensor1d([5, 0, 2], 'int32'), 1) },
    { name: 'matMul a·bᵀ', compute: () => tf.matMul(tf.tensor2d(a.slice(0, 35), [5, 7]), tf.tensor2d(b.slice(0, 28), [4, 7]), false, true) },
    { name: 'matMul aᵀ·b', compute: () => tf.matMul(tf.tensor2d(a.slice(0, 35), [7, 5]), tf.tensor2d(b.slice(0, 28), [7, 4]), true, false) },
    { name: 'matMul aᵀ·bᵀ', compute: () => tf.matMul(tf.tensor2d(a.slice(0, 35), [7, 5]), tf.tensor2d(b.slice(0, 28), [4, 7]), true, true) },
    { name: 'batched matMul a·bᵀ', compute: () => tf.matMul(tf.tensor3d(a, [3, 5, 7]), tf.tensor3d(b.slice(0, 60), [3, 4, 5]), true, true) },
    {
      name: 'cast to float32 (shared) and to int32 (stock path)',
      compute: () => tf.concat([tf.cast(tf.tensor1d(a), 'float32'), tf.cast(tf.cast(tf.tensor1d(a).mul(3), 'int32'), 'float32')]),
    },
    { name: 'plain matMul (stock path)', compute: () => tf.matMul(tf.tensor2d(a.slice(0, 35), [5, 7]), tf.tensor2d(b.slice(0, 28), [7, 4])) },
    {
      name: 'gradients of matMul and gather together',
      compute: () => {
        const w = tf.tensor2d(a.slice(0, 42), [7, 6]);
        const x = tf.tensor2d(table, [40, 6]);
        const idx = tf.tensor1d(rows25, 'int32');
        const [gw, gx] = tf.grads((wv: tf.Tensor, xv: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.gather(xv, idx), wv, false, true))))([w, x]);
        return tf.concat([gw!.flatten(), gx!.flatten()]);
      },
    },
  ];
  for (const { name, compute } of cases) {
    it(`${name}: wasm equals the cpu backend`, async () => {
      const reference = await evaluate('cpu', 'stock', compute);
      const fused = await evaluate('wasm', 'fused', compute);
      assert.equal(fused.dtype, reference.dtype, name);
      assertClose(fused, reference, name);
    });
  }

  it('refuses an index outside the table, as the stock kernel does', async () => {
    await evaluate('wasm', 'fused', () => tf.zeros([1]));
    assert.ok(isFused(tf.GatherV2, 'wasm') && isFused(tf.BatchMatMul, 'wasm'), 'ours are the kernels in place');
    assert.throws(() => tf.tidy(() => tf.gather(tf.tensor2d(table, [40, 6]), tf.tensor1d([3, 40], 'int32'))), /index 40 is not in \[0, 40\)/);
  });

  it('clones by sharing the data: each copy outlives the other, and a variable keeps its value', async () => {
    await evaluate('wasm', 'fused', () => tf.zeros([1]));
    assert.ok(isFused(tf.Identity, 'wasm'), 'our Identity is in place');
    const buffers = () => tf.engine().backend.numDataIds();
    const before = buffers();
    const original = tf.tensor1d([1, 2, 3]);
    const copy = original.clone();
    assert.equal(buffers() - before, 1, 'the clone holds no second copy');
    original.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3]);
    const again = copy.clone();
    copy.dispose();
    assert.deepEqual(Array.from(await again.data()), [1, 2, 3]);
    const v = tf.variable(again);
    again.dispose();
    const next = tf.tensor1d([4, 5, 6]);
    v.assign(next);
    next.dispose();
    assert.deepEqual(Array.from(await v.data()), [4, 5, 6]);
    v.dispose();
    const cast = tf.tensor1d([7, 8]);
    const same = tf.cast(cast, 'float32');
    assert.equal(buffers() - before, 1, 'a cast to its own dtype holds no second copy');
    cast.dispose();
    assert.deepEqual(Array.from(await same.data()), [7, 8]);
    same.dispose();
    assert.equal(buffers(), before, 'every buffer freed');
  });
});

describe('lean gradients (the same values as the stock ones)', function () {
  let state: TfjsState;
  before(async () => {
    state = await captureTfjsState();
  });
  after(async () => {
    await state.restore();
  });

  let stockSumGradient: tf.GradConfig | undefined;
  before(() => {
    restoreStockGradients();
    stockSumGradient = tf.getGradient(tf.Sum);
  });
  const r = new SeededRandom(11);
  const x = floats(r, 3 * 4 * 5);
  const w = floats(r, 3 * 4 * 5);
  const sums: Array<[string, (t: tf.Tensor) => tf.Tensor]> = [
    ['over the last axis', (t) => tf.sum(t, 2)],
    ['over the middle axis, keeping it', (t) => tf.sum(t, 1, true)],
    ['over two axes', (t) => tf.sum(t, [0, 2])],
    ['over everything', (t) => tf.sum(t)],
  ];
  for (const backend of ['cpu', 'wasm']) {
    for (const [name, reduce] of sums) {
      it(`${backend}: the gradient of a sum ${name} equals the stock gradient`, async () => {
        if (backend === 'wasm') await selectBackend('wasm', pino({ level: 'silent' }));
        const compute = () =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.mul(reduce(tf.mul(t, tf.tensor3d(w, [3, 4, 5]))), 1.5))))(tf.tensor3d(x, [3, 4, 5]));
        const reference = await evaluate('cpu', 'stock', compute);
        const lean = await evaluate(backend, 'fused', compute);
        assert.ok(tf.getGradient(tf.Sum) !== stockSumGradient, 'ours is in place');
        assert.deepEqual(lean.shape, [3, 4, 5]);
        assertClose(lean, reference, name);
      });
    }
  }
});

describe('fused sampled softmax cross-entropy (the training loss)', function () {
  onWasmBackend();

  const r = new SeededRandom(11);
  const rows = 6;
  const columns = 9;
  // Scaled up so some rows are peaked; each row leaves out a few columns (row 3 none, row 4 one twice).
  const scores = floats(r, rows * columns).map((v) => v * 8);
  const target = floats(r, rows).map((v) => v * 4);
  const offset = floats(r, columns);
  const excluded = { start: Int32Array.of(0, 2, 3, 6, 6, 8, 9), column: Int32Array.of(4, 0, 8, 1, 2, 3, 5, 5, 7) };
  const lossAndGradients = (): tf.Tensor => {
    const inputs = [tf.tensor2d(scores, [rows, columns]), tf.tensor1d(target), tf.tensor1d(offset)];
    const { value, grads } = tf.valueAndGrads((s: tf.Tensor, t: tf.Tensor, o: tf.Tensor) =>
      tf.mul(sampledSoftmaxCrossEntropy(s as tf.Tensor2D, t as tf.Tensor1D, o as tf.Tensor1D, excluded), 3),
    )(inputs);
    return tf.concat([value.reshape([1]), ...grads.map((g) => g.flatten())]);
  };

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: loss and gradients equal the stock ops'`, async () => {
      const reference = await evaluate('cpu', 'stock', lossAndGradients);
      assert.ok(!tf.getKernel(SAMPLED_SOFTMAX_CROSS_ENTROPY, 'cpu'), 'the stock path ran for the reference');
      const fused = await evaluate(backend, 'fused', lossAndGradients);
      assert.ok(tf.getKernel(SAMPLED_SOFTMAX_CROSS_ENTROPY, backend), 'the fused kernel ran');
      assertClose(fused, reference, backend);
      assert.equal(fused.values[1 + 4], 0, 'an excluded column gets no gradient');
      assert.ok(fused.values[1 + 3 * columns + 3] !== 0, 'a column another row excludes still does');
    });
  }

  it('computes e^x to float32 precision over the whole range, 0 where float32 underflows', () => {
    let worst = 0;
    for (let x = -87; x <= 0; x += 0.000931) worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    assert.ok(worst < 2e-8, `largest relative error ${worst}`);
    assert.equal(expNonPositive(0), 1);
    assert.equal(expNonPositive(-88), 0);
    assert.equal(expNonPositive(-Infinity), 0);
    assert.ok(Number.isNaN(expNonPositive(NaN)));
  });

  it('refuses exclusions that do not fit the scores', async () => {
    await evaluate('wasm', 'fused', () => tf.zeros([1]));
    const loss = (start: number[], column: number[]) => () =>
      tf.tidy(() =>
        sampledSoftmaxCrossEntropy(tf.zeros<tf.Rank.R2>([2, 3]), tf.zeros<tf.Rank.R1>([2]), tf.zeros<tf.Rank.R1>([3]), {
          start: Int32Array.from(start),
          column: Int32Array.from(column),
        }),
      );
    assert.throws(loss([0, 1, 2], [0, 3]), /excluded column 3 of row 1 is not in \[0, 3\)/);
    assert.throws(loss([0, 1, 1], [0, 2]), /excludedStart must run from 0 to 2, got 0 to 1/);
    assert.throws(loss([0, 1], [0]), /excludedStart must be int32 \[3\], got int32 \[2\]/);
  });
});

describe('fused sparse × dense product (the item encoder’s tag mean)', function () {
  onWasmBackend();

  const r = new SeededRandom(23);
  const entries = 70;
  const numRows = 12;
  const denseRows = 9;
  const rows = Int32Array.from(ints(r, entries, 0, numRows));
  const columns = Int32Array.from(ints(r, entries, 0, denseRows));
  const values = Float32Array.from(floats(r, entries));
  // Width 6 (not a multiple of 4) and 8 (the unrolled path).
  const cases = [6, 8].map((width) => ({ width, dense: floats(r, denseRows * width), upstream: floats(r, numRows * width) }));

  for (const { width, dense, upstream } of cases) {
    const productAndGradient = (): tf.Tensor => {
      const x = tf.tensor2d(dense, [denseRows, width]);
      const { value, grad } = tf.valueAndGrad((d: tf.Tensor) =>
        tf.sum(tf.mul(sparseMatMul(rows, columns, values, d as tf.Tensor2D, numRows), tf.tensor2d(upstream, [numRows, width]))),
      )(x);
      const product = sparseMatMul(rows, columns, values, x, numRows);
      return tf.concat([value.reshape([1]), product.flatten(), grad.flatten()]);
    };
    for (const backend of ['cpu', 'wasm']) {
      it(`${backend}, width ${width}: product and gradient equal gather · multiply · segment sum`, async () => {
        const reference = await evaluate('cpu', 'stock', productAndGradient);
        assert.ok(!tf.getKernel(SPARSE_MAT_MUL, 'cpu'), 'the stock composition ran for the reference');
        const fused = await evaluate(backend, 'fused', productAndGradient);
        assert.ok(tf.getKernel(SPARSE_MAT_MUL, backend), 'the fused kernel ran');
        assertClose(fused, reference, backend);
      });
    }
  }

  it('refuses an entry outside the matrix', async () => {
    await evaluate('wasm', 'fused', () => tf.zeros([1]));
    assert.throws(
      () => tf.tidy(() => sparseMatMul(Int32Array.of(0, 3), Int32Array.of(0, 0), Float32Array.of(1, 1), tf.zeros<tf.Rank.R2>([2, 4]), 3)),
      /row 3 of entry 1 is not in \[0, 3\)/,
    );
    assert.throws(
      () => tf.tidy(() => sparseMatMul(Int32Array.of(0), Int32Array.of(2), Float32Array.of(1), tf.zeros<tf.Rank.R2>([2, 4]), 3)),
      /column 2 of entry 0 is not in \[0, 2\)/,
    );
  });
});

describe('fused row normalisation (cosine scoring)', function () {
  onWasmBackend();

  const r = new SeededRandom(31);
  const rows = 7;
  const width = 5;
  const x = floats(r, rows * width).map((v) => v * 3);
  const upstream = floats(r, rows * width);
  const valueAndGradient = (): tf.Tensor => {
    const input = tf.tensor2d(x, [rows, width]);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(tf.mul(scaledUnitRows(v as tf.Tensor2D, 7), tf.tensor2d(upstream, [rows, width]))))(input);
    return tf.concat([value.reshape([1]), scaledUnitRows(input, 7).flatten(), grad.flatten()]);
  };

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: rows and gradient equal the stock ops'`, async () => {
      const reference = await evaluate('cpu', 'stock', valueAndGradient);
      assert.ok(!tf.getKernel(ROW_NORMALIZE, 'cpu'), 'the stock ops ran for the reference');
      const fused = await evaluate(backend, 'fused', valueAndGradient);
      assert.ok(tf.getKernel(ROW_NORMALIZE, backend), 'the fused kernel ran');
      assertClose(fused, reference, backend);
      const output = fused.values.slice(1, 1 + rows * width);
      for (let n = 0; n < rows; n++) {
        const length = Math.hypot(...output.slice(n * width, (n + 1) * width));
        assert.ok(Math.abs(length - 7) < 1e-5, `row ${n} has length ${length}`);
      }
      // An item the model was not trained on, without tags, has a zero row: it stays zero.
      const zero = await evaluate(backend, 'fused', () => scaledUnitRows(tf.zeros<tf.Rank.R2>([2, width]), 7));
      assert.deepEqual(zero.values, new Array(2 * width).fill(0));
    });
  }

  it('refuses a scale that is not a positive number', async () => {
    await evaluate('wasm', 'fused', () => tf.zeros([1]));
    assert.throws(() => tf.tidy(() => scaledUnitRows(tf.ones<tf.Rank.R2>([2, 3]), 0)), /scale must be a positive number, got 0/);
  });
});
