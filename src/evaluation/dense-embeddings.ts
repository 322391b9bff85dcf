import type { SeededRandom } from '../../graph/random.ts';

/** Shared arithmetic of the embedding baselines: scoring by dot product, initialisation, Adam. */

/**
 * `users.length × itemCount` scores u·v (+ item bias), with `userVectors` and `itemVectors` row-major
 * `dim`-wide. Items are taken in blocks so a block of item vectors stays in cache across the batch's users,
 * and users four at a time so each item vector read serves four dot products (about twice as fast).
 */
export function dotProductScores(
  users: Uint32Array,
  userVectors: Float32Array,
  itemVectors: Float32Array,
  dim: number,
  itemCount: number,
  itemBias?: Float32Array,
): Float32Array {
  const out = new Float32Array(users.length * itemCount);
  const U = userVectors;
  const V = itemVectors;
  const block = Math.max(1, Math.floor(16_384 / dim));
  const n = users.length;
  for (let i0 = 0; i0 < itemCount; i0 += block) {
    const i1 = Math.min(itemCount, i0 + block);
    let r = 0;
    for (; r + 4 <= n; r += 4) {
      const u0 = users[r]! * dim;
      const u1 = users[r + 1]! * dim;
      const u2 = users[r + 2]! * dim;
      const u3 = users[r + 3]! * dim;
      const row = r * itemCount;
      for (let i = i0; i < i1; i++) {
        const io = i * dim;
        const bias = itemBias === undefined ? 0 : itemBias[i]!;
        let s0 = bias;
        let s1 = bias;
        let s2 = bias;
        let s3 = bias;
        for (let d = 0; d < dim; d++) {
          const v = V[io + d]!;
          s0 += U[u0 + d]! * v;
          s1 += U[u1 + d]! * v;
          s2 += U[u2 + d]! * v;
          s3 += U[u3 + d]! * v;
        }
        out[row + i] = s0;
        out[row + itemCount + i] = s1;
        out[row + 2 * itemCount + i] = s2;
        out[row + 3 * itemCount + i] = s3;
      }
    }
    for (; r < n; r++) {
      const uo = users[r]! * dim;
      const row = r * itemCount;
      for (let i = i0; i < i1; i++) {
        const io = i * dim;
        let s = itemBias === undefined ? 0 : itemBias[i]!;
        for (let d = 0; d < dim; d++) s += U[uo + d]! * V[io + d]!;
        out[row + i] = s;
      }
    }
  }
  return out;
}

export function normalVectors(random: SeededRandom, count: number, dim: number, sd: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let n = 0; n < out.length; n++) out[n] = random.normal(0, sd);
  return out;
}

/** Adam (Kingma and Ba) over one flat parameter array. */
export class AdamOptimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(
    size: number,
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(params: Float32Array, grad: Float32Array): void {
    this.t++;
    const { m, v, beta1, beta2, epsilon } = this;
    const b1 = 1 - beta1;
    const b2 = 1 - beta2;
    const stepSize = (this.learningRate * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (let n = 0; n < params.length; n++) {
      const g = grad[n]!;
      const mn = (m[n]! += b1 * (g - m[n]!));
      const vn = (v[n]! += b2 * (g * g - v[n]!));
      params[n]! -= (stepSize * mn) / (Math.sqrt(vn) + epsilon);
    }
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
