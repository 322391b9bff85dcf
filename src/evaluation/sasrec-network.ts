import * as tf from '@tensorflow/tfjs';

import { SeededRandom } from '../../graph/random.ts';
import { rowHas, type SparseRows, type TrainingData } from './training-data.ts';
import type { EpochTrainer } from './tuning.ts';

/**
 * SASRec (Kang and McAuley 2018, "Self-Attentive Sequential Recommendation") on TensorFlow.js, in plain tf
 * ops. Over a subject's last L positives s_1..s_L in time order (left-padded with item 0):
 *
 *   x⁰_t = √d · E[s_t] + P_t                                  (item and learned position embeddings, dropout)
 *   per block b:  q = LN(x)                                   (queries normalised, keys and values not)
 *                 A = softmax(q W_Q (x W_K)ᵀ / √(d/h) + causal and padding masks) · x W_V   (h heads)
 *                 x = q + dropout(A) ;  y = LN(x)
 *                 x = (y + dropout(ReLU(y W_1 + b_1) W_2 + b_2)) · mask
 *   h_t = LN(x_t) ,   r(t, i) = h_t · E[i]                    (the item table is shared with the output)
 *
 * as in the authors' code (residuals onto the normalised queries, padding rows zeroed after each block).
 * Trained on next-item prediction at every position with the paper's loss, −ln σ(r(t, s_{t+1})) − ln σ(−r(t, j)),
 * one negative j per position drawn uniformly from the items the subject has no positive on. Adam with
 * β₂ = 0.98 (the paper's). A subject's representation for scoring is h at the last position of their whole
 * training sequence.
 */

export interface SasRecSettings {
  readonly dims: number;
  /** L: positions the model attends over. */
  readonly maxLength: number;
  readonly blocks: number;
  readonly heads: number;
  readonly dropout: number;
  readonly learningRate: number;
  readonly batchSize: number;
}

/** Item i is row i + 1 of the embedding table; row 0 pads. */
const PAD = 0;
const MASKED = -1e9;

interface Block {
  readonly ln1Gain: tf.Variable;
  readonly ln1Bias: tf.Variable;
  readonly query: tf.Variable;
  readonly key: tf.Variable;
  readonly value: tf.Variable;
  readonly ln2Gain: tf.Variable;
  readonly ln2Bias: tf.Variable;
  readonly ff1: tf.Variable;
  readonly ff1Bias: tf.Variable;
  readonly ff2: tf.Variable;
  readonly ff2Bias: tf.Variable;
}

/**
 * Training windows over every subject's sequence, cut from its end back: each window of up to L + 1
 * consecutive positives gives L inputs and the L next items as targets, and consecutive windows' targets
 * do not overlap, so every positive after a subject's first is a target once an epoch. (The paper feeds
 * only each subject's last L; on ML latest-small a quarter of the users have more than 200 positives.)
 */
export interface SequenceWindows {
  readonly user: Uint32Array;
  /** Window w is `sequence.index[from[w] .. to[w])`: inputs all but its last item, targets all but its first. */
  readonly from: Uint32Array;
  readonly to: Uint32Array;
}

export function sequenceWindows(sequences: SparseRows, maxLength: number): SequenceWindows {
  const user: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (let u = 0; u < sequences.rows; u++) {
    const first = sequences.start[u]!;
    for (let end = sequences.start[u + 1]!; end - first >= 2;) {
      const begin = Math.max(first, end - maxLength - 1);
      user.push(u);
      from.push(begin);
      to.push(end);
      end = begin + 1;
    }
  }
  return { user: Uint32Array.from(user), from: Uint32Array.from(from), to: Uint32Array.from(to) };
}

export class SasRecTrainer implements EpochTrainer {
  private readonly random: SeededRandom;
  private readonly items: tf.Variable;
  private readonly positions: tf.Variable;
  private readonly blocks: Block[] = [];
  private readonly finalGain: tf.Variable;
  private readonly finalBias: tf.Variable;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly causal: tf.Tensor;
  private readonly windows: SequenceWindows;
  private readonly order: Uint32Array;
  /**
   * Positions attended over: L, or the longest sequence when every one is shorter. The positions cut are
   * padding in every window, so the model is the same; on small data the attention is much cheaper.
   */
  readonly length: number;
  lastLoss = NaN;

