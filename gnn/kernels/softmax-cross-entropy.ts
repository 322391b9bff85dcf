import * as tf from '@tensorflow/tfjs';

/**
 * The training loss's softmax cross-entropy, fused from the scores to the gradients. Each row b ranks its
 * target against C columns (sampled negatives, or every item):
 *
 *   l_b      = [ t_b ,  s_bc + o_c  for each column c not excluded from row b ]
 *   loss_b   = log Σ exp(l_b) − t_b
 *   ∂loss_b/∂t_b = p_b0 − 1      ∂loss_b/∂s_bc = p_bc (0 where excluded)      ∂loss/∂o_c = Σ_b p_bc
 *
 * with p = softmax(l_b), t the target's logit, s = z·xᵀ the column scores and o a per-column offset (the
 * item's bias minus its sampling log-probability). Excluded columns (items seen before, the target
 * itself) get probability 0.
 *
 * As stock ops this was an add of the offsets, a subtract, an add of a dense [B × C] mask, a concat,
 * the cross-entropy, then a split and a column sum for the gradients: each a pass over the
 * [256 × 2,048] scores of a MovieLens training shard. Here it is one kernel with one exp per logit, and
 * the exclusions travel as column lists rather than a dense mask.
 *
 * Kernel `SampledSoftmaxCrossEntropy` (ours; tfjs has none): inputs scores float32 [B, C], target
 * float32 [B], offset float32 [C], excludedStart int32 [B + 1], excludedColumn int32 [E] (row b
 * excludes excludedColumn[excludedStart[b] .. excludedStart[b + 1])) → outputs loss [B], dScores
 * [B, C], dTarget [B], dOffset [C]. Backends without it (tfjs-node) get the stock ops.
 */
export const SAMPLED_SOFTMAX_CROSS_ENTROPY = 'SampledSoftmaxCrossEntropy';

/** The columns each row leaves out of its softmax, in compressed-row form. */
export interface ExcludedColumns {
  /** [rows + 1]: row b's columns are `column[start[b] .. start[b + 1])`. */
  readonly start: Int32Array;
  readonly column: Int32Array;
}

export interface SoftmaxInputs {
  readonly scores: Float32Array;
  readonly target: Float32Array;
  readonly offset: Float32Array;
  readonly excludedStart: Int32Array;
  readonly excludedColumn: Int32Array;
}

export interface SoftmaxOutputs {
  readonly loss: Float32Array;
  readonly dScores: Float32Array;
  readonly dTarget: Float32Array;
  /** Accumulated into: zeroed here first. */
  readonly dOffset: Float32Array;
}

/** The row losses and gradients into preallocated outputs. Exclusion lists that do not fit the shapes are refused. */
export function sampledSoftmaxRows(input: SoftmaxInputs, out: SoftmaxOutputs): void {
  const { scores, target, offset, excludedStart, excludedColumn } = input;
  const { loss, dScores, dTarget, dOffset } = out;
  const rows = target.length;
  const columns = offset.length;
  if (excludedStart[0] !== 0 || excludedStart[rows] !== excludedColumn.length) {
    throw new Error(
      `${SAMPLED_SOFTMAX_CROSS_ENTROPY}: excludedStart must run from 0 to ${excludedColumn.length}, got ${excludedStart[0]} to ${excludedStart[rows]}`,
    );
  }
  dOffset.fill(0);
  for (let b = 0; b < rows; b++) {
    const from = b * columns;
    const t = target[b]!;
    for (let c = 0; c < columns; c++) dScores[from + c] = scores[from + c]! + offset[c]!;
    const first = excludedStart[b]!;
    const last = excludedStart[b + 1]!;
    if (!(first <= last)) throw new Error(`${SAMPLED_SOFTMAX_CROSS_ENTROPY}: excludedStart decreases at row ${b}`);
    for (let e = first; e < last; e++) {
      const c = excludedColumn[e]!;
      if (!(c >= 0 && c < columns)) throw new Error(`${SAMPLED_SOFTMAX_CROSS_ENTROPY}: excluded column ${c} of row ${b} is not in [0, ${columns})`);
      dScores[from + c] = -Infinity;
    }
    let max = t;
    for (let c = from; c < from + columns; c++) if (dScores[c]! > max) max = dScores[c]!;
    const targetExp = expNonPositive(t - max);
    let sum = targetExp;
    for (let c = from; c < from + columns; c++) {
      const e = expNonPositive(dScores[c]! - max);
      dScores[c] = e;
      sum += e;
    }
    const inverse = 1 / sum;
    for (let c = 0; c < columns; c++) {
      const p = dScores[from + c]! * inverse;
      dScores[from + c] = p;
      dOffset[c]! += p;
    }
    dTarget[b] = targetExp * inverse - 1;
    loss[b] = max + Math.log(sum) - t;
  }
}

