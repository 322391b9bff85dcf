import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ApiRole } from '../config.ts';
import type { CommunityService } from '../communities/community-service.ts';
import type { EmbeddingService } from '../embeddings/embedding-service.ts';
import type { InterestEngine } from '../engine.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { GraphExplorer } from '../exploration/graph-explorer.ts';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { parseRecommendationOptions, type RecommendationOptions, type RecommendationTarget } from '../recommendations/recommendation-query.ts';
import type { Recommender } from '../recommendations/recommender.ts';
import { fieldIssues } from '../validation.ts';
import type { Caller } from './auth.ts';
import type { ApiMetrics } from './metrics.ts';
import * as S from './schemas.ts';

/**
 * Every /v1 route as data: method, path, role, request schemas, responses and handler. The server mounts
 * them (validating with the schemas) and the OpenAPI document is written from the same table.
 */
export interface ApiServices {
  readonly engine: InterestEngine;
  readonly embeddings: EmbeddingService;
  readonly recommender: Recommender;
  readonly communities: CommunityService;
  readonly explorer: GraphExplorer;
  readonly metrics: ApiMetrics;
  /** Metrics of the last offline evaluation, if one was saved. */
  lastEvaluation(): object | null;
}

export interface RouteInput {
  readonly params: Record<string, string>;
  readonly query: unknown;
  readonly body: unknown;
  readonly caller: Caller;
}

export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
}

export interface Route {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: `/v1/items/{itemId}`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly role: ApiRole;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The handler validates the body itself, so that errors name fields the way the engine does (`events[3].value`). */
  readonly bodyCheckedByHandler?: true;
  /** Success statuses and their bodies (errors are problem documents, added by openapi.ts). */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  readonly errors: readonly number[];
  handle(services: ApiServices, input: RouteInput): Promise<RouteResult> | RouteResult;
}

/** Parses with a schema, or throws a ValidationError naming each field under `where`. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error, where));
  return parsed.data;
}

/** Path parameters: identifiers, one per name. */
const params = (...names: string[]) => z.strictObject(Object.fromEntries(names.map((n) => [n, S.identifier])));

const READ_ERRORS = [400, 401, 403, 404, 429, 503];
const WRITE_ERRORS = [400, 401, 403, 413, 429, 503, 507];
/** Deletions write too: a full disk answers 507 (an erasure first spends the space kept back for it). */
const DELETE_ERRORS = [...READ_ERRORS, 507];

function optionsFromQuery(services: ApiServices, query: unknown): RecommendationOptions {
  const q = parseWith(S.RecommendationQuerySchema, query, 'query');
  const filters = {
    ...(q.includeTags ? { includeTags: q.includeTags } : {}),
    ...(q.excludeTags ? { excludeTags: q.excludeTags } : {}),
    ...(q.excludeItems ? { excludeItems: q.excludeItems } : {}),
    ...(q.includeConsumed !== undefined ? { includeConsumed: q.includeConsumed } : {}),
  };
  const raw = {
    ...(q.count !== undefined ? { count: q.count } : {}),
    ...(q.diversity !== undefined ? { diversity: q.diversity } : {}),
    ...(q.explain !== undefined ? { explain: q.explain } : {}),
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
  };
  return parseRecommendationOptions(raw, services.engine.config.recommend.maxCount, 'query');
}

/** Ingests durably and counts what happened; the answer is the receipt's counts. */
async function ingest(services: ApiServices, events: readonly unknown[]): Promise<{ accepted: number; duplicates: number }> {
  const receipt = await services.engine.ingestEvents(events);
  services.metrics.ingested.inc({ result: 'accepted' }, receipt.accepted);
  services.metrics.ingested.inc({ result: 'duplicate' }, receipt.duplicates);
  const now = Date.now();
  for (const i of receipt.interactions) services.metrics.ingestLagSeconds.observe(Math.max(0, now - i.ts) / 1000);
  return { accepted: receipt.accepted, duplicates: receipt.duplicates };
}

/** Other people (users and sessions other than the subject) are named on paths only to analysts and admins. */
function anonymiseOthers(caller: Caller): boolean {
  return !caller.roles.has('analyst');
}

