import { INTERACTION_TYPES, POSITIVE_INTERACTION_TYPES, POSITIVE_RATING_STARS } from '../../graph/model.ts';
import type { InteractionColumns } from './interaction-log.ts';

/**
 * Which interactions say "the user wants this item": the relevance judgement both training and the test set
 * rest on. Ratings at or above a threshold, and the clearly positive event types. A view is weak evidence,
 * so it only counts when the data has no stronger signal at all (a views-only click log).
 */

/** The same judgement the GNN trains on (graph/model.ts). */
export const POSITIVE_EVENT_TYPES = POSITIVE_INTERACTION_TYPES;
export const DEFAULT_RATING_THRESHOLD = POSITIVE_RATING_STARS;

export interface PositiveRule {
  /** A rating of at least this many stars is positive. */
  readonly ratingThreshold: number;
  /** True when the data holds no ratings and no click, add_to_cart, purchase or like events. */
  readonly viewsArePositive: boolean;
}

const RATING = INTERACTION_TYPES.indexOf('rating');
const VIEW = INTERACTION_TYPES.indexOf('view');
const STRONG = new Set(POSITIVE_EVENT_TYPES.map((t) => INTERACTION_TYPES.indexOf(t)));

/** The rule for a data set: decides once, from the whole log, whether views count. */
export function positiveRuleFor(interactions: InteractionColumns, ratingThreshold = DEFAULT_RATING_THRESHOLD): PositiveRule {
  let stronger = false;
  for (let n = 0; n < interactions.length && !stronger; n++) {
    const t = interactions.type[n]!;
    stronger = t === RATING || STRONG.has(t);
  }
  return { ratingThreshold, viewsArePositive: !stronger };
}

/** A lookup by type code; ratings are decided by their value. */
export class PositiveTest {
  private readonly byType: Uint8Array;
  constructor(readonly rule: PositiveRule) {
    this.byType = new Uint8Array(INTERACTION_TYPES.length);
    for (const code of STRONG) this.byType[code] = 1;
    if (rule.viewsArePositive) this.byType[VIEW] = 1;
  }

  isPositive(type: number, value: number): boolean {
    return type === RATING ? value >= this.rule.ratingThreshold : this.byType[type] === 1;
  }
}

export function describePositiveRule(rule: PositiveRule): string {
  const types = [...POSITIVE_EVENT_TYPES, ...(rule.viewsArePositive ? ['view'] : [])];
  return `ratings ≥ ${rule.ratingThreshold} stars, and ${types.join(', ')} events`;
}
