import * as tf from '@tensorflow/tfjs';

import { InsufficientTrainingDataError } from '../../base/errors.ts';
import { mulberry32 } from '../../graph/random.ts';
import { type InteractionTimelines, timelineNeighbourhoods } from '../interaction-timelines.ts';
import type { InterestGAT } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import type { ExcludedColumns } from '../kernels/softmax-cross-entropy.ts';
import { addItemRowGradients, GatOptimizer, type ItemRowGradients } from './gat-optimizer.ts';
import { batchGradients, type HardNegatives, lossScaleOf, type SampledNegatives, splitBatch, type TrainingBatch } from './training-batch.ts';
import { addShardGradients, parameterChecksums, TrainingPeers } from './training-peers.ts';

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
  readonly seed: number;
  /** Validation cut-off for recall. */
  readonly validationK: number;
  /**
   * Validation scores every item for each held-out subject. Beyond this many (subject, item) scores an
   * epoch, it takes a seeded sample of the subjects (the same every epoch) that fits, so that its cost stays
   * bounded on large catalogues: on a 100K-item catalogue with 4,400 held-out subjects it took a third of
   * each epoch.
   */
  readonly validationScores: number;
  /**
   * Threads computing each batch's gradients on the JavaScript backends (wasm, cpu: one core each): the
   * main thread and `threads − 1` workers, each on a shard of the batch. tfjs-node spreads its own work
   * over the cores and always trains on one thread. The result differs from one thread's only by float
   * rounding in the sum of the shards' gradients.
   */
  readonly threads: number;
}

/**
 * Chosen on MovieLens latest-small (temporal split, seed 1; `npm run evaluate`). With cosine scoring, 1,024
 * negatives did as well with seed 1 (Recall@20 0.152 against 0.151) but worse with seed 2 (0.142 against
 * 0.148). Earlier, with dot-product scoring: 2,048 sampled negatives
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
  seed: 1,
  validationK: 20,
  validationScores: 64 * 2 ** 20,
  threads: 2,
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
  /** Threads that computed gradients (1 when the epoch was too small or the backend multi-threaded). */
  readonly threads: number;
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
  const { examples, validation: heldOut } = selectExamples(timelines);
  const validation = sampleSubjects(heldOut, Math.max(1, Math.floor(options.validationScores / Math.max(1, items))), options.seed);
  // An empty epoch would run the model on a batch of zero rows (the wasm kernels divide by zero on those).
  if (examples.position.length === 0) {
    throw new InsufficientTrainingDataError('no positive interaction follows an earlier one of the same user or session: nothing to train the GNN on yet');
  }
  const random = mulberry32(options.seed);
  const sampler = new NegativeSampler(timelines, items, options.negativeSamplingExponent);
  const optimizer = new GatOptimizer(model, options.learningRate);
  const order = Int32Array.from({ length: examples.position.length }, (_, e) => e);
  const reports: EpochReport[] = [];
  let best = { epoch: 0, recall: -1, weights: model.params.snapshot() };
  const peers = await startPeers(model, input, options, Math.ceil(order.length / options.batchSize));

  const columnStart = new Int32Array(items).fill(-1);
  const nextBatch = (picked: Int32Array): TrainingBatch => {
    const subjects = Int32Array.from(picked, (e) => examples.subject[e]!);
    const positions = Int32Array.from(picked, (e) => examples.position[e]!);
    const targets = Int32Array.from(picked, (e) => {
      const reach = Math.min(options.targetWindow, examples.runEnd[e]! - e);
      return timelines.item[examples.position[e + Math.floor(random() * reach)]!]!;
    });
    const negatives = items <= options.fullSoftmaxMaxItems ? null : sampler.sample(options.sampledNegatives, random, targets);
    return {
      neighbourhoods: timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, positions, model.hyper.history),
      targets,
      hard: hardNegatives(timelines, subjects, targets, options.hardNegativesPerExample, items),
      negatives,
      excluded: exclusions(timelines, subjects, positions, targets, negatives?.items ?? null, items, options.excludeSeen, columnStart),
    };
  };

  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const epochStart = performance.now();
      shuffle(order, random);
      let lossSum = 0;
      let batches = 0;
      const batchAt = (from: number): TrainingBatch => nextBatch(order.subarray(from, Math.min(order.length, from + options.batchSize)));
      // The next batch is prepared while the workers finish theirs; batches are drawn in the same order either way.
      const prepared: { next: TrainingBatch | null } = { next: batchAt(0) };
      for (let from = 0; prepared.next; from += options.batchSize) {
        const batch = prepared.next;
        const prepareNext = (): void => {
          prepared.next = from + options.batchSize < order.length ? batchAt(from + options.batchSize) : null;
        };
        if (peers) lossSum += await peers.step(batch, optimizer, prepareNext);
        else {
          const step = batchGradients(model, input.itemTags, items, batch, lossScaleOf(batch), options, optimizer);
          lossSum += (await step.loss.data())[0]!;
          optimizer.apply(step);
          tf.dispose([step.loss, ...step.dense.filter((g): g is tf.Tensor => g !== null)]);
          prepareNext();
        }
        batches++;
        await onBatch?.();
      }
      // The item tables' rows are updated in the optimiser; validation and snapshots read the variables.
      optimizer.flush();
      await peers?.verifyReplicas();
      const recall = validationRecall(model, input, validation, options.validationK);
      // With nothing held out (every subject has one positive) there is nothing to stop early on: keep the latest weights.
      const improved = validation.subject.length === 0 || recall > best.recall;
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
  } finally {
    await peers?.close();
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
    threads: peers ? peers.size + 1 : 1,
  };
}

