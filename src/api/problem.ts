import { ConflictError, EngineError, type FieldIssue, NotFoundError, StorageFullError, ValidationError } from '../../base/errors.ts';

/**
 * Errors as RFC 9457 problem documents, mapped from our typed errors in this one place. Clients never
 * see a stack trace: anything unexpected becomes a 500 with a request id to look the log up by.
 */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  /** For 400: each field and what is wrong with it. */
  readonly errors?: readonly FieldIssue[];
}

/** An error that already knows its HTTP status (auth, rate limits, not ready, oversize). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/** Errors thrown by express's body parser and router (http-errors) carry these. */
interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
  readonly limit?: number;
  /** http-errors sets it for client errors (4xx): the message is meant for the client. */
  readonly expose?: boolean;
  readonly message?: string;
}

export function problemOf(error: unknown, instance: string): { problem: ProblemDocument; headers: Record<string, string>; unexpected: boolean } {
  const doc = (status: number, detail: string, extra: Partial<ProblemDocument> = {}, title = TITLES[status] ?? 'Error'): ProblemDocument => ({
    type: 'about:blank',
    title,
    status,
    detail,
    instance,
    ...extra,
  });
  if (error instanceof HttpProblem) return { problem: doc(error.status, error.detail, {}, error.title), headers: { ...error.headers }, unexpected: false };
  if (error instanceof ValidationError) return { problem: doc(400, error.message, { errors: error.issues }), headers: {}, unexpected: false };
  if (error instanceof NotFoundError) return { problem: doc(404, error.message), headers: {}, unexpected: false };
  if (error instanceof ConflictError) return { problem: doc(409, error.message), headers: {}, unexpected: false };
  // No Retry-After: only freeing disk space helps, and a one-second hint would have clients hammer.
  if (error instanceof StorageFullError) return { problem: doc(507, error.message), headers: {}, unexpected: false };
  if (error instanceof EngineError && error.retriable) return { problem: doc(503, error.message), headers: { 'Retry-After': '1' }, unexpected: false };
  const parser = error as BodyParserError;
  if (parser?.type === 'entity.too.large')
    return { problem: doc(413, `the request body exceeds the limit of ${parser.limit} bytes`), headers: {}, unexpected: false };
  if (parser?.type === 'entity.parse.failed')
    return {
      problem: doc(400, 'the request body is not valid JSON', { errors: [{ path: 'body', message: 'not valid JSON' }] }),
      headers: {},
      unexpected: false,
    };
  if (parser?.type === 'encoding.unsupported' || parser?.type === 'charset.unsupported')
    return { problem: doc(415, 'the request body encoding is not supported'), headers: {}, unexpected: false };
  // The router could not decode a path parameter (`%E0%A4%A`, a lone `%`): the URL is malformed.
  if (error instanceof URIError && parser.status === 400) {
    const message = 'is not valid percent-encoding: a % needs two hex digits, and the bytes they give must be UTF-8';
    return { problem: doc(400, `the URL path ${message}`, { errors: [{ path: 'path', message }] }), headers: {}, unexpected: false };
  }
  // Other client errors from the middleware: a 400 is the body parser's (a body that does not decode as its
  // Content-Encoding says, an aborted upload); others (a static file's 404) keep their status and message.
  if (parser?.expose === true && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
    if (parser.status !== 400) return { problem: doc(parser.status, parser.message ?? TITLES[parser.status] ?? 'Error'), headers: {}, unexpected: false };
    const message = `could not be read (${parser.message ?? 'unreadable'}); check its Content-Encoding and length`;
    return { problem: doc(400, `the request body ${message}`, { errors: [{ path: 'body', message }] }), headers: {}, unexpected: false };
  }
  return { problem: doc(500, `the server failed to answer; quote request ${instance} when reporting it`), headers: {}, unexpected: true };
}
