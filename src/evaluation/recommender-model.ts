import type { MetricValues } from './evaluator.ts';
import type { HeldOut } from './split.ts';
import type { TrainingData } from './training-data.ts';

/**
 * The contract between a recommender and the evaluation harness. A model is created fresh for each run,
 * fitted once on the training data, then asked for scores of every item for batches of users.
 */

export interface Scorer {
  /**
   * Scores of every item for each user: a `users.length × itemCount` row-major matrix, higher is better.
   * The evaluator owns the returned array, and itself excludes each user's training positives. An item
   * scored −∞ is never listed: a model that makes lists rather than scores (the served engine) lists fewer
   * than K items rather than have the evaluator fill them up.
   */
  scoreUsers(users: Uint32Array): Float32Array;
}

export interface RecommenderModel extends Scorer {
  readonly name: string;
  /**
   * Learns from `train`. Hyperparameters are chosen here, on `context.validation` only (never the test
   * set): fit candidates on `validation.train`, score them with `validation.evaluate`, then refit the chosen
   * settings on `train`.
   */
  fit(train: TrainingData, context: FitContext): Promise<void>;
  /** The settings in use after `fit` (chosen by tuning, or fixed), for the report. JSON-serialisable. */
  settings(): Record<string, unknown>;
  /** Releases what the model holds outside the heap (the served engine: a store in a temporary folder). */
  close?(): Promise<void>;
}

/** A split carved out of the training data, the same way the test split was carved out of the whole log. */
export interface ValidationSplit {
  readonly train: TrainingData;
  readonly heldOut: HeldOut;
  /** Ranks for the held-out users (their `train` positives excluded) and returns the metrics at `k`. */
  evaluate(scorer: Scorer): MetricValues;
}

export interface FitContext {
  /** Seed every random choice from this: the same seed gives the same model. */
  readonly seed: number;
  /** The cut-off the run reports; select settings on NDCG at this K. */
  readonly k: number;
  /** The largest cut-off the test ranking reports (k when absent): how long a list a list-making model makes. */
  readonly maxK?: number;
  /** Undefined when the training data leaves no user to validate on. */
  readonly validation: ValidationSplit | undefined;
  /** A line of progress for the operator (stderr in the CLI). */
  log(message: string): void;
}
