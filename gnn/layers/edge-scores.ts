import * as tf from '@tensorflow/tfjs';

import { EDGE_TYPE_CLASSES, RECENCY_BUCKETS } from '../edge-features.ts';
import type { ParameterSet } from '../parameters.ts';

/** What the layers see of each of the B × K neighbour edges besides the neighbour's features (see edge-features.ts). */
export interface EdgeInputs {
  /** int32 [B, K] edge type codes. */
  readonly typeCode: tf.Tensor2D;
  /** int32 [B, K] recency buckets. */
  readonly recency: tf.Tensor2D;
  /** [B, K] base weights. */
  readonly weight: tf.Tensor2D;
  /** [B, K] 1 for a real neighbour, 0 for padding. */
  readonly mask: tf.Tensor2D;
}

/**
 * The learned edge term of an attention logit, the same in both layers: per head, a score by edge type
 * and by recency bucket, and a slope on the edge's weight,
 *
 *   τ^h[type_j] + ρ^h[recency_j] + ω^h w_j
 *
 * Its parameters are `${name}.tau` [types, H], `${name}.rho` [buckets, H] and `${name}.omega` [H], all
 * starting at 0, created in that order: checkpoints name them, and the seeded initialisation of the
 * parameters created after them depends on the order.
 */
export class EdgeScores {
  readonly typeScore: tf.Variable;
  readonly recencyScore: tf.Variable;
  readonly weightScore: tf.Variable;

  constructor(
    params: ParameterSet,
    name: string,
    private readonly heads: number,
  ) {
    this.typeScore = params.create(`${name}.tau`, [EDGE_TYPE_CLASSES, heads], 0);
    this.recencyScore = params.create(`${name}.rho`, [RECENCY_BUCKETS, heads], 0);
    this.weightScore = params.create(`${name}.omega`, [heads], 0);
  }

  /** The edge term of each neighbour slot, shaped [B, K, H]. Call it inside the layer's tidy. */
  apply(edges: EdgeInputs, b: number, k: number): tf.Tensor3D {
    const h = this.heads;
    const byType = tf.gather(this.typeScore, edges.typeCode.reshape([b * k])).reshape([b, k, h]);
    const byRecency = tf.gather(this.recencyScore, edges.recency.reshape([b * k])).reshape([b, k, h]);
    const byWeight = tf.mul(edges.weight.reshape([b, k, 1]), this.weightScore.reshape([1, 1, h]));
    return byType.add(byRecency).add<tf.Tensor3D>(byWeight);
  }
}
