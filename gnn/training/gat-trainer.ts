import * as tf from '@tensorflow/tfjs';
import type { NeighbourhoodBatch } from '../edge-features.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import { timelineNeighbourhoods, type InteractionTimelines } from '../interaction-timelines.ts';
import { sparseSoftmaxCrossEntropy } from '../kernels/softmax-cross-entropy.ts';

/**
 * Trains the GAT by next-interaction prediction: for each positive interaction in a subject's timeline,
 * the model sees only the interactions before it and must rank the item it led to above the others
 * (softmax over the whole catalogue, or over sampled negatives for large ones), with the subject's
 * negative-feedback items as extra hard negatives. The last positive of each subject is held out for
 * early stopping. Seeded: same data, options and backend give the same weights.
 */
export interface TrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /**
   * Each example's target is drawn from the subject's next `targetWindow` positives (1: the very next):
   * the model learns what a subject will want over a stretch of time, not only their next click.
   */
  readonly targetWindow: number;
  /** Epochs without a better validation recall before stopping. */
  readonly patience: number;
  /** Catalogues up to this size use the full softmax; larger ones sample `sampledNegatives` items. */
  readonly fullSoftmaxMaxItems: number;
  readonly sampledNegatives: number;
  /**
   * Sampled negatives are drawn ∝ (positives + 1)^this (0: uniform), and every logit is corrected by
   * −log(expected draws), so the sampled softmax estimates the full one (logQ correction).
   */
  readonly negativeSamplingExponent: number;
  /**
   * Leave the items a subject interacted with before the target out of its softmax: they are never
   * recommended back, so the model need not spend probability on them.
   */
  readonly excludeSeen: boolean;
  /** Weight of the hard-negative (negative feedback) margin term. */
  readonly hardNegativeWeight: number;
  readonly hardNegativesPerExample: number;
  /** L2 penalty on the subject embeddings. */
  readonly l2: number;
  readonly seed: number;
  /** Validation cut-off for recall. */
  readonly validationK: number;
}

/**
 * Chosen on MovieLens latest-small (temporal split, seed 1; `npm run evaluate`): 2,048 sampled negatives
 * with the logQ correction beat the full softmax there (test recall@20 0.143 against 0.138), so only
 * catalogues no larger than the sample use the full softmax. Not better there: 1,024 negatives (0.128 /
 * NDCG 0.104 in the harness, though 0.142 / 0.116 in a scratch run: the spread between runs is large), a
 * window of future targets, batches of 1,024, dropping a quarter of each example's neighbours.
 */
export const DEFAULT_TRAINING: TrainingOptions = {
  epochs: 30,
  batchSize: 512,
  learningRate: 0.005,
  patience: 3,
  targetWindow: 1,
  fullSoftmaxMaxItems: 2_048,
  sampledNegatives: 2_048,
  negativeSamplingExponent: 0.75,
  excludeSeen: true,
  hardNegativeWeight: 0.5,
  hardNegativesPerExample: 4,
  l2: 1e-4,
  seed: 1,
  validationK: 20,
};

export interface EpochReport {
  readonly epoch: number;
  readonly loss: number;
  readonly validationRecall: number;
  readonly seconds: number;
  readonly improved: boolean;
}

export interface TrainingReport {
  readonly epochs: EpochReport[];
  readonly bestEpoch: number;
  readonly bestValidationRecall: number;
  readonly examples: number;
  readonly validationSubjects: number;
  readonly seconds: number;
}

export interface TrainingInput {
  readonly timelines: InteractionTimelines;
  readonly itemTags: ItemTagPairs;
  readonly items: number;
}