/**
 * Below this many batches an epoch, starting the workers (about a second: each loads tfjs and builds
 * its replica) costs more than they save.
 */
const PARALLEL_MIN_BATCHES = 16;

/** The backends that run on one core each, and so gain from training threads. */
const SINGLE_CORE_BACKENDS = new Set(['wasm', 'cpu']);

async function startPeers(model: InterestGAT, input: TrainingInput, options: TrainingOptions, batchesPerEpoch: number): Promise<DataParallelStep | null> {
  const backend = tf.getBackend();
  if (options.threads <= 1 || batchesPerEpoch < PARALLEL_MIN_BATCHES || !SINGLE_CORE_BACKENDS.has(backend)) return null;
  const peers = await TrainingPeers.start(options.threads - 1, {
    backend: backend as 'wasm' | 'cpu',
    hyper: model.hyper,
    items: model.items.items,
    tags: model.tagCount,
    itemTags: input.itemTags,
    weights: { hardNegativeWeight: options.hardNegativeWeight },
    learningRate: options.learningRate,
    params: model.params.list().map((v) => v.dataSync() as Float32Array),
  });
  return new DataParallelStep(model, input, options, peers);
}

/**
 * One optimiser step over a batch split across the main thread and the workers: each computes the
 * gradients of its shard (scaled to the whole batch) and sends them to the others; every replica adds
 * them up in shard order and takes the same step.
 */
class DataParallelStep {
  constructor(
    private readonly model: InterestGAT,
    private readonly input: TrainingInput,
    private readonly options: TrainingOptions,
    private readonly peers: TrainingPeers,
  ) {}

  get size(): number {
    return this.peers.size;
  }

  /** Returns the batch's loss. `whileWaiting` runs once this thread's shard is done (to prepare the next batch). */
  async step(batch: TrainingBatch, optimizer: GatOptimizer, whileWaiting: () => void): Promise<number> {
    const scale = lossScaleOf(batch);
    const [own, ...others] = splitBatch(batch, this.peers.size + 1);
    const remote = this.peers.gradients(others, scale);
    const local = batchGradients(this.model, this.input.itemTags, this.input.items, own!, scale, this.options, optimizer);
    let dense: Array<tf.Tensor | null>;
    let items: ItemRowGradients;
    let loss = local.loss.dataSync()[0]!;
    try {
      this.peers.share(
        0,
        local.dense.map((g) => (g ? (g.dataSync() as Float32Array) : null)),
        local.items,
      );
      whileWaiting();
      const shards = await remote;
      for (const shard of shards) loss += shard.loss;
      dense = addShardGradients(optimizer.denseVariables, [local.dense, ...shards.map((shard) => shard.gradients)]);
      items = addItemRowGradients([local.items, ...shards.map((shard) => shard.items)], this.model.hyper.dims);
    } finally {
      local.loss.dispose();
      for (const g of local.dense) g?.dispose();
    }
    optimizer.apply({ dense, items });
    for (const g of dense) g?.dispose();
    return loss;
  }

