import * as tf from '@tensorflow/tfjs';
import type { NeighbourhoodBatch } from '../edge-features.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import { sampledSoftmaxCrossEntropy, type ExcludedColumns } from '../kernels/softmax-cross-entropy.ts';

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
  /** The softmax columns (sampled negatives, or every item) each row leaves out: its target and the items it saw before. */
  readonly excluded: ExcludedColumns;
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
      excluded: {
        start: batch.excluded.start.slice(from, to + 1).map((e) => e - batch.excluded.start[from]!),
        column: batch.excluded.column.slice(batch.excluded.start[from], batch.excluded.start[to]),
      },
    });
    from = to;
  }
  return shards;
}

/**
 * The training loss of `batch` (or of one shard of it, scaled by the whole batch's `scale`):
 *
 *   L = (1/R) Σ_b CE(softmax over [target − logQ, negatives − logQ] without excluded columns)   sampled softmax
 *     + w_h · Σ softplus(s_hard − s_target) · mask / max(1, #hard)                               hard negatives
 *
 * with s = z·x + b the score and R the batch's rows. The full softmax is the same with every item as a
 * column and logQ = 0 (the target's own column excluded, since it is the first logit).
 */
export function batchLoss(model: InterestGAT, itemTags: ItemTagPairs, items: number, batch: TrainingBatch, scale: LossScale, weights: LossWeights): tf.Scalar {
  return tf.tidy(() => {
    const b = batch.targets.length;
    const d = model.hyper.dims;
    // Features of the batch's items only, in their local numbering (biases stay in the global one).
    const local = localItems(batch, itemTags, items);
    const features = model.items.encodeRows(local.rows, local.pairs);
    const padded = tf.concat([features, tf.zeros([1, d])]) as tf.Tensor2D;
    const z = model.encodeSubjects(padded, { ...batch.neighbourhoods, neighbour: local.neighbour });
    const targetIdx = tf.tensor1d(batch.targets, 'int32');
    const targetScore = tf.add(tf.sum(tf.mul(z, tf.gather(features, tf.tensor1d(local.targets, 'int32'))), 1), tf.gather(model.items.bias, targetIdx));
    const { negatives } = batch;
    // With the full softmax every item is local, in its global place.
    const columnFeatures = negatives ? tf.gather(features, tf.tensor1d(local.negatives!, 'int32')) : features;
    const scores = tf.matMul(z, columnFeatures, false, true);
    const offset = negatives ? tf.sub(tf.gather(model.items.bias, tf.tensor1d(negatives.items, 'int32')), tf.tensor1d(negatives.logExpected)) : model.items.bias;
    const targetLogit = negatives ? tf.sub(targetScore, tf.tensor1d(negatives.targetLogExpected)) : targetScore;
    // The kernel averages over this shard's rows; rescale to the batch's.
    let loss = tf.mul(sampledSoftmaxCrossEntropy(scores as tf.Tensor2D, targetLogit as tf.Tensor1D, offset as tf.Tensor1D, batch.excluded), b / scale.rows);
    const { hard } = batch;
    if (hard.perExample > 0 && weights.hardNegativeWeight > 0) {
      const k = hard.perExample;
      const biasPadded = tf.concat([model.items.bias, tf.zeros([1])]);
      const hardFeatures = tf.gather(padded, tf.tensor1d(local.hard, 'int32')).reshape([b, k, d]);
      const hardBias = tf.gather(biasPadded, tf.tensor1d(hard.items, 'int32')).reshape([b, k]);
      const hardScores = tf.add(tf.sum(tf.mul(hardFeatures, z.reshape([b, 1, d])), 2), hardBias);
      const margins = tf.softplus(tf.sub(hardScores, targetScore.reshape([b, 1])));
      const term = tf.div(tf.sum(tf.mul(margins, tf.tensor2d(hard.mask, [b, k]))), Math.max(scale.hardNegatives, 1));
      loss = tf.add(loss, tf.mul(term, weights.hardNegativeWeight));
    }
    return loss as tf.Scalar;
  });
}

/** A batch's item references renumbered into `rows`, the distinct items it refers to. */
interface LocalItems {
  /** Global item of each local one. */
  readonly rows: Int32Array;
  /** The item–tag pairs of those items, `item` in local numbers. */
  readonly pairs: ItemTagPairs;
  /** The batch's neighbours, targets, sampled negatives and hard negatives in local numbers; padding is `rows.length`. */
  readonly neighbour: Int32Array;
  readonly targets: Int32Array;
  readonly negatives: Int32Array | null;
  readonly hard: Int32Array;
}

/**
 * The items a step needs features for: its neighbours, targets, sampled negatives and hard negatives.
 * Encoding only these (on MovieLens latest-small about 3,300 of 9,742 items per shard), forward and
 * backward, rather than the whole catalogue cuts the encoder's share of a step to a third. With the full
 * softmax every item is needed; they keep their global numbers.
 */
function localItems(batch: TrainingBatch, itemTags: ItemTagPairs, items: number): LocalItems {
  const localOf = new Int32Array(items).fill(-1);
  const rows: number[] = [];
  const add = (item: number): void => {
    if (item >= 0 && item < items && localOf[item] === -1) {
      localOf[item] = rows.length;
      rows.push(item);
    }
  };
  const addAll = (ids: Int32Array): void => ids.forEach(add);
  if (batch.negatives === null) for (let i = 0; i < items; i++) add(i);
  else addAll(batch.negatives.items);
  addAll(batch.targets);
  addAll(batch.neighbourhoods.neighbour);
  addAll(batch.hard.items);
  const padding = rows.length;
  // Items are checked in range by the gathers that use them; out-of-range ones keep an invalid index.
  const renumber = (ids: Int32Array): Int32Array => ids.map((item) => (item === items ? padding : item >= 0 && item < items ? localOf[item]! : -1));
  const pairItem: number[] = [];
  const pairTag: number[] = [];
  for (let p = 0; p < itemTags.item.length; p++) {
    const at = localOf[itemTags.item[p]!]!;
    if (at >= 0) {
      pairItem.push(at);
      pairTag.push(itemTags.tag[p]!);
    }
  }
  return {
    rows: Int32Array.from(rows),
    pairs: { item: Int32Array.from(pairItem), tag: Int32Array.from(pairTag) },
    neighbour: renumber(batch.neighbourhoods.neighbour),
    targets: renumber(batch.targets),
    negatives: batch.negatives && renumber(batch.negatives.items),
    hard: renumber(batch.hard.items),
  };
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
  // A data-parallel shard of a batch smaller than the thread count has no rows: it adds nothing.
  if (batch.targets.length === 0) return { loss: tf.scalar(0), gradients: variables.map(() => null) };
  const { value, grads } = tf.variableGrads(() => batchLoss(model, itemTags, items, batch, scale, weights), variables);
  return { loss: value, gradients: variables.map((v) => grads[v.name] ?? null) };
}
