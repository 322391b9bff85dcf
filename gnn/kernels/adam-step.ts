import * as tf from '@tensorflow/tfjs';

/**
 * One Adam step (Kingma and Ba, Algorithm 1) in one pass over a parameter, as tfjs's `AdamOptimizer`
 * computes it:
 *
 *   m' = β₁ m + (1 − β₁) g
 *   v' = β₂ v + (1 − β₂) g²
 *   θ' = θ − η · (m' / (1 − β₁ᵗ)) / (√(v' / (1 − β₂ᵗ)) + ε)
 *
 * tfjs's optimiser runs about twelve kernels per parameter, each a pass that allocates its result; over
 * the GAT's 730K parameters on MovieLens that took 11 ms of every training step, on every training
 * thread (each replica takes the same step).
 *
 * Kernel `AdamStep` (ours; tfjs has none): inputs value, m, v, gradient float32 of one shape; attributes
 * learningRate, beta1, beta2, epsilon, step (t, from 1) → outputs value', m', v'. Backends without it
 * (tfjs-node) get tfjs's optimiser (`adamOptimizer`).
 */
export const ADAM_STEP = 'AdamStep';

export interface AdamSettings {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export interface AdamStepAttrs extends AdamSettings {
  readonly step: number;
}

/** tfjs's defaults (its epsilon is the float32 backends' `epsilon()`). */
export const ADAM_DEFAULTS: Omit<AdamSettings, 'learningRate'> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** θ', m', v' into the three outputs (preallocated, the inputs' length). */
export function adamStepInto(
  value: Float32Array,
  m: Float32Array,
  v: Float32Array,
  gradient: Float32Array,
  attrs: AdamStepAttrs,
  valueOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
): void {
  const { learningRate, beta1, beta2, epsilon, step } = attrs;
  const firstCorrection = 1 / (1 - beta1 ** step);
  const secondCorrection = 1 / (1 - beta2 ** step);
  for (let n = 0; n < value.length; n++) {
    const g = gradient[n]!;
    const first = beta1 * m[n]! + (1 - beta1) * g;
    const second = beta2 * v[n]! + (1 - beta2) * g * g;
    mOut[n] = first;
    vOut[n] = second;
    valueOut[n] = value[n]! - (learningRate * first * firstCorrection) / (Math.sqrt(second * secondCorrection) + epsilon);
  }
}

export function checkAdamStep(value: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, gradient: tf.TensorInfo, attrs: AdamStepAttrs): number {
  const size = tf.util.sizeFromShape(value.shape);
  for (const [name, t] of [['value', value], ['m', m], ['v', v], ['gradient', gradient]] as const) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, value.shape)) {
      throw new Error(`${ADAM_STEP}: ${name} must be float32 [${value.shape.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
  }
  if (!Number.isInteger(attrs.step) || attrs.step < 1) throw new Error(`${ADAM_STEP}: step must be an integer ≥ 1, got ${attrs.step}`);
  return size;
}

/** Updates variables from their gradients; one instance per training run (it keeps the moments). */
export interface ParameterOptimizer {
  /** One step: `gradients[i]` for `variables[i]`; a null gradient leaves its variable as it is. */
  apply(gradients: ReadonlyArray<tf.Tensor | null>): void;
  dispose(): void;
}

/** Adam over `variables`, through the fused kernel where the active backend has it. */
export function adamOptimizer(variables: readonly tf.Variable[], learningRate: number): ParameterOptimizer {
  const settings = { ...ADAM_DEFAULTS, learningRate };
  if (tf.getKernel(ADAM_STEP, tf.getBackend())) return new FusedAdam(variables, settings);
  const stock = tf.train.adam(learningRate, settings.beta1, settings.beta2, settings.epsilon);
  return {
    apply: (gradients) => stock.applyGradients(variables.flatMap((v, i) => (gradients[i] ? [{ name: v.name, tensor: gradients[i]! }] : []))),
    dispose: () => stock.dispose(),
  };
}

class FusedAdam implements ParameterOptimizer {
  private readonly moments: Array<{ m: tf.Tensor; v: tf.Tensor } | null>;
  private step = 0;

  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly settings: AdamSettings,
  ) {
    this.moments = variables.map(() => null);
  }

  apply(gradients: ReadonlyArray<tf.Tensor | null>): void {
    this.step++;
    const attrs = { ...this.settings, step: this.step } as unknown as tf.NamedAttrMap;
    this.variables.forEach((variable, i) => {
      const gradient = gradients[i];
      if (!gradient) return;
      // Kept: the caller may run a step inside tf.tidy, and the moments outlive it.
      const moments = (this.moments[i] ??= { m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)) });
      const [value, m, v] = tf.engine().runKernel(ADAM_STEP, { value: variable, m: moments.m, v: moments.v, gradient }, attrs) as tf.Tensor[];
      // The variable takes over the new value's data; the old value and moments are freed.
      variable.assign(value!);
      value!.dispose();
      moments.m.dispose();
      moments.v.dispose();
      this.moments[i] = { m: tf.keep(m!), v: tf.keep(v!) };
    });
  }

  dispose(): void {
    for (const moments of this.moments) {
      moments?.m.dispose();
      moments?.v.dispose();
    }
  }
}
