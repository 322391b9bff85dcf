import { z } from 'zod';

import { NotFoundError } from '../../../base/errors.ts';
import { INTERACTION_TYPES } from '../../../graph/model.ts';
import * as G from '../graph-schemas.ts';
import { defineRoute, identifierParams, READ_ERRORS } from '../route.ts';

export const COMMUNITY_ROUTES = [
  defineRoute({
    method: 'get',
    path: '/v1/communities',
    summary: 'Interest communities (Louvain over item co-interactions): modularity, and each community’s size, top tags and top items.',
    tag: 'communities',
    role: 'analyst',
    responses: { 200: { description: 'The latest run', schema: G.CommunitiesSchema } },
    errors: [401, 403, 404, 429, 503],
    handle(services) {
      const current = services.communities.current();
      if (!current) throw new NotFoundError('community run', 'none yet');
      return { body: current };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/communities/recompute',
    summary: 'Run community detection now and answer with the result (they also run on a schedule).',
    tag: 'communities',
    role: 'analyst',
    responses: { 200: { description: 'The new run', schema: G.CommunitiesSchema } },
    errors: [401, 403, 429, 503],
    async handle(services) {
      return { body: await services.communities.recompute() };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/communities/{communityId}',
    summary: 'One community: its summary and a page of its item members.',
    tag: 'communities',
    role: 'analyst',
    params: z.strictObject({
      communityId: z.coerce
        .number()
        .int('must be a whole number')
        .min(0, 'must not be negative')
        .max(2 ** 31 - 1, 'must be at most 2147483647'),
    }),
    query: G.CommunityMembersQuerySchema,
    responses: { 200: { description: 'The community', schema: G.CommunityDetailSchema } },
    errors: READ_ERRORS,
    handle(services, { params: { communityId: id }, query: q }) {
      const summary = services.communities.current()?.communities.find((c) => c.id === id);
      if (!summary) throw new NotFoundError('community', String(id));
      const members = services.communities.members(id, { ...(q.after ? { after: q.after } : {}), limit: q.limit });
      return { body: { ...summary, members, next: members.length === q.limit ? (members.at(-1) ?? null) : null } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/profile',
    summary: 'A user’s interest profile: community mix, its drift over their history, and their newest interactions.',
    tag: 'communities',
    role: 'analyst',
    params: identifierParams('userId'),
    responses: { 200: { description: 'The profile', schema: G.ProfileSchema } },
    errors: READ_ERRORS,
    handle(services, { params: p }) {
      const profile = services.communities.profile('user', p.userId);
      if (!profile) throw new NotFoundError('user', p.userId);
      const recent = services.explorer.neighbourhood('user', p.userId, { types: INTERACTION_TYPES, limit: 20 });
      return { body: { user: recent.node, ...profile, recent: { nodes: recent.nodes, edges: recent.edges } } };
    },
  }),
];
