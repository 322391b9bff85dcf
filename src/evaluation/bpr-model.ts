import { SeededRandom } from '../../graph/random.ts';
import { dotProductScores, normalVectors, sigmoid } from './dense-embeddings.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';
import { TripleSampler } from './triple-sampler.ts';
import { type EarlyStoppingOptions, type EpochTrainer, type PartialAxes, tuneInStages } from './tuning.ts';

/**
 * Matrix factorisation trained with Bayesian personalised ranking (Rendle et al. 2009, LearnBPR):
 *
 *   x̂(u, i) = p_u · q_i + b_i
 *   loss    = Σ_(u,i,j) −ln σ(x̂(u, i) − x̂(u, j)) + λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²) / 2
 *
 * over triples of a training positive (u, i) and a negative j drawn uniformly from the items u has no
 * positive on. Plain SGD, one update per triple, every positive pair once per epoch in a seeded order:
 * in JavaScript a per-triple update touches 3·dims numbers where a mini-batch Adam step would touch them all.
 * Dimensions, learning rate and λ are tuned on the validation split (in stages); epochs by early stopping on it.
 */

export interface BprSettings {
  readonly dims: number;
  readonly learningRate: number;
  readonly regularisation: number;
}

/** Where tuning starts and which settings each stage searches (see `tuneInStages`). */
export interface BprTuning {
  readonly start: BprSettings;
  readonly stages: ReadonlyArray<PartialAxes<BprSettings>>;
}

/**
 * Learning rate × λ at 64 dimensions, then the dimensions at the best of those: 6 runs instead of the
 * full grid's 12, which matters because each run trains a few hundred epochs.
 */
export const BPR_TUNING: BprTuning = {
  start: { dims: 64, learningRate: 0.05, regularisation: 0.01 },
  stages: [{ learningRate: [0.05, 0.1], regularisation: [0.003, 0.01] }, { dims: [32, 64, 128] }],
};

/**
 * Uniform negatives are mostly easy, so BPR learns slowly: hundreds of cheap epochs, with a validation NDCG
 * that rises slowly and noisily. It is checked every 20 epochs and given 60 to improve.
 */
export const BPR_STOPPING: EarlyStoppingOptions = { maxEpochs: 400, evalEvery: 20, patience: 3 };

/** Used without a validation split (nothing to tune on). */
export const BPR_DEFAULTS: BprSettings & { readonly epochs: number } = {
  dims: 64,
  learningRate: 0.05,
  regularisation: 0.01,
  epochs: 50,
};

const INIT_SD = 0.1;

export class BprModel implements RecommenderModel {
  readonly name = 'bpr';
  private chosen: BprSettings & { epochs: number } = { ...BPR_DEFAULTS };
  private validationNdcg: number | undefined;
  private trainer: BprTrainer | undefined;

  constructor(
    private readonly tuning: BprTuning = BPR_TUNING,
    private readonly stopping: EarlyStoppingOptions = BPR_STOPPING,
  ) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    const seed = context.seed;
    if (context.validation !== undefined) {
      const tuned = tuneInStages(
        this.name,
        this.tuning.start,
        this.tuning.stages,
        (point, data) => new BprTrainer(data, point, seed),
        this.stopping,
        context.validation,
        context,
      );
      this.chosen = { ...tuned.point, epochs: tuned.epochs };
      this.validationNdcg = tuned.validationScore;
    }
    const trainer = new BprTrainer(train, this.chosen, seed);
    for (let e = 0; e < this.chosen.epochs; e++) trainer.trainEpoch();
    this.trainer = trainer;
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (this.trainer === undefined) throw new Error('bpr: fit before scoring');
    return this.trainer.scoreUsers(users);
  }

  settings(): Record<string, unknown> {
    return {
      ...this.chosen,
      optimiser: 'sgd',
      negatives: 'uniform',
      ...(this.validationNdcg !== undefined ? { validationNdcg: this.validationNdcg } : {}),
    };
  }
}

/** BPR-MF parameters and their SGD epochs over one training set. */
export class BprTrainer implements EpochTrainer {
  readonly userVectors: Float32Array;
  readonly itemVectors: Float32Array;
  readonly itemBias: Float32Array;
  private readonly sampler: TripleSampler;

  constructor(
    private readonly train: TrainingData,
    private readonly settings: BprSettings,
    seed: number,
  ) {
    const random = new SeededRandom(seed);
    this.userVectors = normalVectors(random, train.userCount, settings.dims, INIT_SD);
    this.itemVectors = normalVectors(random, train.itemCount, settings.dims, INIT_SD);
    this.itemBias = new Float32Array(train.itemCount);
    this.sampler = new TripleSampler(train.positives, random);
  }

  trainEpoch(): void {
    const { userVectors: P, itemVectors: Q, itemBias: b, sampler } = this;
    const { dims, learningRate: lr, regularisation: reg } = this.settings;
    sampler.shuffle();
    const { order, pairUser, pairItem } = sampler;
    for (let n = 0; n < order.length; n++) {
      const pair = order[n]!;
      const u = pairUser[pair]!;
      const i = pairItem[pair]!;
      const j = sampler.negativeFor(u);
      if (j < 0) continue;
      const uo = u * dims;
      const io = i * dims;
      const jo = j * dims;
      let x = b[i]! - b[j]!;
      for (let d = 0; d < dims; d++) x += P[uo + d]! * (Q[io + d]! - Q[jo + d]!);
      // d/dx of ln σ(x) is σ(−x).
      const g = sigmoid(-x);
      for (let d = 0; d < dims; d++) {
        const pu = P[uo + d]!;
        const qi = Q[io + d]!;
        const qj = Q[jo + d]!;
        P[uo + d] = pu + lr * (g * (qi - qj) - reg * pu);
        Q[io + d] = qi + lr * (g * pu - reg * qi);
        Q[jo + d] = qj + lr * (-g * pu - reg * qj);
      }
      b[i]! += lr * (g - reg * b[i]!);
      b[j]! += lr * (-g - reg * b[j]!);
    }
  }

  scoreUsers(users: Uint32Array): Float32Array {
    return dotProductScores(users, this.userVectors, this.itemVectors, this.settings.dims, this.train.itemCount, this.itemBias);
  }
}
