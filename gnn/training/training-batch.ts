import * as tf from '@tensorflow/tfjs';

import type { NeighbourhoodBatch } from '../edge-features.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import { type ExcludedColumns, sampledSoftmaxCrossEntropy } from '../kernels/softmax-cross-entropy.ts';
import { denseParameters, type ItemTables, type StepGradients } from './gat-optimizer.ts';

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
    const local = localItems(batch, itemTags, items);
    const rows = tf.tensor1d(local.rows, 'int32');
    const tags = tf.gather(model.items.tagEmbedding, tf.tensor1d(local.tagRows, 'int32')) as tf.Tensor2D;
    return localLoss(
      model,
      batch,
      local,
      { embedding: tf.gather(model.items.embedding, rows) as tf.Tensor2D, bias: tf.gather(model.items.bias, rows) as tf.Tensor1D, tags },
      scale,
      weights,
    );
  });
}

/** The rows of the item and tag tables a batch reads, in its local numbering. */
interface LocalTables {
  /** [n, D] */
  readonly embedding: tf.Tensor2D;
  /** [n] */
  readonly bias: tf.Tensor1D;
  /** [tags, D] */
  readonly tags: tf.Tensor2D;
}

/** `batchLoss` from the rows of the batch's items (`local.rows`) and tags (`local.tagRows`). */
function localLoss(model: InterestGAT, batch: TrainingBatch, local: LocalItems, tables: LocalTables, scale: LossScale, weights: LossWeights): tf.Scalar {
  return tf.tidy(() => {
    const b = batch.targets.length;
    const d = model.hyper.dims;
    const { bias } = tables;
    // Features and biases of the batch's items only, in their local numbering.
    const features = model.items.encodeTrained(tables.embedding, local.pairs, tables.tags);
    const padded = tf.concat<tf.Tensor2D>([features, tf.zeros([1, d])]);
    const z = model.encodeSubjects(padded, { ...batch.neighbourhoods, neighbour: local.neighbour });
    const targetIdx = tf.tensor1d(local.targets, 'int32');
    const targetScore = tf.add(tf.sum(tf.mul(z, tf.gather(features, targetIdx)), 1), tf.gather(bias, targetIdx));
    const { negatives } = batch;
    // With the full softmax every item is local, in its global place.
    const negativeIdx = negatives ? tf.tensor1d(local.negatives!, 'int32') : null;
    const columnFeatures = negativeIdx ? tf.gather(features, negativeIdx) : features;
    const scores = tf.matMul(z, columnFeatures, false, true);
    const offset = negatives ? tf.sub(tf.gather(bias, negativeIdx!), tf.tensor1d(negatives.logExpected)) : bias;
    const targetLogit = negatives ? tf.sub(targetScore, tf.tensor1d(negatives.targetLogExpected)) : targetScore;
    // The kernel averages over this shard's rows; rescale to the batch's.
    let loss = tf.mul(sampledSoftmaxCrossEntropy(scores as tf.Tensor2D, targetLogit as tf.Tensor1D, offset as tf.Tensor1D, batch.excluded), b / scale.rows);
    const { hard } = batch;
    if (hard.perExample > 0 && weights.hardNegativeWeight > 0) {
      const k = hard.perExample;
      const hardIdx = tf.tensor1d(local.hard, 'int32');
      const biasPadded = tf.concat([bias, tf.zeros([1])]);
      const hardFeatures = tf.gather(padded, hardIdx).reshape([b, k, d]);
      const hardBias = tf.gather(biasPadded, hardIdx).reshape([b, k]);
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
  /** Global tag of each local one: the tags of those items. */
  readonly tagRows: Int32Array;
  /** The item–tag pairs of those items, in local numbers (items and tags). */
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
 * backward, rather than the whole catalogue cuts the encoder's share of a step to a third; reading and
 * updating only their rows of the item tables makes a step's cost independent of the catalogue's size.
 * With the full softmax every item is needed; they keep their global numbers.
 */
function localItems(batch: TrainingBatch, itemTags: ItemTagPairs, items: number): LocalItems {
  const index = ItemTagIndex.of(itemTags, items);
  const { localOf, tagLocalOf } = index;
  const rows: number[] = [];
  const tagRows: number[] = [];
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
  try {
    // Items are checked in range by the gathers that use them; out-of-range ones keep an invalid index.
    const renumber = (ids: Int32Array): Int32Array => ids.map((item) => (item === items ? padding : item >= 0 && item < items ? localOf[item]! : -1));
    const pairItem: number[] = [];
    const pairTag: number[] = [];
    rows.forEach((item, at) => {
      for (let p = index.start[item]!; p < index.start[item + 1]!; p++) {
        const tag = index.tag[p]!;
        if (tagLocalOf[tag] === -1) {
          tagLocalOf[tag] = tagRows.length;
          tagRows.push(tag);
        }
        pairItem.push(at);
        pairTag.push(tagLocalOf[tag]!);
      }
    });
    return {
      rows: Int32Array.from(rows),
      tagRows: Int32Array.from(tagRows),
      pairs: { item: Int32Array.from(pairItem), tag: Int32Array.from(pairTag) },
      neighbour: renumber(batch.neighbourhoods.neighbour),
      targets: renumber(batch.targets),
      negatives: batch.negatives && renumber(batch.negatives.items),
      hard: renumber(batch.hard.items),
    };
  } finally {
    for (const item of rows) localOf[item] = -1;
    for (const tag of tagRows) tagLocalOf[tag] = -1;
  }
}

/**
 * Each item's tags in compressed-row form, built once per training input (not per step: a pass over every
 * item–tag pair each step grew with the catalogue), and scratch item → local-number and tag → local-number
 * maps, kept all −1 between uses.
 */
class ItemTagIndex {
  private static readonly built = new WeakMap<ItemTagPairs, ItemTagIndex>();
  readonly start: Int32Array;
  readonly tag: Int32Array;
  readonly localOf: Int32Array;
  readonly tagLocalOf: Int32Array;

  private constructor(
    pairs: ItemTagPairs,
    readonly items: number,
  ) {
    this.start = new Int32Array(items + 1);
    for (const i of pairs.item) if (i >= 0 && i < items) this.start[i + 1]!++;
    for (let i = 0; i < items; i++) this.start[i + 1]! += this.start[i]!;
    this.tag = new Int32Array(this.start[items]!);
    const fill = this.start.slice(0, items);
    pairs.item.forEach((i, p) => {
      if (i >= 0 && i < items) this.tag[fill[i]!++] = pairs.tag[p]!;
    });
    this.localOf = new Int32Array(items).fill(-1);
    let tags = 0;
    for (const t of this.tag) tags = Math.max(tags, t + 1);
    this.tagLocalOf = new Int32Array(tags).fill(-1);
  }

  static of(pairs: ItemTagPairs, items: number): ItemTagIndex {
    let index = ItemTagIndex.built.get(pairs);
    if (!index || index.items !== items) {
      index = new ItemTagIndex(pairs, items);
      ItemTagIndex.built.set(pairs, index);
    }
    return index;
  }
}

/**
 * Gradients of `batchLoss`: for the dense parameters (`denseParameters` order; null for one the loss does
 * not depend on), and for the rows of the item and tag tables the batch reads, which come from `tables`
 * (the optimiser's, see gat-optimizer.ts); and the loss.
 */
export function batchGradients(
  model: InterestGAT,
  itemTags: ItemTagPairs,
  items: number,
  batch: TrainingBatch,
  scale: LossScale,
  weights: LossWeights,
  tables: ItemTables,
): { loss: tf.Scalar } & StepGradients {
  const dense = denseParameters(model);
  // A data-parallel shard of a batch smaller than the thread count has no rows: it adds nothing.
  if (batch.targets.length === 0) {
    const none = new Int32Array(0);
    const empty = new Float32Array(0);
    return { loss: tf.scalar(0), dense: dense.map(() => null), items: { rows: none, embedding: empty, bias: empty, tagRows: none, tags: empty } };
  }
  const local = localItems(batch, itemTags, items);
  const n = local.rows.length;
  const d = model.hyper.dims;
  const embedding = tf.tensor2d(tables.embedding.gather(local.rows), [n, d]);
  const bias = tf.tensor1d(tables.bias.gather(local.rows));
  const tags = tf.tensor2d(tables.tags.gather(local.tagRows), [local.tagRows.length, d]);
  try {
    const { value, grads } = tf
      .engine()
      .gradients(() => localLoss(model, batch, local, { embedding, bias, tags }, scale, weights), [...dense, embedding, bias, tags], undefined, true);
    const [gEmbedding, gBias, gTags] = grads.slice(dense.length);
    // Copies: on the cpu backend dataSync hands out the tensor's own storage.
    const rowGradients = (g: tf.Tensor | undefined, count: number, width: number): Float32Array =>
      g ? (g.dataSync() as Float32Array).slice() : new Float32Array(count * width);
    const result = {
      loss: value,
      dense: grads.slice(0, dense.length).map((g) => g ?? null),
      items: {
        rows: local.rows,
        embedding: rowGradients(gEmbedding, n, d),
        bias: rowGradients(gBias, n, 1),
        tagRows: local.tagRows,
        tags: rowGradients(gTags, local.tagRows.length, d),
      },
    };
    tf.dispose([gEmbedding, gBias, gTags].filter((g): g is tf.Tensor => g !== undefined));
    return result;
  } finally {
    tf.dispose([embedding, bias, tags]);
  }
}