  constructor(
    private readonly train: TrainingData,
    private readonly sequences: SparseRows,
    readonly settings: SasRecSettings,
    seed: number,
  ) {
    const { dims, heads } = settings;
    let longest = 1;
    for (let u = 0; u < sequences.rows; u++) longest = Math.max(longest, sequences.start[u + 1]! - sequences.start[u]!);
    const maxLength = Math.min(settings.maxLength, longest);
    this.length = maxLength;
    if (dims % heads !== 0) throw new RangeError(`sasrec: dims ${dims} must be a multiple of heads ${heads}`);
    this.random = new SeededRandom(seed);
    // Xavier-normal weights (as the authors' PyTorch port), unit layer-norm gains, zero biases.
    const xavier = (rows: number, cols: number) => {
      const sd = Math.sqrt(2 / (rows + cols));
      return tf.variable(
        tf.tensor2d(
          Float32Array.from({ length: rows * cols }, () => this.random.normal(0, sd)),
          [rows, cols],
        ),
      );
    };
    const ones = () => tf.variable(tf.ones([dims]));
    const zeros = (n = dims) => tf.variable(tf.zeros([n]));
    this.items = xavier(train.itemCount + 1, dims);
    this.positions = xavier(maxLength, dims);
    for (let b = 0; b < settings.blocks; b++) {
      this.blocks.push({
        ln1Gain: ones(),
        ln1Bias: zeros(),
        query: xavier(dims, dims),
        key: xavier(dims, dims),
        value: xavier(dims, dims),
        ln2Gain: ones(),
        ln2Bias: zeros(),
        ff1: xavier(dims, dims),
        ff1Bias: zeros(),
        ff2: xavier(dims, dims),
        ff2Bias: zeros(),
      });
    }
    this.finalGain = ones();
    this.finalBias = zeros();
    this.optimizer = tf.train.adam(settings.learningRate, 0.9, 0.98);
    // Position t may attend to positions ≤ t only.
    this.causal = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([maxLength, maxLength]), -1, 0)), MASKED).reshape([1, 1, maxLength, maxLength]));
    this.windows = sequenceWindows(sequences, maxLength);
    this.order = Uint32Array.from(this.windows.user.keys());
  }

  /** One pass over every training window in a seeded order, a batch at a time. */
  trainEpoch(): void {
    const { batchSize } = this.settings;
    const maxLength = this.length;
    this.random.shuffle(this.order);
    let lossSum = 0;
    let batches = 0;
    for (let b = 0; b < this.order.length; b += batchSize) {
      const rows = this.order.subarray(b, Math.min(this.order.length, b + batchSize));
      const input = new Int32Array(rows.length * maxLength);
      const target = new Int32Array(rows.length * maxLength);
      rows.forEach((w, r) => this.fillWindow(w, input, target, r * maxLength));
      const loss = tf.tidy(() => {
        const inputs = tf.tensor2d(input, [rows.length, maxLength], 'int32');
        const targets = tf.tensor2d(target, [rows.length, maxLength], 'int32');
        const negatives = this.negativesFor(rows, target);
        return this.optimizer.minimize(() => this.loss(inputs, targets, negatives), true, this.variables()) as tf.Scalar;
      });
      lossSum += loss.dataSync()[0]!;
      loss.dispose();
      batches++;
    }
    this.lastLoss = lossSum / Math.max(1, batches);
  }

  /** Scores of every item for each user, from h at the last position of the user's whole sequence. */
  scoreUsers(users: Uint32Array): Float32Array {
    const maxLength = this.length;
    const itemCount = this.train.itemCount;
    const out = new Float32Array(users.length * itemCount);
    // Bounded batches: attention holds users × heads × L × L numbers.
    const step = Math.max(1, Math.floor(4_000_000 / (this.settings.heads * maxLength * maxLength)));
    for (let b = 0; b < users.length; b += step) {
      const batch = users.subarray(b, Math.min(users.length, b + step));
      const input = new Int32Array(batch.length * maxLength);
      batch.forEach((u, r) => {
        const from = this.sequences.start[u]!;
        const to = this.sequences.start[u + 1]!;
        const take = Math.min(maxLength, to - from);
        for (let q = 0; q < take; q++) input[r * maxLength + maxLength - take + q] = this.sequences.index[to - take + q]! + 1;
      });
      const scores = tf.tidy(() => {
        const h = this.encode(tf.tensor2d(input, [batch.length, maxLength], 'int32'), false);
        const last = h.slice([0, maxLength - 1, 0], [batch.length, 1, this.settings.dims]).reshape([batch.length, this.settings.dims]);
        return tf.matMul(last, this.items.slice([1, 0], [itemCount, this.settings.dims]), false, true);
      });
      out.set(scores.dataSync(), b * itemCount);
      scores.dispose();
    }
    return out;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
    this.causal.dispose();
    this.optimizer.dispose();
  }

  /** Inputs s_from..s_{to−2} and targets s_{from+1}..s_{to−1} of window w, right-aligned at `offset`. */
  private fillWindow(w: number, input: Int32Array, target: Int32Array, offset: number): void {
    const maxLength = this.length;
    const seq = this.sequences.index;
    const from = this.windows.from[w]!;
    const length = this.windows.to[w]! - from - 1;
    const pad = maxLength - length;
    for (let q = 0; q < length; q++) {
      input[offset + pad + q] = seq[from + q]! + 1;
      target[offset + pad + q] = seq[from + q + 1]! + 1;
    }
  }

  /** One negative per target position, drawn uniformly from the items the subject has no positive on. */
  private negativesFor(rows: Uint32Array, target: Int32Array): tf.Tensor {
    const maxLength = this.length;
    const itemCount = this.train.itemCount;
    const out = new Int32Array(rows.length * maxLength);
    const positives = this.train.positives;
    rows.forEach((w, r) => {
      const u = this.windows.user[w]!;
      const full = positives.start[u + 1]! - positives.start[u]! >= itemCount;
      for (let t = 0; t < maxLength; t++) {
        const n = r * maxLength + t;
        if (target[n] === PAD || full) continue;
        let j: number;
        do j = this.random.int(itemCount);
        while (rowHas(positives, u, j));
        out[n] = j + 1;
      }
    });
    return tf.tensor2d(out, [rows.length, maxLength], 'int32');
  }

  private loss(inputs: tf.Tensor2D, targets: tf.Tensor2D, negatives: tf.Tensor): tf.Scalar {
    const { dims } = this.settings;
    const [batch, length] = inputs.shape;
    const h = this.encode(inputs, true).reshape([batch * length, dims]);
    const flatTargets = targets.reshape([-1]);
    const weight = tf.cast(tf.notEqual(flatTargets, PAD), 'float32');
    const positive = tf.sum(tf.mul(h, tf.gather(this.items, flatTargets)), 1);
    const negative = tf.sum(tf.mul(h, tf.gather(this.items, negatives.reshape([-1]))), 1);
    // −ln σ(x) = softplus(−x); tfjs's logSigmoid gradient reads a tensor it has disposed.
    const perPosition = tf.add(tf.softplus(tf.neg(positive)), tf.softplus(negative));
    return tf.div<tf.Scalar>(tf.sum(tf.mul(perPosition, weight)), tf.maximum(tf.sum(weight), 1));
  }

  /** h for every position: [batch, L, dims]. */
  private encode(inputs: tf.Tensor2D, training: boolean): tf.Tensor3D {
    const { dims, heads, dropout } = this.settings;
    const [batch, length] = inputs.shape;
    const headDims = dims / heads;
    const drop = (x: tf.Tensor) => (training && dropout > 0 ? tf.dropout(x, dropout, undefined, this.random.int(2 ** 31)) : x);
    const mask = tf.cast(tf.notEqual(inputs, PAD), 'float32').reshape([batch, length, 1]);
    const attentionMask = tf.add(this.causal, tf.mul(tf.sub(1, mask), MASKED).reshape([batch, 1, 1, length]));
    const embedded = tf.gather(this.items, inputs.reshape([-1])).reshape([batch, length, dims]);
    let x: tf.Tensor = tf.mul(drop(tf.add(tf.mul(embedded, Math.sqrt(dims)), this.positions)), mask);
    const project = (t: tf.Tensor, w: tf.Variable) => tf.matMul(t.reshape([batch * length, dims]), w);
    const splitHeads = (t: tf.Tensor) => t.reshape([batch, length, heads, headDims]).transpose([0, 2, 1, 3]);
    for (const block of this.blocks) {
      const q = layerNorm(x, block.ln1Gain, block.ln1Bias);
      const query = splitHeads(project(q, block.query));
      const key = splitHeads(project(x, block.key));
      const value = splitHeads(project(x, block.value));
      const logits = tf.add(tf.div(tf.matMul(query, key, false, true), Math.sqrt(headDims)), attentionMask);
      const attended = tf
        .matMul(drop(tf.softmax(logits)), value)
        .transpose([0, 2, 1, 3])
        .reshape([batch, length, dims]);
      const y = layerNorm(tf.add(q, drop(attended)), block.ln2Gain, block.ln2Bias);
      const hidden = drop(tf.relu(tf.add(project(y, block.ff1), block.ff1Bias)));
      const out = tf.add(tf.matMul(hidden, block.ff2), block.ff2Bias).reshape([batch, length, dims]);
      x = tf.mul(tf.add(y, drop(out)), mask);
    }
    return layerNorm(x, this.finalGain, this.finalBias) as tf.Tensor3D;
  }

  private variables(): tf.Variable[] {
    return [this.items, this.positions, this.finalGain, this.finalBias, ...this.blocks.flatMap((b) => Object.values(b) as tf.Variable[])];
  }
}

function layerNorm(x: tf.Tensor, gain: tf.Variable, bias: tf.Variable): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-8))), gain), bias);
}
