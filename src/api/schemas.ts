import { z } from 'zod';

import { EDGE_TYPES, INTERACTION_TYPES, NODE_KINDS } from '../../graph/model.ts';
import { CatalogueItemSchema } from '../catalogue/catalogue-item.ts';
import { EventTimestampSchema, InteractionEventSchema } from '../events/interaction-event.ts';
import { identifier } from '../identifier.ts';
import { ItemListSchema, KEPT_OUT_REASONS, RecommendationFiltersSchema, RecommendationOptionsSchema } from '../recommendations/recommendation-query.ts';

/**
 * The API's request and response shapes. Requests are validated with them and the OpenAPI document is
 * generated from them (openapi.ts); the engine's own schemas (events, catalogue, query options) are
 * reused, not restated.
 */

export { identifier };

/** A batch of events: `events` and nothing else (an unknown key beside it is a mistake to report, not to ignore). */
export const EventBatchSchema = z.strictObject({ events: z.array(z.unknown()).min(1, 'must hold at least one event') });
export const EventsBodySchema = z.union([InteractionEventSchema, EventBatchSchema]);

export const IngestReceiptSchema = z.object({
  accepted: z.number().int().describe('New events, now durable and in the graph.'),
  duplicates: z.number().int().describe('Events whose id was already stored: ignored.'),
});

export const ItemsBodySchema = z.strictObject({
  items: z.array(z.unknown()).min(1, 'must hold at least one item').max(10_000, 'must hold at most 10000 items'),
});
export const CatalogueItemResponseSchema = z.object({
  id: z.string(),
  title: z.string(),
  tags: z.array(z.string()),
  text: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export const ItemPageSchema = z.object({
  items: z.array(CatalogueItemResponseSchema),
  next: z.string().nullable().describe('Pass as `after` for the next page; null on the last.'),
});
export const ItemPageQuerySchema = z.strictObject({
  after: identifier.optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
});

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A comma-separated list in a query string, as its trimmed, non-empty items. */
export const listText = z
  .string()
  .max(10_000)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** `count` in a query string; the OpenAPI document states its configured maximum, as for the JSON form. */
export const RecommendationCountQuerySchema = z.coerce.number().int('must be a whole number').min(1, 'must be at least 1');

/** The query-string form of the recommendation options (the POST form takes the JSON options). */
export const RecommendationQuerySchema = z.strictObject({
  count: RecommendationCountQuerySchema.optional(),
  diversity: z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  explain: booleanText.optional().describe('Explanation paths with each item (default true).'),
  includeTags: listText
    .pipe(RecommendationFiltersSchema.shape.includeTags.unwrap())
    .optional()
    .describe('Comma-separated: keep only items with one of these tags.'),
  excludeTags: listText.pipe(RecommendationFiltersSchema.shape.excludeTags.unwrap()).optional().describe('Comma-separated: drop items with any of these tags.'),
  excludeItems: listText.pipe(RecommendationFiltersSchema.shape.excludeItems.unwrap()).optional(),
  includeConsumed: booleanText.optional(),
});

export const MoreLikeTheseBodySchema = RecommendationOptionsSchema.extend({ items: ItemListSchema });
export const SessionBodySchema = RecommendationOptionsSchema;
export { CatalogueItemSchema, RecommendationFiltersSchema };

const PathNodeSchema = z.object({ kind: z.enum(NODE_KINDS), id: z.string(), label: z.string() });
const PathEdgeSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  type: z.enum(EDGE_TYPES),
  timestamp: z.string(),
  weight: z.number(),
  stars: z.number().optional(),
});
export const ExplanationPathSchema = z.object({
  kind: z.enum(['co-interaction', 'shared-tag', 'trending']),
  nodes: z.array(PathNodeSchema),
  edges: z.array(PathEdgeSchema),
  weight: z.number().describe("Share of the item's score this path accounts for, in [0, 1]."),
  sentence: z.string(),
});
const SourceScoresSchema = z.object({ embedding: z.number(), walk: z.number(), tags: z.number(), trending: z.number() });
export const RecommendedItemSchema = z.object({
  itemId: z.string(),
  title: z.string(),
  score: z.number(),
  sources: SourceScoresSchema.describe("Each source's part of the score; they add up to `score`."),
  paths: z.array(ExplanationPathSchema).optional(),
  because: z.string().optional(),
});
export const RecommendationListSchema = z.object({
  target: z.record(z.string(), z.unknown()),
  items: z.array(RecommendedItemSchema),
  modelVersion: z.string().nullable(),
  approximate: z.boolean(),
});
export const ItemStandingSchema = z.object({
  rank: z
    .number()
    .int()
    .min(1)
    .nullable()
    .describe("The item's place among the subject's ranked candidates (1: the best), or null when no source reached it or a filter left it out."),
  listCount: z.number().int().describe('How many items a default list shows (the default count).'),
  lastListedScore: z.number().nullable().describe('The lowest score in the default list (its last item without diversity), or null when the list is empty.'),
  keptOutBy: z
    .enum(KEPT_OUT_REASONS)
    .nullable()
    .describe(
      'What keeps the item out of the default list, or null when the list shows it: rejected (disliked, dismissed), consumed, not-reached (no source reached it), ranked-below (scored below the list), diversity (scored high enough; MMR picked less similar items).',
    ),
});
export const ItemExplanationSchema = z.object({
  subject: z.object({ kind: z.enum(['user', 'session']), id: z.string() }),
  item: RecommendedItemSchema,
  consumed: z.boolean(),
  rejected: z.boolean(),
  standing: ItemStandingSchema.describe("Where the item stands against the subject's default list (no filters, the default count)."),
});