export async function trainGat(
  model: InterestGAT,
  input: TrainingInput,
  options: TrainingOptions = DEFAULT_TRAINING,
  onEpoch?: (report: EpochReport) => void,
  /** Awaited after every batch: lets a server answer requests while it fine-tunes. */
  onBatch?: () => Promise<void>,
): Promise<TrainingReport> {
  const started = performance.now();
  const { timelines, items } = input;
  const { examples, validation } = selectExamples(timelines);
  const random = mulberry32(options.seed);
  const sampler = new NegativeSampler(timelines, items, options.negativeSamplingExponent);
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.params.list();
  const order = Int32Array.from({ length: examples.position.length }, (_, e) => e);
  const reports: EpochReport[] = [];
  let best = { epoch: 0, recall: -1, weights: model.params.snapshot() };

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const epochStart = performance.now();
    shuffle(order, random);
    let lossSum = 0;
    let batches = 0;
    for (let from = 0; from < order.length; from += options.batchSize) {
      const picked = order.subarray(from, Math.min(order.length, from + options.batchSize));
      const subjects = Int32Array.from(picked, (e) => examples.subject[e]!);
      const positions = Int32Array.from(picked, (e) => examples.position[e]!);
      const batch = timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, positions, model.hyper.history);
      const targets = Int32Array.from(picked, (e) => {
        const reach = Math.min(options.targetWindow, examples.runEnd[e]! - e);
        return timelines.item[examples.position[e + Math.floor(random() * reach)]!]!;
      });
      const hard = hardNegatives(timelines, subjects, targets, options.hardNegativesPerExample, items);
      const negatives = items <= options.fullSoftmaxMaxItems ? null : sampler.sample(options.sampledNegatives, random, targets);
      const excluded = exclusionMask(timelines, subjects, positions, targets, negatives?.items ?? null, items, options.excludeSeen);
      const cost = optimizer.minimize(() => batchLoss(model, input, batch, targets, hard, negatives, excluded, options), true, variables);
      lossSum += (await cost!.data())[0]!;
      cost!.dispose();
      batches++;
      await onBatch?.();
    }
    const recall = validationRecall(model, input, validation, options.validationK);
    const improved = recall > best.recall;
    if (improved) best = { epoch, recall, weights: model.params.snapshot() };
    const report = {
      epoch,
      loss: lossSum / Math.max(1, batches),
      validationRecall: recall,
      seconds: (performance.now() - epochStart) / 1000,
      improved,
    };
    reports.push(report);
    onEpoch?.(report);
    if (epoch - best.epoch >= options.patience) break;
  }
  model.params.restore(best.weights);
  optimizer.dispose();
  return {
    epochs: reports,
    bestEpoch: best.epoch,
    bestValidationRecall: best.recall,
    examples: order.length,
    validationSubjects: validation.subject.length,
    seconds: (performance.now() - started) / 1000,
  };
}

interface ExampleSet {
  subject: Int32Array;
  position: Int32Array;
}

interface TrainingExamples extends ExampleSet {
  /** Each subject's examples are consecutive, in time order; this is one past the subject's last. */
  runEnd: Int32Array;
}

/** Training targets: positives with at least one earlier interaction; each subject's last positive validates. */
export function selectExamples(timelines: InteractionTimelines): { examples: TrainingExamples; validation: ExampleSet } {
  const trainSubject: number[] = [];
  const trainPosition: number[] = [];
  const validSubject: number[] = [];
  const validPosition: number[] = [];
  const runEnd: number[] = [];
  for (let s = 0; s < timelines.subjects; s++) {
    const first = timelines.start[s]!;
    const end = timelines.start[s + 1]!;
    let last = -1;
    let positives = 0;
    for (let p = end - 1; p > first; p--) {
      if (!timelines.positive[p]) continue;
      positives++;
      if (last < 0) last = p;
    }
    const holdOut = positives >= 2 ? last : -1;
    if (holdOut >= 0) {
      validSubject.push(s);
      validPosition.push(holdOut);
    }
    for (let p = first + 1; p < end; p++) {
      if (!timelines.positive[p] || p === holdOut) continue;
      // Positions after the held-out one would see it in their neighbourhood: leave them out too.
      if (holdOut >= 0 && p > holdOut) continue;
      trainSubject.push(s);
      trainPosition.push(p);
    }
    while (runEnd.length < trainSubject.length) runEnd.push(trainSubject.length);
  }
  return {
    examples: { subject: Int32Array.from(trainSubject), position: Int32Array.from(trainPosition), runEnd: Int32Array.from(runEnd) },
    validation: { subject: Int32Array.from(validSubject), position: Int32Array.from(validPosition) },
  };
}

