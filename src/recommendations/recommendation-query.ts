import { z } from 'zod';

import { ValidationError } from '../../base/errors.ts';
import { freeRecord } from '../free-data.ts';
import { identifier } from '../identifier.ts';
import { fieldIssues } from '../validation.ts';

/**
 * What a caller may ask the query layer, as schemas (the HTTP API validates and documents requests with
 * the same ones). Validation errors name the field.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A condition on one catalogue attribute: a value (equal to it, or containing it when the attribute is a
 * list), a list of values (any of them), or a numeric range.
 */
export const AttributeConditionSchema = z.union([
  scalar,
  z.array(scalar).min(1, 'must list at least one value').max(100, 'must list at most 100 values'),
  z
    .strictObject({ min: z.number().optional(), max: z.number().optional() })
    .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'needs min, max or both' })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'min must not exceed max' }),
]);
export type AttributeCondition = z.infer<typeof AttributeConditionSchema>;

export const RecommendationFiltersSchema = z.strictObject({
  /** Keep only items with at least one of these tags. */
  includeTags: z.array(identifier).max(100, 'must list at most 100 tags').optional(),
  /** Drop items with any of these tags. */
  excludeTags: z.array(identifier).max(100, 'must list at most 100 tags').optional(),
  /** Keep only items whose attributes meet every condition. */
  attributes: freeRecord(AttributeConditionSchema, z.string().min(1, 'must not be empty')).optional(),
  excludeItems: z.array(identifier).max(1000, 'must list at most 1000 items').optional(),
  /** Items the subject already interacted with are left out unless this is true (disliked and dismissed ones always are). */
  includeConsumed: z.boolean().optional(),
});
export type RecommendationFilters = z.infer<typeof RecommendationFiltersSchema>;

/**
 * Items a list holds. Its upper bound is configured (recommend.maxCount): parseRecommendationOptions checks
 * it, and the OpenAPI document states it on this schema.
 */
export const RecommendationCountSchema = z.number().int('must be a whole number').min(1, 'must be at least 1');

export const RecommendationOptionsSchema = z.strictObject({
  count: RecommendationCountSchema.optional(),
  filters: RecommendationFiltersSchema.optional(),
  /** 0: by relevance only … 1: as different from each other as possible (MMR). */
  diversity: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  /** Explanation paths with each item (default true). */
  explain: z.boolean().optional(),
});
export type RecommendationOptions = z.infer<typeof RecommendationOptionsSchema> & {
  /**
   * Other people on paths (users and sessions other than the subject) as `someone-1`, `someone-2`, …
   * instead of their ids. Set by the server from the caller's roles, never by a request: the schema
   * above does not accept it.
   */
  readonly anonymiseOthers?: boolean;
};

/**
 * What keeps an item out of a subject's default list (an explanation's standing): the subject turned it
 * down (disliked, dismissed, a low rating), already interacted with it, no source reached it, it ranked
 * below the list, or it ranked high enough but diversity picked items less like those already listed.
 */
export const KEPT_OUT_REASONS = ['rejected', 'consumed', 'not-reached', 'ranked-below', 'diversity'] as const;
export type KeptOutReason = (typeof KEPT_OUT_REASONS)[number];

/** Who or what to recommend for. */
export type RecommendationTarget =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'session'; readonly id: string }
  | { readonly kind: 'similar'; readonly itemId: string }
  | { readonly kind: 'items'; readonly itemIds: readonly string[] };

export const ItemListSchema = z.array(identifier).min(1, 'must list at least one item').max(200, 'must list at most 200 items');

/** Parses options, throwing a ValidationError that names the field (under `prefix`). */
export function parseRecommendationOptions(raw: unknown, maxCount: number, prefix = ''): RecommendationOptions {
  const parsed = RecommendationOptionsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error, prefix));
  return withinMaxCount(parsed.data, maxCount, prefix);
}

/** Options already parsed by their schema, checked against the configured longest list (`recommend.maxCount`). */
export function withinMaxCount<T extends { readonly count?: number | undefined }>(options: T, maxCount: number, prefix = ''): T {
  if (options.count !== undefined && options.count > maxCount) {
    throw new ValidationError([{ path: prefix ? `${prefix}.count` : 'count', message: `must be at most ${maxCount}` }]);
  }
  return options;
}
