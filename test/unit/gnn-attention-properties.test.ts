import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';

import { selectBackend } from '../../gnn/backend.ts';
import { EDGE_TYPE_CLASSES, emptyNeighbourhoods, type NeighbourhoodBatch, RECENCY_BUCKETS } from '../../gnn/edge-features.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import type { EdgeInputs } from '../../gnn/layers/edge-scores.ts';
import { NeighbourAttention, type NeighbourFeatures } from '../../gnn/layers/neighbour-attention.ts';
import { TargetedAttention } from '../../gnn/layers/targeted-attention.ts';
import { ParameterSet } from '../../gnn/parameters.ts';
import { mulberry32 } from '../../graph/random.ts';
import { captureTfjsState, type TfjsState } from '../tfjs-state.ts';

/**
 * Properties of the two attention layers over many seeded random batches (fanout, heads, masks, edge types,
 * recency buckets, weights): the attention weights are a distribution over each node's real neighbours, per
 * head, and padding is invisible: it gets no weight, and its features and edge inputs change nothing.
 */

const TRIALS = 200;
const SUM_TOLERANCE = 1e-5;

interface Case {
  readonly seed: number;
  readonly batch: number;
  readonly fanout: number;
  readonly heads: number;
  readonly headDims: number;
  readonly inputDims: number;
  /** Distinct feature rows of the real neighbours; each padding slot has a row of its own after them. */
  readonly realRows: number;
  readonly slot: Int32Array;
  readonly mask: Float32Array;
  readonly typeCode: Int32Array;
  readonly recency: Int32Array;
  readonly weight: Float32Array;
  readonly features: Float32Array;
  readonly state: Float32Array;
}

/**
 * One random case. Row 0 always has exactly one real neighbour (anywhere in the row); the other rows have
 * one, all, or a random number of real neighbours at random positions. Padding slots carry random edge
 * inputs too: they must not matter.
 */
function randomCase(seed: number): Case {
  const random = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const batch = int(1, 6);
  const fanout = int(1, 12);
  const heads = pick([1, 2, 3, 4]);
  const headDims = pick([1, 2, 4, 5]);
  const inputDims = int(1, 9);
  const realRows = int(1, 10);
  const mask = new Float32Array(batch * fanout);
  for (let b = 0; b < batch; b++) {
    const real = b === 0 ? 1 : pick([1, fanout, int(1, fanout)]);
    const positions = Array.from({ length: fanout }, (_, j) => j);
    for (let j = fanout - 1; j > 0; j--) {
      const r = Math.floor(random() * (j + 1));
      [positions[j], positions[r]] = [positions[r]!, positions[j]!];
    }
    for (const j of positions.slice(0, real)) mask[b * fanout + j] = 1;
  }
  const slot = new Int32Array(batch * fanout);
  let padRow = realRows;
  for (let s = 0; s < slot.length; s++) slot[s] = mask[s] ? int(0, realRows - 1) : padRow++;
  // Features and weights over a wide range, so the logits spread widely.
  const spread = pick([0.1, 1, 10]);
  return {
    seed,
    batch,
    fanout,
    heads,
    headDims,
    inputDims,
    realRows,
    slot,
    mask,
    typeCode: Int32Array.from(mask, () => int(0, EDGE_TYPE_CLASSES - 1)),
    recency: Int32Array.from(mask, () => int(0, RECENCY_BUCKETS - 1)),
    weight: Float32Array.from(mask, () => (random() * 2 - 1) * pick([0.5, 5])),
    features: Float32Array.from({ length: padRow * inputDims }, () => (random() * 2 - 1) * spread),
    state: Float32Array.from({ length: batch * heads * headDims }, () => random() * 2 - 1),
  };
}

/** The same case with every padding slot's features and edge inputs (type, recency, weight) redrawn. */
function withPaddingRedrawn(c: Case, featuresOnly: boolean): Case {
  const random = mulberry32(c.seed ^ 0x9e3779b9);
  const features = c.features.slice();
  for (let i = c.realRows * c.inputDims; i < features.length; i++) features[i] = (random() * 2 - 1) * 100;
  if (featuresOnly) return { ...c, features };
  const redraw = <T extends Int32Array | Float32Array>(values: T, next: () => number): T => values.map((v, s) => (c.mask[s] ? v : next())) as T;
  return {
    ...c,
    features,
    typeCode: redraw(c.typeCode, () => Math.floor(random() * EDGE_TYPE_CLASSES)),
    recency: redraw(c.recency, () => Math.floor(random() * RECENCY_BUCKETS)),
    weight: redraw(c.weight, () => (random() * 2 - 1) * 50),
  };
}

interface Layers {
  readonly params: ParameterSet;
  readonly layer1: NeighbourAttention;
  readonly layer2: TargetedAttention;
}

