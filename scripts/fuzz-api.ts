/**
 * Sends malformed and hostile requests to a real API server and checks that none gets a 5xx, none hangs,
 * the server survives, and nothing of a refused request is written.
 *
 *   npm run fuzz:api -- [--requests 400] [--seconds 120] [--seed 1] [--timeout-ms 10000]
 *
 * The server is an ApiServer over a fresh data directory holding a small synthetic graph, on 127.0.0.1 and
 * port 0 (no other address is contacted). It runs in a child process so that a crash shows as that process
 * exiting rather than ending this one. Half the requests come from a catalogue of hostile cases (issue 18:
 * bad encodings and percent-encoding, prototype keys, deep nesting, odd ids, control characters and
 * surrogates, wrong methods and content types, garbled auth, oversize bodies, impossible dates, unknown
 * keys, prototype filter names, path traversal, bad counts, raw HTTP garbage); the other half are random
 * mutations of valid requests, from a seeded PRNG. Afterwards the server must still answer, and the store,
 * reopened from disk once the server is closed, must hold exactly what the 2xx answers acknowledged.
 *
 * The last line is one JSON object: {"requests", "status_5xx", "hangs", "crashes", "partial_writes"}; the
 * exit code is 1 when any count but `requests` is above 0.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { Command } from 'commander';

import { createLogger } from '../base/logger.ts';
import { mulberry32 } from '../graph/random.ts';
import { ApiServer } from '../src/api/api-server.ts';
import { type EngineConfig, loadConfig } from '../src/config.ts';
import { InterestEngine } from '../src/engine.ts';
import { startEngineServices } from '../src/engine-services.ts';
import { openGraphStore } from '../src/store/open-store.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { describeFailure, positiveInteger } from './cli.ts';

const KEYS = { admin: 'fuzz-admin-key-0123456789abcdef', ingest: 'fuzz-ingest-key-0123456789abcdef', read: 'fuzz-read-key-0123456789abcdefgh' };
type Role = keyof typeof KEYS;
const MAX_BODY_BYTES = 64 * 1024;
const DATASET = { seed: 11, edges: 600, users: 20, items: 40, topics: 3, sessionShare: 0.1 };

function configFor(dataDir: string): EngineConfig {
  const config = loadConfig({
    env: {
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      GNN_TRAIN_ON_START: 'false',
      GNN_REFRESH_MINUTES: '0',
      COMMUNITIES_REFRESH_MINUTES: '0',
      DURABILITY: 'normal',
      LOG_LEVEL: 'error',
      ERASURE_RESERVE_MB: '0',
      // Garbled keys are part of the run: the failed-key throttle would turn every later request into a 429.
      API_AUTH_FAILURES_PER_MINUTE: '1000000',
      API_KEYS: `admin:${KEYS.admin}:admin,loader:${KEYS.ingest}:ingest,app:${KEYS.read}:read`,
    },
  });
  return { ...config, api: { ...config.api, maxBodyBytes: MAX_BODY_BYTES } };
}

// ---- the data and the server ----

interface Seeded {
  url: string;
  /** Interactions in the store before the run. */
  interactions: number;
  items: string[];
  users: string[];
  sessions: string[];
  tags: string[];
}

/** Writes the small synthetic graph into a fresh data directory (in this process, before the server starts). */
async function seed(dataDir: string): Promise<Omit<Seeded, 'url' | 'interactions'>> {
  const config = configFor(dataDir);
  const engine = await InterestEngine.open(config, { logger: createLogger('error', 'fuzz-seed') });
  try {
    const data = generateSyntheticDataset(DATASET);
    const catalogue = data.catalogue();
    await engine.upsertItems(catalogue);
    await engine.ingestEvents(data.eventsAt(0, DATASET.edges));
    return {
      items: catalogue.map((i) => i.id),
      users: Array.from({ length: 5 }, (_, k) => data.userId(k)),
      sessions: [...engine.graph.nodesOfKind('session')].slice(0, 3).map((n) => engine.graph.externalId(n)),
      tags: [...new Set(catalogue.flatMap((i) => i.tags))].slice(0, 5),
    };
  } finally {
    await engine.close();
  }
}

/** The child process: the API over the seeded directory until the parent says close (or goes away). */
async function serve(dataDir: string): Promise<void> {
  const config = configFor(dataDir);
  const logger = createLogger(config.logLevel, 'fuzz-server');
  const engine = await InterestEngine.open(config, { logger });
  const services = await startEngineServices(engine, logger);
  const api = new ApiServer(config, logger);
  api.attach({ engine, ...services, lastEvaluation: () => null });
  const url = await api.listen(0, '127.0.0.1');
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await api.close();
      await services.close();
      await engine.close();
      process.exit(0);
    })());
  process.on('message', (message) => {
    if (message === 'close') void close();
  });
  process.on('disconnect', () => void close());
  process.send!({ url });
}

// ---- requests ----

interface Probe {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  /** Default admin (every role); null: no key. */
  readonly key?: Role | null;
  readonly headers?: Record<string, string | string[]>;
  /** JSON-encoded unless a string or a Buffer; a string or Buffer is sent as is with Content-Type: application/json. */
  readonly body?: unknown;
  /** Bytes written to a TCP connection as they are, instead of an HTTP request. */
  readonly raw?: string | Buffer;
}

interface Answer {
  /** null: no answer (timed out, or the connection dropped before a status line). */
  readonly status: number | null;
  readonly body: string;
  readonly timedOut: boolean;
}

