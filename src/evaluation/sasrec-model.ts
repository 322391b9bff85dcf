import { pino } from 'pino';

import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { SasRecSettings, SasRecTrainer } from './sasrec-network.ts';
import { positiveSequences, type SparseRows, type TrainingData } from './training-data.ts';
import { type EarlyStoppingOptions, type PartialAxes, tuneInStages } from './tuning.ts';

/**
 * SASRec (Kang and McAuley 2018), the sequential baseline: self-attention over each subject's training
 * positives in the order they became positive (see `sasrec-network.ts` for the network and its loss). It
 * runs on the GAT's TensorFlow.js backend (`gnn/backend.ts`, our segment-sum kernel for gather's gradient),
 * loaded only when a run includes it. Settings are tuned on the validation split (in stages), epochs by early
 * stopping on it; the test set is never seen.
 */

export type { SasRecSettings } from './sasrec-network.ts';

export interface SasRecTuning {
  readonly start: SasRecSettings;
  readonly stages: ReadonlyArray<PartialAxes<SasRecSettings>>;
}

/**
 * The paper's ML-1M settings (64 dims, 2 blocks, 1 head, lr 1e-3, batch 128) at L = 50, with dropout tuned.
 * L = 200 is out of reach here: tfjs-wasm runs batched matrix products ([batch, L, d]·[batch, d, L], the
 * attention) in a plain loop, not XNNPACK, so an ML latest-small epoch took 43 s at L = 200 against 9 s at
 * L = 50 (2 loaded cores); at L = 50, 610 users' sequences are still cut into windows that cover every positive.
 */
export const SASREC_TUNING: SasRecTuning = {
  start: { dims: 64, maxLength: 50, blocks: 2, heads: 1, dropout: 0.2, learningRate: 1e-3, batchSize: 128 },
  stages: [{ dropout: [0.2, 0.5] }],
};

/** Validation NDCG on ML latest-small peaked at epoch 30 at lr 1e-3 (checked every 5, given 10 more). */
export const SASREC_STOPPING: EarlyStoppingOptions = { maxEpochs: 100, evalEvery: 5, patience: 2 };

/** Used without a validation split (nothing to tune on). */
export const SASREC_DEFAULTS: SasRecSettings & { readonly epochs: number } = { ...SASREC_TUNING.start, epochs: 20 };

/** Small and short, for tests and smoke runs: numbers not comparable with a full run. */
export const SASREC_QUICK: { tuning: SasRecTuning; stopping: EarlyStoppingOptions; epochs: number } = {
  tuning: {
    start: { dims: 32, maxLength: 20, blocks: 1, heads: 1, dropout: 0.2, learningRate: 5e-3, batchSize: 128 },
    stages: [{}],
  },
  stopping: { maxEpochs: 30, evalEvery: 5, patience: 2 },
  epochs: 20,
};

export class SasRecModel implements RecommenderModel {
  readonly name = 'sasrec';
  private chosen: SasRecSettings & { epochs: number };
  private validationNdcg: number | undefined;
  private trainer: SasRecTrainer | undefined;
  private backend = '';

  constructor(
    private readonly tuning: SasRecTuning = SASREC_TUNING,
    private readonly stopping: EarlyStoppingOptions = SASREC_STOPPING,
    defaultEpochs = SASREC_DEFAULTS.epochs,
  ) {
    this.chosen = { ...tuning.start, epochs: defaultEpochs };
  }

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    this.trainer?.dispose();
    this.trainer = undefined;
    const { initialiseBackend } = await import('../../gnn/index.ts');
    const { SasRecTrainer } = await import('./sasrec-network.ts');
    const info = await initialiseBackend('auto', pino({ level: 'silent' }));
    this.backend = info.name;
    context.log(`sasrec: TensorFlow.js backend ${info.name} (${info.package}), because ${info.reason}`);
    const seed = context.seed;
    if (context.validation !== undefined) {
      const sequences = new Map<TrainingData, SparseRows>();
      const trials: SasRecTrainer[] = [];
      try {
        const tuned = tuneInStages(
          this.name,
          this.tuning.start,
          this.tuning.stages,
          (point, data) => {
            if (!sequences.has(data)) sequences.set(data, positiveSequences(data));
            trials.push(new SasRecTrainer(data, sequences.get(data)!, point, seed));
            return trials[trials.length - 1]!;
          },
          this.stopping,
          context.validation,
          context,
        );
        this.chosen = { ...tuned.point, epochs: tuned.epochs };
        this.validationNdcg = tuned.validationScore;
      } finally {
        for (const trial of trials) trial.dispose();
      }
    }
    const { epochs, ...settings } = this.chosen;
    const trainer = new SasRecTrainer(train, positiveSequences(train), settings, seed);
    for (let e = 0; e < epochs; e++) trainer.trainEpoch();
    context.log(`sasrec: refit ${epochs} epochs on the training data, last loss ${trainer.lastLoss.toFixed(4)}`);
    this.trainer = trainer;
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (this.trainer === undefined) throw new Error('sasrec: fit before scoring');
    return this.trainer.scoreUsers(users);
  }

  settings(): Record<string, unknown> {
    return {
      ...this.chosen,
      optimiser: 'adam',
      backend: this.backend,
      ...(this.validationNdcg !== undefined ? { validationNdcg: this.validationNdcg } : {}),
    };
  }
}
