import type { FitContext, Scorer, ValidationSplit } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * Honest tuning for the baselines: a small grid, every candidate scored on the validation split only, and
 * training length chosen by early stopping on the same split.
 */

type Axes = Record<string, readonly unknown[]>;
export type GridPoint<A extends Axes> = { -readonly [K in keyof A]: A[K][number] };

/** Every combination of the axes' values, the first axis varying slowest. */
export function gridOf<A extends Axes>(axes: A): Array<GridPoint<A>> {
  let points: Array<Record<string, unknown>> = [{}];
  for (const [name, values] of Object.entries(axes)) {
    points = points.flatMap((point) => values.map((value) => ({ ...point, [name]: value })));
  }
  return points as Array<GridPoint<A>>;
}

export interface EarlyStoppingOptions {
  readonly maxEpochs: number;
  /** Validate after every this many epochs. */
  readonly evalEvery: number;
  /** Stop after this many validations in a row without a new best. */
  readonly patience: number;
}

export interface EarlyStoppingResult {
  /** Epochs trained when the best validation score was seen. */
  readonly bestEpoch: number;
  readonly bestScore: number;
  readonly epochsRun: number;
}

/** Runs `trainEpoch` until the validation score stops improving; higher scores are better. */
export function trainWithEarlyStopping(options: EarlyStoppingOptions, trainEpoch: (epoch: number) => void, validate: () => number): EarlyStoppingResult {
  let bestEpoch = 0;
  let bestScore = -Infinity;
  let sinceBest = 0;
  let epoch = 0;
  while (epoch < options.maxEpochs) {
    trainEpoch(epoch++);
    if (epoch % options.evalEvery !== 0 && epoch !== options.maxEpochs) continue;
    const score = validate();
    if (score > bestScore) {
      bestScore = score;
      bestEpoch = epoch;
      sinceBest = 0;
    } else if (++sinceBest >= options.patience) break;
  }
  return { bestEpoch, bestScore, epochsRun: epoch };
}

/** Keeps the best-scoring candidate; ties keep the earlier one (the grid lists simpler settings first). */
export class BestOf<T> {
  best: T | undefined;
  bestScore = -Infinity;

  offer(candidate: T, score: number): boolean {
    if (score > this.bestScore) {
      this.best = candidate;
      this.bestScore = score;
      return true;
    }
    return false;
  }
}

export function formatSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([name, value]) => `${name}=${typeof value === 'number' && !Number.isInteger(value) ? value.toPrecision(3) : String(value)}`)
    .join(' ');
}

/** A model trained one epoch at a time, scoring with the parameters it has now: what early stopping drives. */
export interface EpochTrainer extends Scorer {
  trainEpoch(): void;
}

export interface TunedEpochs<P> {
  readonly point: P;
  /** Epochs at the best validation score: the training length the refit on the full training data uses. */
  readonly epochs: number;
  readonly validationScore: number;
}

/** Builds a trainer for a candidate point on some training data (the validation split's, when tuning). */
export type TrainerFactory<P> = (point: P, train: TrainingData) => EpochTrainer;

/** Values to try for some of a point's settings. */
export type PartialAxes<P> = { readonly [K in keyof P]?: readonly P[K][] };

/**
 * Grid search with early stopping: each point's trainer is built on `validation.train` and trained until
 * validation NDCG@K stops improving; the best (point, epochs) wins. Never touches the test set.
 */
export function tuneEpochTrainer<P extends object>(
  modelName: string,
  points: readonly P[],
  create: TrainerFactory<P>,
  stopping: EarlyStoppingOptions,
  validation: ValidationSplit,
  context: Pick<FitContext, 'k' | 'log'>,
): TunedEpochs<P> {
  const best = new BestOf<TunedEpochs<P>>();
  points.forEach((point, n) => {
    const trial = runTrial(point, create, stopping, validation);
    best.offer(trial, trial.validationScore);
    context.log(`${modelName} [${n + 1}/${points.length}] ${describeTrial(trial, context.k)}`);
  });
  if (best.best === undefined) throw new RangeError(`${modelName}: no candidate produced a validation score`);
  return best.best;
}

/**
 * Coordinate-wise grid search with early stopping, for models too slow for the full product of their axes:
 * stage by stage, a small grid over some settings with the others held at the best point found so far
 * (`start` before the first stage). A point already trained in an earlier stage is not trained again.
 * Scores come from the validation split only, as in `tuneEpochTrainer`.
 */
export function tuneInStages<P extends object>(
  modelName: string,
  start: P,
  stages: ReadonlyArray<PartialAxes<P>>,
  create: TrainerFactory<P>,
  stopping: EarlyStoppingOptions,
  validation: ValidationSplit,
  context: Pick<FitContext, 'k' | 'log'>,
): TunedEpochs<P> {
  const best = new BestOf<TunedEpochs<P>>();
  const tried = new Set<string>();
  stages.forEach((axes, s) => {
    const base = best.best?.point ?? start;
    const points = gridOf(axes as Axes).map((values) => ({ ...base, ...values }));
    points.forEach((point, n) => {
      const key = formatSettings(point);
      const where = `${modelName} [stage ${s + 1}/${stages.length}, ${n + 1}/${points.length}]`;
      if (tried.has(key)) {
        context.log(`${where} ${key}: trained in an earlier stage`);
        return;
      }
      tried.add(key);
      const trial = runTrial(point, create, stopping, validation);
      best.offer(trial, trial.validationScore);
      context.log(`${where} ${describeTrial(trial, context.k)}`);
    });
  });
  if (best.best === undefined) throw new RangeError(`${modelName}: no candidate produced a validation score`);
  return best.best;
}

interface Trial<P> extends TunedEpochs<P> {
  readonly epochsRun: number;
  readonly seconds: number;
}

function runTrial<P>(point: P, create: TrainerFactory<P>, stopping: EarlyStoppingOptions, validation: ValidationSplit): Trial<P> {
  const started = performance.now();
  const trainer = create(point, validation.train);
  const run = trainWithEarlyStopping(
    stopping,
    () => trainer.trainEpoch(),
    () => validation.evaluate(trainer).ndcg,
  );
  return {
    point,
    epochs: run.bestEpoch,
    validationScore: run.bestScore,
    epochsRun: run.epochsRun,
    seconds: (performance.now() - started) / 1000,
  };
}

function describeTrial<P>(trial: Trial<P>, k: number): string {
  return (
    `${formatSettings(trial.point as Record<string, unknown>)}: validation NDCG@${k} ${trial.validationScore.toFixed(4)} ` +
    `at epoch ${trial.epochs} (${trial.epochsRun} run, ${trial.seconds.toFixed(1)} s)`
  );
}
