import { z } from 'zod';

import { EDGE_TYPES, NODE_KINDS } from '../../graph/model.ts';
import { parseTimestamp } from '../events/interaction-event.ts';
import { identifier, identifierProblem } from '../identifier.ts';
import { ItemPageQuerySchema, listText } from './schemas.ts';

/** The analyst role's request and response shapes: communities and graph exploration (see schemas.ts). */

const timeText = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const ms = parseTimestamp(/^\d+$/.test(v) ? Number(v) : v);
    if (typeof ms === 'string') {
      ctx.addIssue({ code: 'custom', message: `must be epoch milliseconds or an ISO 8601 date-time with a zone: ${ms}` });
      return z.NEVER;
    }
    return ms;
  });
const edgeTypeList = listText.pipe(z.array(z.enum(EDGE_TYPES))).describe(`Comma-separated edge types: ${EDGE_TYPES.join(', ')}.`);
const nodeRef = z
  .string()
  .max(300)
  .transform((v, ctx) => {
    const colon = v.indexOf(':');
    const kind = v.slice(0, colon);
    if (colon <= 0 || !(NODE_KINDS as readonly string[]).includes(kind) || colon === v.length - 1) {
      ctx.addIssue({ code: 'custom', message: `must be kind:id with kind one of ${NODE_KINDS.join(', ')}` });
      return z.NEVER;
    }
    const problem = identifierProblem(v.slice(colon + 1));
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `the id after "${kind}:" ${problem}` });
      return z.NEVER;
    }
    return { kind: kind as (typeof NODE_KINDS)[number], id: v.slice(colon + 1) };
  })
  .describe('A node as kind:id, e.g. item:42 or tag:genre:Drama.');

const CommunityShareSchema = z.object({ community: z.number().int(), share: z.number() });
export const CommunitySummarySchema = z.object({
  id: z.number().int(),
  size: z.number().int(),
  topTags: z.array(z.object({ tag: z.string(), items: z.number().int() })),
  topItems: z.array(z.object({ itemId: z.string(), title: z.string().nullable(), positives: z.number().int() })),
});
export const CommunitiesSchema = z.object({
  computedAt: z.string(),
  modularity: z.number().describe('Modularity of the partition of the item co-interaction projection.'),
  seconds: z.number(),
  projection: z.object({ items: z.number().int(), links: z.number().int() }),
  communities: z.array(CommunitySummarySchema),
});
export const CommunityMembersQuerySchema = ItemPageQuerySchema;
export const CommunityDetailSchema = CommunitySummarySchema.extend({
  members: z.array(z.string()).describe('Item ids in the community, a page of them.'),
  next: z.string().nullable(),
});
export const NodeViewSchema = z.object({
  key: z.string().describe('kind:id'),
  kind: z.enum(NODE_KINDS),
  id: z.string(),
  label: z.string(),
  community: z.number().int().nullable(),
  degree: z.number().int(),
});
export const EdgeViewSchema = z.object({
  key: z.string(),
  source: z.string(),
  target: z.string(),
  type: z.enum(EDGE_TYPES),
  ts: z.string(),
  weight: z.number(),
});
export const ProfileSchema = z.object({
  user: NodeViewSchema,
  mix: z.array(CommunityShareSchema).describe('Shares of the user’s positive interactions by community.'),
  drift: z.array(z.object({ from: z.string(), to: z.string(), interactions: z.number().int(), mix: z.array(CommunityShareSchema) })),
  recent: z.object({ nodes: z.array(NodeViewSchema), edges: z.array(EdgeViewSchema) }).describe('The newest interactions and their items.'),
});
export const NeighbourhoodQuerySchema = z.strictObject({
  types: edgeTypeList.optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(5000, 'must be at most 5000').default(200),
  cursor: z
    .string()
    .regex(/^-?\d+\.\d+$/, 'must be the nextCursor of a previous page')
    .optional(),
  since: timeText.optional(),
  until: timeText.optional(),
});
export const NeighbourhoodSchema = z.object({
  node: NodeViewSchema,
  nodes: z.array(NodeViewSchema),
  edges: z.array(EdgeViewSchema),
  total: z.number().int(),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.'),
});
export const PathsQuerySchema = z.strictObject({
  from: nodeRef,
  to: nodeRef,
  maxLength: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(6, 'must be at most 6').default(4),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(20, 'must be at most 20').default(5),
  types: edgeTypeList.optional(),
});
export const PathsSchema = z.object({ paths: z.array(z.object({ nodes: z.array(NodeViewSchema), edges: z.array(EdgeViewSchema) })) });
export const SearchQuerySchema = z.strictObject({
  q: z.string().min(1, 'must not be empty').max(200),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  kinds: listText.pipe(z.array(z.enum(NODE_KINDS))).optional(),
});
export const SearchSchema = z.object({ nodes: z.array(NodeViewSchema) });
const degreeSummary = z.object({ p50: z.number().int(), p90: z.number().int(), max: z.number().int() });
export const GraphStatsSchema = z.object({
  nodes: z.record(z.enum(NODE_KINDS), z.number().int()),
  edges: z.record(z.enum(EDGE_TYPES), z.number().int()),
  degree: z.object({ user: degreeSummary, item: degreeSummary, tag: degreeSummary }),
  communities: z.object({ count: z.number().int(), modularity: z.number(), computedAt: z.string() }).nullable(),
});
export const NodeKindParamSchema = z.strictObject({ kind: z.enum(NODE_KINDS), id: identifier });
export type NodeKindParam = z.output<typeof NodeKindParamSchema>;
