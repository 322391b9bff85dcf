import { z } from 'zod';

import { NotFoundError, ValidationError } from '../../../base/errors.ts';
import { defineRoute, DELETE_ERRORS, identifierParams, READ_ERRORS, WRITE_ERRORS } from '../route.ts';
import * as S from '../schemas.ts';

export const CATALOGUE_ROUTES = [
  defineRoute({
    method: 'put',
    path: '/v1/items/{itemId}',
    summary: 'Create or replace a catalogue item (tags become Tag nodes; a new item with tags is recommendable at once).',
    tag: 'catalogue',
    role: 'ingest',
    params: identifierParams('itemId'),
    // The id is the path's; the body may repeat it.
    body: S.CatalogueItemSchema.partial({ id: true }),
    responses: { 200: { description: 'The stored item', schema: S.CatalogueItemResponseSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { params: p, body }) {
      if (body.id !== undefined && body.id !== p.itemId)
        throw new ValidationError([{ path: 'id', message: `must match the path's item id ${p.itemId}, or be left out` }]);
      const [item] = await services.engine.upsertItems([{ ...body, id: p.itemId }]);
      return { body: item };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/items',
    summary: 'Create or replace a batch of catalogue items, all or nothing.',
    tag: 'catalogue',
    role: 'ingest',
    // Each item is validated by the engine, naming fields as `items[3].title`.
    body: S.ItemsBodySchema,
    responses: { 200: { description: 'The stored items', schema: z.object({ items: z.array(S.CatalogueItemResponseSchema) }) } },
    errors: WRITE_ERRORS,
    async handle(services, { body }) {
      return { body: { items: await services.engine.upsertItems(body.items) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/items',
    summary: 'List catalogue items by id, a page at a time.',
    tag: 'catalogue',
    role: 'read',
    query: S.ItemPageQuerySchema,
    responses: { 200: { description: 'A page of items', schema: S.ItemPageSchema } },
    errors: READ_ERRORS,
    async handle(services, { query: q }) {
      const items = await services.engine.listItems({ ...(q.after ? { after: q.after } : {}), limit: q.limit });
      return { body: { items, next: items.length === q.limit ? (items.at(-1)?.id ?? null) : null } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/items/{itemId}',
    summary: 'One catalogue item.',
    tag: 'catalogue',
    role: 'read',
    params: identifierParams('itemId'),
    responses: { 200: { description: 'The item', schema: S.CatalogueItemResponseSchema } },
    errors: READ_ERRORS,
    async handle(services, { params: p }) {
      const item = await services.engine.getItem(p.itemId);
      if (!item) throw new NotFoundError('item', p.itemId);
      return { body: item };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/items/{itemId}',
    summary: 'Remove an item from the catalogue (interactions with it stay as history).',
    tag: 'catalogue',
    role: 'ingest',
    params: identifierParams('itemId'),
    responses: { 204: { description: 'Removed' } },
    errors: DELETE_ERRORS,
    async handle(services, { params: p }) {
      if (!(await services.engine.deleteItem(p.itemId))) throw new NotFoundError('item', p.itemId);
      return { status: 204 };
    },
  }),
];
