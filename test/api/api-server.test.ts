import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';

import { ApiServer } from '../../src/api/api-server.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * The HTTP API against a real server on a random port, on a real engine (embedded store on disk) with a
 * trained GAT. Every response is checked against the server's own OpenAPI document.
 */
const quiet = pino({ level: 'silent' });
const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  ingest: 'ingest-key-0123456789abcdef',
  read: 'read-key-0123456789abcdefgh',
};
const EDGES = 8_000;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

describe('HTTP API', function () {
  this.timeout(180_000);
  const data = generateSyntheticDataset({ seed: 3, edges: EDGES, users: 120, items: 200, topics: 5, sessionShare: 0.1 });
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let services: EngineServices;
  let api: ApiServer;
  let url: string;
  let document: any;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  /** Calls the API; checks the answer against the OpenAPI document of `template` (the route as documented). */
  async function call(
    method: string,
    route: string,
    options: { key?: keyof typeof KEYS | null; body?: unknown; raw?: string; template?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    const key = options.key === undefined ? 'admin' : options.key;
    if (key) headers.authorization = `Bearer ${KEYS[key]}`;
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + route, {
      method,
      headers,
      ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const body = type.includes('json') && text ? JSON.parse(text) : text;
    if (options.template && document) conforms(method.toLowerCase(), options.template, response.status, type, body);
    return { status: response.status, headers: response.headers, body };
  }

  function conforms(method: string, template: string, status: number, type: string, body: unknown): void {
    const operation = document.paths[template]?.[method];
    assert.ok(operation, `${method} ${template} is documented`);
    const response = operation.responses[String(status)];
    assert.ok(response, `${method} ${template} documents status ${status}`);
    if (!response.content) return;
    const mediaType = type.split(';')[0]!.trim();
    const media = response.content[mediaType];
    assert.ok(media, `${method} ${template} ${status} documents ${mediaType}`);
    const schema = { ...media.schema, components: document.components };
    const validate = ajv.compile(schema);
    assert.ok(validate(body), `${method} ${template} ${status} does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}`);
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'api-'));
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        GNN_DIMS: '16',
        GNN_HEADS: '2',
        GNN_FANOUT: '10',
        GNN_EPOCHS: '2',
        GNN_REFRESH_MINUTES: '0',
        API_KEYS: `admin:${KEYS.admin}:admin,loader:${KEYS.ingest}:ingest,app:${KEYS.read}:read`,
      },
    });
    config = { ...config, api: { ...config.api, maxBodyBytes: 64 * 1024 } };
    api = new ApiServer(config, quiet);
    url = await api.listen(0, '127.0.0.1');
  });
  after(async () => {
    await api?.close();
    await services?.close();
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After until the graph is loaded, then is ready while the GNN trains, which joins when trained', async () => {
    const live = await call('GET', '/health/live', { key: null });
    assert.equal(live.status, 200);
    assert.equal((await call('GET', '/health/ready', { key: null })).status, 503);
    const early = await call('GET', '/v1/model');
    assert.equal(early.status, 503);
    assert.equal(early.headers.get('retry-after'), '5');
    assert.equal(early.body.status, 503);

    engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    await engine.ingestEvents(data.eventsAt(0, EDGES));
    services = await startEngineServices(engine, quiet);
    api.attach({ engine, ...services, lastEvaluation: () => null });
    // Ready before the first model: walks, tags and trending answer while it trains.
    const ready = await call('GET', '/health/ready', { key: null });
    assert.deepEqual(
      [ready.status, ready.body],
      [200, { status: 'ready', sources: { embedding: false, walk: true, tags: true, trending: true }, model: { training: true } }],
    );
    document = (await call('GET', '/openapi.json', { key: null })).body;
    assert.equal(document.openapi, '3.1.0');
    const training = await call('GET', '/v1/model', { template: '/v1/model' });
    assert.deepEqual(
      [training.status, training.body.loaded, training.body.trainingInProgress, training.body.lastTraining?.status],
      [200, false, true, 'running'],
    );
    const withoutModel = await call('GET', `/v1/users/${data.userId(1)}/recommendations?count=5&explain=false`, {
      key: 'read',
      template: '/v1/users/{userId}/recommendations',
    });
    assert.deepEqual([withoutModel.status, withoutModel.body.modelVersion, withoutModel.body.items.length], [200, null, 5]);
    assert.ok(
      withoutModel.body.items.every((i: { sources: { embedding: number; walk: number } }) => i.sources.embedding === 0),
      'no embedding term without a model',
    );
    await services.embeddings.trainingSettled();
    const after = await call('GET', '/health/ready', { key: null });
    assert.deepEqual(after.body, { status: 'ready', sources: { embedding: true, walk: true, tags: true, trending: true }, model: { training: false } });
    const model = await call('GET', '/v1/model', { template: '/v1/model' });
    assert.equal(model.status, 200);
    assert.deepEqual([model.body.loaded, model.body.lastTraining.status, model.body.lastTraining.fineTune], [true, 'succeeded', false]);
    const late = await call('GET', `/v1/users/${data.userId(1)}/recommendations?count=5&explain=false`, {
      key: 'read',
      template: '/v1/users/{userId}/recommendations',
    });
    assert.equal(late.body.modelVersion, model.body.version, 'the model hot-swapped in');
    assert.ok(late.body.items.some((i: { sources: { embedding: number } }) => i.sources.embedding > 0));
  });

  it('refuses calls without a key (401), with a wrong key (401) and with a key lacking the role (403)', async () => {
    const none = await call('GET', '/v1/items', { key: null, template: '/v1/items' });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('content-type')!, /application\/problem\+json/);
    const wrong = await fetch(`${url}/v1/items`, { headers: { 'x-api-key': 'not-a-key-not-a-key' } });
    assert.equal(wrong.status, 401);
    const readOnly = await call('POST', '/v1/events', { key: 'read', body: { id: 'x', userId: 'u', itemId: 'i', type: 'view' }, template: '/v1/events' });
    assert.equal(readOnly.status, 403);
    assert.match(readOnly.body.detail, /lacks the ingest role/);
    const ingestReading = await call('GET', '/v1/users/u1/export', { key: 'ingest', template: '/v1/users/{userId}/export' });
    assert.equal(ingestReading.status, 403);
    assert.equal((await call('GET', '/v1/items', { key: 'read', template: '/v1/items' })).status, 200);
  });

  it('ingests one event and batches, ignores duplicate ids, and names the bad field', async () => {
    const user = data.userId(0);
    const item = data.itemId(5);
    const one = await call('POST', '/v1/events', { key: 'ingest', body: { id: 'api-e1', userId: user, itemId: item, type: 'click' }, template: '/v1/events' });
    assert.deepEqual([one.status, one.body], [200, { accepted: 1, duplicates: 0 }]);
    const batch = await call('POST', '/v1/events', {
      key: 'ingest',
      body: {
        events: [
          { id: 'api-e1', userId: user, itemId: item, type: 'click' },
          { id: 'api-e2', userId: user, itemId: data.itemId(6), type: 'like' },
        ],
      },
      template: '/v1/events',
    });
    assert.deepEqual(batch.body, { accepted: 1, duplicates: 1 });
    const bad = await call('POST', '/v1/events', {
      key: 'ingest',
      body: {
        events: [
          { id: 'ok', userId: user, itemId: item, type: 'view' },
          { id: 'bad', userId: user, itemId: item, type: 'stare' },
        ],
      },
      template: '/v1/events',
    });
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.errors.some((e: { path: string }) => e.path === 'events[1].type'),
      JSON.stringify(bad.body),
    );
    assert.equal(
      (await engine.interactionsOf('user', user)).some((i) => i.eventId === 'ok'),
      false,
      'all or nothing',
    );
    const garbled = await call('POST', '/v1/events', { key: 'ingest', raw: '{"id": ', template: '/v1/events' });
    assert.equal(garbled.status, 400);
    const huge = await call('POST', '/v1/events', {
      key: 'ingest',
      body: { events: Array.from({ length: 2_000 }, (_, k) => ({ id: `big-${k}`, userId: user, itemId: item, type: 'view' })) },
      template: '/v1/events',
    });
    assert.equal(huge.status, 413);
  });

  it('upserts, fetches, lists and deletes catalogue items', async () => {
    const put = await call('PUT', '/v1/items/new-film', {
      key: 'ingest',
      body: { title: 'New Film', tags: ['genre:new', 'genre:new'], attributes: { year: 2026 } },
      template: '/v1/items/{itemId}',
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.tags, ['genre:new']);
    const got = await call('GET', '/v1/items/new-film', { template: '/v1/items/{itemId}' });
    assert.equal(got.body.title, 'New Film');
    const page = await call('GET', '/v1/items?limit=5', { template: '/v1/items' });
    assert.equal(page.body.items.length, 5);
    const next = await call('GET', `/v1/items?limit=5&after=${encodeURIComponent(page.body.next)}`, { template: '/v1/items' });
    assert.ok(next.body.items[0].id > page.body.items[4].id);
    const badLimit = await call('GET', '/v1/items?limit=0', { template: '/v1/items' });
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.errors[0].path, 'query.limit');
    assert.equal((await call('DELETE', '/v1/items/new-film', { key: 'ingest', template: '/v1/items/{itemId}' })).status, 204);
    assert.equal((await call('GET', '/v1/items/new-film', { template: '/v1/items/{itemId}' })).status, 404);
    assert.equal((await call('POST', '/v1/items', { key: 'ingest', body: { items: [{ id: 'x' }] }, template: '/v1/items' })).status, 400);
    assert.equal((await call('GET', '/v1/nothing-here')).status, 404);
    // The body may repeat the path's id, not name another.
    const same = await call('PUT', '/v1/items/film-2', { key: 'ingest', body: { id: 'film-2', title: 'Film 2' }, template: '/v1/items/{itemId}' });
    assert.deepEqual([same.status, same.body.id], [200, 'film-2']);
    const other = await call('PUT', '/v1/items/film-2', { key: 'ingest', body: { id: 'film-3', title: 'Film 3' }, template: '/v1/items/{itemId}' });
    assert.deepEqual([other.status, other.body.errors.map((e: { path: string }) => e.path)], [400, ['id']]);
    assert.equal((await call('GET', '/v1/items/film-3', { template: '/v1/items/{itemId}' })).status, 404, 'nothing written');
  });

  it('recommends for users, sessions, similar items and lists of items, with paths unless explain=false', async () => {
    const user = data.userId(1);
    const recs = await call('GET', `/v1/users/${user}/recommendations?count=5`, { key: 'read', template: '/v1/users/{userId}/recommendations' });
    assert.equal(recs.status, 200);
    assert.equal(recs.body.items.length, 5);
    assert.ok(recs.body.items.every((i: { paths?: unknown[] }) => (i.paths?.length ?? 0) >= 1));
    const bare = await call('GET', `/v1/users/${user}/recommendations?count=5&explain=false`, { key: 'read', template: '/v1/users/{userId}/recommendations' });
    assert.ok(bare.body.items.every((i: { paths?: unknown[] }) => i.paths === undefined));
    const posted = await call('POST', `/v1/users/${user}/recommendations`, {
      key: 'read',
      body: { count: 3, filters: { excludeTags: ['nope'] } },
      template: '/v1/users/{userId}/recommendations',
    });
    assert.equal(posted.body.items.length, 3);
    const session = engine.graph.externalId(engine.graph.nodesOfKind('session').next().value);
    assert.equal(
      (await call('GET', `/v1/sessions/${session}/recommendations?count=3`, { key: 'read', template: '/v1/sessions/{sessionId}/recommendations' })).status,
      200,
    );
    const similar = await call('GET', `/v1/items/${data.itemId(3)}/similar?count=4`, { key: 'read', template: '/v1/items/{itemId}/similar' });
    assert.equal(similar.body.items.length, 4);
    assert.equal((await call('GET', '/v1/items/no-such-item/similar', { key: 'read', template: '/v1/items/{itemId}/similar' })).status, 404);
    const more = await call('POST', '/v1/recommendations/more-like-these', {
      key: 'read',
      body: { items: [data.itemId(3), data.itemId(4)], count: 4 },
      template: '/v1/recommendations/more-like-these',
    });
    assert.equal(more.body.items.length, 4);
    const explained = await call('GET', `/v1/users/${user}/explanations/${recs.body.items[0].itemId}`, {
      key: 'read',
      template: '/v1/users/{userId}/explanations/{itemId}',
    });
    assert.equal(explained.status, 200);
    assert.ok(explained.body.item.paths.length >= 1);
    const tooMany = await call('GET', `/v1/users/${user}/recommendations?count=100000`, { key: 'read', template: '/v1/users/{userId}/recommendations' });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.errors[0].path, 'query.count');
    // A query-string list is checked item by item, as the JSON form is, and the error names the query field.
    const badTag = await call('GET', `/v1/users/${user}/recommendations?includeTags=genre:ok,${'x'.repeat(300)}`, {
      key: 'read',
      template: '/v1/users/{userId}/recommendations',
    });
    assert.deepEqual([badTag.status, badTag.body.errors.map((e: { path: string }) => e.path)], [400, ['query.includeTags[1]']]);
  });

  it('takes feedback as an event: a dismissed item is gone from the next response', async () => {
    const user = data.userId(2);
    const first = await call('GET', `/v1/users/${user}/recommendations?count=5&explain=false`, { key: 'read' });
    const top = first.body.items[0].itemId;
    const feedback = await call('POST', '/v1/feedback', {
      key: 'ingest',
      body: { userId: user, itemId: top, action: 'dismissed', recommendationId: 'r1' },
      template: '/v1/feedback',
    });
    assert.deepEqual(feedback.body, { accepted: 1, duplicates: 0 });
    const next = await call('GET', `/v1/users/${user}/recommendations?count=5&explain=false`, { key: 'read' });
    assert.ok(!next.body.items.some((i: { itemId: string }) => i.itemId === top));
    const both = await call('POST', '/v1/feedback', {
      key: 'ingest',
      body: { userId: user, sessionId: 's', itemId: top, action: 'clicked' },
      template: '/v1/feedback',
    });
    assert.equal(both.status, 400);
  });

  it('exports a user and erases them, leaving no trace in any answer', async () => {
    const user = data.userId(4);
    const exported = await call('GET', `/v1/users/${user}/export`, { template: '/v1/users/{userId}/export' });
    assert.equal(exported.status, 200);
    assert.ok(exported.body.interactions.length > 0);
    assert.ok(Array.isArray(exported.body.embedding));
    const erased = await call('DELETE', `/v1/users/${user}`, { template: '/v1/users/{userId}' });
    assert.deepEqual([erased.status, erased.body.erased], [200, true]);
    assert.equal((await call('GET', `/v1/users/${user}/export`, { template: '/v1/users/{userId}/export' })).status, 404);
    assert.equal((await call('DELETE', `/v1/users/${user}`, { template: '/v1/users/{userId}' })).status, 404);
    assert.equal((await call('GET', `/v1/users/${user}/explanations/${data.itemId(1)}`, { template: '/v1/users/{userId}/explanations/{itemId}' })).status, 404);
    for (let u = 5; u < 40; u++) {
      const other = await call('GET', `/v1/users/${data.userId(u)}/recommendations?count=10`, { key: 'read' });
      assert.ok(!JSON.stringify(other.body).includes(`"${user}"`), `user ${data.userId(u)}'s answer mentions the erased user`);
    }
  });

  it('serves Prometheus metrics and the docs page', async () => {
    const metrics = await call('GET', '/metrics', { key: null });
    assert.match(metrics.body, /http_request_duration_seconds_bucket\{[^}]*route="\/v1\/users\/:userId\/recommendations"/);
    assert.match(metrics.body, /ingest_events_total\{result="accepted"\} \d+/);
    assert.match(metrics.body, /graph_nodes\{kind="users"\} \d+/);
    assert.match(metrics.body, /model_info\{version="[^"]+"\} 1/);
    assert.match(metrics.body, /embedding_update_seconds_count [1-9]\d*/, 'the ingests above updated embeddings incrementally');
    const docs = await fetch(`${url}/docs`);
    assert.equal(docs.status, 200);
    const csp = docs.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'plain-HTTP deployments must keep loading their scripts');
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    assert.equal((await fetch(`${url}/docs/assets/swagger-ui-bundle.js`)).status, 200);
  });

  it('trains on request in the background, answering 409 while a run is in progress', async () => {
    const version = (await call('GET', '/v1/model')).body.version;
    const started = await call('POST', '/v1/model/training', { body: { fineTune: true }, template: '/v1/model/training' });
    assert.deepEqual([started.status, started.body], [202, { started: true, fineTune: true }]);
    const again = await call('POST', '/v1/model/training', { body: {}, template: '/v1/model/training' });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /already in progress/);
    assert.equal((await call('GET', '/v1/model', { template: '/v1/model' })).body.trainingInProgress, true);
    assert.equal((await call('POST', '/v1/model/training', { key: 'read', body: {}, template: '/v1/model/training' })).status, 403);
    assert.equal((await call('POST', '/v1/model/training', { body: { fineTune: 'yes' }, template: '/v1/model/training' })).body.errors[0].path, 'fineTune');
    while ((await call('GET', '/v1/model')).body.trainingInProgress) await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await call('GET', '/v1/model', { template: '/v1/model' });
    assert.notEqual(after.body.version, version, 'the fine-tuned model is in service');
    assert.equal(after.body.training.fineTuned, true);
    assert.deepEqual([after.body.lastTraining.status, after.body.lastTraining.fineTune], ['succeeded', true]);
  });

  it('serves communities, profiles and graph exploration to analysts', async () => {
    const communities = await call('GET', '/v1/communities', { template: '/v1/communities' });
    assert.equal(communities.status, 200);
    assert.ok(communities.body.communities.length >= 2 && communities.body.modularity > 0);
    assert.equal((await call('GET', '/v1/communities', { key: 'read', template: '/v1/communities' })).status, 403, 'analyst role needed');
    const first = communities.body.communities[0];
    const detail = await call('GET', `/v1/communities/${first.id}?limit=5`, { template: '/v1/communities/{communityId}' });
    assert.deepEqual([detail.status, detail.body.members.length, detail.body.size], [200, Math.min(5, first.size), first.size]);
    assert.equal((await call('GET', '/v1/communities/9999', { template: '/v1/communities/{communityId}' })).status, 404);
    const rerun = await call('POST', '/v1/communities/recompute', { template: '/v1/communities/recompute' });
    assert.ok(rerun.body.computedAt > communities.body.computedAt);
    const before = new Set(communities.body.communities.map((c: { id: number }) => c.id));
    const kept = rerun.body.communities.filter((c: { id: number }) => before.has(c.id)).length;
    assert.ok(kept >= Math.min(before.size, rerun.body.communities.length) - 1, 'ids carry over between runs');

    const user = data.userId(10);
    const profile = await call('GET', `/v1/users/${user}/profile`, { template: '/v1/users/{userId}/profile' });
    assert.equal(profile.status, 200);
    assert.ok(profile.body.mix.length > 0 && profile.body.recent.edges.length > 0);
    assert.ok(profile.body.recent.edges.every((e: { source: string }) => e.source === `user:${user}`));

    const stats = await call('GET', '/v1/graph/stats', { template: '/v1/graph/stats' });
    assert.ok(stats.body.nodes.user > 0 && stats.body.edges.has_tag > 0 && stats.body.communities.count === rerun.body.communities.length);
    const search = await call('GET', `/v1/graph/search?q=${encodeURIComponent(data.itemId(3))}&kinds=item`, { template: '/v1/graph/search' });
    assert.equal(search.body.nodes[0].key, `item:${data.itemId(3)}`);
    const title = search.body.nodes[0].label as string;
    const byTitle = await call('GET', `/v1/graph/search?q=${encodeURIComponent(title.slice(0, 6).toUpperCase())}`, { template: '/v1/graph/search' });
    assert.ok(
      byTitle.body.nodes.some((n: { label: string }) => n.label === title),
      'titles match case-insensitively',
    );

    const page = await call('GET', `/v1/graph/nodes/item/${data.itemId(3)}/neighbourhood?limit=3`, { template: '/v1/graph/nodes/{kind}/{id}/neighbourhood' });
    assert.equal(page.status, 200);
    assert.equal(page.body.edges.length, Math.min(3, page.body.total));
    const keys = new Set([page.body.node.key, ...page.body.nodes.map((n: { key: string }) => n.key)]);
    assert.ok(
      page.body.edges.every((e: { source: string; target: string }) => keys.has(e.source) && keys.has(e.target)),
      'every edge joins returned nodes',
    );
    if (page.body.nextCursor !== null) {
      const next = await call('GET', `/v1/graph/nodes/item/${data.itemId(3)}/neighbourhood?limit=3&cursor=${page.body.nextCursor}`);
      assert.ok(!next.body.edges.some((e: { key: string }) => page.body.edges.some((f: { key: string }) => f.key === e.key)), 'pages do not overlap');
    }
    const tagsOnly = await call('GET', `/v1/graph/nodes/item/${data.itemId(3)}/neighbourhood?types=has_tag`);
    assert.ok(tagsOnly.body.edges.length > 0 && tagsOnly.body.edges.every((e: { type: string }) => e.type === 'has_tag'));
    const future = await call('GET', `/v1/graph/nodes/item/${data.itemId(3)}/neighbourhood?types=view,click,rating,like,purchase&since=2100-01-01T00:00:00Z`);
    assert.equal(future.body.total, 0, 'the time window filters');
    const bad = await call('GET', `/v1/graph/nodes/item/${data.itemId(3)}/neighbourhood?types=hugs&since=yesterday`, {
      template: '/v1/graph/nodes/{kind}/{id}/neighbourhood',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), ['query.since', 'query.types[0]']);
    assert.equal((await call('GET', '/v1/graph/nodes/planet/x/neighbourhood', { template: '/v1/graph/nodes/{kind}/{id}/neighbourhood' })).status, 400);
    assert.equal((await call('GET', '/v1/graph/nodes/item/nope/neighbourhood', { template: '/v1/graph/nodes/{kind}/{id}/neighbourhood' })).status, 404);

    const itemOfUser = profile.body.recent.edges[0].target as string;
    const paths = await call('GET', `/v1/graph/paths?from=user:${user}&to=${encodeURIComponent(itemOfUser)}&maxLength=3`, { template: '/v1/graph/paths' });
    assert.equal(paths.status, 200);
    assert.equal(paths.body.paths[0].edges.length, 1, 'the direct edge is the shortest path');
    const far = await call('GET', `/v1/graph/paths?from=user:${user}&to=user:${data.userId(11)}&maxLength=4&limit=3`, { template: '/v1/graph/paths' });
    for (const path of far.body.paths) {
      assert.equal(path.nodes.length, path.edges.length + 1);
      path.edges.forEach((e: { source: string; target: string }, i: number) => {
        const ends = [path.nodes[i].key, path.nodes[i + 1].key].sort();
        assert.deepEqual([e.source, e.target].sort(), ends, 'each edge joins consecutive nodes');
      });
    }
    assert.equal((await call('GET', '/v1/graph/paths?from=user&to=item:1', { template: '/v1/graph/paths' })).body.errors[0].path, 'query.from');
  });

  it('limits each key’s request rate with 429 and Retry-After', async () => {
    const limited = new ApiServer({ ...config, api: { ...config.api, rateLimitPerMinute: 2 } }, quiet);
    const limitedUrl = await limited.listen(0, '127.0.0.1');
    try {
      limited.attach({ engine, ...services, lastEvaluation: () => null });
      const get = () => fetch(`${limitedUrl}/v1/items?limit=1`, { headers: { authorization: `Bearer ${KEYS.read}` } });
      assert.equal((await get()).status, 200);
      assert.equal((await get()).status, 200);
      const third = await get();
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
      assert.equal((await third.json()).status, 429);
      // Another key has its own budget.
      assert.equal((await fetch(`${limitedUrl}/v1/items?limit=1`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).status, 200);
    } finally {
      await limited.close();
    }
  });
});
