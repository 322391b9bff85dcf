import { z } from 'zod';

import { ValidationError } from '../../base/errors.ts';
import type { CommunityService } from '../communities/community-service.ts';
import type { ApiRole } from '../config.ts';
import type { EmbeddingService } from '../embeddings/embedding-service.ts';
import type { InterestEngine } from '../engine.ts';
import type { GraphExplorer } from '../exploration/graph-explorer.ts';
import type { Recommender } from '../recommendations/recommender.ts';
import { fieldIssues } from '../validation.ts';
import type { Caller } from './auth.ts';
import type { ApiMetrics } from './metrics.ts';
import { identifier } from './schemas.ts';

/**
 * A /v1 route as data: method, path, role, request schemas, responses and handler. The server mounts each
 * one, parsing its path parameters, query and body with its schemas before the handler runs, so the
 * handler receives their parsed types; the OpenAPI document is written from the same definitions.
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

export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly caller: Caller;
}

interface RouteDescription {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: `/v1/items/{itemId}`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly role: ApiRole;
  /** Success statuses and their bodies (errors are problem documents, added by openapi.ts). */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  readonly errors: readonly number[];
}

/**
 * What a resource file writes. `body` is parsed by the server; `rawBody` only documents the body, which
 * reaches the handler as received (still required), for handlers that validate it themselves so that
 * errors name fields the way the engine does (`events[3].value`).
 */
export interface RouteDefinition<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> extends RouteDescription {
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly rawBody?: z.ZodType;
  handle(services: ApiServices, input: RouteInput<Parsed<P>, Parsed<Q>, B extends z.ZodType ? z.output<B> : unknown>): Promise<RouteResult> | RouteResult;
}

/** A route as the server and the OpenAPI writer see it: its schemas, and a handler over what they parsed. */
export interface Route extends RouteDescription {
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  /** The body's schema, parsed by the server unless `parsesBody` is false. */
  readonly body?: z.ZodType;
  readonly parsesBody: boolean;
  handle(services: ApiServices, input: RouteInput<unknown, unknown, unknown>): Promise<RouteResult> | RouteResult;
}

export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(definition: RouteDefinition<P, Q, B>): Route {
  const { rawBody, body, ...rest } = definition;
  const schema = body ?? rawBody;
  return {
    ...rest,
    ...(schema ? { body: schema } : {}),
    parsesBody: body !== undefined,
    // The server parses exactly the schemas above before calling it, so its input has the parsed types.
    handle: (services, input) => definition.handle(services, input as Parameters<typeof definition.handle>[1]),
  };
}

/** Parses with a schema, or throws a ValidationError naming each field under `where`. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error, where));
  return parsed.data;
}

/** Path parameters: identifiers, one per name. */
export function identifierParams<const N extends string>(...names: N[]): z.ZodObject<{ [K in N]: typeof identifier }, z.core.$strict> {
  return z.strictObject(Object.fromEntries(names.map((n) => [n, identifier])) as { [K in N]: typeof identifier });
}

export const READ_ERRORS = [400, 401, 403, 404, 429, 503];
export const WRITE_ERRORS = [400, 401, 403, 413, 429, 503, 507];
/** Deletions write too: a full disk answers 507 (an erasure first spends the space kept back for it). */
export const DELETE_ERRORS = [...READ_ERRORS, 507];
