import assert from 'node:assert/strict';

import { z } from 'zod';

import { defineRoute, identifierParams } from '../../src/api/route.ts';
import { ROUTES } from '../../src/api/routes/index.ts';

/**
 * Route definitions hand their handlers the parsed types of their own schemas. The type checks here are
 * `@ts-expect-error` lines: `npm test` type-checks this file, and fails if any of them stops being an error.
 */
describe('route definitions', () => {
  it('type the handler’s input from the route’s schemas', () => {
    const route = defineRoute({
      method: 'get',
      path: '/v1/things/{thingId}',
      summary: 'a thing',
      tag: 'test',
      role: 'read',
      params: identifierParams('thingId'),
      query: z.strictObject({ limit: z.coerce.number() }),
      responses: { 200: { description: 'ok' } },
      errors: [400],
      handle(_services, { params, query, body }) {
        const id: string = params.thingId;
        const limit: number = query.limit;
        // @ts-expect-error: a parameter the route does not declare
        void params.otherId;
        // @ts-expect-error: no body schema, so no body to read fields of
        void body.anything;
        return { body: { id, limit } };
      },
    });
    assert.equal(route.parsesBody, false);
  });

  it('parse a `body` schema on the server, and pass a `rawBody` through as received', () => {
    const parsed = defineRoute({
      method: 'post',
      path: '/v1/parsed',
      summary: 'parsed',
      tag: 'test',
      role: 'ingest',
      body: z.strictObject({ n: z.number() }),
      responses: { 200: { description: 'ok' } },
      errors: [400],
      handle: (_services, { body }) => ({ body: body.n + 1 }),
    });
    const raw = defineRoute({
      method: 'post',
      path: '/v1/raw',
      summary: 'raw',
      tag: 'test',
      role: 'ingest',
      rawBody: z.strictObject({ n: z.number() }),
      responses: { 200: { description: 'ok' } },
      errors: [400],
      handle(_services, { body }) {
        // @ts-expect-error: a raw body is unknown until the handler checks it
        void body.n;
        return {};
      },
    });
    assert.deepEqual([parsed.parsesBody, raw.parsesBody, raw.body !== undefined], [true, false, true]);
  });

  it('define each method and path once', () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      keys.filter((k, i) => keys.indexOf(k) !== i),
      [],
    );
    assert.ok(ROUTES.length >= 25, `${ROUTES.length} routes`);
  });
});
