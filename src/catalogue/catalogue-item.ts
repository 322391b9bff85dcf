import { z } from 'zod';

import { type FieldIssue, ValidationError } from '../../base/errors.ts';
import { freeRecord } from '../free-data.ts';
import { identifier } from '../identifier.ts';
import { fieldIssues } from '../validation.ts';

/** A catalogue record: what an item is, as opposed to who interacted with it. */

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number(), z.boolean()]))]);

export const CatalogueItemSchema = z.strictObject({
  id: identifier,
  title: z.string().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  tags: z
    .array(identifier)
    .max(1000, 'must have at most 1000 tags')
    .default([])
    .describe('Attributes that become Tag nodes, e.g. "genre:Comedy"; duplicates are merged.'),
  text: z.string().max(100_000, 'must be at most 100000 characters').optional(),
  attributes: freeRecord(attributeValue)
    .optional()
    .describe('Named values to filter on; names `__proto__`, `constructor` and `prototype` are reserved; at most 64 KiB as JSON.'),
});
export type CatalogueItemInput = z.input<typeof CatalogueItemSchema>;

export interface CatalogueItem {
  readonly id: string;
  readonly title: string;
  /** Distinct, in the order given. */
  readonly tags: readonly string[];
  readonly text?: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

export type ItemCheck = { ok: true; item: CatalogueItem } | { ok: false; issues: FieldIssue[] };

export function checkCatalogueItem(raw: unknown, path = ''): ItemCheck {
  const parsed = CatalogueItemSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: fieldIssues(parsed.error, path) };
  const { id, title, tags, text, attributes } = parsed.data;
  const item: CatalogueItem = {
    id,
    title,
    tags: [...new Set(tags)],
    ...(text !== undefined ? { text } : {}),
    ...(attributes !== undefined ? { attributes } : {}),
  };
  return { ok: true, item };
}

export function parseCatalogueItem(raw: unknown): CatalogueItem {
  const result = checkCatalogueItem(raw);
  if (!result.ok) throw new ValidationError(result.issues);
  return result.item;
}
