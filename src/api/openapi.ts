import { z } from 'zod';

import { RecommendationCountSchema } from '../recommendations/recommendation-query.ts';
import type { Route } from './route.ts';
import { ProblemSchema, RecommendationCountQuerySchema } from './schemas.ts';

/**
 * The OpenAPI 3.1 document, written from the route table: the schemas that validate requests are the
 * ones documented, so the two cannot drift apart.
 */

type JsonSchema = Record<string, unknown>;

/** Limits that are configured, not written in the schemas, and that the document states. */
export interface DocumentedLimits {
  /** recommend.maxCount: the most items a recommendation request may ask for. */
  readonly maxCount: number;
}

const COUNT_SCHEMAS: ReadonlySet<unknown> = new Set<unknown>([RecommendationCountSchema, RecommendationCountQuerySchema]);

const jsonSchemaWith =
  (limits: DocumentedLimits) =>
  (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      override: (ctx) => {
        if (COUNT_SCHEMAS.has(ctx.zodSchema)) ctx.jsonSchema.maximum = limits.maxCount;
      },
    }) as JsonSchema;
    return rest;
  };

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: the detail and `errors` name each field',
  401: 'No API key, or one that is not valid',
  403: 'The key lacks the role this route needs',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  405: 'The path exists, but not with this method: see Allow',
  413: 'The request body is too large',
  415: 'The request body is not JSON, or its Content-Encoding is not supported',
  429: 'Rate limit reached: see Retry-After',
  503: 'Not ready yet (loading the graph and model): see Retry-After',
  507: 'The disk holding the data is full: nothing was written; retry once space is freed',
};

export function openApiDocument(routes: readonly Route[], version: string, limits: DocumentedLimits): JsonSchema {
  const jsonSchema = jsonSchemaWith(limits);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: JsonSchema[] = [];
    if (route.params) {
      const shape = jsonSchema(route.params, 'input') as { properties?: Record<string, JsonSchema> };
      for (const [name, schema] of Object.entries(shape.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    }
    if (route.query) {
      const query = jsonSchema(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        const { description, ...rest } = schema as { description?: string };
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
      };
    }
    for (const status of [...route.errors, 500]) {
      responses[String(status)] = {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Unexpected failure',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      description: `Role: ${route.role}.`,
      security: [{ bearer: [] }, { apiKey: [] }],
      parameters,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  const health = (summary: string) => ({
    get: { summary, tags: ['operations'], security: [], responses: { 200: { description: 'OK' }, 503: { description: 'Not ready' } } },
  });
  paths['/health/live'] = health('Liveness: the process answers');
  paths['/health/ready'] = health(
    'Readiness: 200 once the graph is loaded (a GNN still training does not hold it up), with the recommendation sources live and whether the model is training',
  );
  paths['/metrics'] = {
    get: { summary: 'Prometheus metrics', tags: ['operations'], security: [], responses: { 200: { description: 'Prometheus text format' } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Interest graph engine API',
      version,
      description: 'Ingest behaviour, get explainable recommendations (each with paths through the interest graph), manage the catalogue and user data.',
    },
    paths,
    components: {
      schemas: { Problem: jsonSchema(ProblemSchema, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}
