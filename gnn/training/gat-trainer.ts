import * as tf from '@tensorflow/tfjs';
import type { NeighbourhoodBatch } from '../edge-features.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import { timelineNeighbourhoods, type InteractionTimelines } from '../interaction-timelines.ts';

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
  /** Epochs without a better validation recall before stopping. */
  readonly patience: number;
  /** Catalogues up to this size use the full softmax; larger ones sample `sampledNegatives` items. */
  readonly fullSoftmaxMaxItems: number;
  readonly sampledNegatives: number;
  /** Weight of the hard-negative (negative feedback) margin term. */
  readonly hardNegativeWeight: number;
  readonly hardNegativesPerExample: number;
  /** L2 penalty on the subject embeddings. */
  readonly l2: number;
  readonly seed: number;
  /** Validation cut-off for recall. */
  readonly validationK: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  epochs: 30,
  batchSize: 256,
  learningRate: 0.003,
  patience: 3,
  fullSoftmaxMaxItems: 20_000,
  sampledNegatives: 2_048,
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
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.params.list();
  const reports: EpochReport[] = [];
  let best = { epoch: 0, recall: -1, weights: model.params.snapshot() };

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const epochStart = performance.now();
    shuffle(examples.position, examples.subject, random);
    let lossSum = 0;
    let batches = 0;
    for (let from = 0; from < examples.position.length; from += options.batchSize) {
      const to = Math.min(examples.position.length, from + options.batchSize);
      const subjects = examples.subject.subarray(from, to);
      const positions = examples.position.subarray(from, to);
      const batch = timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, positions);
      const targets = Int32Array.from(positions, (p) => timelines.item[p]!);
      const hard = hardNegatives(timelines, subjects, targets, options.hardNegativesPerExample, items);
      const negatives = items <= options.fullSoftmaxMaxItems ? null : sampleItems(items, options.sampledNegatives, random);
      const cost = optimizer.minimize(() => batchLoss(model, input, batch, targets, hard, negatives, options), true, variables);
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
    examples: examples.position.length,
    validationSubjects: validation.subject.length,
    seconds: (performance.now() - started) / 1000,
  };
}

interface ExampleSet {
  subject: Int32Array;
  position: Int32Array;
}

/** Training targets: positives with at least one earlier interaction; each subject's last positive validates. */
export function selectExamples(timelines: InteractionTimelines): { examples: ExampleSet; validation: ExampleSet } {
  const trainSubject: number[] = [];
  const trainPosition: number[] = [];
  const validSubject: number[] = [];
  const validPosition: number[] = [];
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
  }
  return {
    examples: { subject: Int32Array.from(trainSubject), position: Int32Array.from(trainPosition) },
    validation: { subject: Int32Array.from(validSubject), position: Int32Array.from(validPosition) },
  };
}

function batchLoss(
  model: InterestGAT,
  input: TrainingInput,
  batch: NeighbourhoodBatch,
  targets: Int32Array,
  hard: { items: Int32Array; mask: Float32Array; perExample: number },
  negatives: Int32Array | null,
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
      logits = tf.add(tf.matMul(z, features, false, true), model.items.bias.reshape([1, -1])) as tf.Tensor2D;
      label = targetIdx;
    } else {
      const negIdx = tf.tensor1d(negatives, 'int32');
      const negScores = tf.add(tf.matMul(z, tf.gather(features, negIdx), false, true), tf.gather(model.items.bias, negIdx).reshape([1, -1]));
      // A sampled negative that is the target itself is not a negative.
      const hits = tf.equal(targetIdx.reshape([-1, 1]), negIdx.reshape([1, -1]));
      const masked = tf.where(hits, tf.fill(negScores.shape, -1e9), negScores);
      logits = tf.concat([targetScore.reshape([-1, 1]), masked], 1) as tf.Tensor2D;
      label = tf.zeros([b], 'int32');
    }
    // tfjs's fused cross-entropy: its gradient skips the max-shift's, which costs an Equal over all logits.
    let loss: tf.Scalar = tf.losses.softmaxCrossEntropy(tf.oneHot(label, logits.shape[1]), logits) as tf.Scalar;
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
      const batch = timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, positions);
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

function sampleItems(items: number, count: number, random: () => number): Int32Array {
  const out = new Int32Array(Math.min(count, items));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * items);
  return out;
}

function shuffle(a: Int32Array, b: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const ta = a[i]!;
    a[i] = a[j]!;
    a[j] = ta;
    const tb = b[i]!;
    b[i] = b[j]!;
    b[j] = tb;
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
