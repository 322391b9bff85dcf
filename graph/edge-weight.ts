import type { InteractionType } from './model.ts';

/**
 * How much an interaction says about interest: a base weight from its type (negative for dislike and
 * dismiss; by stars for ratings) times an exponential time decay with a configurable half-life.
 */
export interface WeightPolicy {
  readonly typeWeights: Readonly<Record<InteractionType, number>>;
  /** Weight of a 1★ … 5★ rating; half stars interpolate linearly, 0.5★ counts as 1★. */
  readonly ratingStars: readonly [number, number, number, number, number];
  readonly halfLifeMs: number;
}

export function baseWeight(policy: WeightPolicy, type: InteractionType, value: number | null): number {
  if (type !== 'rating') return policy.typeWeights[type];
  const stars = Math.min(5, Math.max(1, value ?? 1));
  const low = Math.floor(stars);
  const lowWeight = policy.ratingStars[low - 1]!;
  if (low === stars) return policy.typeWeights.rating * lowWeight;
  const highWeight = policy.ratingStars[low]!;
  return policy.typeWeights.rating * (lowWeight + (stars - low) * (highWeight - lowWeight));
}

/**
 * 2^(-age / halfLife). Events stamped after the reference time (clock skew, late reference) are not
 * boosted: their age counts as zero.
 */
export function decayFactor(eventTs: number, now: number, halfLifeMs: number): number {
  const age = now - eventTs;
  return age <= 0 ? 1 : Math.exp((-Math.LN2 * age) / halfLifeMs);
}

export function decayedWeight(base: number, eventTs: number, now: number, halfLifeMs: number): number {
  return base * decayFactor(eventTs, now, halfLifeMs);
}
