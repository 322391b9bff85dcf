import { EvaluationDataError } from './evaluation-error.ts';
import { evaluateRanking } from './evaluator.ts';
import type { InteractionLog } from './interaction-log.ts';
import { DEFAULT_RATING_THRESHOLD, describePositiveRule, type PositiveRule, positiveRuleFor } from './positive-rule.ts';
import type { Scorer, ValidationSplit } from './recommender-model.ts';
import { DEFAULT_TEST_SHARE, type HeldOut, orderTiesAtRandom, splitInteractions, type SplitProtocol } from './split.ts';
import { type TrainingData, trainingDataFrom } from './training-data.ts';

/** A log split for evaluation: training data and test set, plus a validation split carved from training. */

export interface EvaluationDataOptions {
  readonly protocol: SplitProtocol;
  readonly seed: number;
  readonly ratingThreshold?: number;
  readonly testShare?: number;
}

export interface SplitStats {
  readonly users: number;
  readonly items: number;
  readonly interactions: number;
  readonly positivePairs: number;
  readonly evaluatedUsers: number;
  /** Users with interactions but fewer than 2 positives. */
  readonly usersLeftOut: number;
  readonly trainInteractions: number;
  readonly trainPositives: number;
  readonly testPositives: number;
  /** Non-positive interactions dropped as later than the user's first test positive (temporal only). */
  readonly removedLater: number;
  readonly validationUsers: number;
  readonly validationPositives: number;
}

export interface EvaluationData {
  readonly protocol: SplitProtocol;
  readonly seed: number;
  readonly testShare: number;
  readonly rule: PositiveRule;
  readonly train: TrainingData;
  readonly test: HeldOut;
  /** Carved from `train` by the same protocol; undefined when it leaves no user to validate on. */
  readonly validation: { readonly train: TrainingData; readonly heldOut: HeldOut } | undefined;
  readonly stats: SplitStats;
}

export function prepareEvaluation(log: InteractionLog, options: EvaluationDataOptions): EvaluationData {
  const { protocol, seed } = options;
  const testShare = options.testShare ?? DEFAULT_TEST_SHARE;
  const userCount = log.userIds.length;
  const itemCount = log.itemIds.length;
  const interactions = orderTiesAtRandom(log.interactions, seed);
  const rule = positiveRuleFor(interactions, options.ratingThreshold ?? DEFAULT_RATING_THRESHOLD);
  const all = trainingDataFrom(log, interactions, rule);

  const outer = splitInteractions(interactions, userCount, itemCount, rule, { protocol, seed, testShare });
  if (outer.heldOut.users.length === 0) {
    throw new EvaluationDataError(`no user has 2 or more positive items (positives: ${describePositiveRule(rule)}), so there is nothing to evaluate`);
  }
  const train = trainingDataFrom(log, outer.train, rule);

  // The same rule on the training log (not re-derived from it, so views do not change meaning), another seed.
  const inner = splitInteractions(train.interactions, userCount, itemCount, rule, {
    protocol,
    seed: (seed + 1) >>> 0,
    testShare,
  });
  const validation = inner.heldOut.users.length > 0 ? { train: trainingDataFrom(log, inner.train, rule), heldOut: inner.heldOut } : undefined;

  return {
    protocol,
    seed,
    testShare,
    rule,
    train,
    test: outer.heldOut,
    validation,
    stats: {
      users: userCount,
      items: itemCount,
      interactions: interactions.length,
      positivePairs: all.positiveCount,
      evaluatedUsers: outer.heldOut.users.length,
      usersLeftOut: outer.usersLeftOut,
      trainInteractions: train.interactions.length,
      trainPositives: train.positiveCount,
      testPositives: outer.heldOut.items.length,
      removedLater: outer.removedLater,
      validationUsers: inner.heldOut.users.length,
      validationPositives: inner.heldOut.items.length,
    },
  };
}

/** The validation split as models see it, evaluating at `k` (and nothing else, to stay quick). */
export function validationSplitOf(data: EvaluationData, k: number): ValidationSplit | undefined {
  const v = data.validation;
  if (v === undefined) return undefined;
  return {
    train: v.train,
    heldOut: v.heldOut,
    evaluate: (scorer: Scorer) => evaluateRanking(scorer, v.train, v.heldOut, { ks: [k] }).byK[k]!,
  };
}
