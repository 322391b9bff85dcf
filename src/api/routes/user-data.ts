import { NotFoundError } from '../../../base/errors.ts';
import { defineRoute, DELETE_ERRORS, identifierParams, READ_ERRORS } from '../route.ts';
import * as S from '../schemas.ts';

export const USER_DATA_ROUTES = [
  defineRoute({
    method: 'get',
    path: '/v1/users/{userId}/export',
    summary: 'Everything held about a user, as JSON.',
    tag: 'user data',
    role: 'admin',
    params: identifierParams('userId'),
    responses: { 200: { description: 'The user’s data', schema: S.UserExportSchema } },
    errors: READ_ERRORS,
    async handle(services, { params: p }) {
      const interactions = await services.engine.interactionsOf('user', p.userId);
      const node = services.engine.graph.nodeIndex('user', p.userId);
      if (interactions.length === 0 && node < 0) throw new NotFoundError('user', p.userId);
      const vector = node >= 0 ? services.embeddings.embeddings()?.subjects.get(node) : undefined;
      return {
        body: {
          user: { id: p.userId },
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
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/users/{userId}',
    summary: 'Erase a user: their node, edges, embeddings and every cache and index entry, in the store and in memory.',
    tag: 'user data',
    role: 'admin',
    params: identifierParams('userId'),
    responses: { 200: { description: 'Erased', schema: S.ErasureSchema } },
    errors: DELETE_ERRORS,
    async handle(services, { params: p }) {
      const result = await services.engine.eraseSubject('user', p.userId);
      if (!result.found) throw new NotFoundError('user', p.userId);
      return { body: { erased: true, interactions: result.interactions } };
    },
  }),
];
