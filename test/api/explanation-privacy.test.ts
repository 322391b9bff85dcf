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
 * Who an explanation may name, through the real HTTP API (a real server on a random port, a real engine
 * on disk with a trained GAT): a `read` key sees other people on paths as "someone", never by id; an
 * analyst key sees their ids. Also the explain call's `standing`, checked against the OpenAPI document.
 */
const quiet = pino({ level: 'silent' });
const KEYS = {
  analyst: 'analyst-key-0123456789abcdef',
  read: 'read-key-0123456789abcdefgh',
};
const EDGES = 8_000;

interface PathNode {
  kind: string;
  id: string;
  label: string;
}
interface Item {
  itemId: string;
  paths?: Array<{ kind: string; nodes: PathNode[]; sentence: string }>;
}

describe('Explanations and other people (HTTP API)', function () {
  this.timeout(180_000);
  const data = generateSyntheticDataset({ seed: 5, edges: EDGES, users: 120, items: 200, topics: 5, sessionShare: 0.1 });
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;
  let services: EngineServices;
  let api: ApiServer;
  let url: string;
  let document: any;
  /** Every user and session id in the graph, as `kind:id`. */
  const subjects = new Set<string>();
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'privacy-'));
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        GNN_DIMS: '16',
        GNN_HEADS: '2',
        GNN_FANOUT: '10',
        GNN_EPOCHS: '2',
        GNN_REFRESH_MINUTES: '0',
        API_KEYS: `insight:${KEYS.analyst}:analyst,app:${KEYS.read}:read`,
      },
    });
    api = new ApiServer(config, quiet);
    url = await api.listen(0, '127.0.0.1');
    engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    await engine.ingestEvents(data.eventsAt(0, EDGES));
    services = await startEngineServices(engine, quiet);
    // Compared across calls: the model must not be swapped in between them.
    await services.embeddings.trainingSettled();
    api.attach({ engine, ...services, lastEvaluation: () => null });
    document = await (await fetch(`${url}/openapi.json`)).json();
    for (const kind of ['user', 'session'] as const)
      for (const node of engine.graph.nodesOfKind(kind)) subjects.add(`${kind}:${engine.graph.externalId(node)}`);
  });
  after(async () => {
    await api?.close();
    await services?.close();
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Calls the API with a key; checks a 200 against the OpenAPI document of `template`; returns the body and its text. */
  async function call(key: keyof typeof KEYS, method: string, route: string, template: string, body?: unknown): Promise<{ body: any; text: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${KEYS[key]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + route, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    assert.equal(response.status, 200, `${method} ${route}: ${text}`);
    const parsed = JSON.parse(text);
    const schema = document.paths[template][method.toLowerCase()].responses['200'].content['application/json'].schema;
    const validate = ajv.compile({ ...schema, components: document.components });
    assert.ok(validate(parsed), `${method} ${route} matches the OpenAPI document: ${ajv.errorsText(validate.errors)}`);
    return { body: parsed, text };
  }

  /** The people on the items' paths who are not `subject` (a `kind:id`, or null for item-based requests). */
  function others(items: Item[], subject: string | null): PathNode[] {
    return items
      .flatMap((i) => i.paths ?? [])
      .flatMap((p) => p.nodes)
      .filter((n) => (n.kind === 'user' || n.kind === 'session') && `${n.kind}:${n.id}` !== subject);
  }

  /** No user or session id but the subject's, anywhere in the response: in any string, whole or in part. */
  function assertNamesNoOne(text: string, subject: string | null, where: string): void {
    for (const match of text.matchAll(/\b(user|session)-\d+\b/g)) {
      assert.equal(`${match[1]}:${match[0]}`, subject, `${where}: names ${match[0]}`);
    }
    const strings: string[] = [];
    JSON.parse(text, (_key, value) => {
      if (typeof value === 'string') strings.push(value);
      return value;
    });
    for (const s of strings) {
      for (const kind of ['user', 'session']) {
        if (subjects.has(`${kind}:${s}`)) assert.equal(`${kind}:${s}`, subject, `${where}: names ${kind} ${s}`);
      }
    }
  }

  it('shows a read-role caller other people as "someone" in lists, explain, similar, more-like-these and sessions; an analyst sees their ids', async () => {
    const user = data.userId(4);
    const session = engine.graph.externalId(engine.graph.nodesOfKind('session').next().value);
    const given = [data.itemId(3), data.itemId(7)];
    const requests: Array<{ method: string; route: string; template: string; body?: unknown; subject: string | null }> = [
      { method: 'GET', route: `/v1/users/${user}/recommendations?count=20`, template: '/v1/users/{userId}/recommendations', subject: `user:${user}` },
      {
        method: 'POST',
        route: `/v1/users/${user}/recommendations`,
        template: '/v1/users/{userId}/recommendations',
        body: { count: 10, filters: { includeConsumed: true } },
        subject: `user:${user}`,
      },
      {
        method: 'GET',
        route: `/v1/sessions/${session}/recommendations?count=20`,
        template: '/v1/sessions/{sessionId}/recommendations',
        subject: `session:${session}`,
      },
      { method: 'GET', route: `/v1/items/${given[0]}/similar?count=20`, template: '/v1/items/{itemId}/similar', subject: null },
      {
        method: 'POST',
        route: '/v1/recommendations/more-like-these',
        template: '/v1/recommendations/more-like-these',
        body: { items: given, count: 20 },
        subject: null,
      },
    ];
    let anonymous = 0;
    for (const r of requests) {
      const read = await call('read', r.method, r.route, r.template, r.body);
      const analyst = await call('analyst', r.method, r.route, r.template, r.body);
      const where = `${r.method} ${r.route}`;
      assertNamesNoOne(read.text, r.subject, `${where} (read)`);
      const hidden = others(read.body.items, r.subject);
      const named = others(analyst.body.items, r.subject);
      assert.ok(named.length > 0, `${where}: the paths pass through other people`);
      assert.equal(hidden.length, named.length, `${where}: the same paths, people hidden`);
      for (const n of hidden) {
        assert.match(n.id, /^someone-\d+$/, `${where}: an anonymous id`);
        assert.equal(n.label, 'someone');
      }
      for (const n of named) assert.ok(subjects.has(`${n.kind}:${n.id}`), `${where}: the analyst sees ${n.kind} ${n.id} by id`);
      // The same paths otherwise: scores, kinds, sentences.
      assert.deepEqual(
        read.body.items.map((i: Item) => [i.itemId, i.paths?.map((p) => [p.kind, p.sentence])]),
        analyst.body.items.map((i: Item) => [i.itemId, i.paths?.map((p) => [p.kind, p.sentence])]),
      );
      anonymous += hidden.length;

      // Each item's explain call, for the user's lists: the same redaction.
      if (r.subject === `user:${user}`) {
        for (const item of read.body.items.slice(0, 5) as Item[]) {
          const route = `/v1/users/${user}/explanations/${item.itemId}`;
          const explainedRead = await call('read', 'GET', route, '/v1/users/{userId}/explanations/{itemId}');
          const explainedAnalyst = await call('analyst', 'GET', route, '/v1/users/{userId}/explanations/{itemId}');
          assertNamesNoOne(explainedRead.text, r.subject, `${route} (read)`);
          assert.deepEqual(explainedRead.body.item.paths, item.paths, `${route}: the list's paths`);
          assert.equal(others([explainedRead.body.item], r.subject).length, others([explainedAnalyst.body.item], r.subject).length);
        }
      }
    }
    assert.ok(anonymous > 20, `${anonymous} anonymous people on paths`);
  });

  it('numbers the anonymous people of one item so that one person is one node and two are two', async () => {
    const user = data.userId(6);
    const read = await call('read', 'GET', `/v1/users/${user}/recommendations?count=30`, '/v1/users/{userId}/recommendations');
    const analyst = await call('analyst', 'GET', `/v1/users/${user}/recommendations?count=30`, '/v1/users/{userId}/recommendations');
    let checked = 0;
    read.body.items.forEach((item: Item, k: number) => {
      const hidden = others([item], `user:${user}`).map((n) => `${n.kind}:${n.id}`);
      const named = others([analyst.body.items[k]], `user:${user}`).map((n) => `${n.kind}:${n.id}`);
      // The anonymous ids follow the real ones one for one: equal where they are equal.
      for (let a = 0; a < named.length; a++) for (let b = 0; b < named.length; b++) assert.equal(hidden[a] === hidden[b], named[a] === named[b]);
      checked += named.length;
    });
    assert.ok(checked > 0);
  });

  it("says in an explain call where the item stands against the user's default list", async () => {
    const user = data.userId(8);
    const list = await call('read', 'GET', `/v1/users/${user}/recommendations?explain=false`, '/v1/users/{userId}/recommendations');
    const lowest = Math.min(...list.body.items.map((i: { score: number }) => i.score));
    const listedItem = list.body.items[3].itemId;
    const listed = await call('read', 'GET', `/v1/users/${user}/explanations/${listedItem}`, '/v1/users/{userId}/explanations/{itemId}');
    assert.equal(listed.body.standing.keptOutBy, null);
    assert.equal(listed.body.standing.listCount, config.recommend.defaultCount);
    assert.equal(listed.body.standing.lastListedScore, lowest);
    assert.ok(Number.isInteger(listed.body.standing.rank) && listed.body.standing.rank >= 1);

    const node = engine.graph.nodeIndex('user', user);
    let consumedItem = '';
    engine.graph.forEachOutEdge(node, (e, item) => {
      if (engine.graph.edgeBaseWeight(e) > 0) consumedItem = engine.graph.externalId(item);
    });
    const consumed = await call('read', 'GET', `/v1/users/${user}/explanations/${consumedItem}`, '/v1/users/{userId}/explanations/{itemId}');
    assert.deepEqual(consumed.body.standing, { rank: null, listCount: config.recommend.defaultCount, lastListedScore: lowest, keptOutBy: 'consumed' });
  });
});
