import * as tf from '@tensorflow/tfjs';

import { EDGE_TYPE_CLASSES } from '../edge-features.ts';
import type { ParameterSet } from '../parameters.ts';
import { type EdgeInputs, EdgeScores } from './edge-scores.ts';

export type { EdgeInputs } from './edge-scores.ts';

/**
 * Layer 1: multi-head graph attention of a centre node over its sampled neighbours, with edge type,
 * recency and weight as attention inputs (a GAT layer with edge features).
 *
 *   p_j     = W x_j                                                   (H heads × d_h)
 *   e_j^h   = LeakyReLU( a^h · p_j^h + τ^h[type_j] + ρ^h[recency_j] + ω^h w_j )
 *   α_j^h   = softmax over the real neighbours j of e_j^h
 *   m_j^h   = p_j^h ⊙ σ^h[type_j]          (a learned scale per edge type: a dislike can flip its message)
 *   h       = ELU( ‖_h Σ_j α_j^h m_j^h )
 *
 * Shapes: x as `NeighbourFeatures` (B × K neighbours of D_in); typeCode, recency: int32 [B, K]; weight,
 * mask: [B, K] → h [B, H·d_h]. The centre node contributes no features of its own, which is what makes
 * users and sessions inductive.
 */
/**
 * The neighbours' features, each distinct item once: `rows` [U, D_in], and for each of the B × K neighbour
 * slots the row it reads (`slot`, int32 [B·K]). A batch names the same popular items many times (in a
 * MovieLens training batch 2,200 distinct items fill 5,120 slots), so the layers project the distinct rows
 * (W x_j) and then gather: the same numbers for less than half the multiplications.
 */
export interface NeighbourFeatures {
  readonly rows: tf.Tensor2D;
  readonly slot: tf.Tensor1D;
  readonly batch: number;
  readonly fanout: number;
}

/** W x_j for every neighbour slot, shaped [B, K, H, d_h]. */
export function projectNeighbours(x: NeighbourFeatures, w: tf.Tensor2D, heads: number, headDims: number): tf.Tensor4D {
  return tf.gather(tf.matMul(x.rows, w), x.slot).reshape<tf.Tensor4D>([x.batch, x.fanout, heads, headDims]);
}

export class NeighbourAttention {
  private readonly w: tf.Variable;
  private readonly attention: tf.Variable;
  /** τ, ρ, ω: the edge term of the attention logits. */
  readonly edgeScores: EdgeScores;
  private readonly typeScale: tf.Variable;

  constructor(
    params: ParameterSet,
    name: string,
    inputDims: number,
    private readonly heads: number,
    private readonly headDims: number,
  ) {
    const out = heads * headDims;
    this.w = params.create(`${name}.W`, [inputDims, out]);
    this.attention = params.create(`${name}.a`, [heads, headDims]);
    this.edgeScores = new EdgeScores(params, name, heads);
    this.typeScale = params.create(`${name}.sigma`, [EDGE_TYPE_CLASSES, out], 1);
  }

  apply(x: NeighbourFeatures, edges: EdgeInputs): tf.Tensor2D {
    return tf.tidy(() => this.forward(x, edges).output);
  }

  /** Both the output h [B, H·d_h] and the attention α [B, K, H] that produced it. */
  forward(x: NeighbourFeatures, edges: EdgeInputs): { output: tf.Tensor2D; alpha: tf.Tensor3D } {
    return tf.tidy(() => {
      const { batch: b, fanout: k } = x;
      const h = this.heads;
      const dh = this.headDims;
      const p = projectNeighbours(x, this.w as tf.Tensor2D, h, dh);
      const content = tf.sum(tf.mul(p, this.attention.reshape([1, 1, h, dh])), 3);
      const logits = tf.add(tf.leakyRelu(content.add(this.edgeScores.apply(edges, b, k)), 0.2), maskBias(edges.mask, b, k));
      const alpha = softmaxOverNeighbours(logits);
      const messages = tf.mul(p, typeScales(this.typeScale, edges, b, k, h, dh));
      const pooled = tf.sum(tf.mul(alpha.reshape([b, k, h, 1]), messages), 1);
      return { output: tf.elu<tf.Tensor2D>(pooled.reshape([b, h * dh])), alpha };
    });
  }
}

/** σ^h[type_j], shaped [B, K, H, d_h]. */
export function typeScales(typeScale: tf.Variable, edges: EdgeInputs, b: number, k: number, h: number, dh: number): tf.Tensor4D {
  return tf.gather(typeScale, edges.typeCode.reshape([b * k])).reshape([b, k, h, dh]);
}

/** 0 for real neighbours, a large negative number for padding, shaped to broadcast over heads. */
export function maskBias(mask: tf.Tensor2D, b: number, k: number): tf.Tensor3D {
  return tf.mul(tf.sub(mask, 1), 1e9).reshape([b, k, 1]);
}

/** Softmax over the neighbour axis (1) of [B, K, H] logits. */
export function softmaxOverNeighbours(logits: tf.Tensor): tf.Tensor3D {
  return tf.transpose(tf.softmax(tf.transpose(logits, [0, 2, 1])), [0, 2, 1]) as tf.Tensor3D;
}