function send(base: URL, probe: Probe, timeoutMs: number): Promise<Answer> {
  if (probe.raw !== undefined) return sendRaw(base, probe.raw, timeoutMs);
  const headers: Record<string, string | string[]> = {};
  const key = probe.key === undefined ? 'admin' : probe.key;
  if (key) headers.authorization = `Bearer ${KEYS[key]}`;
  let payload: Buffer | undefined;
  if (probe.body !== undefined) {
    payload = Buffer.isBuffer(probe.body) ? probe.body : Buffer.from(typeof probe.body === 'string' ? probe.body : JSON.stringify(probe.body), 'utf8');
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, probe.headers);
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  // node:http refuses to send some bytes (a space in the path, CR in a header): those go out as they are.
  const lines = [`${probe.method} ${probe.path} HTTP/1.1`, `Host: ${base.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) for (const one of [value].flat()) lines.push(`${name}: ${one}`);
  if (payload) lines.push(`Content-Length: ${payload.length}`);
  const asRaw = () => sendRaw(base, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload ?? Buffer.alloc(0)]), timeoutMs);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: base.hostname, port: base.port, method: probe.method, path: probe.path, headers, agent: false }, onResponse);
    } catch {
      settled = true;
      resolve(asRaw());
      return;
    }
    function onResponse(res: IncomingMessage): void {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8'), timedOut: false }));
      res.on('error', () => finish({ status: res.statusCode ?? null, body: '', timedOut: false }));
    }
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: null, body: '', timedOut: true });
    }, timeoutMs);
    req.on('error', (error) => finish({ status: null, body: String(error), timedOut: false }));
    req.end(payload);
  });
}

function sendRaw(base: URL, bytes: string | Buffer, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = received.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const end = received.indexOf('\r\n\r\n');
      resolve({ status: status ? Number(status[1]) : null, body: end >= 0 ? received.subarray(end + 4).toString('utf8') : '', timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () => socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // One whole response is enough: a server may keep the connection open after it.
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (length) {
        if (received.length - end - 4 >= Number(length[1])) finish(false);
      } else if (!/\r\ntransfer-encoding: *chunked/i.test(head) || received.includes('\r\n0\r\n\r\n', end)) finish(false);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

// ---- what the run sends ----

const ODD_IDS = [
  '',
  ' ',
  '   ',
  '\t',
  '\u200b',
  '\u200b\u2060\ufeff',
  '\u3164',
  'a\u0000b',
  'a\r\nb',
  'a\nX-Injected: 1',
  '\u001b[31mred',
  'a\u007f',
  'a\u0085',
  'x\ud800',
  '\udc00y',
  '\ud83d',
  'a'.repeat(256),
  'a'.repeat(257),
  'é'.repeat(128),
  'é'.repeat(129),
  '😀'.repeat(65),
  'x'.repeat(100_000),
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'toString',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '\u202eevil',
  ' padded ',
  '🙂 ünï',
  'a/b?c#d%',
];
const BAD_PERCENT = ['%', '%E0%A4%A', '%zz', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', '%FF', '%%', '%0', '%00', '%0A', '%1B', '%E2%80%8B', '%2e%2e', '..%2f..'];
const TIMESTAMPS: unknown[] = [
  '2024-02-30',
  '2024-02-30T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '2024-13-01T00:00:00Z',
  '2024-00-10T00:00:00Z',
  '2024-05-01T24:00:00Z',
  '2024-05-01T12:60:00Z',
  '2024-05-01T12:00:61Z',
  '2024-05-01T12:00:00+25:00',
  '2024-02-03T10:00:00',
  '2024-02-03',
  '+275760-09-13T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '9999-12-31T23:59:59Z',
  'yesterday',
  '',
  -1,
  1e20,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  '1700000000000',
  null,
  {},
  [],
  true,
];
const COUNTS = ['0', '-1', '1.5', '201', '1000000', '1e309', 'NaN', 'Infinity', 'abc', '', ' ', '0x10', '99999999999999999999999', '1e2', '5&count=6', '%31'];
const ENCODINGS = ['gzip', 'br', 'deflate', 'compress', 'identity', 'x-gzip', 'gzip, br', 'GZIP', '*', 'gzip;q=1', 'zstd'];
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json-seq',
  'application/merge-patch+json',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'application/json, text/plain',
  'json',
  '',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'];
const RESERVED = ['__proto__', 'constructor', 'prototype'];

const encodePath = (id: string) => Buffer.from(id, 'utf8').toString('hex').replace(/../g, '%$&');
const nested = (levels: number, leaf = '1', open = '{"a":', close = '}') => open.repeat(levels) + leaf + close.repeat(levels);

class RequestSource {
  private counter = 0;
  private readonly rng: () => number;

  constructor(
    private readonly seed: number,
    private readonly s: Seeded,
  ) {
    this.rng = mulberry32(seed);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rng() * list.length)]!;
  }
  private freshId(prefix: string): string {
    return `fuzz-${this.seed}-${prefix}-${++this.counter}`;
  }
  private event(fields: Record<string, unknown> = {}): Record<string, unknown> {
    return { id: this.freshId('e'), userId: this.pick(this.s.users), itemId: this.pick(this.s.items), type: 'view', ...fields };
  }

  /** Hostile cases by kind; each call of a kind's generator gives its next case (then random ones). */
  hostile(): Array<[string, (i: number) => Probe]> {
    const s = this.s;
    const user = s.users[0]!;
    const item = s.items[0]!;
    const at = <T>(list: readonly T[], i: number) => (i < list.length ? list[i]! : this.pick(list));
    const idField = (i: number) => at(['id', 'userId', 'itemId', 'sessionId'], i % 4);
    return [
      [
        'vendor-prototype',
        (i) => ({
          kind: 'vendor-prototype',
          method: 'GET',
          key: null,
          path: `/web/vendor/${at(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf', 'sigma.min.js%00.html', '..%2f..%2fpackage.json', 'prototype'], i)}`,
        }),
      ],
      [
        'percent-encoding',
        (i) => {
          const bad = at(BAD_PERCENT, i);
          const routes = [
            `/v1/items/${bad}`,
            `/v1/users/${bad}/recommendations`,
            `/v1/users/${user}/explanations/${bad}`,
            `/v1/graph/nodes/user/${bad}/neighbourhood`,
            `/v1/items?after=${bad}`,
            `/v1/graph/search?q=${bad}`,
            `/v1/users/${user}/recommendations?includeTags=${bad}`,
          ];
          return {
            kind: 'percent-encoding',
            method: this.pick(['GET', 'GET', 'DELETE', 'PUT']),
            path: at(routes, i % routes.length),
            body: this.rng() < 0.3 ? { title: 't' } : undefined,
          };
        },
      ],
      [
        'content-encoding',
        (i) => {
          const plain = JSON.stringify(this.event());
          const cases: Array<() => Probe> = [
            () => ({ kind: 'content-encoding', method: 'POST', path: '/v1/events', body: plain, headers: { 'content-encoding': at(ENCODINGS, i) } }),
            () => ({ kind: 'content-encoding', method: 'POST', path: '/v1/events', body: gzipSync(plain), headers: { 'content-encoding': 'gzip' } }),
            () => {
              const corrupt = gzipSync(plain);
              corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
              return { kind: 'content-encoding', method: 'POST', path: '/v1/events', body: corrupt, headers: { 'content-encoding': 'gzip' } };
            },
            () => ({
              kind: 'content-encoding',
              method: 'POST',
              path: '/v1/events',
              body: gzipSync(plain).subarray(0, 12),
              headers: { 'content-encoding': 'gzip' },
            }),
            // Inflates to 10 MB: the body limit must hold for the inflated size.
            () => ({
              kind: 'content-encoding',
              method: 'POST',
              path: '/v1/events',
              body: gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20)),
              headers: { 'content-encoding': 'gzip' },
            }),
            () => ({ kind: 'content-encoding', method: 'POST', path: '/v1/events', body: gzipSync(gzipSync(plain)), headers: { 'content-encoding': 'gzip' } }),
            () => ({
              kind: 'content-encoding',
              method: 'POST',
              path: '/v1/events',
              body: Buffer.from(`{"id":"${this.freshId('utf8')}","userId":"u\u00c3\u0028","itemId":"i","type":"view"}`, 'latin1'),
            }),
            () => ({ kind: 'content-encoding', method: 'POST', path: '/v1/events', body: plain, headers: { 'content-type': at(CONTENT_TYPES, i) } }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'deep-nesting',
        (i) => {
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'deep-nesting',
              method: 'POST',
              path: '/v1/events',
              body: `{"id":"${this.freshId('deep')}","userId":"${user}","itemId":"${item}","type":"view","context":${nested(10_000)}}`,
            }),
            () => ({
              kind: 'deep-nesting',
              method: 'POST',
              path: '/v1/events',
              body: `{"id":"${this.freshId('deep')}","userId":"${user}","itemId":"${item}","type":"view","context":${nested(33)}}`,
            }),
            () => ({
              kind: 'deep-nesting',
              method: 'POST',
              path: '/v1/events',
              body: `{"id":"${this.freshId('deep')}","userId":"${user}","itemId":"${item}","type":"view","context":{"a":${nested(20_000, '1', '[', ']')}}}`,
            }),
            () => ({ kind: 'deep-nesting', method: 'POST', path: '/v1/events', body: nested(30_000, '1', '[', ']') }),
            () => ({ kind: 'deep-nesting', method: 'POST', path: '/v1/events', body: `{"events":${nested(30_000, '[]', '[', ']')}}` }),
            () => ({
              kind: 'deep-nesting',
              method: 'PUT',
              path: `/v1/items/${this.freshId('deep-item')}`,
              body: `{"title":"t","attributes":{"a":${nested(5_000, '1', '[', ']')}}}`,
            }),
            () => ({
              kind: 'deep-nesting',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              body: `{"filters":{"attributes":{"a":${nested(5_000, '1', '[', ']')}}}}`,
            }),
            () => ({
              kind: 'deep-nesting',
              method: 'POST',
              path: '/v1/recommendations/more-like-these',
              body: `{"items":${nested(5_000, `"${item}"`, '[', ']')}}`,
            }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'odd-ids',
        (i) => {
          const odd = at(ODD_IDS, i % ODD_IDS.length);
          const field = idField(Math.floor(i / ODD_IDS.length) + i);
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'odd-ids',
              method: 'POST',
              path: '/v1/events',
              key: 'ingest',
              body: field === 'sessionId' ? { id: this.freshId('odd'), sessionId: odd, itemId: item, type: 'view' } : { ...this.event(), [field]: odd },
            }),
            () => ({ kind: 'odd-ids', method: 'PUT', path: `/v1/items/${encodePath(odd)}`, key: 'ingest', body: { title: 'odd', tags: ['genre:odd'] } }),
            () => ({ kind: 'odd-ids', method: 'POST', path: '/v1/items', key: 'ingest', body: { items: [{ id: odd, title: 't', tags: [odd] }] } }),
            () => ({
              kind: 'odd-ids',
              method: 'POST',
              path: '/v1/feedback',
              key: 'ingest',
              body: { userId: odd, itemId: item, action: 'clicked', recommendationId: odd },
            }),
            () => ({ kind: 'odd-ids', method: 'GET', path: `/v1/users/${encodePath(odd)}/export` }),
            () => ({ kind: 'odd-ids', method: 'GET', path: `/v1/graph/paths?from=user:${encodePath(odd)}&to=item:${encodePath(item)}` }),
            () => ({
              kind: 'odd-ids',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              key: 'read',
              body: { filters: { includeTags: [odd], excludeItems: [odd] } },
            }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'control-characters',
        (i) => {
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'control-characters',
              method: 'GET',
              path: '/',
              raw: `GET /v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.read}\u0000x\r\n\r\n`,
            }),
            () => ({ kind: 'control-characters', method: 'GET', path: '/', raw: `GET /v1/items/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n` }),
            () => ({ kind: 'control-characters', method: 'GET', path: '/', raw: `GET /v1/items HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rInjected: 1\r\n\r\n` }),
            () => ({
              kind: 'control-characters',
              method: 'GET',
              path: '/',
              raw: `GET /v1/items HTTP/1.1\r\nHost: x\r\nX-Request-Id: \u001b[31m\r\nAuthorization: Bearer ${KEYS.read}\r\n\r\n`,
            }),
            () => ({ kind: 'control-characters', method: 'GET', path: '/v1/items?limit=1', key: 'read', headers: { 'x-request-id': 'id\u00ff\u0080' } }),
            () => ({
              kind: 'control-characters',
              method: 'POST',
              path: '/v1/events',
              key: 'ingest',
              body: { ...this.event(), context: { 'a\u0000': 'b\u001b', '\ud800': '\udc00' } },
            }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'surrogates',
        (i) => {
          const lone = at(['\\ud800', '\\udfff', '\\ud83d', 'a\\udc00b'], i % 4);
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'surrogates',
              method: 'POST',
              path: '/v1/events',
              body: `{"id":"${this.freshId('sur')}","userId":"u${lone}","itemId":"${item}","type":"view"}`,
            }),
            () => ({ kind: 'surrogates', method: 'POST', path: '/v1/items', body: `{"items":[{"id":"sur${lone}","title":"t${lone}","tags":["t${lone}"]}]}` }),
            () => ({ kind: 'surrogates', method: 'PUT', path: '/v1/items/%ED%A0%80', body: { title: 't' } }),
            () => ({
              kind: 'surrogates',
              method: 'POST',
              path: '/v1/feedback',
              body: `{"userId":"${user}","itemId":"${item}","action":"clicked","recommendationId":"r${lone}"}`,
            }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'wrong-method',
        (i) => {
          const paths = [
            '/v1/events',
            '/v1/feedback',
            `/v1/items/${item}`,
            '/v1/items',
            `/v1/users/${user}/recommendations`,
            '/v1/model',
            '/v1/model/training',
            '/v1/communities',
            '/health/live',
            '/openapi.json',
            `/v1/users/${user}`,
            '/v1/graph/stats',
          ];
          if (i % 5 === 4)
            return {
              kind: 'wrong-method',
              method: 'GET',
              path: '/',
              raw: `${at(['FOO', 'GET\u0000', 'CONNECT', 'PRI', 'BREW'], i)} /v1/items HTTP/1.1\r\nHost: x\r\n\r\n`,
            };
          return { kind: 'wrong-method', method: at(['PATCH', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'POST'], i % 6), path: at(paths, i % paths.length) };
        },
      ],
      [
        'content-type',
        (i) => ({
          kind: 'content-type',
          method: 'POST',
          path: '/v1/events',
          key: 'ingest',
          body: JSON.stringify(this.event()),
          headers: { 'content-type': at(CONTENT_TYPES, i) },
        }),
      ],
      [
        'auth',
        (i) => {
          const cases: Array<Record<string, string | string[]>> = [
            {},
            { authorization: 'Bearer' },
            { authorization: 'Bearer ' },
            { authorization: `bearer ${KEYS.read}` },
            { authorization: `BEARER ${KEYS.read}` },
            { authorization: `Bearer  ${KEYS.read}` },
            { authorization: 'Basic dXNlcjpwYXNz' },
            { authorization: `Bearer ${KEYS.read}x` },
            { authorization: `Bearer ${'k'.repeat(8_000)}` },
            { authorization: `Bearer ${'k'.repeat(20_000)}` },
            { 'x-api-key': 'wrong' },
            { 'x-api-key': [KEYS.read, 'wrong'] },
            { authorization: `Bearer ${KEYS.read}`, 'x-api-key': 'wrong' },
            { authorization: 'Bearer \u00ff\u00fe\u0080' },
            { authorization: `Token ${KEYS.read}` },
            { authorization: `Bearer ${KEYS.ingest}` },
          ];
          const route = at(
            [`/v1/users/${user}/recommendations?count=3`, '/v1/items?limit=2', `/v1/users/${user}/export`, `/v1/items?limit=1&api_key=${KEYS.admin}`],
            i % 4,
          );
          return { kind: 'auth', method: 'GET', path: route, key: null, headers: at(cases, i % cases.length) };
        },
      ],
      [
        'oversize',
        (i) => {
          const cases: Array<() => Probe> = [
            () => ({ kind: 'oversize', method: 'POST', path: '/v1/events', body: { ...this.event(), context: { pad: 'x'.repeat(MAX_BODY_BYTES) } } }),
            () => ({ kind: 'oversize', method: 'POST', path: '/v1/events', body: { events: Array.from({ length: 3_000 }, () => this.event()) } }),
            () => ({
              kind: 'oversize',
              method: 'POST',
              path: '/v1/items',
              body: { items: Array.from({ length: 10_001 }, (_, k) => ({ id: `o${k}`, title: 't' })) },
            }),
            () => ({ kind: 'oversize', method: 'GET', path: `/v1/items?after=${'a'.repeat(20_000)}` }),
            () => ({ kind: 'oversize', method: 'GET', path: `/v1/items?${Array.from({ length: 2_000 }, (_, k) => `p${k}=1`).join('&')}` }),
            () => ({ kind: 'oversize', method: 'GET', path: '/v1/items', headers: { 'x-padding': 'p'.repeat(20_000) } }),
            () => ({ kind: 'oversize', method: 'POST', path: '/v1/events', body: { ...this.event(), context: { note: 'x'.repeat(40_000) } } }),
            () => ({ kind: 'oversize', method: 'PUT', path: `/v1/items/${this.freshId('big')}`, body: { title: 't'.repeat(2_000), text: 'x'.repeat(60_000) } }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'dates',
        (i) => {
          const timestamp = at(TIMESTAMPS, i % TIMESTAMPS.length);
          const cases: Array<() => Probe> = [
            () => ({ kind: 'dates', method: 'POST', path: '/v1/events', key: 'ingest', body: this.event({ timestamp }) }),
            () => ({
              kind: 'dates',
              method: 'POST',
              path: '/v1/feedback',
              key: 'ingest',
              body: { userId: user, itemId: item, action: 'dismissed', timestamp },
            }),
            () => ({
              kind: 'dates',
              method: 'GET',
              path: `/v1/graph/nodes/user/${user}/neighbourhood?since=${encodeURIComponent(String(timestamp))}&until=${encodeURIComponent(String(at(TIMESTAMPS, i + 3)))}`,
            }),
          ];
          return at(cases, Math.floor(i / TIMESTAMPS.length) % cases.length)();
        },
      ],
      [
        'unknown-keys',
        (i) => {
          const extra = at(['extra', '__proto__', 'constructor', 'prototype', 'Events', ''], i % 6);
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'unknown-keys',
              method: 'POST',
              path: '/v1/events',
              body: `{"events":[${JSON.stringify(this.event())}],${JSON.stringify(extra)}:{"admin":true}}`,
            }),
            () => ({ kind: 'unknown-keys', method: 'POST', path: '/v1/events', body: `{${JSON.stringify(extra)}:1,${JSON.stringify(this.event()).slice(1)}` }),
            () => ({ kind: 'unknown-keys', method: 'PUT', path: `/v1/items/${this.freshId('uk')}`, body: `{"title":"t",${JSON.stringify(extra)}:1}` }),
            () => ({
              kind: 'unknown-keys',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              body: `{"count":3,"filters":{${JSON.stringify(extra)}:1}}`,
            }),
            () => ({ kind: 'unknown-keys', method: 'POST', path: '/v1/model/training', body: `{"fineTune":true,${JSON.stringify(extra)}:1}` }),
            () => ({ kind: 'unknown-keys', method: 'GET', path: `/v1/users/${user}/recommendations?count=3&${encodeURIComponent(extra)}=1` }),
            () => ({ kind: 'unknown-keys', method: 'POST', path: '/v1/events', body: { events: [] } }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'prototype-keys',
        (i) => {
          const name = at([...RESERVED, 'toString', 'hasOwnProperty', 'valueOf'], i % 6);
          const cases: Array<() => Probe> = [
            () => ({
              kind: 'prototype-keys',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              key: 'read',
              body: `{"filters":{"attributes":{${JSON.stringify(name)}:{"min":1}}}}`,
            }),
            () => ({
              kind: 'prototype-keys',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              key: 'read',
              body: `{"filters":{"attributes":{${JSON.stringify(name)}:"x"}}}`,
            }),
            () => ({
              kind: 'prototype-keys',
              method: 'PUT',
              path: `/v1/items/${this.freshId('proto')}`,
              key: 'ingest',
              body: `{"title":"t","attributes":{${JSON.stringify(name)}:[1,2]}}`,
            }),
            () => ({
              kind: 'prototype-keys',
              method: 'POST',
              path: '/v1/events',
              key: 'ingest',
              body: `{"id":"${this.freshId('proto')}","userId":"${user}","itemId":"${item}","type":"view","context":{"a":{${JSON.stringify(name)}:{"polluted":true}}}}`,
            }),
            () => ({
              kind: 'prototype-keys',
              method: 'POST',
              path: '/v1/events',
              key: 'ingest',
              body: `{"__proto__":{"type":"purchase"},"id":"${this.freshId('proto')}","userId":"${user}","itemId":"${item}"}`,
            }),
            () => ({ kind: 'prototype-keys', method: 'GET', path: `/v1/graph/nodes/${name}/x/neighbourhood` }),
            () => ({ kind: 'prototype-keys', method: 'GET', path: `/v1/communities/${name}` }),
          ];
          return at(cases, i % cases.length)();
        },
      ],
      [
        'path-traversal',
        (i) => {
          const paths = [
            '/web/../package.json',
            '/web/..%2f..%2fpackage.json',
            '/web/%2e%2e/%2e%2e/package.json',
            '/web/vendor/..%2f..%2f..%2fpackage.json',
            '/docs/assets/..%2f..%2f..%2f..%2fpackage.json',
            '/web/..\\..\\package.json',
            '/web/%252e%252e/package.json',
            '/web/.%00./package.json',
            '/docs/assets/%c0%ae%c0%ae/package.json',
            '/web//etc/passwd',
          ];
          const target = at(paths, i % paths.length);
          return i % 2 === 0
            ? { kind: 'path-traversal', method: 'GET', key: null, path: target }
            : { kind: 'path-traversal', method: 'GET', path: '/', raw: `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n` };
        },
      ],
      [
        'bad-counts',
        (i) => {
          const value = at(COUNTS, i % COUNTS.length);
          const routes = [
            `/v1/users/${user}/recommendations?count=${value}`,
            `/v1/items/${item}/similar?count=${value}`,
            `/v1/users/${user}/recommendations?diversity=${value}`,
            `/v1/items?limit=${value}`,
            `/v1/graph/search?q=a&limit=${value}`,
            `/v1/graph/paths?from=user:${user}&to=item:${item}&maxLength=${value}`,
            `/v1/communities/${value}`,
          ];
          if (i % 8 === 7)
            return {
              kind: 'bad-counts',
              method: 'POST',
              path: `/v1/users/${user}/recommendations`,
              body: `{"count":${at(['0', '-1', '1.5', '201', '1e400', '"5"', 'null', '[5]', '9007199254740993'], i % 9)}}`,
            };
          return { kind: 'bad-counts', method: 'GET', path: at(routes, Math.floor(i / COUNTS.length) % routes.length) };
        },
      ],
      [
        'raw-http',
        (i) => {
          const cases = [
            'GARBAGE\r\n\r\n',
            'GET /\r\n\r\n',
            'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
            'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789',
            'POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
            'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
            `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.ingest}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"id":"trunc`,
            'GET /v1/items HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n',
            `GET /v1/items HTTP/1.1\r\n${'X-A: 1\r\n'.repeat(3_000)}\r\n`,
            'GET /v1/items HTTP/1.1\r\nHost: x\r\n continuation\r\n\r\n',
          ];
          return { kind: 'raw-http', method: 'GET', path: '/', raw: at(cases, i % cases.length) };
        },
      ],
    ];
  }

  /** A valid request of a random kind, with fresh ids where it writes. */
  valid(): Probe {
    const s = this.s;
    const user = this.pick(s.users);
    const item = this.pick(s.items);
    const templates: Array<() => Probe> = [
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/events',
        key: 'ingest',
        body: this.event({ type: this.pick(['view', 'click', 'like', 'purchase']) }),
      }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/events',
        key: 'ingest',
        body: {
          events: [
            this.event(),
            this.event({ type: 'rating', value: 4, timestamp: '2024-06-01T10:00:00+02:00' }),
            this.event({ context: { page: 'home', rank: 2 } }),
          ],
        },
      }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/events',
        key: 'ingest',
        body: { id: this.freshId('s'), sessionId: s.sessions.length ? this.pick(s.sessions) : 'fuzz-session', itemId: item, type: 'click' },
      }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/feedback',
        key: 'ingest',
        body: { userId: user, itemId: item, action: this.pick(['clicked', 'dismissed', 'not_interested']), recommendationId: 'r1' },
      }),
      () => ({
        kind: 'valid',
        method: 'PUT',
        path: `/v1/items/${this.freshId('item')}`,
        key: 'ingest',
        body: { title: 'Fuzz item', tags: [this.pick(s.tags)], attributes: { year: 2001, colour: 'red' } },
      }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/items',
        key: 'ingest',
        body: {
          items: [
            { id: this.freshId('item'), title: 'A', tags: ['fuzz:a'] },
            { id: this.freshId('item'), title: 'B' },
          ],
        },
      }),
      () => ({ kind: 'valid', method: 'GET', path: '/v1/items?limit=5', key: 'read' }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/items/${item}`, key: 'read' }),
      () => ({
        kind: 'valid',
        method: 'GET',
        path: `/v1/users/${user}/recommendations?count=5&includeTags=${encodeURIComponent(this.pick(s.tags))}&diversity=0.3`,
        key: 'read',
      }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: `/v1/users/${user}/recommendations`,
        key: 'read',
        body: { count: 4, filters: { attributes: { year: { min: 1990 } }, excludeTags: [this.pick(s.tags)] }, explain: true },
      }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/items/${item}/similar?count=3`, key: 'read' }),
      () => ({
        kind: 'valid',
        method: 'POST',
        path: '/v1/recommendations/more-like-these',
        key: 'read',
        body: { items: [item, this.pick(s.items)], count: 3 },
      }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/users/${user}/explanations/${item}`, key: 'read' }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/users/${user}/export`, key: 'admin' }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/graph/search?q=${encodeURIComponent(item.slice(0, 4))}&limit=5`, key: 'admin' }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/graph/nodes/user/${user}/neighbourhood?limit=5&since=2024-01-01T00:00:00Z`, key: 'admin' }),
      () => ({ kind: 'valid', method: 'GET', path: `/v1/graph/paths?from=user:${user}&to=item:${item}&maxLength=3`, key: 'admin' }),
      () => ({
        kind: 'valid',
        method: 'GET',
        path: this.pick(['/v1/communities', '/v1/communities/0', `/v1/users/${user}/profile`, '/v1/graph/stats', '/v1/model']),
        key: 'admin',
      }),
      () => ({ kind: 'valid', method: 'DELETE', path: `/v1/items/${this.pick(s.items)}`, key: 'ingest' }),
      () => ({ kind: 'valid', method: 'DELETE', path: `/v1/users/${this.pick(s.users)}`, key: 'admin' }),
    ];
    return this.pick(templates)();
  }

  /** A valid request, changed in one or two random ways (or, now and then, left valid). */
  mutated(): Probe {
    let probe = this.valid();
    if (this.rng() < 0.15) return probe;
    const changes = 1 + Math.floor(this.rng() * 2);
    for (let c = 0; c < changes; c++) probe = this.mutate(probe);
    return { ...probe, kind: 'mutation' };
  }

  private mutate(probe: Probe): Probe {
    const roll = this.rng();
    if (roll < 0.45 && probe.body !== undefined && !Buffer.isBuffer(probe.body) && typeof probe.body !== 'string') {
      return { ...probe, body: this.mutateValue(structuredClone(probe.body), 0) };
    }
    if (roll < 0.6 && probe.body !== undefined) {
      const text = Buffer.isBuffer(probe.body) ? probe.body.toString('utf8') : typeof probe.body === 'string' ? probe.body : JSON.stringify(probe.body);
      return { ...probe, body: this.mutateText(text) };
    }
    if (roll < 0.7) {
      const [route, query = ''] = probe.path.split('?') as [string, string?];
      const segments = route.split('/');
      const at = 2 + Math.floor(this.rng() * Math.max(1, segments.length - 2));
      if (at < segments.length) segments[at] = this.rng() < 0.5 ? encodePath(this.pick(ODD_IDS)) : this.pick(BAD_PERCENT);
      return { ...probe, path: segments.join('/') + (query ? `?${query}` : '') };
    }
    if (roll < 0.78) {
      const junk =
        this.pick(['count=', 'limit=', 'explain=', 'includeTags=', 'since=', 'foo=', '__proto__=', 'count[]=']) +
        encodeURIComponent(String(this.pick([...COUNTS, ...ODD_IDS.slice(0, 12)])));
      return { ...probe, path: probe.path + (probe.path.includes('?') ? '&' : '?') + junk };
    }
    if (roll < 0.86) return { ...probe, method: this.pick(METHODS) };
    if (roll < 0.93) return { ...probe, headers: { ...probe.headers, 'content-type': this.pick(CONTENT_TYPES) } };
    return { ...probe, key: this.pick<Role | null>([null, 'read', 'ingest']) };
  }

  private mutateValue(value: unknown, depth: number): unknown {
    const odd = () =>
      this.pick<unknown>([
        null,
        true,
        -1,
        0,
        1.5,
        1e308,
        -1e308,
        '',
        'x'.repeat(300),
        ...ODD_IDS.slice(0, 16),
        {},
        [],
        [[[]]],
        { __proto__: null, a: 1 },
        JSON.parse('{"__proto__":{"x":1}}'),
      ]);
    if (depth > 4 || value === null || typeof value !== 'object' || this.rng() < 0.25) return odd();
    if (Array.isArray(value)) {
      const op = this.rng();
      if (op < 0.2 || value.length === 0) return [];
      const index = Math.floor(this.rng() * value.length);
      if (op < 0.5) value[index] = this.mutateValue(value[index], depth + 1);
      else if (op < 0.75) value.push(structuredClone(value[index]));
      else value.splice(index, 1, odd());
      return value;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const op = this.rng();
    if (op < 0.2 && keys.length > 0) delete record[this.pick(keys)];
    else if (op < 0.35)
      Object.defineProperty(record, this.pick(['extra', ...RESERVED, 'Type', 'id ']), { value: odd(), enumerable: true, configurable: true, writable: true });
    else if (keys.length > 0) {
      const key = this.pick(keys);
      record[key] = this.mutateValue(record[key], depth + 1);
    }
    return record;
  }

  private mutateText(text: string): string {
    const op = this.rng();
    const at = Math.floor(this.rng() * (text.length + 1));
    if (op < 0.25) return text.slice(0, at);
    if (op < 0.45) return text.slice(0, at) + this.pick(['\u0000', '\ufffd', '"', '}', ']', ',', '\\', '\\u', '\\ud800', 'NaN', '\u001b']) + text.slice(at);
    if (op < 0.6) return `\ufeff${text}`;
    if (op < 0.7) return `${text},`;
    if (op < 0.85) return text.replace('{', '{"id":"duplicate-key",');
    return text.replace(/"(\w+)":/, '"$1":1,"$1":');
  }
}