/** Feedback on a shown recommendation: it becomes an event like any other. */
export const FEEDBACK_ACTIONS = { clicked: 'click', dismissed: 'dismiss', not_interested: 'dislike' } as const;
export const FeedbackBodySchema = z
  .strictObject({
    id: identifier.optional().describe('Event id, for idempotent retries; generated when absent.'),
    userId: identifier.optional(),
    sessionId: identifier.optional(),
    itemId: identifier,
    action: z.enum(Object.keys(FEEDBACK_ACTIONS) as [keyof typeof FEEDBACK_ACTIONS]),
    recommendationId: identifier.optional().describe('The response the item was shown in, kept with the event.'),
    timestamp: EventTimestampSchema.optional(),
  })
  .refine((f) => (f.userId === undefined) !== (f.sessionId === undefined), { message: 'give exactly one of userId and sessionId', path: ['userId'] });

export const InteractionSchema = z.object({
  id: z.string(),
  subjectKind: z.enum(['user', 'session']),
  subjectId: z.string(),
  itemId: z.string(),
  type: z.enum(INTERACTION_TYPES),
  value: z.number().nullable(),
  timestamp: z.string(),
  context: z.record(z.string(), z.unknown()).nullable(),
});
export const UserExportSchema = z.object({
  user: z.object({ id: z.string() }),
  interactions: z.array(InteractionSchema),
  embedding: z.array(z.number()).nullable().describe("The user's current embedding, or null."),
  exportedAt: z.string(),
});
export const ErasureSchema = z.object({ erased: z.boolean(), interactions: z.number().int() });

export const HealthSchema = z.object({ status: z.enum(['ok', 'ready', 'starting']), detail: z.string().optional() });
export const TrainingRequestSchema = z.strictObject({
  fineTune: z.boolean().default(true).describe('Continue from the model in service (true) or train from scratch (false).'),
});
export const TrainingStartedSchema = z.object({
  started: z.literal(true),
  fineTune: z.boolean().describe('False when there was no model to fine-tune.'),
});

export const ModelInfoSchema = z.object({
  backend: z.object({ name: z.string(), package: z.string(), preference: z.string() }),
  loaded: z.boolean(),
  version: z.string().nullable(),
  trainedAt: z.string().nullable(),
  training: z.record(z.string(), z.unknown()).nullable(),
  trainingInProgress: z.boolean(),
  lastTraining: z
    .object({
      status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
      error: z.string().optional().describe('Why the run failed, or was skipped (too little to learn from yet).'),
      at: z.string().describe('When the run started (running) or ended (ISO 8601).'),
      fineTune: z.boolean(),
    })
    .nullable()
    .describe(
      'The latest training run since the server started (at start-up, on schedule or by POST /v1/model/training); null when there was none. Recommendations go on from walks, tags and trending items whatever its outcome.',
    ),
  refusedCheckpoints: z
    .array(z.object({ path: z.string(), problem: z.string() }))
    .describe(
      'Saved checkpoints refused at start-up (a file failed its checksum, is missing or truncated, or is of an older format): the previous checkpoint, or a newly trained model, is in service instead. See the README, "Recovering from a damaged model".',
    ),
  subjectsUpdated: z.number().int(),
  lastEvaluation: z.record(z.string(), z.unknown()).nullable().describe('Metrics of the last `npm run evaluate` in the data directory, if any.'),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
