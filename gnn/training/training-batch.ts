import * as tf from '@tensorflow/tfjs';
import type { NeighbourhoodBatch } from '../edge-features.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import { sparseSoftmaxCrossEntropy } from '../kernels/softmax-cross-entropy.ts';

/**
 * One training step's examples, as plain typed arrays: what the loss needs and what a data-parallel
 * training worker is sent (so the worker needs no timelines or sampler of its own).
 */
export interface TrainingBatch {
  readonly neighbourhoods: NeighbourhoodBatch;
  /** The item each example must rank first. */
  readonly targets: Int32Array;
  readonly hard: HardNegatives;
  /** Columns of the sampled softmax; null for the full softmax over every item. */
  readonly negatives: SampledNegatives | null;
  /** [rows × columns] additive mask over the softmax's columns (0 or −1e9). */
  readonly excluded: Float32Array;
}

export interface HardNegatives {
  /** [rows × perExample] items given negative feedback, padded with the padding row. */
  readonly items: Int32Array;
  /** [rows × perExample] 1 for a real hard negative, 0 for padding. */
  readonly mask: Float32Array;
  readonly perExample: number;
}

export interface SampledNegatives {
  readonly items: Int32Array;
  /** log of how many times each was expected among the draws. */
  readonly logExpected: Float32Array;
  /** The same for each example's target. */
  readonly targetLogExpected: Float32Array;
}

/**
 * The denominators of the loss's mean terms, taken over the whole batch: with them, the losses (and so
 * the gradients) of a batch's shards add up to the batch's own.
 */
export interface LossScale {
  readonly rows: number;
  /** Real hard negatives in the whole batch. */
  readonly hardNegatives: number;
}

export interface LossWeights {
  readonly hardNegativeWeight: number;
}

export function lossScaleOf(batch: TrainingBatch): LossScale {
  let hardNegatives = 0;
  for (const m of batch.hard.mask) hardNegatives += m;
  return { rows: batch.targets.length, hardNegatives };
}

/** `parts` consecutive row ranges of the batch (the last ones one row shorter when it does not divide). */
export function splitBatch(batch: TrainingBatch, parts: number): TrainingBatch[] {
  const rows = batch.targets.length;
  const shards: TrainingBatch[] = [];
  const columns = batch.negatives ? batch.negatives.items.length : batch.excluded.length / Math.max(1, rows);
  const { fanout } = batch.neighbourhoods;
  const k = batch.hard.perExample;
  for (let p = 0, from = 0; p < parts; p++) {
    const to = from + Math.floor(rows / parts) + (p < rows % parts ? 1 : 0);
    const n = batch.neighbourhoods;
    shards.push({
      neighbourhoods: {
        size: to - from,
        fanout,
        neighbour: n.neighbour.slice(from * fanout, to * fanout),
        typeCode: n.typeCode.slice(from * fanout, to * fanout),
        recency: n.recency.slice(from * fanout, to * fanout),
        weight: n.weight.slice(from * fanout, to * fanout),
        mask: n.mask.slice(from * fanout, to * fanout),
      },
      targets: batch.targets.slice(from, to),
      hard: { items: batch.hard.items.slice(from * k, to * k), mask: batch.hard.mask.slice(from * k, to * k), perExample: k },
      negatives: batch.negatives && { ...batch.negatives, targetLogExpected: batch.negatives.targetLogExpected.slice(from, to) },
      excluded: batch.excluded.slice(from * columns, to * columns),
    });
    from = to;
  }
  return shards;
}

/**
 * The training loss of `batch` (or of one shard of it, scaled by the whole batch's `scale`):
 *
 *   L = (1/R) Σ_b CE(softmax over [target, negatives − logQ] + mask)             sampled softmax
 *     + w_h · Σ softplus(s_hard − s_target) · mask / max(1, #hard)                hard negatives
 *
 * with s = z·x + b the score, R the batch's rows.
 */
export function batchLoss(model: InterestGAT, itemTags: ItemTagPairs, items: number, batch: TrainingBatch, scale: LossScale, weights: LossWeights): tf.Scalar {
  return tf.tidy(() => {
    const b = batch.targets.length;
    const d = model.hyper.dims;
    const features = model.encodeItems(itemTags);
    const padded = tf.concat([features, tf.zeros([1, d])]) as tf.Tensor2D;
    const biasPadded = tf.concat([model.items.bias, tf.zeros([1])]);
    const z = model.encodeSubjects(padded, batch.neighbourhoods);
    const targetIdx = tf.tensor1d(batch.targets, 'int32');
    const targetScore = tf.add(tf.sum(tf.mul(z, tf.gather(features, targetIdx)), 1), tf.gather(model.items.bias, targetIdx));
    let logits: tf.Tensor2D;
    let label: tf.Tensor1D;
    const { negatives } = batch;
    if (negatives === null) {
      const scores = tf.add(tf.matMul(z, features, false, true), model.items.bias.reshape([1, -1]));
      logits = tf.add(scores, tf.tensor2d(batch.excluded, [b, items])) as tf.Tensor2D;
      label = targetIdx;
    } else {
      const negIdx = tf.tensor1d(negatives.items, 'int32');
      const negScores = tf.add(tf.matMul(z, tf.gather(features, negIdx), false, true), tf.gather(model.items.bias, negIdx).reshape([1, -1]));
      const corrected = tf.sub(negScores, tf.tensor2d(negatives.logExpected, [1, negatives.items.length]));
      const masked = tf.add(corrected, tf.tensor2d(batch.excluded, [b, negatives.items.length]));
      const targetCorrected = tf.sub(targetScore, tf.tensor1d(negatives.targetLogExpected));
      logits = tf.concat([targetCorrected.reshape([-1, 1]), masked], 1) as tf.Tensor2D;
      label = tf.zeros([b], 'int32');
    }
    // The kernel averages over this shard's rows; rescale to the batch's.
    let loss = tf.mul(sparseSoftmaxCrossEntropy(logits, label), b / scale.rows);
    const { hard } = batch;
    if (hard.perExample > 0 && weights.hardNegativeWeight > 0) {
      const k = hard.perExample;
      const hardIdx = tf.tensor1d(hard.items, 'int32');
      const hardFeatures = tf.gather(padded, hardIdx).reshape([b, k, d]);
      const hardScores = tf.add(tf.sum(tf.mul(hardFeatures, z.reshape([b, 1, d])), 2), tf.gather(biasPadded, hardIdx).reshape([b, k]));
      const margins = tf.softplus(tf.sub(hardScores, targetScore.reshape([b, 1])));
      const term = tf.div(tf.sum(tf.mul(margins, tf.tensor2d(hard.mask, [b, k]))), Math.max(scale.hardNegatives, 1));
      loss = tf.add(loss, tf.mul(term, weights.hardNegativeWeight));
    }
    return loss as tf.Scalar;
  });
}

/**
 * Gradients of `batchLoss` for each of the model's parameters, in `params.list()` order (null for one
 * the loss does not depend on, such as the tag table when no item has tags), and the loss.
 */
export function batchGradients(
  model: InterestGAT,
  itemTags: ItemTagPairs,
  items: number,
  batch: TrainingBatch,
  scale: LossScale,
  weights: LossWeights,
): { loss: tf.Scalar; gradients: Array<tf.Tensor | null> } {
  const variables = model.params.list();
  const { value, grads } = tf.variableGrads(() => batchLoss(model, itemTags, items, batch, scale, weights), variables);
  return { loss: value, gradients: variables.map((v) => grads[v.name] ?? null) };
}