// ---- the run ----

interface Ledger {
  accepted: number;
  erased: number;
  items: Set<string>;
  /** 2xx answers to writes whose bodies could not be read: the check below cannot account for them. */
  unreadable: number;
}

/** Notes what a 2xx answer acknowledged as written. Express matches routes case-insensitively and with a trailing slash. */
function account(ledger: Ledger, probe: Probe, answer: Answer): void {
  if (answer.status === null || answer.status < 200 || answer.status >= 300 || probe.raw !== undefined) return;
  const route = probe.path.split('?')[0]!.replace(/\/$/, '');
  const segments = route.split('/');
  const lower = route.toLowerCase();
  const method = probe.method.toUpperCase();
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };
  let body: Record<string, unknown> | null;
  try {
    body = answer.body ? (JSON.parse(answer.body) as Record<string, unknown>) : null;
  } catch {
    body = null;
  }
  const written = method === 'POST' && (lower === '/v1/events' || lower === '/v1/feedback');
  if (written) {
    if (typeof body?.accepted === 'number') ledger.accepted += body.accepted;
    else ledger.unreadable++;
  } else if (method === 'PUT' && segments.length === 4 && lower.startsWith('/v1/items/')) {
    if (typeof body?.id === 'string') ledger.items.add(body.id);
    else ledger.unreadable++;
  } else if (method === 'POST' && lower === '/v1/items') {
    if (Array.isArray(body?.items)) for (const item of body.items as Array<{ id: string }>) ledger.items.add(item.id);
    else ledger.unreadable++;
  } else if (method === 'DELETE' && segments.length === 4 && lower.startsWith('/v1/items/')) {
    ledger.items.delete(decode(segments[3]!));
  } else if (method === 'DELETE' && segments.length === 4 && lower.startsWith('/v1/users/')) {
    if (typeof body?.interactions === 'number') ledger.erased += body.interactions;
    else ledger.unreadable++;
  }
}

