/**
 * Unsorted segment sum on typed arrays, the arithmetic shared by the cpu and wasm kernels.
 *
 *   out[s, …] = Σ_{i : ids[i] = s} x[i, …]        for 0 ≤ s < numSegments
 *
 * Shapes: x [n, …inner] (any rank ≥ 1, or [...idsShape, …inner] for ids of higher rank), ids int32 with
 * `ids.length` entries covering x's leading axes → out [numSegments, …inner].
 *
 * Ids outside [0, numSegments) contribute nothing. That is what the stock tfjs kernels do (cpu and webgl
 * compare every id with every segment), and what TensorFlow does for negative ids; TensorFlow rejects ids
 * ≥ numSegments instead, tfjs never has. Sums accumulate in the output's own type (float32 as TensorFlow
 * does; int32 wraps), in one pass over x: O(x.length + out.length).
 */

export type NumericArray = Float32Array | Int32Array;

/** The output shape, or a message saying why the inputs do not fit together. */
export function segmentSumShape(xShape: readonly number[], idsShape: readonly number[], numSegments: number): number[] {
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  if (idsShape.length === 0 || idsShape.length > xShape.length || idsShape.some((d, i) => d !== xShape[i])) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${idsShape.join(', ')}] must be a prefix of x shape [${xShape.join(', ')}]`);
  }
  return [numSegments, ...xShape.slice(idsShape.length)];
}

/**
 * Adds each row of `x` (rows of `x.length / ids.length` values) into row `ids[i]` of `out`. `out` must hold
 * numSegments rows of the same width and is added to, not cleared.
 */
export function accumulateSegments(x: NumericArray, ids: Int32Array, numSegments: number, out: NumericArray): void {
  const n = ids.length;
  if (n === 0) return;
  const inner = x.length / n;
  if (inner === 1) {
    for (let i = 0; i < n; i++) {
      const s = ids[i]!;
      if (s >= 0 && s < numSegments) out[s]! += x[i]!;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    let src = i * inner;
    let dst = s * inner;
    const end = src + inner;
    // Four at a time where the width allows: markedly faster in V8 (see sparse-matmul.ts).
    if (inner % 4 === 0) {
      while (src < end) {
        out[dst]! += x[src]!;
        out[dst + 1]! += x[src + 1]!;
        out[dst + 2]! += x[src + 2]!;
        out[dst + 3]! += x[src + 3]!;
        dst += 4;
        src += 4;
      }
    } else while (src < end) out[dst++]! += x[src++]!;
  }
}
