import * as G from '../graph-schemas.ts';
import { defineRoute, READ_ERRORS } from '../route.ts';

export const GRAPH_ROUTES = [
  defineRoute({
    method: 'get',
    path: '/v1/graph/stats',
    summary: 'Graph statistics: nodes by kind, edges by type, degree percentiles, communities.',
    tag: 'graph',
    role: 'analyst',
    responses: { 200: { description: 'Statistics', schema: G.GraphStatsSchema } },
    errors: [401, 403, 429, 503],
    handle(services) {
      const current = services.communities.current();
      const communities = current ? { count: current.communities.length, modularity: current.modularity, computedAt: current.computedAt } : null;
      return { body: { ...services.explorer.stats(), communities } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/graph/search',
    summary: 'Find nodes by id (exact or prefix) or items by title (substring), case-insensitive.',
    tag: 'graph',
    role: 'analyst',
    query: G.SearchQuerySchema,
    responses: { 200: { description: 'Matching nodes', schema: G.SearchSchema } },
    errors: [400, 401, 403, 429, 503],
    handle(services, { query: q }) {
      return { body: { nodes: services.explorer.search(q.q, q.limit, q.kinds) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/graph/nodes/{kind}/{id}/neighbourhood',
    summary: 'A node’s neighbours and edges, newest first, typed and paged; filter by edge type and time window.',
    tag: 'graph',
    role: 'analyst',
    params: G.NodeKindParamSchema,
    query: G.NeighbourhoodQuerySchema,
    responses: { 200: { description: 'The neighbourhood page', schema: G.NeighbourhoodSchema } },
    errors: READ_ERRORS,
    handle(services, { params: p, query }) {
      return { body: services.explorer.neighbourhood(p.kind, p.id, query) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/graph/paths',
    summary: 'Shortest paths (up to maxLength edges, either direction) between two nodes.',
    tag: 'graph',
    role: 'analyst',
    query: G.PathsQuerySchema,
    responses: { 200: { description: 'Paths, shortest first; empty when none is within reach', schema: G.PathsSchema } },
    errors: READ_ERRORS,
    handle(services, { query: q }) {
      return { body: { paths: services.explorer.paths(q.from, q.to, q) } };
    },
  }),
];
