import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';
import { baseWeight } from '../../graph/edge-weight.ts';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { initialiseBackend, type BackendPreference } from '../../gnn/backend.ts';
import { buildTimelines, timelineNeighbourhoods, type InteractionTimelines } from '../../gnn/interaction-timelines.ts';
import { DEFAULT_GAT, InterestGAT, type GatHyperparameters } from '../../gnn/interest-gat.ts';
import { DEFAULT_TRAINING, trainGat, type TrainingOptions, type TrainingReport } from '../../gnn/training/gat-trainer.ts';
import { loadConfig } from '../config.ts';
import { PositiveTest } from './positive-rule.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';
import { similarItems } from './item-knn-model.ts';

/**
 * The product's model in the evaluation harness: the same InterestGAT and trainer the engine runs,
 * fed the training log as timelines (every interaction type, weighted as the engine weighs them by
 * default), and asked for each user's scores from their latest interactions, as the engine serves them.
 * Early stopping holds out each user's last training positive; the test set is never seen.
 */
export const GAT_TRAINING: TrainingOptions = { ...DEFAULT_TRAINING };

/**
 * Co-interacted items whose feature rows an item shares (0: off; see `cooccurrenceTagPairs`). Off by default:
 * on lastfm-hetrec-2k (temporal, seed 1) 20 lifted Recall@20 / NDCG@20 from 0.0804 / 0.0545 to 0.0870 / 0.0564,
 * on ml-latest-small it gave 0.1504 / 0.1202 against 0.1528 / 0.1186, and its rows live in the tag table,
 * which the optimiser updates densely: a step would cost the catalogue again.
 */
export const GAT_COOCCURRENCE_NEIGHBOURS = 0;

/** Small and short, for smoke tests: numbers not comparable with a full run. */
export const GAT_QUICK = {
  hyper: { dims: 16, heads: 2, fanout: 10, history: 4, scale: 8, seed: 1 } satisfies GatHyperparameters,
  training: { ...DEFAULT_TRAINING, epochs: 3, patience: 3 } satisfies TrainingOptions,
};

export class GatModel implements RecommenderModel {
  readonly name = 'gat';
  private model: InterestGAT | undefined;
  private timelines: InteractionTimelines | undefined;
  private itemFeatures: tf.Tensor2D | undefined;
  private report: TrainingReport | undefined;
  private backend = '';