interface Args {
  requests: number;
  seconds: number;
  seed: number;
  timeoutMs: number;
  serve?: string;
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', dataDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    void exited.then((code) => reject(new Error(`the fuzz server exited (code ${code}) before it was ready`)));
  });
  return { child, url, exited };
}

async function storeContents(dataDir: string): Promise<{ interactions: number; items: Set<string> }> {
  const store = await openGraphStore(configFor(dataDir));
  try {
    const items = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await store.listItems(after === undefined ? { limit: 1000 } : { after, limit: 1000 });
      for (const item of page) items.add(item.id);
      if (page.length < 1000) break;
      after = page.at(-1)!.id;
    }
    return { interactions: (await store.counts()).interactions, items };
  } finally {
    await store.close();
  }
}

async function fuzz(args: Args): Promise<void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fuzz-api-'));
  const summary = { requests: 0, status_5xx: 0, hangs: 0, crashes: 0, partial_writes: 0 };
  try {
    const data = await seed(dataDir);
    const before = await storeContents(dataDir);
    const { child, url, exited } = await startServer(dataDir);
    const seeded: Seeded = { ...data, url, interactions: before.interactions };
    let crashed = false;
    void exited.then(() => {
      crashed = true;
    });
    const base = new URL(seeded.url);
    say(`fuzzing ${seeded.url} (seed ${args.seed}): ${seeded.interactions} interactions, ${seeded.items.length} items`);
    const source = new RequestSource(args.seed, seeded);
    const kinds = source.hostile();
    const nextOfKind = new Map<string, number>();
    const byKind = new Map<string, Map<string, number>>();
    const ledger: Ledger = { accepted: 0, erased: 0, items: new Set(before.items), unreadable: 0 };
    const deadline = Date.now() + args.seconds * 1000;
    let hostileTurn = 0;
    for (let n = 0; n < args.requests && Date.now() < deadline && !crashed; n++) {
      let probe: Probe;
      if (n % 2 === 0) {
        const [kind, make] = kinds[hostileTurn++ % kinds.length]!;
        const i = nextOfKind.get(kind) ?? 0;
        nextOfKind.set(kind, i + 1);
        probe = make(i);
      } else {
        probe = source.mutated();
      }
      const answer = await send(base, probe, args.timeoutMs);
      summary.requests++;
      const status = answer.status === null ? (answer.timedOut ? 'hang' : 'no answer') : String(answer.status);
      const counts = byKind.get(probe.kind) ?? new Map<string, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      byKind.set(probe.kind, counts);
      if (answer.status !== null && answer.status >= 500) {
        summary.status_5xx++;
        say(`5xx: ${probe.method} ${probe.path.slice(0, 200)} -> ${answer.status} ${answer.body.slice(0, 300)}`);
      }
      // A raw request the server refuses may be answered by closing the connection; an HTTP request may not.
      if (answer.timedOut || (answer.status === null && probe.raw === undefined && !crashed)) {
        summary.hangs++;
        say(`no answer: ${probe.method} ${probe.path.slice(0, 200)} (${answer.timedOut ? `timed out after ${args.timeoutMs} ms` : answer.body})`);
      }
      account(ledger, probe, answer);
    }

    const alive = crashed ? null : await send(base, { kind: 'check', method: 'GET', path: '/health/live', key: null }, args.timeoutMs);
    if (crashed || alive?.status !== 200) {
      summary.crashes++;
      say(crashed ? 'the server process exited during the run' : `the server no longer answers /health/live (${alive?.status ?? 'no answer'})`);
    }
    if (!crashed) child.send('close');
    const code = await Promise.race([exited, new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 30_000).unref())]);
    if (code === 'stuck') {
      child.kill('SIGKILL');
      await exited;
      summary.hangs++;
      say('the server did not close within 30 s');
    }

    const stored = await storeContents(dataDir);
    const expected = seeded.interactions + ledger.accepted - ledger.erased;
    const missingItems = [...ledger.items].filter((id) => !stored.items.has(id));
    const extraItems = [...stored.items].filter((id) => !ledger.items.has(id));
    summary.partial_writes = Math.abs(stored.interactions - expected) + missingItems.length + extraItems.length + ledger.unreadable;
    if (summary.partial_writes > 0) {
      say(
        `store: ${stored.interactions} interactions, ${expected} acknowledged; items not acknowledged: ${extraItems.slice(0, 5).join(', ')}; acknowledged but missing: ${missingItems.slice(0, 5).join(', ')}; unreadable 2xx answers: ${ledger.unreadable}`,
      );
    }
    for (const [kind, counts] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
      process.stdout.write(
        `${kind.padEnd(20)} ${[...counts]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([status, count]) => `${status}×${count}`)
          .join(' ')}\n`,
      );
    }
    process.stdout.write(
      `acknowledged: ${ledger.accepted} events, ${ledger.erased} erased; store holds ${stored.interactions} interactions (${seeded.interactions} seeded) and ${stored.items.size} items\n`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = summary.status_5xx + summary.hangs + summary.crashes + summary.partial_writes > 0 ? 1 : 0;
}

const args = new Command()
  .option('--requests <n>', 'requests to send', positiveInteger, 400)
  .option('--seconds <n>', 'stop sending after this long', positiveInteger, 120)
  .option('--seed <n>', 'PRNG seed for the random mutations', positiveInteger, 1)
  .option('--timeout-ms <n>', 'a request without an answer by then is a hang', positiveInteger, 10_000)
  .option('--serve <dir>', '(internal) run the server over this data directory')
  .parse()
  .opts<Args>();

(args.serve ? serve(args.serve) : fuzz(args)).catch((error: unknown) => {
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(2);
});
