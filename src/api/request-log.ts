import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Options } from 'pino-http';

import type { Logger } from '../../base/logger.ts';
import { redactSerializedError, redactUrl } from './log-redaction.ts';

/**
 * The request log: one JSON line per request (id, method, URL with credentials redacted, status, time).
 * Headers are never logged: they carry the keys (Authorization, X-API-Key, Cookie).
 *
 * Levels: a request that failed unexpectedly (the error handler sets `res.err`) is an error, logged with
 * its stack; a 5xx the server chose to send (503 while loading or when the store is busy, 507) is a warning,
 * or info while the server is still starting, without a stack; other 4xx are warnings.
 */
type Response = ServerResponse & { err?: unknown };

/** pino-http invents `failed with status code N` for a 5xx without an error: its stack says nothing. */
function invented(res: Response, error: Error): boolean {
  return res.err === undefined && error.message === `failed with status code ${res.statusCode}`;
}

export function requestLogLevel(statusCode: number, failed: boolean, ready: boolean): 'error' | 'warn' | 'info' {
  if (failed) return 'error';
  if (statusCode >= 500) return ready ? 'warn' : 'info';
  return statusCode >= 400 ? 'warn' : 'info';
}

export function requestLogOptions(logger: Logger, ready: () => boolean): Options {
  return {
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req: IncomingMessage, res: Response, error?: Error) =>
      requestLogLevel(res.statusCode, error !== undefined || res.err !== undefined, ready()),
    customErrorMessage: (_req: IncomingMessage, res: Response, error: Error) => (invented(res, error) ? 'request completed' : 'request errored'),
    customErrorObject: (_req: IncomingMessage, res: Response, error: Error, value: Record<string, unknown>) => {
      if (!invented(res, error)) return value;
      const { err: _invented, ...rest } = value;
      return rest;
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(String(req.url)) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: redactSerializedError,
    },
  };
}