/** 2^k for k in [−127, 0]. */
const POWERS_OF_TWO = Float64Array.from({ length: 128 }, (_, i) => 2 ** (i - 127));

/** 1.5 · 2^52: adding and subtracting it rounds a double of magnitude below 2^51 to an integer. */
const ROUNDING = 6_755_399_441_055_744;

/**
 * e^x for x ≤ 0, within 1e-8 relative of Math.exp (far below float32's 6e-8), and 0 where float32 would
 * underflow. Math.exp took half the kernel's time in V8 here; this is twice as fast as it: x = k ln 2 + r
 * with |r| ≤ ln 2 / 2, e^r by its Taylor series to r⁷, 2^k from a table. k is rounded with the
 * add-and-subtract trick because Math.round's speed depends on the data (2.4× slower on real logits).
 */
export function expNonPositive(x: number): number {
  if (!(x >= -87)) return x !== x ? x : 0;
  const k = x * Math.LOG2E + ROUNDING - ROUNDING;
  const r = x - k * Math.LN2;
  const er = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
  return er * POWERS_OF_TWO[k + 127]!;
}

/** Checks the kernel's inputs; returns [B, C]. */
export function checkSampledSoftmax(
  scores: tf.TensorInfo,
  target: tf.TensorInfo,
  offset: tf.TensorInfo,
  excludedStart: tf.TensorInfo,
  excludedColumn: tf.TensorInfo,
): [number, number] {
  const name = SAMPLED_SOFTMAX_CROSS_ENTROPY;
  if (scores.shape.length !== 2 || scores.dtype !== 'float32')
    throw new Error(`${name}: scores must be float32 [rows, columns], got ${scores.dtype} [${scores.shape.join(', ')}]`);
  const [rows, columns] = scores.shape as [number, number];
  const expect = (what: string, t: tf.TensorInfo, dtype: tf.DataType, length: number | null): void => {
    if (t.dtype !== dtype || t.shape.length !== 1 || (length !== null && t.shape[0] !== length)) {
      throw new Error(`${name}: ${what} must be ${dtype} [${length ?? 'n'}], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
  };
  expect('target', target, 'float32', rows);
  expect('offset', offset, 'float32', columns);
  expect('excludedStart', excludedStart, 'int32', rows + 1);
  expect('excludedColumn', excludedColumn, 'int32', null);
  return [rows, columns];
}

/**
 * The mean over rows of the loss above; differentiable with respect to `scores`, `target` and `offset`.
 * Through the fused kernel where the active backend has it, else the same loss from stock ops.
 */
export function sampledSoftmaxCrossEntropy(scores: tf.Tensor2D, target: tf.Tensor1D, offset: tf.Tensor1D, excluded: ExcludedColumns): tf.Scalar {
  const [rows, columns] = scores.shape;
  if (!tf.getKernel(SAMPLED_SOFTMAX_CROSS_ENTROPY, tf.getBackend())) {
    // −1e9 rather than −∞: the stock loss multiplies each log-probability by its one-hot label (0 · −∞ is NaN).
    const mask = new Float32Array(rows * columns);
    for (let b = 0; b < rows; b++) for (let e = excluded.start[b]!; e < excluded.start[b + 1]!; e++) mask[b * columns + excluded.column[e]!] = -1e9;
    const logits = tf.concat([target.reshape([rows, 1]), tf.add(tf.add(scores, offset.reshape([1, columns])), tf.tensor2d(mask, [rows, columns]))], 1);
    return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(tf.oneHot(tf.zeros([rows], 'int32'), columns + 1), logits);
  }
  const excludedStart = tf.tensor1d(excluded.start, 'int32');
  const excludedColumn = tf.tensor1d(excluded.column, 'int32');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [s, t, o, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [loss, dScores, dTarget, dOffset] = tf
      .engine()
      .runKernel<tf.Tensor[]>(SAMPLED_SOFTMAX_CROSS_ENTROPY, { scores: s, target: t, offset: o, excludedStart, excludedColumn });
    save([dScores!, dTarget!, dOffset!]);
    return {
      value: tf.div(tf.sum(loss!), rows),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const perRow = tf.div(dy, rows);
        return saved.map((g) => tf.mul(g, perRow));
      },
    };
  });
  return op(scores, target, offset) as tf.Scalar;
}