/** Both layers for a case, with random (not zero) edge scores, so that type, recency and weight matter. */
function layersFor(c: Case): Layers {
  const params = new ParameterSet(c.seed);
  const width = c.heads * c.headDims;
  const layer1 = new NeighbourAttention(params, 'layer1', c.inputDims, c.heads, c.headDims);
  const layer2 = new TargetedAttention(params, 'layer2', width, c.inputDims, 3, c.heads, c.headDims);
  const random = mulberry32(c.seed + 1);
  for (const scores of [layer1.edgeScores, layer2.edgeScores]) {
    for (const v of [scores.typeScore, scores.recencyScore, scores.weightScore]) {
      tf.tidy(() =>
        v.assign(
          tf.tensor(
            Float32Array.from({ length: v.size }, () => (random() * 2 - 1) * 2),
            v.shape,
          ),
        ),
      );
    }
  }
  return { params, layer1, layer2 };
}

interface Evaluated {
  readonly output: Float32Array;
  readonly alpha: Float32Array;
}

/** Both layers' outputs and attention on a case. */
function evaluate(layers: Layers, c: Case): { layer1: Evaluated; layer2: Evaluated } {
  let result!: { layer1: Evaluated; layer2: Evaluated };
  tf.tidy(() => {
    const x: NeighbourFeatures = {
      rows: tf.tensor2d(c.features, [c.features.length / c.inputDims, c.inputDims]),
      slot: tf.tensor1d(c.slot, 'int32'),
      batch: c.batch,
      fanout: c.fanout,
    };
    const shape: [number, number] = [c.batch, c.fanout];
    const edges: EdgeInputs = {
      typeCode: tf.tensor2d(c.typeCode, shape, 'int32'),
      recency: tf.tensor2d(c.recency, shape, 'int32'),
      weight: tf.tensor2d(c.weight, shape),
      mask: tf.tensor2d(c.mask, shape),
    };
    const first = layers.layer1.forward(x, edges);
    const second = layers.layer2.forward(tf.tensor2d(c.state, [c.batch, c.heads * c.headDims]), x, edges);
    const read = (r: { output: tf.Tensor; alpha: tf.Tensor }): Evaluated => ({
      output: (r.output.dataSync() as Float32Array).slice(),
      alpha: (r.alpha.dataSync() as Float32Array).slice(),
    });
    assert.deepEqual(first.alpha.shape, [c.batch, c.fanout, c.heads]);
    assert.deepEqual(second.alpha.shape, [c.batch, c.fanout, c.heads]);
    result = { layer1: read(first), layer2: read(second) };
  });
  return result;
}

function describeCase(c: Case): string {
  return `seed ${c.seed} (B ${c.batch}, K ${c.fanout}, H ${c.heads}, d_h ${c.headDims}, real per row ${Array.from({ length: c.batch }, (_, b) => c.mask.subarray(b * c.fanout, (b + 1) * c.fanout).reduce((a, m) => a + m, 0)).join('/')})`;
}

/** α [B, K, H] in [0, 1], summing to 1 over each row's real neighbours per head, 0 on padding. */
function assertDistribution(alpha: Float32Array, mask: Float32Array, batch: number, fanout: number, heads: number, what: string): void {
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      let sum = 0;
      for (let j = 0; j < fanout; j++) {
        const a = alpha[(b * fanout + j) * heads + h]!;
        assert.ok(a >= 0 && a <= 1, `${what}: α[${b}, ${j}, ${h}] = ${a} outside [0, 1]`);
        if (mask[b * fanout + j]) sum += a;
        else assert.equal(a, 0, `${what}: padding α[${b}, ${j}, ${h}] = ${a}`);
      }
      assert.ok(Math.abs(sum - 1) <= SUM_TOLERANCE, `${what}: row ${b}, head ${h}: real neighbours' α sum to ${sum}`);
    }
  }
}

function sameValues(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]) || a[i] === b[i], `${what}: value ${i}: ${a[i]} against ${b[i]}`);
}

