import * as tf from '@tensorflow/tfjs';

import { scaledUnitRows } from './kernels/row-normalize.ts';
import { sparseMatMul } from './kernels/sparse-matmul.ts';
import type { ParameterSet } from './parameters.ts';

/**
 * Item features: a trained embedding plus the mean of the item's tag embeddings, scaled to unit length
 * (the GAT scores by cosine), and a scalar bias.
 *
 *   x_i = unit( e_i + (1 / |T_i|) Σ_{t ∈ T_i} g_t )          b_i (popularity prior used in scoring)
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

  constructor(
    params: ParameterSet,
    readonly items: number,
    readonly tags: number,
    readonly dims: number,
  ) {
    this.embedding = params.createEmbedding('items.e', items, dims);
    this.tagEmbedding = params.createEmbedding('items.g', Math.max(tags, 1), dims);
    this.bias = params.create('items.b', [items], 0);
  }

  /** x for every trained item: [I, D]. */
  encode(pairs: ItemTagPairs): tf.Tensor2D {
    return tf.tidy(() => {
      const sum = pairs.item.length === 0 ? (this.embedding as tf.Tensor2D) : tf.add<tf.Tensor2D>(this.embedding, this.tagMean(pairs, this.items));
      return scaledUnitRows(sum, 1);
    });
  }

  /**
   * x for any items: `rows[n]` is item n's trained row, or -1 for an item the model was not trained on
   * (tags only); `pairs.item` indexes `rows`, `pairs.tag` the tag table. The same sum as `encode`, for a
   * subset: serving refreshes a few items with it, and each training step encodes its batch's items.
   */
  encodeRows(rows: Int32Array, pairs: ItemTagPairs): tf.Tensor2D {
    return tf.tidy(() => {
      const n = rows.length;
      // Training asks only for trained items: no mask to multiply by (forward and backward) then.
      const trained = rows.every((r) => r >= 0)
        ? tf.gather(this.embedding, tf.tensor1d(rows, 'int32'))
        : tf.mul(
            tf.gather(
              this.embedding,
              tf.tensor1d(
                rows.map((r) => Math.max(r, 0)),
                'int32',
              ),
            ),
            tf.tensor2d(
              Float32Array.from(rows, (r) => (r >= 0 ? 1 : 0)),
              [n, 1],
            ),
          );
      return this.encodeTrained(trained as tf.Tensor2D, pairs);
    });
  }

  /**
   * x from given embedding rows e [n, D] (`pairs.item` indexing them) and tag rows (`pairs.tag` indexing
   * them; the whole tag table when not given): training reads its batch's rows of both tables from the
   * optimiser's, so that the gradient is one for those rows only, not for the whole tables.
   */
  encodeTrained(trained: tf.Tensor2D, pairs: ItemTagPairs, tagRows: tf.Tensor2D = this.tagEmbedding as tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => scaledUnitRows(pairs.item.length === 0 ? trained : tf.add(trained, this.tagMean(pairs, trained.shape[0], tagRows)), 1));
  }

  /** b for the same rows: 0 for untrained items. */
  biasRows(rows: Int32Array): Float32Array {
    const all = this.bias.dataSync() as Float32Array;
    return Float32Array.from(rows, (r) => (r >= 0 ? all[r]! : 0));
  }

  /** The tag mean as a sparse product: A [rows × T] holds 1/|T_i| at (i, t) for each pair. */
  private tagMean(pairs: ItemTagPairs, rows: number, tags: tf.Tensor2D = this.tagEmbedding as tf.Tensor2D): tf.Tensor2D {
    const counts = new Float32Array(rows);
    for (const i of pairs.item) counts[i]! += 1;
    const weights = Float32Array.from(pairs.item, (i) => 1 / counts[i]!);
    return sparseMatMul(pairs.item, pairs.tag, weights, tags, rows);
  }
}
