import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { ApiServer } from '../../src/api/api-server.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { filesIn, tracesIn } from '../support/data-dir-scan.ts';

/**
 * Erasure through the HTTP API leaves no byte of the user on disk: after DELETE /v1/users/{id} returns,
 * and again after a restart, no file under DATA_DIR (database, write-ahead log, model checkpoints, key
 * file, erasure reserve) holds the user's id, their events' ids or any value from their events' context.
 */
const quiet = pino({ level: 'silent' });
const ADMIN = 'admin-key-0123456789abcdef';
const EDGES = 4_000;
const SUBJECT = 'erasure-subject-4f2a9c';
const EVENTS = 120;
const eventId = (i: number) => `erasure-event-4f2a9c-${i}`;
const EMAIL = 'jane.doe.4f2a9c@example.org';
const NOTE = 'confidential-note-4f2a9c';
const NEEDLES = [SUBJECT, EMAIL, NOTE, ...Array.from({ length: EVENTS }, (_, i) => eventId(i))];

describe('Erasure on disk', function () {
  this.timeout(240_000);
  const data = generateSyntheticDataset({ seed: 11, edges: EDGES, users: 80, items: 150, topics: 4, sessionShare: 0 });
  let dataDir: string;
  let config: EngineConfig;
  let engine: InterestEngine | null = null;
  let services: EngineServices | null = null;
  let api: ApiServer | null = null;
  let url: string;

  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(url + route, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
  }

  /** Opens the engine on the data directory and serves it, as `npm start` does. */
  async function start(): Promise<void> {
    api = new ApiServer(config, quiet);
    url = await api.listen(0, '127.0.0.1');
    engine = await InterestEngine.open(config, { logger: quiet });
    if (engine.stats().interactions === 0) {
      await engine.upsertItems(data.catalogue());
      await engine.ingestEvents(data.eventsAt(0, EDGES / 2));
    }
    services = await startEngineServices(engine, quiet);
    api.attach({ engine, ...services, lastEvaluation: () => null });
  }

  /** The subject's events through the API, interleaved with everyone else's so they share pages with rows that stay. */
  async function ingestSubject(): Promise<void> {
    const parts = 4;
    for (let part = 0; part < parts; part++) {
      const events = [];
      for (let i = part * (EVENTS / parts); i < (part + 1) * (EVENTS / parts); i++) {
        events.push({
          id: eventId(i),
          type: i % 3 === 0 ? 'like' : 'view',
          userId: SUBJECT,
          itemId: data.itemId(i % 150),
          context: { email: EMAIL, note: NOTE, page: { ref: NOTE } },
        });
      }
      const others = data.eventsAt(EDGES / 2 + (part * EDGES) / 2 / parts, EDGES / 2 + ((part + 1) * EDGES) / 2 / parts);
      for (const batch of [events, others]) assert.equal((await call('POST', '/v1/events', { events: batch })).status, 200);
    }
  }

  /** Retrains the GAT on the graph as it is now (the subject included) and waits for the new model. */
  async function retrain(): Promise<void> {
    const settled = async () => {
      for (;;) {
        const model = (await call('GET', '/v1/model')).body;
        if (!model.trainingInProgress) return model;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    // A run started with the server may still be going.
    const previous = (await settled()).version;
    assert.equal((await call('POST', '/v1/model/training', { fineTune: false })).status, 202);
    assert.notEqual((await settled()).version, previous, 'a new model was trained');
  }

  async function stop(): Promise<void> {
    await api?.close();
    await services?.close();
    await engine?.close();
    [api, services, engine] = [null, null, null];
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'erasure-'));
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        GNN_DIMS: '8',
        GNN_HEADS: '2',
        GNN_FANOUT: '10',
        GNN_EPOCHS: '1',
        GNN_REFRESH_MINUTES: '0',
        COMMUNITIES_REFRESH_MINUTES: '0',
        ERASURE_RESERVE_MB: '1',
        API_KEYS: `admin:${ADMIN}:admin`,
      },
    });
    await start();
    await ingestSubject();
    await retrain();
  });
  after(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves no byte of the user in any file once DELETE returns', async () => {
    assert.ok(
      filesIn(dataDir).some((f) => f.startsWith(`model${path.sep}`)),
      `a trained model is saved (files: ${filesIn(dataDir).join(', ')})`,
    );
    const exported = await call('GET', `/v1/users/${SUBJECT}/export`);
    assert.equal(exported.status, 200);
    assert.equal(exported.body.interactions.length, EVENTS);
    // The scan finds what is there: every needle is on disk before the erasure.
    const before = new Set(tracesIn(dataDir, NEEDLES).map((t) => t.needle));
    assert.deepEqual(
      NEEDLES.filter((n) => !before.has(n)),
      [],
      'every value is on disk before the erasure',
    );

    const erased = await call('DELETE', `/v1/users/${SUBJECT}`);
    assert.deepEqual(erased.body, { erased: true, interactions: EVENTS });
    assert.deepEqual(tracesIn(dataDir, NEEDLES), [], `files under DATA_DIR: ${filesIn(dataDir).join(', ')}`);
  });

  it('still leaves none after a restart, and the user stays erased', async () => {
    await stop();
    assert.deepEqual(tracesIn(dataDir, NEEDLES), [], 'after the store is closed');
    await start();
    assert.equal((await call('GET', `/v1/users/${SUBJECT}/export`)).status, 404);
    assert.equal((await call('GET', `/v1/users/${data.userId(3)}/export`)).status, 200, 'other users are kept');
    assert.deepEqual(tracesIn(dataDir, NEEDLES), [], `files under DATA_DIR: ${filesIn(dataDir).join(', ')}`);
  });
});