  constructor(
    private readonly hyper: GatHyperparameters = DEFAULT_GAT,
    private readonly training: TrainingOptions = GAT_TRAINING,
    private readonly backendPreference: BackendPreference = 'auto',
    /** Co-interacted items each item shares a feature row with (0: none); see `cooccurrenceTagPairs`. */
    private readonly cooccurrenceNeighbours = GAT_COOCCURRENCE_NEIGHBOURS,
  ) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    this.dispose();
    const info = await initialiseBackend(this.backendPreference, pino({ level: 'silent' }));
    this.backend = info.name;
    context.log(`gat: TensorFlow.js backend ${info.name} (${info.package}), because ${info.reason}`);
    const policy = loadConfig({ env: {} }).weightPolicy;
    const positive = new PositiveTest(train.rule);
    const log = train.interactions;
    const weight = new Float32Array(log.length);
    const positives = new Uint8Array(log.length);
    const ts = new Float64Array(log.length);
    for (let n = 0; n < log.length; n++) {
      const type = INTERACTION_TYPES[log.type[n]!]!;
      weight[n] = baseWeight(policy, type, type === 'rating' ? log.value[n]! : null);
      positives[n] = positive.isPositive(log.type[n]!, log.value[n]!) ? 1 : 0;
      // Events without a time keep the order they were read in.
      ts[n] = Number.isFinite(log.ts[n]!) ? log.ts[n]! : n;
    }
    this.timelines = buildTimelines(train.userCount, { length: log.length, subject: log.user, item: log.item, typeCode: log.type, weight, ts, positive: positives });
    const itemTags = this.cooccurrenceNeighbours > 0 ? cooccurrenceTagPairs(train, this.cooccurrenceNeighbours) : tagPairs(train);
    const tagCount = train.itemTags.names.length + (this.cooccurrenceNeighbours > 0 ? train.itemCount : 0);
    this.model = new InterestGAT({ ...this.hyper, seed: context.seed }, train.itemCount, tagCount);
    this.report = await trainGat(this.model, { timelines: this.timelines, itemTags, items: train.itemCount }, { ...this.training, seed: context.seed }, (epoch) =>
      context.log(`gat: epoch ${epoch.epoch} loss ${epoch.loss.toFixed(4)} validation recall@${this.training.validationK} ${epoch.validationRecall.toFixed(4)} (${epoch.seconds.toFixed(1)} s)`),
    );
    this.itemFeatures = this.model.encodeItems(itemTags);
  }

  scoreUsers(users: Uint32Array): Float32Array {
    const { model, timelines, itemFeatures } = this;
    if (!model || !timelines || !itemFeatures) throw new Error('gat: fit before scoring');
    const items = itemFeatures.shape[0];
    const scores = tf.tidy(() => {
      const padded = tf.concat([itemFeatures, tf.zeros([1, model.hyper.dims])]) as tf.Tensor2D;
      const z = model.encodeSubjects(padded, timelineNeighbourhoods(timelines, users, model.hyper.fanout, items, undefined, model.hyper.history));
      return tf.add(tf.matMul(z, itemFeatures, false, true), model.items.bias.reshape([1, -1]));
    });
    const values = scores.dataSync() as Float32Array;
    scores.dispose();
    return values;
  }

  settings(): Record<string, unknown> {
    return {
      ...this.hyper,
      ...(this.cooccurrenceNeighbours > 0 ? { cooccurrenceNeighbours: this.cooccurrenceNeighbours } : {}),
      backend: this.backend,
      learningRate: this.training.learningRate,
      batchSize: this.training.batchSize,
      loss: this.training.fullSoftmaxMaxItems > 0 ? `softmax (full up to ${this.training.fullSoftmaxMaxItems} items, else ${this.training.sampledNegatives} sampled)` : `sampled softmax (${this.training.sampledNegatives} negatives)`,
      ...(this.report ? { epochs: this.report.bestEpoch, validationRecall: this.report.bestValidationRecall, trainingSeconds: this.report.seconds } : {}),
    };
  }

  private dispose(): void {
    this.model?.dispose();
    this.itemFeatures?.dispose();
    this.model = undefined;
    this.itemFeatures = undefined;
  }
}

/**
 * The item tags plus co-occurrence "tags": item i also carries a tag of its own (index T + i) and the tags of
 * its `neighbours` most co-interacted items (ItemKNN's cosine with shrinkage 10 over the training positives),
 * so items liked by the same people share feature rows. An item seen a few times learns little of its own
 * row e_i; its features then lean on what its neighbours' rows learnt.
 */
export function cooccurrenceTagPairs(train: TrainingData, neighbours: number): { item: Int32Array; tag: Int32Array } {
  const own = tagPairs(train);
  const [table] = similarItems(train, [COOCCURRENCE_SHRINKAGE], neighbours);
  const tagBase = train.itemTags.names.length;
  const items: number[] = Array.from(own.item);
  const tags: number[] = Array.from(own.tag);
  for (let i = 0; i < train.itemCount; i++) {
    if (train.itemPopularity[i] === 0) continue;
    items.push(i);
    tags.push(tagBase + i);
    for (let q = i * table!.width; q < i * table!.width + table!.count[i]!; q++) {
      items.push(i);
      tags.push(tagBase + table!.neighbour[q]!);
    }
  }
  return { item: Int32Array.from(items), tag: Int32Array.from(tags) };
}

const COOCCURRENCE_SHRINKAGE = 10;

function tagPairs(train: TrainingData): { item: Int32Array; tag: Int32Array } {
  const { start, tags } = train.itemTags;
  const item = new Int32Array(tags.length);
  for (let i = 0; i < train.itemCount; i++) item.fill(i, start[i]!, start[i + 1]!);
  return { item, tag: Int32Array.from(tags) };
}
