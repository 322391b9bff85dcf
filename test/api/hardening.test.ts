import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';

import { pino } from 'pino';

import { ApiServer } from '../../src/api/api-server.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';
import { FREE_DATA_MAX_DEPTH } from '../../src/free-data.ts';
import { openLoader } from '../../src/loaders/index.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * Issue 18, items 6–8: hostile and malformed requests against a real server (embedded store on disk, no
 * GNN: these are protocol and input checks). No input may get a 5xx; every 400 names its fields; nothing
 * of a rejected request is written.
 */
const quiet = pino({ level: 'silent' });
const KEYS = { admin: 'admin-key-0123456789abcdef', ingest: 'ingest-key-0123456789abcdef', read: 'read-key-0123456789abcdefgh' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

interface CallOptions {
  key?: keyof typeof KEYS | null;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string or Buffer. */
  body?: unknown;
}

describe('HTTP API hardening: protocol and input (issue 18)', function () {
  this.timeout(60_000);
  const data = generateSyntheticDataset({ seed: 5, edges: 600, users: 20, items: 40, topics: 3 });
  const user = data.userId(0);
  const item = data.itemId(0);
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let services: EngineServices;
  let api: ApiServer;
  let port: number;

  /** node:http, not fetch: fetch normalises paths (`..`) and refuses some bytes this suite must send. */
  function send(method: string, rawPath: string, options: CallOptions): Promise<Answer> {
    const headers: Record<string, string> = {};
    const key = options.key === undefined ? 'admin' : options.key;
    if (key) headers.authorization = `Bearer ${KEYS[key]}`;
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.isBuffer(options.body) ? options.body : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, options.headers);
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: rawPath, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = String(res.headers['content-type'] ?? '').includes('json') && text !== '';
          try {
            resolve({ status: res.statusCode!, headers: res.headers, body: json ? JSON.parse(text) : text, text });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Every answer of this suite: never a 5xx, and every 400 names what is wrong. */
  async function call(method: string, rawPath: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await send(method, rawPath, options);
    assert.ok(answer.status < 500, `${method} ${rawPath}: ${answer.status} ${answer.text.slice(0, 300)}`);
    if (answer.status === 400)
      assert.ok(Array.isArray(answer.body.errors) && answer.body.errors.length > 0, `${method} ${rawPath}: a 400 without errors: ${answer.text}`);
    return answer;
  }

  const paths = (answer: Answer): string[] => (answer.body.errors ?? []).map((e: { path: string }) => e.path);
  const event = (id: string, fields: Record<string, unknown> = {}) => ({ id, userId: user, itemId: item, type: 'view', ...fields });
  const interactionCount = async () => (await engine.interactionsOf('user', user)).length;

  async function start(): Promise<void> {
    engine = await InterestEngine.open(config, { logger: quiet });
    services = await startEngineServices(engine, quiet);
    api.attach({ engine, ...services, lastEvaluation: () => null });
  }
  async function stopEngine(): Promise<void> {
    await services.close();
    await engine.close();
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'hardening-'));
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        GNN_TRAIN_ON_START: 'false',
        GNN_REFRESH_MINUTES: '0',
        COMMUNITIES_REFRESH_MINUTES: '0',
        DURABILITY: 'normal',
        API_KEYS: `admin:${KEYS.admin}:admin,loader:${KEYS.ingest}:ingest,app:${KEYS.read}:read`,
      },
    });
    api = new ApiServer(config, quiet);
    port = Number(new URL(await api.listen(0, '127.0.0.1')).port);
    const seeding = await InterestEngine.open(config, { logger: quiet });
    await seeding.upsertItems(data.catalogue());
    await seeding.ingestEvents(data.eventsAt(0, 600));
    await seeding.close();
    await start();
  });
  after(async () => {
    await api?.close();
    await stopEngine().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('answers that were 500 (item 6)', () => {
    it('/web/vendor/ answers 404 for names inherited by objects, and still serves its files', async () => {
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const answer = await call('GET', `/web/vendor/${name}`, { key: null });
        assert.equal(answer.status, 404, name);
      }
      assert.equal((await call('GET', '/web/vendor/sigma.min.js', { key: null })).status, 200);
    });

    it('answers 400 naming the path for bad percent-encoding', async () => {
      for (const bad of ['/v1/items/%E0%A4%A', '/v1/users/%/recommendations', '/v1/items/%ED%A0%80', '/v1/users/u/explanations/%zz']) {
        const answer = await call('GET', bad);
        assert.equal(answer.status, 400, bad);
        assert.deepEqual(paths(answer), ['path'], bad);
      }
    });

    it('answers 400 or 415 for a body that is not encoded as its Content-Encoding says, and still reads real gzip', async () => {
      const plain = JSON.stringify(event('enc-plain'));
      for (const encoding of ['gzip', 'br', 'deflate']) {
        const answer = await call('POST', '/v1/events', { body: plain, headers: { 'content-encoding': encoding } });
        assert.equal(answer.status, 400, encoding);
        assert.deepEqual(paths(answer), ['body']);
      }
      assert.equal((await call('POST', '/v1/events', { body: plain, headers: { 'content-encoding': 'compress' } })).status, 415);
      const gzip = await call('POST', '/v1/events', { body: gzipSync(JSON.stringify(event('enc-gzip'))), headers: { 'content-encoding': 'gzip' } });
      assert.deepEqual([gzip.status, gzip.body], [200, { accepted: 1, duplicates: 0 }]);
      const br = await call('POST', '/v1/events', { body: brotliCompressSync(JSON.stringify(event('enc-br'))), headers: { 'content-encoding': 'br' } });
      assert.equal(br.status, 200);
      assert.equal(
        (await engine.interactionsOf('user', user)).some((i) => i.eventId === 'enc-plain'),
        false,
      );
    });

    it(`refuses a context nested deeper than ${FREE_DATA_MAX_DEPTH} levels with a 400 naming the field, and writes nothing`, async () => {
      const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
      const before = await interactionCount();
      const deep = await call('POST', '/v1/events', {
        body: `{"events":[${JSON.stringify(event('deep'))}, {"id":"deep-2","userId":"${user}","itemId":"${item}","type":"view","context":${nested(10_000)}}]}`,
      });
      assert.equal(deep.status, 400);
      assert.deepEqual(paths(deep), ['events[1].context']);
      assert.match(deep.body.errors[0].message, /32 levels/);
      // The context object itself is level 1.
      const justOver = await call('POST', '/v1/events', {
        body: `{"id":"deep-33","userId":"${user}","itemId":"${item}","type":"view","context":${nested(FREE_DATA_MAX_DEPTH + 1)}}`,
      });
      assert.equal(justOver.status, 400);
      const atLimit = await call('POST', '/v1/events', {
        body: `{"id":"deep-32","userId":"${user}","itemId":"${item}","type":"view","context":${nested(FREE_DATA_MAX_DEPTH)}}`,
      });
      assert.equal(atLimit.status, 200);
      const big = await call('POST', '/v1/events', { body: event('big-context', { context: { note: 'x'.repeat(70_000) } }) });
      assert.equal(big.status, 400);
      assert.match(big.body.errors[0].message, /65536 bytes/);
      assert.equal(await interactionCount(), before + 1, 'only the event at the limit was written');
      const exported = await call('GET', `/v1/users/${user}/export`);
      assert.equal(exported.status, 200, 'an event at the depth limit can be exported');
    });

    it('refuses reserved and oversize catalogue attributes, naming the field', async () => {
      for (const name of ['__proto__', 'constructor', 'prototype']) {
        const answer = await call('PUT', '/v1/items/attr-item', { key: 'ingest', body: `{"title":"t","attributes":{"${name}":[1,2]}}` });
        assert.equal(answer.status, 400, name);
        assert.deepEqual(paths(answer), [`attributes.${name}`]);
      }
      const huge = await call('PUT', '/v1/items/attr-item', { key: 'ingest', body: { title: 't', attributes: { blurb: 'x'.repeat(70_000) } } });
      assert.deepEqual([huge.status, paths(huge)], [400, ['attributes']]);
      assert.equal((await call('GET', '/v1/items/attr-item')).status, 404, 'nothing was stored');
    });
  });

  describe('accepted and should not be (item 7)', () => {
    it('refuses an empty batch and unknown keys beside events, writing nothing', async () => {
      const empty = await call('POST', '/v1/events', { key: 'ingest', body: { events: [] } });
      assert.deepEqual([empty.status, paths(empty)], [400, ['events']]);
      const before = await interactionCount();
      for (const extra of ['extra', '__proto__', 'constructor']) {
        const answer = await call('POST', '/v1/events', {
          key: 'ingest',
          body: `{"events":[${JSON.stringify(event(`unknown-${extra}`))}],"${extra}":{"x":1}}`,
        });
        assert.equal(answer.status, 400, extra);
        assert.ok(
          paths(answer).some((p) => p.includes(extra)),
          JSON.stringify(answer.body),
        );
      }
      assert.equal(await interactionCount(), before);
    });

    it('refuses impossible dates and date-times without a zone; accepts 29 February of a leap year', async () => {
      const cases: Array<[string, RegExp]> = [
        ['2024-02-30', /2024-02-30/],
        ['2024-02-30T10:00:00Z', /2024-02-30/],
        ['2023-02-29T10:00:00Z', /2023-02-29/],
        ['2024-13-01T00:00:00Z', /2024-13-01/],
        ['2024-04-31T00:00:00+02:00', /2024-04-31/],
        ['2024-05-01T24:00:00Z', /time of day/],
        ['2024-05-01T12:00:00+25:00', /zone offset/],
        ['2024-02-03T10:00:00', /zone/],
        ['2024-02-03', /zone/],
      ];
      for (const [timestamp, message] of cases) {
        const answer = await call('POST', '/v1/events', { key: 'ingest', body: event(`date-${timestamp}`, { timestamp }) });
        assert.equal(answer.status, 400, timestamp);
        assert.deepEqual(paths(answer), ['events[0].timestamp']);
        assert.match(answer.body.errors[0].message, message, timestamp);
      }
      const leap = await call('POST', '/v1/events', { key: 'ingest', body: event('date-leap', { timestamp: '2024-02-29T10:00:00+01:00' }) });
      assert.equal(leap.status, 200);
      const stored = (await engine.interactionsOf('user', user)).find((i) => i.eventId === 'date-leap');
      assert.equal(stored?.ts, Date.parse('2024-02-29T09:00:00Z'));
      const since = await call('GET', `/v1/graph/nodes/user/${user}/neighbourhood?since=2024-02-30T00:00:00Z`);
      assert.deepEqual([since.status, paths(since)], [400, ['query.since']]);
    });

    const BAD_IDS: Array<[string, string]> = [
      ['NUL', 'a\u0000b'],
      ['CR LF', 'a\r\nb'],
      ['ESC', '\u001b[31mred'],
      ['DEL', 'a\u007f'],
      ['C1 control', 'a\u0085'],
      ['unpaired high surrogate', 'x\ud800'],
      ['unpaired low surrogate', '\udc00y'],
      ['spaces only', '   '],
      ['zero-width space only', '\u200b'],
      ['invisible characters only', '\u200b\u2060\ufeff\u3164'],
      ['257 bytes', 'a'.repeat(257)],
      ['258 bytes in 129 characters', 'é'.repeat(129)],
    ];

    it('refuses bad ids in every field of an event, naming the field, and writes nothing', async () => {
      const before = await interactionCount();
      for (const [label, id] of BAD_IDS) {
        for (const field of ['id', 'userId', 'itemId']) {
          const answer = await call('POST', '/v1/events', {
            key: 'ingest',
            body: { events: [event(`ok-${label}-${field}`), { ...event(`bad-${label}-${field}`), [field]: id }] },
          });
          assert.equal(answer.status, 400, `${label} as ${field}`);
          assert.deepEqual(paths(answer), [`events[1].${field}`], `${label} as ${field}`);
        }
        const session = await call('POST', '/v1/events', { key: 'ingest', body: { id: `bad-session-${label}`, sessionId: id, itemId: item, type: 'view' } });
        assert.deepEqual(paths(session), ['events[0].sessionId'], label);
      }
      assert.equal(await interactionCount(), before);
    });

    it('refuses bad ids in paths, catalogue items and tags, feedback, filters and graph queries', async () => {
      const encode = (id: string) => Buffer.from(id, 'utf8').toString('hex').replace(/../g, '%$&');
      for (const [label, id] of BAD_IDS.filter(([label]) => !label.includes('surrogate'))) {
        const put = await call('PUT', `/v1/items/${encode(id)}`, { key: 'ingest', body: { title: 'x' } });
        assert.deepEqual([put.status, paths(put)], [400, ['path.itemId']], label);
        const recs = await call('GET', `/v1/users/${encode(id)}/recommendations`);
        assert.deepEqual([recs.status, paths(recs)], [400, ['path.userId']], label);
        const neighbourhood = await call('GET', `/v1/graph/nodes/user/${encode(id)}/neighbourhood`);
        assert.deepEqual([neighbourhood.status, paths(neighbourhood)], [400, ['path.id']], label);
        const graphPaths = await call('GET', `/v1/graph/paths?from=user:${encode(id)}&to=item:${item}`);
        assert.deepEqual([graphPaths.status, paths(graphPaths)], [400, ['query.from']], label);
      }
      for (const [label, id] of BAD_IDS) {
        const items = await call('POST', '/v1/items', {
          key: 'ingest',
          body: {
            items: [
              { id: 'fine-item', title: 't' },
              { id, title: 't' },
            ],
          },
        });
        assert.deepEqual([items.status, paths(items)], [400, ['items[1].id']], label);
        const tags = await call('POST', '/v1/items', { key: 'ingest', body: { items: [{ id: 'tagged', title: 't', tags: ['genre:ok', id] }] } });
        assert.deepEqual([tags.status, paths(tags)], [400, ['tags[1]']], label);
        const feedback = await call('POST', '/v1/feedback', { key: 'ingest', body: { userId: user, itemId: item, action: 'clicked', recommendationId: id } });
        assert.deepEqual([feedback.status, paths(feedback)], [400, ['recommendationId']], label);
        const filters = await call('POST', `/v1/users/${user}/recommendations`, { key: 'read', body: { filters: { includeTags: [id] } } });
        assert.deepEqual([filters.status, paths(filters)], [400, ['filters.includeTags[0]']], label);
        const more = await call('POST', '/v1/recommendations/more-like-these', { key: 'read', body: { items: [item, id] } });
        assert.deepEqual([more.status, paths(more)], [400, ['items[1]']], label);
      }
      assert.equal((await call('GET', '/v1/items/fine-item')).status, 404, 'a batch with one bad item stores none');
    });

    it('accepts ids at the limits and any well-formed script, and they stay addressable after a restart', async () => {
      const ids = ['a'.repeat(256), 'é'.repeat(128), '😀 ünï cödé', ' padded ', '__proto__', 'a/b?c#d%'];
      for (const [k, id] of ids.entries()) {
        const answer = await call('POST', '/v1/events', { key: 'ingest', body: { id: `limit-${k}`, userId: id, itemId: item, type: 'like' } });
        assert.equal(answer.status, 200, JSON.stringify(id));
      }
      await stopEngine();
      await start();
      for (const [k, id] of ids.entries()) {
        const exported = await call('GET', `/v1/users/${encodeURIComponent(id)}/export`);
        assert.equal(exported.status, 200, JSON.stringify(id));
        assert.deepEqual(
          exported.body.interactions.map((i: { id: string }) => i.id),
          [`limit-${k}`],
        );
        assert.equal(exported.body.user.id, id);
      }
    });

    it('loaders report rows with bad ids and load the rest', async () => {
      const folder = mkdtempSync(path.join(tmpdir(), 'hardening-load-'));
      try {
        const file = path.join(folder, 'events.jsonl');
        writeFileSync(
          file,
          [
            JSON.stringify({ item: { id: '\u200b', title: 'invisible' } }),
            JSON.stringify({ item: { id: 'visible', title: 'fine', tags: ['ok', 'a\u0000b'] } }),
            JSON.stringify({ id: 'load-good', userId: 'loader-user', itemId: item, type: 'view', timestamp: 1_700_000_000_000 }),
            '{"id": "load-surrogate", "userId": "x\\ud800", "itemId": "i", "type": "view", "timestamp": 1700000000000}',
            JSON.stringify({ id: 'load-nul', userId: 'a\u0000', itemId: 'i', type: 'view', timestamp: 1_700_000_000_000 }),
            JSON.stringify({ id: 'load-feb30', userId: 'loader-user', itemId: 'i', type: 'view', timestamp: '2024-02-30T00:00:00Z' }),
          ].join('\n'),
        );
        const loader = await openLoader(file);
        const raw: unknown[] = [];
        const errors: string[] = [];
        for await (const record of loader.records()) {
          if (record.kind === 'error') errors.push(record.message);
          else if (record.kind === 'event') raw.push(record.event);
        }
        assert.equal(errors.length, 2, errors.join('\n'));
        assert.match(errors[0]!, /item\.id: must not be blank/);
        assert.match(errors[1]!, /item\.tags\[1\]: must not hold control characters/);
        const receipt = await engine.ingestEvents(raw, { partial: true });
        assert.equal(receipt.accepted, 1);
        assert.deepEqual(
          receipt.rejected.map((r) => [r.index, r.issues.map((i) => i.path)]),
          [
            [1, ['userId']],
            [2, ['userId']],
            [3, ['timestamp']],
          ],
        );
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });

  describe('HTTP conventions (item 8)', () => {
    it('answers 405 with Allow for a wrong method on an existing path, 404 for no path', async () => {
      const cases: Array<[string, string, string[]]> = [
        ['PATCH', '/v1/items/x', ['DELETE', 'GET', 'PUT']],
        ['POST', '/v1/model', ['GET']],
        ['DELETE', '/v1/events', ['POST']],
        ['PUT', `/v1/users/${user}/recommendations`, ['GET', 'POST']],
        ['POST', '/health/live', ['GET']],
        ['DELETE', '/openapi.json', ['GET']],
      ];
      for (const [method, route, allowed] of cases) {
        const answer = await call(method, route);
        assert.equal(answer.status, 405, `${method} ${route}`);
        const allow = String(answer.headers.allow).split(', ');
        for (const m of allowed) assert.ok(allow.includes(m), `${method} ${route}: Allow ${allow.join(', ')} lacks ${m}`);
        assert.ok(!allow.includes(method));
        assert.equal(answer.body.status, 405);
      }
      const options = await call('OPTIONS', '/v1/items');
      assert.equal(options.status, 204);
      assert.match(String(options.headers.allow), /GET.*POST/);
      assert.equal((await call('PATCH', '/v1/nothing-here')).status, 404);
    });

    it('answers 400 with an errors list when the body is not JSON', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const answer = await call('POST', '/v1/events', { key: 'ingest', headers: { 'content-type': type }, body: JSON.stringify(event('typed')) });
        assert.deepEqual([answer.status, paths(answer)], [400, ['body']], type);
      }
      const none = await call('PUT', '/v1/items/no-body', { key: 'ingest' });
      assert.deepEqual([none.status, paths(none)], [400, ['body']]);
    });

    it('takes the Bearer scheme in any case', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
        const answer = await call('GET', '/v1/items?limit=1', { key: null, headers: { authorization: `${scheme} ${KEYS.read}` } });
        assert.equal(answer.status, 200, scheme);
      }
      assert.equal((await call('GET', '/v1/items?limit=1', { key: null, headers: { authorization: `Bearerx ${KEYS.read}` } })).status, 401);
    });

    it('states the real limits in the OpenAPI document: count up to maxCount, no unbounded integer in any request', async () => {
      const document = (await call('GET', '/openapi.json', { key: null })).body;
      const parameters = document.paths['/v1/users/{userId}/recommendations'].get.parameters;
      const count = parameters.find((p: { name: string }) => p.name === 'count');
      assert.equal(count.schema.maximum, config.recommend.maxCount);
      assert.equal(count.schema.minimum, 1);
      const bodyCount = document.paths['/v1/users/{userId}/recommendations'].post.requestBody.content['application/json'].schema.properties.count;
      assert.equal(bodyCount.maximum, config.recommend.maxCount);
      const unbounded: string[] = [];
      const scan = (schema: unknown, where: string): void => {
        if (schema === null || typeof schema !== 'object') return;
        const s = schema as Record<string, unknown>;
        if (s.type === 'integer' && (s.maximum === undefined || Number(s.maximum) >= Number.MAX_SAFE_INTEGER)) unbounded.push(where);
        for (const [key, value] of Object.entries(s)) scan(value, `${where}.${key}`);
      };
      for (const [route, operations] of Object.entries(document.paths as Record<string, Record<string, { parameters?: unknown; requestBody?: unknown }>>)) {
        for (const [method, operation] of Object.entries(operations)) {
          scan(operation.parameters, `${method} ${route} parameters`);
          scan(operation.requestBody, `${method} ${route} body`);
        }
      }
      assert.deepEqual(unbounded, []);
      const itemParam = document.paths['/v1/items/{itemId}'].get.parameters[0];
      assert.deepEqual([itemParam.schema.minLength, itemParam.schema.maxLength], [1, 256]);
    });

    it('answers 400 naming the field for a reserved attribute filter name', async () => {
      for (const name of ['__proto__', 'constructor', 'prototype']) {
        const answer = await call('POST', `/v1/users/${user}/recommendations`, { key: 'read', body: `{"filters":{"attributes":{"${name}":{"min":1}}}}` });
        assert.equal(answer.status, 400, name);
        assert.deepEqual(paths(answer), [`filters.attributes.${name}`]);
      }
      const inherited = await call('POST', `/v1/users/${user}/recommendations`, { key: 'read', body: { filters: { attributes: { toString: 'x' } } } });
      assert.deepEqual([inherited.status, inherited.body.items], [200, []], 'no item has an own toString attribute');
    });
  });

  it('path traversal under /web and /docs/assets stays inside', async () => {
    for (const traversal of [
      '/web/../package.json',
      '/web/..%2f..%2fpackage.json',
      '/web/%2e%2e/%2e%2e/package.json',
      '/web/vendor/..%2f..%2f..%2fpackage.json',
      '/docs/assets/..%2f..%2f..%2fpackage.json',
    ]) {
      const answer = await call('GET', traversal, { key: null });
      assert.ok(answer.status >= 400 && answer.status < 500, `${traversal}: ${answer.status}`);
      assert.ok(!answer.text.includes('interest-graph-engine'), traversal);
    }
  });
});
