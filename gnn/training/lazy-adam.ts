import * as tf from '@tensorflow/tfjs';

/**
 * Adam for an embedding table, one row at a time ("lazy" Adam, as TensorFlow's LazyAdamOptimizer): a step
 * updates the moments and values of the rows it was given gradients for and leaves every other row as it
 * is, moments included. With t the number of steps taken on the table (touched or not):
 *
 *   m_r ← β₁ m_r + (1 − β₁) g_r        v_r ← β₂ v_r + (1 − β₂) g_r²        for each given row r
 *   w_r ← w_r − η · (m_r / (1 − β₁ᵗ)) / (√(v_r / (1 − β₂ᵗ)) + ε)
 *
 * which is tfjs's dense Adam (`tf.train.adam`, same ε placement) on the given rows. A row untouched for a
 * few steps resumes from the moments it had, undecayed; dense Adam would have decayed them and kept moving
 * the row with its old momentum. Dense Adam on a 100K-item table spent most of a training step on rows the
 * step never read (the gradient, the two moments and the value: four passes over the whole table).
 *
 * The table's values live here, in JavaScript arrays, while training: a step's rows are read from them
 * (`gather`) and `flush` writes them into the tfjs variable, once an epoch. Shapes: the variable is [R, W]
 * (or [R] for a bias, W = 1); row gradients are [n × W] for n distinct rows.
 */
export interface AdamSettings {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** tfjs's defaults for `tf.train.adam(learningRate)` on a float32 backend. */
export function adamSettings(learningRate: number): AdamSettings {
  return { learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
}

/** Gradients of some rows of a table: `values` holds row `rows[n]`'s gradient at [n × width, (n + 1) × width). */
export interface RowGradients {
  readonly rows: Int32Array;
  readonly values: Float32Array;
}

export class LazyAdamTable {
  readonly width: number;
  readonly rowCount: number;
  private readonly values: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** β₁ᵗ and β₂ᵗ after t steps. */
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(
    private readonly variable: tf.Variable,
    private readonly settings: AdamSettings,
  ) {
    this.rowCount = variable.shape[0] ?? 1;
    this.width = variable.shape.length > 1 ? variable.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    // A copy: on the cpu backend dataSync returns the tensor's own storage.
    this.values = (variable.dataSync() as Float32Array).slice();
    this.m = new Float32Array(this.values.length);
    this.v = new Float32Array(this.values.length);
  }

  /** The current values of `rows`, [n × width]. */
  gather(rows: Int32Array): Float32Array {
    const w = this.width;
    const out = new Float32Array(rows.length * w);
    rows.forEach((r, n) => {
      if (!(r >= 0 && r < this.rowCount)) throw new RangeError(`row ${r} is not in [0, ${this.rowCount})`);
      out.set(this.values.subarray(r * w, (r + 1) * w), n * w);
    });
    return out;
  }

  /** One Adam step on the given rows (distinct); the step counts for the bias correction of every later step. */
  step(gradients: RowGradients): void {
    const { rows, values: g } = gradients;
    const w = this.width;
    if (g.length !== rows.length * w) throw new RangeError(`${rows.length} rows of width ${w} need ${rows.length * w} gradient values, got ${g.length}`);
    const { learningRate, beta1, beta2, epsilon } = this.settings;
    this.beta1Power *= beta1;
    this.beta2Power *= beta2;
    const correction1 = 1 - this.beta1Power;
    const correction2 = 1 - this.beta2Power;
    for (let n = 0; n < rows.length; n++) {
      const r = rows[n]!;
      if (!(r >= 0 && r < this.rowCount)) throw new RangeError(`row ${r} is not in [0, ${this.rowCount})`);
      for (let j = 0, at = r * w, from = n * w; j < w; j++, at++, from++) {
        const grad = g[from]!;
        const m = beta1 * this.m[at]! + (1 - beta1) * grad;
        const v = beta2 * this.v[at]! + (1 - beta2) * grad * grad;
        this.m[at] = m;
        this.v[at] = v;
        this.values[at]! -= (learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
      }
    }
  }

  /** Writes the values into the variable (for validation, snapshots and the trained model). */
  flush(): void {
    tf.tidy(() => this.variable.assign(tf.tensor(this.values, this.variable.shape, 'float32')));
  }
}

/**
 * The sum of several shards' row gradients (rows in order of first appearance, shard by shard; each row's
 * values added in shard order, so every thread that adds the same shards gets the same bits).
 */
export function addRowGradients(parts: readonly RowGradients[], width: number): RowGradients {
  if (parts.length === 1) return parts[0]!;
  const slotOf = new Map<number, number>();
  const rows: number[] = [];
  for (const part of parts) {
    for (const r of part.rows) {
      if (!slotOf.has(r)) {
        slotOf.set(r, rows.length);
        rows.push(r);
      }
    }
  }
  const values = new Float32Array(rows.length * width);
  for (const part of parts) {
    part.rows.forEach((r, n) => {
      const to = slotOf.get(r)! * width;
      const from = n * width;
      for (let j = 0; j < width; j++) values[to + j]! += part.values[from + j]!;
    });
  }
  return { rows: Int32Array.from(rows), values };
}
