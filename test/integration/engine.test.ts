import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { StoreError, ValidationError } from '../../base/errors.ts';
import { edgeTypeMask } from '../../graph/model.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const quiet = pino({ level: 'silent' });

function view(id: string, userId: string, itemId: string, ts: number) {
  return { id, type: 'view', userId, itemId, timestamp: ts };
}

/** Every live edge of every subject, as comparable strings. */
function edgesOf(engine: InterestEngine): string[] {
  const g = engine.graph;
  const out: string[] = [];
  for (const kind of ['user', 'session'] as const) {
    for (const node of g.nodesOfKind(kind)) {
      g.forEachOutEdge(node, (e, item) => {
        out.push(`${kind}:${g.externalId(node)}>${g.externalId(item)}:${g.edgeTypeCode(e)}:${g.edgeTimestamp(e)}:${g.edgeBaseWeight(e)}`);
      });
    }
  }
  return out.sort();
}

describe('InterestEngine', () => {
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'engine-'));
    config = loadConfig({ env: { DATA_DIR: dataDir, HALF_LIFE_DAYS: '10' } });
    engine = await InterestEngine.open(config, { logger: quiet, wallClock: () => T0 + 365 * DAY });
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function restart(): Promise<void> {
    await engine.close();
    engine = await InterestEngine.open(config, { logger: quiet, wallClock: () => T0 + 365 * DAY });
  }

  it('applies a re-sent event id once, also after a restart', async () => {
    const first = await engine.ingestEvents([view('e1', 'u1', 'i1', T0), view('e2', 'u1', 'i2', T0)]);
    assert.equal(first.accepted, 2);
    const again = await engine.ingestEvents([view('e1', 'u1', 'i1', T0), view('e3', 'u1', 'i3', T0)]);
    assert.deepEqual([again.accepted, again.duplicates], [1, 1]);
    assert.deepEqual(
      again.interactions.map((i) => i.eventId),
      ['e3'],
    );
    assert.equal(engine.stats().interactions, 3);
    await restart();
    const replay = await engine.ingestEvents([view('e1', 'u1', 'i1', T0), view('e2', 'u1', 'i2', T0), view('e3', 'u1', 'i3', T0)]);
    assert.equal(replay.accepted, 0);
    assert.equal(engine.stats().interactions, 3);
  });

  it('rebuilds exactly the graph it was running after a restart', async () => {
    await engine.upsertItems([
      { id: 'i1', title: 'One', tags: ['genre:A', 'genre:B'] },
      { id: 'i2', title: 'Two', tags: ['genre:B'] },
    ]);
    await engine.ingestEvents([
      view('a', 'u1', 'i1', T0 + 5 * DAY),
      { id: 'b', type: 'rating', userId: 'u1', itemId: 'i2', value: 4.5, timestamp: T0 + DAY },
      { id: 'c', type: 'dismiss', sessionId: 's1', itemId: 'i3', timestamp: T0 + 2 * DAY },
      { id: 'd', type: 'purchase', userId: 'u2', itemId: 'i1', timestamp: T0 + 3 * DAY },
    ]);
    await engine.eraseSubject('user', 'u2');
    const live = edgesOf(engine);
    const { deletedEdges: _dropped, ...liveStats } = engine.stats();
    await restart();
    assert.deepEqual(edgesOf(engine), live);
    const { deletedEdges, ...rebuiltStats } = engine.stats();
    assert.deepEqual(rebuiltStats, liveStats);
    assert.equal(deletedEdges, 0, 'a rebuilt graph holds no deleted edges');
  });

  it('decays a late-arriving event by its own timestamp', async () => {
    await engine.ingestEvents([view('new', 'u1', 'i1', T0 + 20 * DAY)]);
    await engine.ingestEvents([view('old', 'u1', 'i2', T0)]);
    const g = engine.graph;
    const u = g.nodeIndex('user', 'u1');
    const now = engine.decayReference();
    assert.equal(now, T0 + 20 * DAY, 'the event clock does not go back for a late event');
    const [newest, oldest] = g.recentOutEdges(u, 2);
    assert.equal(g.externalId(g.edgeTarget(newest!)), 'i1');
    const ratio = g.edgeWeight(oldest!, now, config.weightPolicy.halfLifeMs) / g.edgeWeight(newest!, now, config.weightPolicy.halfLifeMs);
    assert.ok(Math.abs(ratio - 0.25) < 1e-9, `two half-lives apart: ${ratio}`);
  });

  it('rejects a batch with a bad event as a whole, naming the event and field', async () => {
    await assert.rejects(
      engine.ingestEvents([view('ok', 'u1', 'i1', T0), { id: 'bad', type: 'rating', userId: 'u1', itemId: 'i1', value: 11 }]),
      (error: unknown) => error instanceof ValidationError && error.issues[0]!.path === 'events[1].value',
    );
    assert.equal(engine.stats().interactions, 0, 'nothing of a rejected batch is stored');
    const partial = await engine.ingestEvents([view('ok', 'u1', 'i1', T0), { id: 'bad', type: 'nap', userId: 'u1', itemId: 'i1' }], { partial: true });
    assert.equal(partial.accepted, 1);
    assert.deepEqual(
      partial.rejected.map((r) => [r.index, r.issues[0]!.path]),
      [[1, 'type']],
    );
  });

  it('refuses batches over the configured size', async () => {
    await engine.close();
    config = loadConfig({ env: { DATA_DIR: dataDir, MAX_BATCH_SIZE: '3' } });
    engine = await InterestEngine.open(config, { logger: quiet });
    const events = Array.from({ length: 4 }, (_, k) => view(`e${k}`, 'u', 'i', T0));
    await assert.rejects(engine.ingestEvents(events), /at most 3 events/);
  });

  it('erases a user from the store and from memory, for good', async () => {
    await engine.ingestEvents([view('a', 'u1', 'i1', T0), view('b', 'u1', 'i2', T0), view('c', 'u2', 'i1', T0)]);
    assert.deepEqual(await engine.eraseSubject('user', 'u1'), { found: true, interactions: 2 });
    const g = engine.graph;
    assert.equal(g.nodeIndex('user', 'u1'), -1);
    const viewers: string[] = [];
    g.forEachInEdge(g.nodeIndex('item', 'i1'), (_e, s) => void viewers.push(g.externalId(s)));
    assert.deepEqual(viewers, ['u2']);
    assert.deepEqual(await engine.interactionsOf('user', 'u1'), []);
    await restart();
    assert.equal(engine.graph.nodeIndex('user', 'u1'), -1);
    assert.equal(engine.stats().users, 1);
    assert.deepEqual(await engine.eraseSubject('user', 'u1'), { found: false, interactions: 0 });
  });

  it('turns catalogue tags into Tag nodes and validates items', async () => {
    await engine.upsertItems([{ id: 'm1', title: 'Alien', tags: ['genre:SciFi', 'genre:Horror', 'genre:SciFi'] }]);
    const g = engine.graph;
    const tags: string[] = [];
    g.forEachOutEdge(g.nodeIndex('item', 'm1'), (_e, t) => void tags.push(g.externalId(t)), edgeTypeMask(['has_tag']));
    assert.deepEqual(tags.sort(), ['genre:Horror', 'genre:SciFi']);
    await assert.rejects(engine.upsertItems([{ id: 'm2', title: '', tags: 'x' }]), (e: unknown) => {
      return (
        e instanceof ValidationError &&
        e.issues
          .map((i) => i.path)
          .sort()
          .join() === 'tags,title'
      );
    });
    assert.equal(await engine.deleteItem('m1'), true);
    assert.equal(engine.graph.counts().itemTags, 0);
  });

  it('keeps the store order and the graph order the same under concurrent writes', async () => {
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 50 }, (_, k) => view(`b${b}-${k}`, `u${k % 7}`, `i${(b * k) % 13}`, T0 + b * 1000 + k)),
    );
    await Promise.all(batches.map((batch) => engine.ingestEvents(batch)));
    const live = edgesOf(engine);
    await restart();
    assert.deepEqual(edgesOf(engine), live);
    assert.equal(engine.stats().interactions, 1000);
  });

  it('refuses a second engine on the same data directory', async () => {
    await assert.rejects(InterestEngine.open(config, { logger: quiet }), (e: unknown) => e instanceof StoreError && /in use/.test(e.message));
  });
});
