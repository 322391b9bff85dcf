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
export function trainWithEarlyStopping(
  options: EarlyStoppingOptions,
  trainEpoch: (epoch: number) => void,
  validate: () => number,
): EarlyStoppingResult {
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
