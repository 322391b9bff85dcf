import * as tf from '@tensorflow/tfjs';
import type { ParameterSet } from './parameters.ts';

/**
 * Item features: a trained embedding plus the mean of the item's tag embeddings, and a scalar bias.
 *
 *   x_i = e_i + (1 / |T_i|) Σ_{t ∈ T_i} g_t          b_i (popularity prior used in scoring)
 *
 * An item the model was not trained on has no e_i and b_i: its features come from its tags alone, so a
 * new item with tags is usable at once (cold start).
 *
 * Shapes: e [I, D], g [T, D], b [I]; item–tag pairs as two int32 vectors of equal length.
 */
export interface ItemTagPairs {
  readonly item: Int32Array;
  readonly tag: Int32Array;
}

export class ItemEncoder {
  readonly embedding: tf.Variable;
  readonly tagEmbedding: tf.Variable;
  readonly bias: tf.Variable;

  constructor(params: ParameterSet, readonly items: number, readonly tags: number, readonly dims: number) {
    this.embedding = params.createEmbedding('items.e', items, dims);
    this.tagEmbedding = params.createEmbedding('items.g', Math.max(tags, 1), dims);
    this.bias = params.create('items.b', [items], 0);
  }

  /** x for every trained item: [I, D]. */
  encode(pairs: ItemTagPairs): tf.Tensor2D {
    return tf.tidy(() => {
      if (pairs.item.length === 0) return this.embedding.clone() as tf.Tensor2D;
      return tf.add(this.embedding, this.tagMean(pairs, this.items)) as tf.Tensor2D;
    });
  }

  /** x for items outside the trained set, from their (known) tags only: [rows, D]. */
  encodeFromTags(pairs: ItemTagPairs, rows: number): tf.Tensor2D {
    return tf.tidy(() => (pairs.item.length === 0 ? tf.zeros([rows, this.dims]) : this.tagMean(pairs, rows)) as tf.Tensor2D);
  }

  private tagMean(pairs: ItemTagPairs, rows: number): tf.Tensor2D {
    const counts = new Float32Array(rows);
    for (const i of pairs.item) counts[i]! += 1;
    for (let i = 0; i < rows; i++) counts[i] = counts[i]! > 0 ? 1 / counts[i]! : 0;
    const sums = tf.unsortedSegmentSum(tf.gather(this.tagEmbedding, tf.tensor1d(pairs.tag, 'int32')), tf.tensor1d(pairs.item, 'int32'), rows);
    return tf.mul(sums, tf.tensor2d(counts, [rows, 1])) as tf.Tensor2D;
  }
}
