import * as tf from '@tensorflow/tfjs';

import { mulberry32 } from '../graph/random.ts';

/**
 * The model's trainable tensors, by name, in creation order: one place to initialise them (seeded, the
 * same on every backend), list them for the optimiser, and read or write them for checkpoints.
 */
export class ParameterSet {
  /** tfjs variable names are process-global; a suffix per set lets two models (old and new) coexist. */
  private static sets = 0;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly suffix = `#${++ParameterSet.sets}`;
  private readonly uniform: () => number;

  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }

  /** Glorot-normal values, or a constant when `fill` is given. */
  create(name: string, shape: number[], fill?: number): tf.Variable {
    if (this.variables.has(name)) throw new Error(`parameter ${name} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (fill !== undefined) values.fill(fill);
    else {
      const fanIn = shape.length > 1 ? shape[shape.length - 2]! : shape[0]!;
      const fanOut = shape[shape.length - 1]!;
      const std = Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = this.normal() * std;
    }
    const variable = variableOf(tf.tensor(values, shape, 'float32'), name + this.suffix);
    this.variables.set(name, variable);
    return variable;
  }

  /** Embedding-table values: normal with a small standard deviation. */
  createEmbedding(name: string, rows: number, dims: number, std = 0.05): tf.Variable {
    const values = new Float32Array(rows * dims);
    for (let i = 0; i < values.length; i++) values[i] = this.normal() * std;
    const variable = variableOf(tf.tensor2d(values, [rows, dims]), name + this.suffix);
    if (this.variables.has(name)) throw new Error(`parameter ${name} defined twice`);
    this.variables.set(name, variable);
    return variable;
  }

  list(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** Names, shapes and values, in a stable order. */
  snapshot(): Array<{ name: string; shape: number[]; values: Float32Array }> {
    return [...this.variables.entries()].map(([name, v]) => ({
      name,
      shape: v.shape,
      values: v.dataSync() as Float32Array,
    }));
  }

  restore(entries: ReadonlyArray<{ name: string; shape: readonly number[]; values: Float32Array }>): void {
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const [name, variable] of this.variables) {
      const entry = byName.get(name);
      if (!entry) throw new Error(`checkpoint has no parameter ${name}`);
      if (entry.shape.join('x') !== variable.shape.join('x')) {
        throw new Error(`parameter ${name}: checkpoint shape ${entry.shape.join('x')}, model ${variable.shape.join('x')}`);
      }
      tf.tidy(() => variable.assign(tf.tensor(entry.values, variable.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  /** Standard normal from a seeded mulberry32 stream (Box–Muller). */
  private normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/**
 * A trainable variable holding `initial`'s values; `initial` is disposed. tf.variable shares the tensor's
 * data and leaves the tensor alive: kept, it would hold every parameter's memory after the model is
 * disposed (a retrained model swapped in would leak the old one's weights).
 */
function variableOf(initial: tf.Tensor, name: string): tf.Variable {
  try {
    return tf.variable(initial, true, name);
  } finally {
    initial.dispose();
  }
}