function recommend(services: ApiServices, target: RecommendationTarget, options: RecommendationOptions, caller: Caller): RouteResult {
  return { body: services.recommender.recommend(target, { ...options, anonymiseOthers: anonymiseOthers(caller) }) };
}

function itemMustExist(services: ApiServices, itemId: string): void {
  if (services.engine.graph.nodeIndex('item', itemId) < 0) throw new NotFoundError('item', itemId);
}

const recommendationResponses = { 200: { description: 'Recommended items, best first, each with its explanation paths', schema: S.RecommendationListSchema } };

export const ROUTES: readonly Route[] = [
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Ingest one event, or a batch as {"events": [...]}; answered once durable. Duplicate ids are ignored.',
    tag: 'events',
    role: 'ingest',
    body: S.EventsBodySchema,
    bodyCheckedByHandler: true,
    responses: { 200: { description: 'Stored', schema: S.IngestReceiptSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { body }) {
      const batch = body !== null && typeof body === 'object' && 'events' in body;
      if (batch && !Array.isArray(body.events)) throw new ValidationError([{ path: 'events', message: 'must be an array of events' }]);
      const events = batch ? parseWith(S.EventBatchSchema, body, '').events : [body];
      return { body: await ingest(services, events) };
    },
  },
  {
    method: 'post',
    path: '/v1/feedback',
    summary: 'Feedback on a shown recommendation (clicked, dismissed, not_interested); it enters the graph as an event.',
    tag: 'events',
    role: 'ingest',
    body: S.FeedbackBodySchema,
    responses: { 200: { description: 'Stored', schema: S.IngestReceiptSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { body }) {
      const f = parseWith(S.FeedbackBodySchema, body, '');
      const event = {
        id: f.id ?? `feedback-${randomUUID()}`,
        ...(f.userId !== undefined ? { userId: f.userId } : { sessionId: f.sessionId }),
        itemId: f.itemId,
        type: S.FEEDBACK_ACTIONS[f.action],
        ...(f.timestamp !== undefined ? { timestamp: f.timestamp } : {}),
        context: { feedback: f.action, ...(f.recommendationId ? { recommendationId: f.recommendationId } : {}) },
      };
      return { body: await ingest(services, [event]) };
    },
  },
  {
    method: 'put',
    path: '/v1/items/{itemId}',
    summary: 'Create or replace a catalogue item (tags become Tag nodes; a new item with tags is recommendable at once).',
    tag: 'catalogue',
    role: 'ingest',
    params: params('itemId'),
    body: S.CatalogueItemSchema.omit({ id: true }),
    responses: { 200: { description: 'The stored item', schema: S.CatalogueItemResponseSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { params: p, body }) {
      const raw = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
      if ('id' in raw && raw.id !== p.itemId) throw new ValidationError([{ path: 'id', message: `must match the path's item id ${p.itemId}, or be left out` }]);
      const [item] = await services.engine.upsertItems([{ ...raw, id: p.itemId }]);
      return { body: item };
    },
  },
  {
    method: 'post',
    path: '/v1/items',
    summary: 'Create or replace a batch of catalogue items, all or nothing.',
    tag: 'catalogue',
    role: 'ingest',
    body: S.ItemsBodySchema,
    bodyCheckedByHandler: true,
    responses: { 200: { description: 'The stored items', schema: z.object({ items: z.array(S.CatalogueItemResponseSchema) }) } },
    errors: WRITE_ERRORS,
    async handle(services, { body }) {
      const { items } = parseWith(S.ItemsBodySchema, body, '');
      return { body: { items: await services.engine.upsertItems(items) } };
    },
  },
  {
    method: 'get',
    path: '/v1/items',
    summary: 'List catalogue items by id, a page at a time.',
    tag: 'catalogue',
    role: 'read',
    query: S.ItemPageQuerySchema,
    responses: { 200: { description: 'A page of items', schema: S.ItemPageSchema } },
    errors: READ_ERRORS,
    async handle(services, { query }) {
      const q = parseWith(S.ItemPageQuerySchema, query, 'query');
      const items = await services.engine.listItems({ ...(q.after ? { after: q.after } : {}), limit: q.limit });
      return { body: { items, next: items.length === q.limit ? items.at(-1)!.id : null } };
    },
  },
  {
    method: 'get',
    path: '/v1/items/{itemId}',
    summary: 'One catalogue item.',
    tag: 'catalogue',
    role: 'read',
    params: params('itemId'),
    responses: { 200: { description: 'The item', schema: S.CatalogueItemResponseSchema } },
    errors: READ_ERRORS,
    async handle(services, { params: p }) {
      const item = await services.engine.getItem(p.itemId!);
      if (!item) throw new NotFoundError('item', p.itemId!);
      return { body: item };
    },
  },
  {
    method: 'delete',
    path: '/v1/items/{itemId}',
    summary: 'Remove an item from the catalogue (interactions with it stay as history).',
    tag: 'catalogue',
    role: 'ingest',
    params: params('itemId'),
    responses: { 204: { description: 'Removed' } },
    errors: DELETE_ERRORS,
    async handle(services, { params: p }) {
      if (!(await services.engine.deleteItem(p.itemId!))) throw new NotFoundError('item', p.itemId!);
      return { status: 204 };
    },
  },
  {
    method: 'get',
    path: '/v1/users/{userId}/recommendations',
    summary: 'Recommendations for a user, with explanation paths (explain=false to skip them).',
    tag: 'recommendations',
    role: 'read',
    params: params('userId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, query, caller }) => recommend(services, { kind: 'user', id: p.userId! }, optionsFromQuery(services, query), caller),
  },
  {
    method: 'post',
    path: '/v1/users/{userId}/recommendations',
    summary: 'Recommendations for a user with the full options in the body (attribute filters and all).',
    tag: 'recommendations',
    role: 'read',
    params: params('userId'),
    body: S.SessionBodySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, body, caller }) =>
      recommend(services, { kind: 'user', id: p.userId! }, parseRecommendationOptions(body, services.engine.config.recommend.maxCount), caller),
  },
  {
    method: 'get',
    path: '/v1/sessions/{sessionId}/recommendations',
    summary: 'Recommendations for an anonymous session, from its recent items.',
    tag: 'recommendations',
    role: 'read',
    params: params('sessionId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, query, caller }) => recommend(services, { kind: 'session', id: p.sessionId! }, optionsFromQuery(services, query), caller),
  },
  {
    method: 'get',
    path: '/v1/items/{itemId}/similar',
    summary: 'Items similar to an item.',
    tag: 'recommendations',
    role: 'read',
    params: params('itemId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle(services, { params: p, query, caller }) {
      itemMustExist(services, p.itemId!);
      return recommend(services, { kind: 'similar', itemId: p.itemId! }, optionsFromQuery(services, query), caller);
    },
  },
  {
    method: 'post',
    path: '/v1/recommendations/more-like-these',
    summary: '"More like these": recommendations from a list of items.',
    tag: 'recommendations',
    role: 'read',
    body: S.MoreLikeTheseBodySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle(services, { body, caller }) {
      const { items, ...options } = parseWith(S.MoreLikeTheseBodySchema, body, '');
      for (const id of items) itemMustExist(services, id);
      return recommend(services, { kind: 'items', itemIds: items }, parseRecommendationOptions(options, services.engine.config.recommend.maxCount), caller);
    },
  },
  {
    method: 'get',
    path: '/v1/users/{userId}/explanations/{itemId}',
    summary: 'Why (or why not) an item for a user: score by source and the paths through the graph.',
    tag: 'recommendations',
    role: 'read',
    params: params('userId', 'itemId'),
    responses: { 200: { description: 'The explanation', schema: S.ItemExplanationSchema } },
    errors: READ_ERRORS,
    handle: (services, { params: p, caller }) => ({ body: services.recommender.explain({ kind: 'user', id: p.userId! }, p.itemId!, { anonymiseOthers: anonymiseOthers(caller) }) }),
  },
  {
    method: 'get',
    path: '/v1/users/{userId}/export',
    summary: 'Everything held about a user, as JSON.',
    tag: 'user data',
    role: 'admin',
    params: params('userId'),
    responses: { 200: { description: 'The user’s data', schema: S.UserExportSchema } },
    errors: READ_ERRORS,
    async handle(services, { params: p }) {
      const interactions = await services.engine.interactionsOf('user', p.userId!);
      const node = services.engine.graph.nodeIndex('user', p.userId!);
      if (interactions.length === 0 && node < 0) throw new NotFoundError('user', p.userId!);
      const vector = node >= 0 ? services.embeddings.embeddings()?.subjects.get(node) : undefined;
      return {
        body: {
          user: { id: p.userId! },
          interactions: interactions.map((i) => ({
            id: i.eventId,
            subjectKind: i.subjectKind,
            subjectId: i.subjectId,
            itemId: i.itemId,
            type: i.type,
            value: i.value,
            timestamp: new Date(i.ts).toISOString(),
            context: i.context,
          })),
          embedding: vector ? Array.from(vector) : null,
          exportedAt: new Date().toISOString(),
        },
      };
    },
  },
  {
    method: 'delete',
    path: '/v1/users/{userId}',
    summary: 'Erase a user: their node, edges, embeddings and every cache and index entry, in the store and in memory.',
    tag: 'user data',
    role: 'admin',
    params: params('userId'),
    responses: { 200: { description: 'Erased', schema: S.ErasureSchema } },
    errors: DELETE_ERRORS,
    async handle(services, { params: p }) {
      const result = await services.engine.eraseSubject('user', p.userId!);
      if (!result.found) throw new NotFoundError('user', p.userId!);
      return { body: { erased: true, interactions: result.interactions } };
    },
  },
  {
    method: 'get',
    path: '/v1/model',
    summary: 'The GNN model in service: backend, version, when trained, training and evaluation metrics.',
    tag: 'operations',
    role: 'read',
    responses: { 200: { description: 'Model info', schema: S.ModelInfoSchema } },
    errors: [401, 403, 429, 503],
    handle(services) {
      const status = services.embeddings.status();
      return {
        body: {
          backend: { name: status.backend.name, package: status.backend.package, preference: status.backend.preference },
          loaded: status.loaded,
          version: status.version,
          trainedAt: status.trainedAt,
          training: status.training ?? null,
          trainingInProgress: status.trainingInProgress,
          lastTraining: status.lastTraining,
          refusedCheckpoints: status.refusedCheckpoints,
          subjectsUpdated: status.subjectsUpdated,
          lastEvaluation: services.lastEvaluation(),
        },
      };
    },
  },
  {
    method: 'post',
    path: '/v1/model/training',
    summary: 'Train the GNN now, in the background; the model in service answers until the new one is swapped in.',
    tag: 'operations',
    role: 'admin',
    body: S.TrainingRequestSchema,
    responses: { 202: { description: 'Training started; GET /v1/model shows trainingInProgress, then the outcome in lastTraining', schema: S.TrainingStartedSchema } },
    errors: [400, 401, 403, 409, 429, 503],
    handle(services, { body }) {
      return { status: 202, body: { started: true, ...services.embeddings.startTraining(body as z.output<typeof S.TrainingRequestSchema>) } };
    },
  },
  {
    method: 'get',
    path: '/v1/communities',
    summary: 'Interest communities (Louvain over item co-interactions): modularity, and each community’s size, top tags and top items.',
    tag: 'communities',
    role: 'analyst',
    responses: { 200: { description: 'The latest run', schema: S.CommunitiesSchema } },
    errors: [401, 403, 404, 429, 503],
    handle(services) {
      const current = services.communities.current();
      if (!current) throw new NotFoundError('community run', 'none yet');
      return { body: current };
    },
  },
  {
    method: 'post',
    path: '/v1/communities/recompute',
    summary: 'Run community detection now and answer with the result (they also run on a schedule).',
    tag: 'communities',
    role: 'analyst',
    responses: { 200: { description: 'The new run', schema: S.CommunitiesSchema } },
    errors: [401, 403, 429, 503],
    async handle(services) {
      return { body: await services.communities.recompute() };
    },
  },
  {
    method: 'get',
    path: '/v1/communities/{communityId}',
    summary: 'One community: its summary and a page of its item members.',
    tag: 'communities',
    role: 'analyst',
    params: z.strictObject({ communityId: z.coerce.number().int('must be a whole number').min(0, 'must not be negative').max(2 ** 31 - 1, 'must be at most 2147483647') }),
    query: S.CommunityMembersQuerySchema,
    responses: { 200: { description: 'The community', schema: S.CommunityDetailSchema } },
    errors: READ_ERRORS,
    handle(services, { params: p, query }) {
      const id = Number(p.communityId);
      const summary = services.communities.current()?.communities.find((c) => c.id === id);
      if (!summary) throw new NotFoundError('community', String(id));
      const q = parseWith(S.CommunityMembersQuerySchema, query, 'query');
      const members = services.communities.members(id, { ...(q.after ? { after: q.after } : {}), limit: q.limit });
      return { body: { ...summary, members, next: members.length === q.limit ? members.at(-1)! : null } };
    },
  },
  {
    method: 'get',
    path: '/v1/users/{userId}/profile',
    summary: 'A user’s interest profile: community mix, its drift over their history, and their newest interactions.',
    tag: 'communities',
    role: 'analyst',
    params: params('userId'),
    responses: { 200: { description: 'The profile', schema: S.ProfileSchema } },
    errors: READ_ERRORS,
    handle(services, { params: p }) {
      const profile = services.communities.profile('user', p.userId!);
      if (!profile) throw new NotFoundError('user', p.userId!);
      const recent = services.explorer.neighbourhood('user', p.userId!, { types: INTERACTION_TYPES, limit: 20 });
      return { body: { user: recent.node, ...profile, recent: { nodes: recent.nodes, edges: recent.edges } } };
    },
  },
  {
    method: 'get',
    path: '/v1/graph/stats',
    summary: 'Graph statistics: nodes by kind, edges by type, degree percentiles, communities.',
    tag: 'graph',
    role: 'analyst',
    responses: { 200: { description: 'Statistics', schema: S.GraphStatsSchema } },
    errors: [401, 403, 429, 503],
    handle(services) {
      const current = services.communities.current();
      const communities = current ? { count: current.communities.length, modularity: current.modularity, computedAt: current.computedAt } : null;
      return { body: { ...services.explorer.stats(), communities } };
    },
  },
  {
    method: 'get',
    path: '/v1/graph/search',
    summary: 'Find nodes by id (exact or prefix) or items by title (substring), case-insensitive.',
    tag: 'graph',
    role: 'analyst',
    query: S.SearchQuerySchema,
    responses: { 200: { description: 'Matching nodes', schema: S.SearchSchema } },
    errors: [400, 401, 403, 429, 503],
    handle(services, { query }) {
      const q = parseWith(S.SearchQuerySchema, query, 'query');
      return { body: { nodes: services.explorer.search(q.q, q.limit, q.kinds) } };
    },
  },
  {
    method: 'get',
    path: '/v1/graph/nodes/{kind}/{id}/neighbourhood',
    summary: 'A node’s neighbours and edges, newest first, typed and paged; filter by edge type and time window.',
    tag: 'graph',
    role: 'analyst',
    params: S.NodeKindParamSchema,
    query: S.NeighbourhoodQuerySchema,
    responses: { 200: { description: 'The neighbourhood page', schema: S.NeighbourhoodSchema } },
    errors: READ_ERRORS,
    handle(services, { params: p, query }) {
      const q = parseWith(S.NeighbourhoodQuerySchema, query, 'query');
      const kind = p.kind as S.NodeKindParam['kind'];
      return { body: services.explorer.neighbourhood(kind, p.id!, q) };
    },
  },
  {
    method: 'get',
    path: '/v1/graph/paths',
    summary: 'Shortest paths (up to maxLength edges, either direction) between two nodes.',
    tag: 'graph',
    role: 'analyst',
    query: S.PathsQuerySchema,
    responses: { 200: { description: 'Paths, shortest first; empty when none is within reach', schema: S.PathsSchema } },
    errors: READ_ERRORS,
    handle(services, { query }) {
      const q = parseWith(S.PathsQuerySchema, query, 'query');
      return { body: { paths: services.explorer.paths(q.from, q.to, q) } };
    },
  },
];
