/**
 * Seeded randomness for the whole engine: PRNGs and the distributions the generator, the evaluation and the
 * community detection sample. Everything here is a pure function of the seed, so a dataset, a split or a
 * trained model can be rebuilt bit for bit.
 */

const TWO_POW_32 = 4294967296;

/** Spreads a 32-bit seed over the generator state; also keeps seed 0 from giving the all-zero state. */
function splitMix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * xoshiro128** (Blackman and Vigna): 128 bits of state, period 2^128 − 1, good statistical quality, and only
 * 32-bit integer operations, which JavaScript does quickly with `Math.imul`.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, output] = splitMix32(state);
      state = next;
      words.push(output);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
  }

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform number in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** A uniform number in (0, 1]: safe to take the logarithm of. */
  floatOpenZero(): number {
    return (this.uint32() + 1) / TWO_POW_32;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal by Box–Muller; the second variate is dropped so the stream does not depend on call history. */
  normal(mean = 0, sd = 1): number {
    const r = Math.sqrt(-2 * Math.log(this.floatOpenZero()));
    return mean + sd * r * Math.cos(2 * Math.PI * this.float());
  }

  exponential(mean = 1): number {
    return -mean * Math.log(this.floatOpenZero());
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 are boosted to shape + 1 and scaled back. */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be positive, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.floatOpenZero(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.floatOpenZero();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** A point on the simplex from Dirichlet(alpha). */
  dirichlet(alpha: ArrayLike<number>): Float64Array {
    const out = new Float64Array(alpha.length);
    let sum = 0;
    for (let i = 0; i < alpha.length; i++) {
      out[i] = this.gamma(alpha[i]!);
      sum += out[i]!;
    }
    // Tiny concentrations can underflow every draw to zero; fall back to one component instead of NaNs.
    if (sum === 0) {
      out[this.int(out.length)] = 1;
      return out;
    }
    for (let i = 0; i < out.length; i++) out[i]! /= sum;
    return out;
  }

  /** Fisher–Yates, in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
    return values;
  }

  /** `count` distinct integers from [0, n), in the order drawn. */
  distinct(n: number, count: number): number[] {
    if (count > n) throw new RangeError(`cannot draw ${count} distinct values from ${n}`);
    const chosen = new Set<number>();
    const order: number[] = [];
    while (order.length < count) {
      const v = this.int(n);
      if (!chosen.has(v)) {
        chosen.add(v);
        order.push(v);
      }
    }
    return order;
  }
}

/**
 * mulberry32: 32 bits of state, a stream of floats in [0, 1). The GNN draws its initial weights and its
 * training order from it; it stays (beside xoshiro128** above) so that a seed trains the same model it always did.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Power-law ranks in [0, n) drawn by inverting a continuous CDF: rank k has probability ∫ x^−exponent dx over
 * [k + 1, k + 2), normalised: Zipf's law with the head slightly flattened. No table, so a draw costs an
 * `exp` and a `log` (together well under half a `Math.pow`) and no memory; and because popular ranks are drawn often, whatever the caller looks up by rank (an item,
 * a user's interests) stays in cache, which an alias table's uniform slot access defeats.
 */
export class ZipfSampler {
  readonly size: number;
  readonly exponent: number;
  private readonly oneMinusS: number;
  /** CDF scale: (n + 1)^(1 − s) − 1, or ln(n + 1) when s = 1. */
  private readonly span: number;

  constructor(size: number, exponent: number) {
    if (!(size >= 1) || !Number.isInteger(size)) throw new RangeError(`a Zipf sampler needs a positive size, got ${size}`);
    if (!(exponent >= 0) || !Number.isFinite(exponent)) throw new RangeError(`Zipf exponent must be ≥ 0, got ${exponent}`);
    this.size = size;
    this.exponent = exponent;
    this.oneMinusS = 1 - exponent;
    this.span = this.isHarmonic() ? Math.log(size + 1) : Math.pow(size + 1, this.oneMinusS) - 1;
  }

  sample(random: SeededRandom): number {
    const u = random.float();
    const x = this.isHarmonic() ? Math.exp(u * this.span) : Math.exp(Math.log(1 + u * this.span) / this.oneMinusS);
    const rank = Math.floor(x) - 1;
    return rank < 0 ? 0 : rank >= this.size ? this.size - 1 : rank;
  }

  /** Probability of drawing `rank`. */
  probability(rank: number): number {
    return this.cdf(rank + 2) - this.cdf(rank + 1);
  }

  private cdf(x: number): number {
    return this.isHarmonic() ? Math.log(x) / this.span : (Math.pow(x, this.oneMinusS) - 1) / this.span;
  }

  private isHarmonic(): boolean {
    return Math.abs(this.oneMinusS) < 1e-9;
  }
}

/**
 * Walker's alias method (Vose's construction): O(n) to build, O(1) per draw from a fixed discrete
 * distribution, which is what keeps tens of millions of weighted draws cheap.
 * Each slot's acceptance threshold and alias sit side by side, so a draw touches one cache line.
 */
export class AliasTable {
  readonly size: number;
  /** Per slot: acceptance threshold (probability × 2^32) and alias. */
  private readonly slots: Uint32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('an alias table needs at least one weight');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} is not a finite non-negative number: ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('alias table weights sum to zero');

    const probability = new Float64Array(n).fill(1);
    const alias = new Uint32Array(n);
    for (let i = 0; i < n; i++) alias[i] = i;
    const scaled = new Float64Array(n);
    const small = new Uint32Array(n);
    const large = new Uint32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[--nl]!;
      probability[s] = scaled[s]!;
      alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Whatever is left keeps probability 1: its scaled weight is 1 up to rounding error.

    this.size = n;
    this.slots = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      // Probability 1 becomes 2^32 − 1: a 2^−32 chance of taking the alias, which then is the slot itself.
      this.slots[2 * i] = Math.min(0xffffffff, Math.round(probability[i]! * TWO_POW_32));
      this.slots[2 * i + 1] = alias[i]!;
    }
  }

  sample(random: SeededRandom): number {
    const i = random.int(this.size);
    return random.uint32() < this.slots[2 * i]! ? i : this.slots[2 * i + 1]!;
  }
}
