import * as tf from '@tensorflow/tfjs';

/**
 * Each row of a matrix scaled to length s (cosine scoring: the GAT scores s · cos(z, x)):
 *
 *   r_n      = 1 / √(‖x_n‖² + ε)
 *   y_n      = s · r_n · x_n
 *   ∂L/∂x_n  = s · r_n · (g_n − u_n (u_n · g_n)),   u_n = y_n / s,  g_n = ∂L/∂y_n
 *
 * The item encoder normalises every item's features each training step (10K × 64 on MovieLens); as
 * stock ops that is a chain of kernels each way (square, sum, rsqrt, multiply and their gradients), each
 * a pass over the matrix. Here it is one pass each way.
 *
 * Kernels (ours; tfjs has none): `RowNormalize`: x float32 [N, D], attribute scale → y [N, D] and
 * r [N]; `RowNormalizeGrad`: dy [N, D], y [N, D], r [N], attribute scale → dx [N, D]. Backends without
 * them (tfjs-node) get the stock ops.
 */
export const ROW_NORMALIZE = 'RowNormalize';
export const ROW_NORMALIZE_GRAD = 'RowNormalizeGrad';

export interface RowNormalizeAttrs {
  readonly scale: number;
}

/** A zero row stays zero: ε keeps its r finite. */
const EPSILON = 1e-12;

/** `y` and `r` (preallocated) from `x` with rows of `width`. */
export function normalizeRows(x: Float32Array, width: number, scale: number, y: Float32Array, r: Float32Array): void {
  for (let n = 0, at = 0; n < r.length; n++, at += width) {
    let squares = 0;
    for (let d = at; d < at + width; d++) squares += x[d]! * x[d]!;
    const inverse = 1 / Math.sqrt(squares + EPSILON);
    r[n] = inverse;
    const factor = scale * inverse;
    for (let d = at; d < at + width; d++) y[d] = factor * x[d]!;
  }
}

/** `dx` (preallocated) from the output's gradient `dy`, the output `y` and the inverse norms `r`. */
export function normalizeRowsGradient(dy: Float32Array, y: Float32Array, r: Float32Array, width: number, scale: number, dx: Float32Array): void {
  const inverseScale = 1 / scale;
  for (let n = 0, at = 0; n < r.length; n++, at += width) {
    let along = 0;
    for (let d = at; d < at + width; d++) along += y[d]! * dy[d]!;
    // u · g with u = y / s; the projection subtracts u (u · g) = y (y · g) / s².
    const projection = along * inverseScale * inverseScale;
    const factor = scale * r[n]!;
    for (let d = at; d < at + width; d++) dx[d] = factor * (dy[d]! - y[d]! * projection);
  }
}

export function checkRowNormalize(x: tf.TensorInfo, scale: number): { rows: number; width: number } {
  if (x.shape.length !== 2 || x.dtype !== 'float32') throw new Error(`${ROW_NORMALIZE}: x must be float32 [N, D], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`${ROW_NORMALIZE}: scale must be a positive number, got ${scale}`);
  return { rows: x.shape[0]!, width: x.shape[1]! };
}

export function checkRowNormalizeGrad(dy: tf.TensorInfo, y: tf.TensorInfo, r: tf.TensorInfo, scale: number): { rows: number; width: number } {
  const { rows, width } = checkRowNormalize(y, scale);
  if (dy.dtype !== 'float32' || dy.shape.length !== 2 || dy.shape[0] !== rows || dy.shape[1] !== width) {
    throw new Error(`${ROW_NORMALIZE_GRAD}: dy must be float32 [${rows}, ${width}], got ${dy.dtype} [${dy.shape.join(', ')}]`);
  }
  if (r.dtype !== 'float32' || r.shape.length !== 1 || r.shape[0] !== rows) {
    throw new Error(`${ROW_NORMALIZE_GRAD}: r must be float32 [${rows}], got ${r.dtype} [${r.shape.join(', ')}]`);
  }
  return { rows, width };
}

/** s · x_n / ‖x_n‖ for each row, differentiable; through the fused kernels where the backend has them. */
export function scaledUnitRows(x: tf.Tensor2D, scale: number): tf.Tensor2D {
  const backend = tf.getBackend();
  if (!tf.getKernel(ROW_NORMALIZE, backend) || !tf.getKernel(ROW_NORMALIZE_GRAD, backend)) {
    return tf.mul<tf.Tensor2D>(x, tf.mul(tf.rsqrt(tf.add(tf.sum(tf.square(x), 1, true), EPSILON)), scale));
  }
  const attrs = { scale } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [y, r] = tf.engine().runKernel<[tf.Tensor2D, tf.Tensor1D]>(ROW_NORMALIZE, { x: input }, attrs);
    save([y, r]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel<tf.Tensor2D>(ROW_NORMALIZE_GRAD, { dy, y: saved[0]!, r: saved[1]! }, attrs),
    };
  });
  return op(x);
}