/** A model-level batch: subject rows over `items` item rows plus the zero padding row, row 0 with one real neighbour. */
function randomModelBatch(random: () => number, size: number, fanout: number, items: number): NeighbourhoodBatch {
  const batch = emptyNeighbourhoods(size, fanout, items);
  for (let b = 0; b < size; b++) {
    const real = b === 0 ? 1 : 1 + Math.floor(random() * fanout);
    for (let j = 0; j < fanout; j++) {
      const s = b * fanout + j;
      batch.typeCode[s] = Math.floor(random() * EDGE_TYPE_CLASSES);
      batch.recency[s] = Math.floor(random() * RECENCY_BUCKETS);
      if (j >= real) continue;
      batch.neighbour[s] = Math.floor(random() * items);
      batch.weight[s] = random() * 4 - 1;
      batch.mask[s] = 1;
    }
  }
  return batch;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`GAT attention layers: properties over random batches (${backend})`, function () {
    this.timeout(60_000);
    let state: TfjsState;
    before(async () => {
      state = await captureTfjsState();
      await selectBackend(backend, pino({ level: 'silent' }));
    });
    after(async () => {
      await state.restore();
    });

    it(`gives attention weights in [0, 1] that sum to 1 over each node's real neighbours per head, and 0 to padding (${TRIALS} batches)`, () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = randomCase(1_000 + trial);
        const layers = layersFor(c);
        try {
          const { layer1, layer2 } = evaluate(layers, c);
          assertDistribution(layer1.alpha, c.mask, c.batch, c.fanout, c.heads, `layer 1, ${describeCase(c)}`);
          assertDistribution(layer2.alpha, c.mask, c.batch, c.fanout, c.heads, `layer 2, ${describeCase(c)}`);
          // A row with a single real neighbour puts all of its attention there.
          const only = Array.from(c.mask.subarray(0, c.fanout)).indexOf(1);
          for (let h = 0; h < c.heads; h++) {
            assert.equal(layer1.alpha[only * c.heads + h], 1, `layer 1, ${describeCase(c)}: head ${h}`);
            assert.equal(layer2.alpha[only * c.heads + h], 1, `layer 2, ${describeCase(c)}: head ${h}`);
          }
        } finally {
          layers.params.dispose();
        }
      }
    });

    it(`gives the same output and attention whatever a padding neighbour's features and edge inputs are (${TRIALS} batches)`, () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = randomCase(2_000 + trial);
        const layers = layersFor(c);
        try {
          const original = evaluate(layers, c);
          for (const featuresOnly of [true, false]) {
            const changed = evaluate(layers, withPaddingRedrawn(c, featuresOnly));
            const what = `${describeCase(c)}, padding ${featuresOnly ? 'features' : 'features and edge inputs'} redrawn`;
            sameValues(changed.layer1.output, original.layer1.output, `layer 1 output, ${what}`);
            sameValues(changed.layer1.alpha, original.layer1.alpha, `layer 1 attention, ${what}`);
            sameValues(changed.layer2.output, original.layer2.output, `layer 2 output, ${what}`);
            sameValues(changed.layer2.alpha, original.layer2.alpha, `layer 2 attention, ${what}`);
          }
        } finally {
          layers.params.dispose();
        }
      }
    });

    it('lets a real neighbour change the output (the padding check is not vacuous)', () => {
      const c = randomCase(3_000);
      const layers = layersFor(c);
      try {
        const original = evaluate(layers, c);
        const features = c.features.slice();
        for (let d = 0; d < c.inputDims; d++) features[c.slot[Array.from(c.mask).indexOf(1)]! * c.inputDims + d]! += 1;
        const changed = evaluate(layers, { ...c, features });
        assert.ok(
          changed.layer1.output.some((v, i) => v !== original.layer1.output[i]),
          'layer 1 output moved',
        );
        assert.ok(
          changed.layer2.output.some((v, i) => v !== original.layer2.output[i]),
          'layer 2 output moved',
        );
      } finally {
        layers.params.dispose();
      }
    });

    it("keeps the model's attention a distribution over real neighbours, unmoved by the features of items only padding points at", () => {
      const random = mulberry32(77);
      for (let trial = 0; trial < 12; trial++) {
        const heads = [1, 2, 4][trial % 3]!;
        const items = 6 + Math.floor(random() * 10);
        const fanout = 1 + Math.floor(random() * 9);
        const model = new InterestGAT({ dims: heads * 3, heads, fanout, history: 0, scale: 8, seed: trial + 1 }, items, 3);
        const batch = randomModelBatch(random, 1 + Math.floor(random() * 5), fanout, items);
        // Point some padding slots at an item no real slot reads.
        const used = new Set(Array.from(batch.neighbour).filter((_, s) => batch.mask[s]));
        const unused = Array.from({ length: items }, (_, i) => i).filter((i) => !used.has(i));
        const neighbour = batch.neighbour.map((n, s) => (batch.mask[s] || unused.length === 0 || s % 2 ? n : unused[s % unused.length]!));
        const padded: NeighbourhoodBatch = { ...batch, neighbour };
        const pairs = { item: Int32Array.from({ length: items }, (_, i) => i), tag: Int32Array.from({ length: items }, (_, i) => i % 3) };
        try {
          const [z, attention, zChanged] = tf.tidy(() => {
            const features = tf.concat<tf.Tensor2D>([model.encodeItems(pairs), tf.zeros([1, model.hyper.dims])]);
            const { z, attention } = model.encodeSubjectsWithAttention(features, padded);
            const rowMask = tf.tensor2d(
              Float32Array.from({ length: items + 1 }, (_, i) => (unused.includes(i) ? 1 : 0)),
              [items + 1, 1],
            );
            const moved = tf.add<tf.Tensor2D>(features, tf.mul(rowMask, 37));
            return [
              (z.dataSync() as Float32Array).slice(),
              (attention.dataSync() as Float32Array).slice(),
              (model.encodeSubjects(moved, padded).dataSync() as Float32Array).slice(),
            ];
          });
          const what = `model trial ${trial}`;
          // The model's attention is layer 2's averaged over heads: [B, K] with one "head".
          assertDistribution(attention, padded.mask, padded.size, fanout, 1, what);
          sameValues(zChanged, z, `${what}: z with the padding-only items' features moved`);
        } finally {
          model.dispose();
        }
      }
    });
  });
}