function batchLoss(
  model: InterestGAT,
  input: TrainingInput,
  batch: NeighbourhoodBatch,
  targets: Int32Array,
  hard: { items: Int32Array; mask: Float32Array; perExample: number },
  negatives: SampledNegatives | null,
  excluded: Float32Array,
  options: TrainingOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const b = batch.size;
    const d = model.hyper.dims;
    const features = model.encodeItems(input.itemTags);
    const padded = tf.concat([features, tf.zeros([1, d])]) as tf.Tensor2D;
    const biasPadded = tf.concat([model.items.bias, tf.zeros([1])]);
    const z = model.encodeSubjects(padded, batch);
    const targetIdx = tf.tensor1d(targets, 'int32');
    const targetScore = tf.add(tf.sum(tf.mul(z, tf.gather(features, targetIdx)), 1), tf.gather(model.items.bias, targetIdx));
    let logits: tf.Tensor2D;
    let label: tf.Tensor1D;
    if (negatives === null) {
      const scores = tf.add(tf.matMul(z, features, false, true), model.items.bias.reshape([1, -1]));
      logits = tf.add(scores, tf.tensor2d(excluded, [b, input.items])) as tf.Tensor2D;
      label = targetIdx;
    } else {
      const negIdx = tf.tensor1d(negatives.items, 'int32');
      const negScores = tf.add(tf.matMul(z, tf.gather(features, negIdx), false, true), tf.gather(model.items.bias, negIdx).reshape([1, -1]));
      const corrected = tf.sub(negScores, tf.tensor2d(negatives.logExpected, [1, negatives.items.length]));
      const masked = tf.add(corrected, tf.tensor2d(excluded, [b, negatives.items.length]));
      const targetCorrected = tf.sub(targetScore, tf.tensor1d(negatives.targetLogExpected));
      logits = tf.concat([targetCorrected.reshape([-1, 1]), masked], 1) as tf.Tensor2D;
      label = tf.zeros([b], 'int32');
    }
    let loss = sparseSoftmaxCrossEntropy(logits, label);
    if (hard.perExample > 0 && options.hardNegativeWeight > 0) {
      const k = hard.perExample;
      const hardFeatures = tf.gather(padded, tf.tensor1d(hard.items, 'int32')).reshape([b, k, d]);
      const hardScores = tf.add(tf.sum(tf.mul(hardFeatures, z.reshape([b, 1, d])), 2), tf.gather(biasPadded, tf.tensor1d(hard.items, 'int32')).reshape([b, k]));
      const margins = tf.softplus(tf.sub(hardScores, targetScore.reshape([b, 1])));
      const mask = tf.tensor2d(hard.mask, [b, k]);
      const term = tf.div(tf.sum(tf.mul(margins, mask)), tf.maximum(tf.sum(mask), 1));
      loss = tf.add(loss, tf.mul(term, options.hardNegativeWeight));
    }
    if (options.l2 > 0) loss = tf.add(loss, tf.mul(tf.mean(tf.sum(tf.square(z), 1)), options.l2));
    return loss as tf.Scalar;
  });
}

const EXCLUDED = -1e9;

/**
 * An additive mask over the softmax's columns (every item, or the sampled negatives): −1e9 for a sampled
 * negative that is the target itself (it is no negative) and, with `excludeSeen`, for items the subject
 * interacted with before the target (other than the target).
 */
function exclusionMask(
  timelines: InteractionTimelines,
  subjects: Int32Array,
  positions: Int32Array,
  targets: Int32Array,
  columns: Int32Array | null,
  items: number,
  excludeSeen: boolean,
): Float32Array {
  const width = columns ? columns.length : items;
  const mask = new Float32Array(subjects.length * width);
  const stamp = columns ? new Int32Array(items).fill(-1) : null;
  for (let b = 0; b < subjects.length; b++) {
    const target = targets[b]!;
    const row = b * width;
    if (excludeSeen) {
      for (let p = timelines.start[subjects[b]!]!; p < positions[b]!; p++) {
        const item = timelines.item[p]!;
        if (item === target) continue;
        if (stamp) stamp[item] = b;
        else mask[row + item] = EXCLUDED;
      }
    }
    if (columns && stamp) {
      for (let n = 0; n < width; n++) {
        const item = columns[n]!;
        if (item === target || stamp[item] === b) mask[row + n] = EXCLUDED;
      }
    }
  }
  return mask;
}

