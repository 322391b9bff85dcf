import * as tf from '@tensorflow/tfjs';

import type { NeighbourhoodBatch } from './edge-features.ts';
import { ItemEncoder, type ItemTagPairs } from './item-encoder.ts';
import { scaledUnitRows } from './kernels/row-normalize.ts';
import { type EdgeInputs, NeighbourAttention, type NeighbourFeatures } from './layers/neighbour-attention.ts';
import { TargetedAttention } from './layers/targeted-attention.ts';
import { ParameterSet } from './parameters.ts';

/**
 * The interest GAT. Items are encoded from a trained embedding and their tags (`ItemEncoder`); a user
 * or session is encoded inductively from its sampled neighbourhood of items by two attention layers
 * (`NeighbourAttention`, then `TargetedAttention` queried by the first layer's state). Item features are
 * unit vectors and subject embeddings have length s, so the score of an item for a subject is
 *
 *   z_u · x_i + b_i  =  s · cos(z_u, x_i) + b_i
 *
 * Cosine scoring keeps the softmax's logits in [−s, s] plus the bias: with plain dot products the model
 * overfitted within five epochs on MovieLens and ranked worse (Recall@20 0.142 against 0.151, see
 * `scale`).
 */
export interface GatHyperparameters {
  /** Embedding width D = heads × headDims. */
  readonly dims: number;
  readonly heads: number;
  /** Neighbours per subject: the most recent interactions … */
  readonly fanout: number;
  /** … and this many older ones, spread over the rest of the subject's history. */
  readonly history: number;
  /**
   * s, the length of a subject embedding (the inverse of the softmax temperature). Chosen on MovieLens
   * latest-small (temporal split, seed 1; Recall@20 / NDCG@20): 5: 0.144 / 0.115, 7: 0.148 / 0.121,
   * 8: 0.151 / 0.118, 10: 0.152 / 0.116, 14: 0.142 / 0.112, 20: 0.137 / 0.110.
   */
  readonly scale: number;
  readonly seed: number;
  /**
   * Co-liked items whose feature rows each item shares (see co-liked-items.ts); 0 or absent: none. The tag
   * table then has a row per item after the tags' rows.
   */
  readonly coLiked?: number;
}

export const DEFAULT_GAT: GatHyperparameters = { dims: 64, heads: 4, fanout: 20, history: 0, scale: 8, seed: 1, coLiked: 0 };

export class InterestGAT {
  readonly params: ParameterSet;
  readonly items: ItemEncoder;
  private readonly layer1: NeighbourAttention;
  private readonly layer2: TargetedAttention;

  constructor(
    readonly hyper: GatHyperparameters,
    itemCount: number,
    /** Real tags: the tag table's first rows. */
    readonly tagCount: number,
  ) {
    if (hyper.dims % hyper.heads !== 0) throw new RangeError(`dims (${hyper.dims}) must be a multiple of heads (${hyper.heads})`);
    const headDims = hyper.dims / hyper.heads;
    this.params = new ParameterSet(hyper.seed);
    this.items = new ItemEncoder(this.params, itemCount, tagCount + ((hyper.coLiked ?? 0) > 0 ? itemCount : 0), hyper.dims);
    this.layer1 = new NeighbourAttention(this.params, 'layer1', hyper.dims, hyper.heads, headDims);
    this.layer2 = new TargetedAttention(this.params, 'layer2', hyper.dims, hyper.dims, hyper.dims, hyper.heads, headDims);
  }

  /** Item features for the trained items, unit rows [I, D]. */
  encodeItems(pairs: ItemTagPairs): tf.Tensor2D {
    return this.items.encode(pairs);
  }

  /**
   * Subject embeddings [B, D], each of length s, from their neighbourhoods. `itemFeatures` holds one row
   * per item the batch refers to, and a zero row at `batch.neighbour`'s padding index.
   */
  encodeSubjects(itemFeatures: tf.Tensor2D, batch: NeighbourhoodBatch): tf.Tensor2D {
    return tf.tidy(() => this.forward(itemFeatures, batch).output);
  }

  /**
   * The same embeddings, with how much each neighbour counted: layer 2's attention averaged over heads,
   * [B, K] (each row sums to 1 over the real neighbours). Explanations weigh paths with it.
   */
  encodeSubjectsWithAttention(itemFeatures: tf.Tensor2D, batch: NeighbourhoodBatch): { z: tf.Tensor2D; attention: tf.Tensor2D } {
    return tf.tidy(() => {
      const { output, alpha } = this.forward(itemFeatures, batch);
      return { z: output, attention: tf.mean<tf.Tensor2D>(alpha, 2) };
    });
  }

  private forward(itemFeatures: tf.Tensor2D, batch: NeighbourhoodBatch): { output: tf.Tensor2D; alpha: tf.Tensor3D } {
    const { size: b, fanout: k } = batch;
    // No subjects, no work: the wasm Transpose kernel divides by zero on zero-size tensors.
    if (b === 0) return { output: tf.zeros([0, this.hyper.dims]), alpha: tf.zeros([0, k, this.hyper.heads]) };
    const { items, slot } = distinctItems(batch.neighbour);
    const x: NeighbourFeatures = { rows: tf.gather(itemFeatures, tf.tensor1d(items, 'int32')), slot: tf.tensor1d(slot, 'int32'), batch: b, fanout: k };
    const edges: EdgeInputs = {
      typeCode: tf.tensor2d(batch.typeCode, [b, k], 'int32'),
      recency: tf.tensor2d(batch.recency, [b, k], 'int32'),
      weight: tf.tensor2d(batch.weight, [b, k]),
      mask: tf.tensor2d(batch.mask, [b, k]),
    };
    const state = this.layer1.apply(x, edges);
    const { output, alpha } = this.layer2.forward(state, x, edges);
    return { output: scaledUnitRows(output, this.hyper.scale), alpha };
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** The distinct values of `neighbour` (in order of first appearance) and, for each entry, its position among them. */
export function distinctItems(neighbour: Int32Array): { items: Int32Array; slot: Int32Array } {
  const positionOf = new Map<number, number>();
  const slot = new Int32Array(neighbour.length);
  const items: number[] = [];
  for (let i = 0; i < neighbour.length; i++) {
    const item = neighbour[i]!;
    let at = positionOf.get(item);
    if (at === undefined) {
      at = items.length;
      positionOf.set(item, at);
      items.push(item);
    }
    slot[i] = at;
  }
  return { items: Int32Array.from(items), slot };
}
