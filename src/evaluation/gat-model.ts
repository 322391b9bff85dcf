import { pino } from 'pino';

import {
  type BackendPreference,
  buildTimelines,
  DEFAULT_GAT,
  DEFAULT_TRAINING,
  type GatHyperparameters,
  initialiseBackend,
  TimelineModel,
  type TrainingOptions,
} from '../../gnn/index.ts';
import { baseWeight } from '../../graph/edge-weight.ts';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { loadConfig } from '../config.ts';
import { PositiveTest } from './positive-rule.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * The product's model in the evaluation harness: the same InterestGAT and trainer the engine runs,
 * fed the training log as timelines (every interaction type, weighted as the engine weighs them by
 * default), and asked for each user's scores from their latest interactions, as the engine serves them.
 * Early stopping holds out each user's last training positive; the test set is never seen.
 */
export const GAT_TRAINING: TrainingOptions = { ...DEFAULT_TRAINING };

/** Small and short, for smoke tests: numbers not comparable with a full run. */
export const GAT_QUICK = {
  hyper: { dims: 16, heads: 2, fanout: 10, history: 4, scale: 8, seed: 1 } satisfies GatHyperparameters,
  training: { ...DEFAULT_TRAINING, epochs: 3, patience: 3 } satisfies TrainingOptions,
};

export class GatModel implements RecommenderModel {
  readonly name = 'gat';
  private model: TimelineModel | undefined;
  private backend = '';

  constructor(
    private readonly hyper: GatHyperparameters = DEFAULT_GAT,
    private readonly training: TrainingOptions = GAT_TRAINING,
    private readonly backendPreference: BackendPreference = 'auto',
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
    const timelines = buildTimelines(train.userCount, {
      length: log.length,
      subject: log.user,
      item: log.item,
      typeCode: log.type,
      weight,
      ts,
      positive: positives,
    });
    const catalogue = { items: train.itemCount, tagCount: train.itemTags.names.length, itemTags: tagPairs(train) };
    this.model = await TimelineModel.train({ ...this.hyper, seed: context.seed }, timelines, catalogue, { ...this.training, seed: context.seed }, (epoch) =>
      context.log(
        `gat: epoch ${epoch.epoch} loss ${epoch.loss.toFixed(4)} validation recall@${this.training.validationK} ${epoch.validationRecall.toFixed(4)} (${epoch.seconds.toFixed(1)} s)`,
      ),
    );
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (!this.model) throw new Error('gat: fit before scoring');
    return this.model.scoreSubjects(users);
  }

  settings(): Record<string, unknown> {
    return {
      ...this.hyper,
      backend: this.backend,
      learningRate: this.training.learningRate,
      batchSize: this.training.batchSize,
      loss:
        this.training.fullSoftmaxMaxItems > 0
          ? `softmax (full up to ${this.training.fullSoftmaxMaxItems} items, else ${this.training.sampledNegatives} sampled)`
          : `sampled softmax (${this.training.sampledNegatives} negatives)`,
      ...(this.model
        ? { epochs: this.model.report.bestEpoch, validationRecall: this.model.report.bestValidationRecall, trainingSeconds: this.model.report.seconds }
        : {}),
    };
  }

  private dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}

function tagPairs(train: TrainingData): { item: Int32Array; tag: Int32Array } {
  const { start, tags } = train.itemTags;
  const item = new Int32Array(tags.length);
  for (let i = 0; i < train.itemCount; i++) item.fill(i, start[i], start[i + 1]);
  return { item, tag: Int32Array.from(tags) };
}
