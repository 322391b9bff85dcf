import * as tf from '@tensorflow/tfjs';

import { EDGE_TYPE_CLASSES } from '../edge-features.ts';
import type { ParameterSet } from '../parameters.ts';
import { type EdgeInputs, EdgeScores } from './edge-scores.ts';
import { maskBias, type NeighbourFeatures, projectNeighbours, softmaxOverNeighbours, typeScales } from './neighbour-attention.ts';

/**
 * Layer 2: attention over the same neighbours, now queried by the centre node's layer-1 state, so the
 * neighbours that fit the node's overall interest count most (scaled dot-product graph attention).
 *
 *   q^h     = (W_q h)^h
 *   k_j     = W_k x_j
 *   e_j^h   = q^h · k_j^h / √d_h + τ^h[type_j] + ρ^h[recency_j] + ω^h w_j
 *   α_j^h   = softmax over the real neighbours j of e_j^h
 *   z       = W_o ( ‖_h Σ_j α_j^h (k_j^h ⊙ σ^h[type_j]) ) + W_r h
 *
 * Shapes: h [B, D_h]; x and edges as in layer 1 → z [B, D_out].
 */
export class TargetedAttention {
  private readonly wq: tf.Variable;
  private readonly wk: tf.Variable;
  private readonly wo: tf.Variable;
  private readonly wr: tf.Variable;
  /** τ, ρ, ω: the edge term of the attention logits. */
  readonly edgeScores: EdgeScores;
  private readonly typeScale: tf.Variable;

  constructor(
    params: ParameterSet,
    name: string,
    stateDims: number,
    inputDims: number,
    outputDims: number,
    private readonly heads: number,
    private readonly headDims: number,
  ) {
    const inner = heads * headDims;
    this.wq = params.create(`${name}.Wq`, [stateDims, inner]);
    this.wk = params.create(`${name}.Wk`, [inputDims, inner]);
    this.wo = params.create(`${name}.Wo`, [inner, outputDims]);
    this.wr = params.create(`${name}.Wr`, [stateDims, outputDims]);
    this.edgeScores = new EdgeScores(params, name, heads);
    this.typeScale = params.create(`${name}.sigma`, [EDGE_TYPE_CLASSES, inner], 1);
  }

  apply(state: tf.Tensor2D, x: NeighbourFeatures, edges: EdgeInputs): tf.Tensor2D {
    return tf.tidy(() => this.forward(state, x, edges).output);
  }

  /** Both the output z [B, D_out] and the attention α [B, K, H] that produced it. */
  forward(state: tf.Tensor2D, x: NeighbourFeatures, edges: EdgeInputs): { output: tf.Tensor2D; alpha: tf.Tensor3D } {
    return tf.tidy(() => {
      const { batch: b, fanout: k } = x;
      const h = this.heads;
      const dh = this.headDims;
      const q = tf.matMul(state, this.wq).reshape([b, 1, h, dh]);
      const keys = projectNeighbours(x, this.wk as tf.Tensor2D, h, dh);
      const content = tf.sum(tf.mul(keys, q), 3).div(Math.sqrt(dh));
      const logits = tf.add(content.add(this.edgeScores.apply(edges, b, k)), maskBias(edges.mask, b, k));
      const alpha = softmaxOverNeighbours(logits);
      const scale = typeScales(this.typeScale, edges, b, k, h, dh);
      const pooled = tf.sum(tf.mul(alpha.reshape([b, k, h, 1]), tf.mul(keys, scale)), 1).reshape([b, h * dh]);
      return { output: tf.add<tf.Tensor2D>(tf.matMul(pooled, this.wo), tf.matMul(state, this.wr)), alpha };
    });
  }
}
