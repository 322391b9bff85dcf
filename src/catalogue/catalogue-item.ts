import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.ts';
import { fieldIssues } from '../validation.ts';

/** A catalogue record: what an item is, as opposed to who interacted with it. */

const identifier = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const attributeValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string(), z.number(), z.boolean()])),
]);

export const CatalogueItemSchema = z.strictObject({
  id: identifier,
  title: z.string().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  tags: z
    .array(identifier)
    .max(1000, 'must have at most 1000 tags')
    .default([])
    .describe('Attributes that become Tag nodes, e.g. "genre:Comedy"; duplicates are merged.'),
  text: z.string().max(100_000, 'must be at most 100000 characters').optional(),
  attributes: z.record(z.string(), attributeValue).optional(),
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