  verifyReplicas(): Promise<void> {
    return this.peers.verifyReplicas(parameterChecksums(this.model.params.list()));
  }

  close(): Promise<void> {
    return this.peers.close();
  }
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

/** At most `count` of the held-out examples, a seeded sample kept in order (all of them when they fit). */
function sampleSubjects(set: ExampleSet, count: number, seed: number): ExampleSet {
  const n = set.subject.length;
  if (n <= count) return set;
  // Its own random stream: the training's draws stay the same whether validation is sampled or not.
  const picked = Int32Array.from({ length: n }, (_, i) => i);
  shuffle(picked, mulberry32(seed ^ 0x5bd1e995));
  const kept = picked.subarray(0, count).sort();
  return { subject: Int32Array.from(kept, (i) => set.subject[i]!), position: Int32Array.from(kept, (i) => set.position[i]!) };
}

/**
 * The softmax columns (the sampled negatives, or every item) each example leaves out: those holding its
 * target (the target is the softmax's first logit, so as a column it would be no negative) and, with
 * `excludeSeen`, those holding items the subject interacted with before the target.
 */
function exclusions(
  timelines: InteractionTimelines,
  subjects: Int32Array,
  positions: Int32Array,
  targets: Int32Array,
  columns: Int32Array | null,
  items: number,
  excludeSeen: boolean,
  /** [items], all −1: scratch, left as it was found. */
  columnStart: Int32Array,
): ExcludedColumns {
  // Where each item sits among the columns (sampled negatives repeat), so that each row costs its
  // subject's history, not a pass over every column: the columns sorted by item, and where each item's
  // run starts (`columnStart`, kept −1 between batches so that a batch costs its columns, not the catalogue).
  const sorted = columns ? sortedByItem(columns) : null;
  if (sorted) for (let k = sorted.length - 1; k >= 0; k--) columnStart[columns![sorted[k]!]!] = k;
  const start = new Int32Array(subjects.length + 1);
  const excluded: number[] = [];
  const exclude = (item: number): void => {
    if (!sorted) {
      if (item >= 0 && item < items) excluded.push(item);
      return;
    }
    for (let k = columnStart[item] ?? -1; k >= 0 && k < sorted.length && columns![sorted[k]!] === item; k++) excluded.push(sorted[k]!);
  };
  for (let b = 0; b < subjects.length; b++) {
    const target = targets[b]!;
    exclude(target);
    if (excludeSeen) {
      for (let p = timelines.start[subjects[b]!]!; p < positions[b]!; p++) {
        const item = timelines.item[p]!;
        if (item !== target) exclude(item);
      }
    }
    start[b + 1] = excluded.length;
  }
  if (columns) for (const item of columns) columnStart[item] = -1;
  return { start, column: Int32Array.from(excluded) };
}

/** The column numbers ordered by their item, then by number. */
function sortedByItem(columns: Int32Array): Int32Array {
  // item · width + column in a Float64Array (exact below 2^53): a typed sort, no comparator.
  const width = columns.length;
  const keys = Float64Array.from(columns, (item, n) => item * width + n).sort();
  return Int32Array.from(keys, (key) => key % width);
}

/** Up to `k` items each subject gave negative feedback on (other than the target), padded with `padRow`. */
function hardNegatives(timelines: InteractionTimelines, subjects: Int32Array, targets: Int32Array, k: number, padRow: number): HardNegatives {
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
  const padded = tf.tidy(() => tf.concat<tf.Tensor2D>([features, tf.zeros([1, model.hyper.dims])]));
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
