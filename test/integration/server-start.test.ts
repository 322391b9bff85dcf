import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import type { InteractionType } from '../../graph/model.ts';
import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

/**
 * The real server process (`scripts/start.ts`) restarted on a data directory holding a small graph, with
 * no demo data: 150 events by 10 users over 30 items. It must come up whatever the GNN makes of them
 * (the wasm backend used to crash the process on a graph with nothing to learn from), report the training
 * run in GET /v1/model, and recommend from the other sources meanwhile.
 */
const KEY = 'server-start-test-key-0123456789';
const T0 = Date.UTC(2025, 5, 1);

interface Answer {
  readonly status: number;
  readonly body: any;
}

/** A data directory whose store holds 150 events, the `i`th of type `type(i)`. */
async function smallGraphDirectory(type: (i: number) => InteractionType): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'server-start-'));
  const engine = await InterestEngine.open(loadConfig({ env: { DATA_DIR: dataDir } }), { logger: pino({ level: 'silent' }) });
  await engine.ingestEvents(
    Array.from({ length: 150 }, (_, i) => ({
      id: `e-${i}`,
      type: type(i),
      userId: `user-${i % 10}`,
      itemId: `item-${(i * 7) % 30}`,
      timestamp: T0 + i * 60_000,
    })),
  );
  await engine.close();
  return dataDir;
}

/** Starts the server on `dataDir` with the default backend (wasm here), whose kernels failed on the empty training batch. */
function startServer(dataDir: string): Promise<ServerProcess> {
  return startServerProcess({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    DEMO_DATA: 'none',
    API_KEYS: `tester:${KEY}:admin`,
    GNN_REFRESH_MINUTES: '0',
    LOG_LEVEL: 'info',
  });
}

async function call(url: string, method: string, route: string, body?: unknown): Promise<Answer> {
  const response = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** GET /v1/model once its latest training run has ended. */
async function settledModel(url: string): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const model = await call(url, 'GET', '/v1/model');
    if (model.body.lastTraining?.status !== 'running' || Date.now() > deadline) return model;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('the server process on a small graph (DEMO_DATA=none)', function () {
  this.timeout(180_000);
  const dataDirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  // Views alone are no positive feedback: no source has anything to recommend from, and the list is empty.
  for (const [what, type, positives] of [
    ['150 views', (): InteractionType => 'view', false],
    ['10 likes, then 140 views', (i: number): InteractionType => (i < 10 ? 'like' : 'view'), true],
  ] as const) {
    it(`comes up on ${what} (nothing to train on), reports the training as skipped and answers recommendation requests without a model`, async () => {
      const dataDir = await smallGraphDirectory(type);
      dataDirs.push(dataDir);
      const server = await startServer(dataDir);
      children.push(server.child);
      const ready = await call(server.url, 'GET', '/health/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body.sources, { embedding: false, walk: positives, tags: false, trending: positives });

      const model = await settledModel(server.url);
      assert.equal(model.status, 200);
      assert.equal(model.body.loaded, false);
      assert.equal(model.body.lastTraining.status, 'skipped', JSON.stringify(model.body.lastTraining));
      assert.match(model.body.lastTraining.error, /nothing to train the GNN on/);
      const recommendations = await call(server.url, 'GET', '/v1/users/user-3/recommendations?count=5');
      assert.equal(recommendations.status, 200);
      assert.equal(recommendations.body.modelVersion, null);
      assert.equal(recommendations.body.items.length, positives ? 5 : 0);

      // Training on request: accepted, and its outcome shows in /v1/model rather than only in the log.
      const requested = await call(server.url, 'POST', '/v1/model/training', {});
      assert.equal(requested.status, 202);
      const again = await settledModel(server.url);
      assert.equal(again.body.lastTraining.status, 'skipped');
      assert.ok(Date.parse(again.body.lastTraining.at) >= Date.parse(model.body.lastTraining.at));
      assert.equal((await call(server.url, 'GET', '/health/live')).status, 200, 'still serving');
      assert.equal(await stop(server.child), 0, server.stderr());
    });
  }

  it('is ready before the model on 140 views and 10 likes, then serves the trained model', async () => {
    const dataDir = await smallGraphDirectory((i) => (i >= 140 ? 'like' : 'view'));
    dataDirs.push(dataDir);
    const server = await startServer(dataDir);
    children.push(server.child);
    const model = await settledModel(server.url);
    assert.deepEqual([model.body.loaded, model.body.lastTraining.status], [true, 'succeeded'], JSON.stringify(model.body.lastTraining));
    assert.equal((await call(server.url, 'GET', '/health/ready')).body.sources.embedding, true);
    const recommendations = await call(server.url, 'GET', '/v1/users/user-3/recommendations?count=5');
    assert.deepEqual([recommendations.status, recommendations.body.modelVersion], [200, model.body.version]);
    // Piped stderr, no progress bar: one info line an epoch.
    const epochs = server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"msg":"GNN epoch"'))
      .map((line) => JSON.parse(line) as { level: number; epoch: number; loss: number; validationRecall: number; seconds: number });
    assert.ok(epochs.length >= 1 && epochs.every((e) => e.level === 30 && Number.isFinite(e.loss) && e.seconds >= 0), server.stderr());
    assert.equal(await stop(server.child), 0, server.stderr());
  });
});
