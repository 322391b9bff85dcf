import type { z } from 'zod';

import { NotFoundError } from '../../../base/errors.ts';
import { type RecommendationOptions, type RecommendationTarget, withinMaxCount } from '../../recommendations/recommendation-query.ts';
import type { Caller } from '../auth.ts';
import { type ApiServices, defineRoute, identifierParams, READ_ERRORS, type RouteResult } from '../route.ts';
import * as S from '../schemas.ts';

/** The query-string form (already parsed) as options: its fields are the JSON form's, the filters flattened. */
function optionsFromQuery(services: ApiServices, q: z.output<typeof S.RecommendationQuerySchema>): RecommendationOptions {
  const filters = {
    ...(q.includeTags ? { includeTags: q.includeTags } : {}),
    ...(q.excludeTags ? { excludeTags: q.excludeTags } : {}),
    ...(q.excludeItems ? { excludeItems: q.excludeItems } : {}),
    ...(q.includeConsumed !== undefined ? { includeConsumed: q.includeConsumed } : {}),
  };
  const options = {
    ...(q.count !== undefined ? { count: q.count } : {}),
    ...(q.diversity !== undefined ? { diversity: q.diversity } : {}),
    ...(q.explain !== undefined ? { explain: q.explain } : {}),
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
  };
  return withinMaxCount(options, services.engine.config.recommend.maxCount, 'query');
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

export const RECOMMENDATION_ROUTES = [
  defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/recommendations',
    summary: 'Recommendations for a user, with explanation paths (explain=false to skip them).',
    tag: 'recommendations',
    role: 'read',
    params: identifierParams('userId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, query, caller }) => recommend(services, { kind: 'user', id: p.userId }, optionsFromQuery(services, query), caller),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/users/{userId}/recommendations',
    summary: 'Recommendations for a user with the full options in the body (attribute filters and all).',
    tag: 'recommendations',
    role: 'read',
    params: identifierParams('userId'),
    body: S.SessionBodySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, body, caller }) =>
      recommend(services, { kind: 'user', id: p.userId }, withinMaxCount(body, services.engine.config.recommend.maxCount), caller),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions/{sessionId}/recommendations',
    summary: 'Recommendations for an anonymous session, from its recent items.',
    tag: 'recommendations',
    role: 'read',
    params: identifierParams('sessionId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle: (services, { params: p, query, caller }) => recommend(services, { kind: 'session', id: p.sessionId }, optionsFromQuery(services, query), caller),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/items/{itemId}/similar',
    summary: 'Items similar to an item.',
    tag: 'recommendations',
    role: 'read',
    params: identifierParams('itemId'),
    query: S.RecommendationQuerySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle(services, { params: p, query, caller }) {
      itemMustExist(services, p.itemId);
      return recommend(services, { kind: 'similar', itemId: p.itemId }, optionsFromQuery(services, query), caller);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/recommendations/more-like-these',
    summary: '"More like these": recommendations from a list of items.',
    tag: 'recommendations',
    role: 'read',
    body: S.MoreLikeTheseBodySchema,
    responses: recommendationResponses,
    errors: READ_ERRORS,
    handle(services, { body, caller }) {
      const { items, ...options } = body;
      for (const id of items) itemMustExist(services, id);
      return recommend(services, { kind: 'items', itemIds: items }, withinMaxCount(options, services.engine.config.recommend.maxCount), caller);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/explanations/{itemId}',
    summary: 'Why (or why not) an item for a user: score by source and the paths through the graph.',
    tag: 'recommendations',
    role: 'read',
    params: identifierParams('userId', 'itemId'),
    responses: { 200: { description: 'The explanation', schema: S.ItemExplanationSchema } },
    errors: READ_ERRORS,
    handle: (services, { params: p, caller }) => ({
      body: services.recommender.explain({ kind: 'user', id: p.userId }, p.itemId, { anonymiseOthers: anonymiseOthers(caller) }),
    }),
  }),
];