/** Up to `k` items each subject gave negative feedback on (other than the target), padded with `padRow`. */
function hardNegatives(
  timelines: InteractionTimelines,
  subjects: Int32Array,
  targets: Int32Array,
  k: number,
  padRow: number,
): { items: Int32Array; mask: Float32Array; perExample: number } {
  const items = new Int32Array(subjects.length * k).fill(padRow);
  const mask = new Float32Array(subjects.length * k);
  for (let b = 0; b < subjects.length; b++) {
    const s = subjects[b]!;
    let slot = b * k;
    for (let p = timelines.start[s + 1]! - 1; p >= timelines.start[s]! && slot < (b + 1) * k; p--) {
      if (timelines.weight[p]! < 0 && timelines.item[p] !== targets[b]) {
        items[slot] = timelines.item[p]!;
        mask[slot++] = 1;
      }
    }
  }
  return { items, mask, perExample: k };
}

/** Recall@k of each validation subject's held-out positive, ranking items not seen before it. */
export function validationRecall(model: InterestGAT, input: TrainingInput, validation: ExampleSet, k: number): number {
  if (validation.subject.length === 0) return 0;
  const { timelines, items } = input;
  let hits = 0;
  const chunk = 256;
  const features = model.encodeItems(input.itemTags);
  const padded = tf.concat([features, tf.zeros([1, model.hyper.dims])]) as tf.Tensor2D;
  try {
    for (let from = 0; from < validation.subject.length; from += chunk) {
      const subjects = validation.subject.subarray(from, from + chunk);
      const positions = validation.position.subarray(from, from + chunk);
      const batch = timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, positions, model.hyper.history);
      const scores = tf.tidy(() => {
        const z = model.encodeSubjects(padded, batch);
        return tf.add(tf.matMul(z, features, false, true), model.items.bias.reshape([1, -1]));
      });
      const values = scores.dataSync() as Float32Array;
      scores.dispose();
      for (let b = 0; b < subjects.length; b++) {
        const row = values.subarray(b * items, (b + 1) * items);
        const s = subjects[b]!;
        const target = timelines.item[positions[b]!]!;
        for (let p = timelines.start[s]!; p < positions[b]!; p++) if (timelines.item[p] !== target) row[timelines.item[p]!] = -Infinity;
        const targetScore = row[target]!;
        let better = 0;
        for (let i = 0; i < items && better < k; i++) if (row[i]! > targetScore) better++;
        if (better < k) hits++;
      }
    }
  } finally {
    features.dispose();
    padded.dispose();
  }
  return hits / validation.subject.length;
}

interface SampledNegatives {
  readonly items: Int32Array;
  /** log of how many times each was expected among the draws. */
  readonly logExpected: Float32Array;
  /** The same for each example's target. */
  readonly targetLogExpected: Float32Array;
}

/** Draws items ∝ (positive count + 1)^exponent, with replacement, via the cumulative distribution. */
class NegativeSampler {
  private readonly cumulative: Float64Array;
  private readonly probability: Float64Array;

  constructor(timelines: InteractionTimelines, items: number, exponent: number) {
    const counts = new Float64Array(items).fill(1);
    for (let p = 0; p < timelines.item.length; p++) if (timelines.positive[p]) counts[timelines.item[p]!]! += 1;
    let total = 0;
    this.probability = counts.map((c) => c ** exponent);
    for (const w of this.probability) total += w;
    this.cumulative = new Float64Array(items);
    let running = 0;
    for (let i = 0; i < items; i++) {
      this.probability[i]! /= total;
      running += this.probability[i]!;
      this.cumulative[i] = running;
    }
  }

  sample(count: number, random: () => number, targets: Int32Array): SampledNegatives {
    const items = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const u = random() * this.cumulative[this.cumulative.length - 1]!;
      let lo = 0;
      let hi = this.cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.cumulative[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      items[n] = lo;
    }
    return { items, logExpected: this.logExpected(items, count), targetLogExpected: this.logExpected(targets, count) };
  }

  private logExpected(items: Int32Array, draws: number): Float32Array {
    return Float32Array.from(items, (i) => Math.log(this.probability[i]! * draws));
  }
}

function shuffle(a: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
