import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

/**
 * `npm start` with several workers (WORKERS=2, as on a 2-core machine by default): real processes, a real
 * port shared by the cluster, real kills. Each request goes on a new connection, so that the cluster hands
 * consecutive requests to different workers.
 */
const KEY = 'workers-test-key-0123456789abcdef';
const WORKERS = 2;

describe('npm start with workers', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: ServerProcess | null = null;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'workers-'));
    server = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WORKERS: String(WORKERS),
      DEMO_DATA: 'none',
      API_KEYS: `test:${KEY}:admin`,
      LOG_LEVEL: 'warn',
      GNN_REFRESH_MINUTES: '0',
      COMMUNITIES_REFRESH_MINUTES: '0',
    });
  });

  afterEach(async () => {
    if (server && server.child.exitCode === null) {
      const exited = new Promise((resolve) => server!.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    server = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server!.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // A connection the cluster handed to a worker as it was killed is lost: the client times out.
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** How many edges the user has in the graph of the worker that answers. */
  async function edgesSeen(userId: string): Promise<number> {
    const answer = await call('GET', `/v1/graph/nodes/user/${userId}/neighbourhood?limit=1`);
    return answer.status === 404 ? 0 : (answer.body.total as number);
  }

  /** Every process under `pid` that runs the server (npm has a shell or not; tsx has a child of its own, esbuild). */
  function descendantsRunningStart(pid: number): number[] {
    const found: number[] = [];
    const visit = (parent: number): void => {
      let children: number[] = [];
      try {
        children = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(Number);
      } catch {
        // pgrep exits 1 when there are none.
      }
      for (const child of children) {
        if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('scripts/start.ts')) found.push(child);
        visit(child);
      }
    };
    visit(pid);
    return found;
  }

  /** The primary's children that run the server (tsx has a child of its own, esbuild). */
  const workerPids = (): number[] =>
    execFileSync('pgrep', ['-P', String(server!.child.pid), '-f', 'scripts/start.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);

  it('starts a primary and its workers, and a write is in every worker’s answers as soon as it is acknowledged', async () => {
    assert.equal(workerPids().length, WORKERS);
    for (let k = 1; k <= 5; k++) {
      const written = await call('POST', '/v1/events', { events: [{ id: `e${k}`, userId: 'u1', itemId: `i${k}`, type: 'like' }] });
      assert.equal(written.status, 200);
      // The next requests land on every worker in turn: each has the write already.
      const seen = await Promise.all(Array.from({ length: 2 * WORKERS }, () => edgesSeen('u1')));
      assert.deepEqual(
        seen,
        Array.from({ length: 2 * WORKERS }, () => k),
        `after write ${k}`,
      );
    }
    await call('PUT', '/v1/items/i1', { title: 'First' });
    for (let n = 0; n < 2 * WORKERS; n++) assert.equal((await call('GET', '/v1/graph/search?q=First')).body.nodes.length, 1);
    // "Train now" goes to the trainer from whichever worker receives it (here refused there: too little
    // data), and every worker reports the trainer's state.
    for (let n = 0; n < 2 * WORKERS; n++) {
      const train = await call('POST', '/v1/model/training', { fineTune: false });
      assert.equal(train.status, 409);
      assert.match(train.body.detail, /training needs at least/);
    }
    const states = new Set<string>();
    for (let n = 0; n < 2 * WORKERS; n++) {
      const model = (await call('GET', '/v1/model')).body;
      states.add(JSON.stringify([model.trainingInProgress, model.lastTraining]));
    }
    assert.equal(states.size, 1, [...states].join(' / '));
    assert.equal((await call('DELETE', '/v1/users/u1')).status, 200);
    for (let n = 0; n < 2 * WORKERS; n++) assert.equal(await edgesSeen('u1'), 0, 'erased everywhere');
  });

  it('starts a killed worker again, and loses no acknowledged event', async () => {
    const acknowledged: string[] = [];
    let killed = false;
    for (let batch = 0; batch < 30; batch++) {
      const events = Array.from({ length: 20 }, (_, k) => ({ id: `b${batch}-${k}`, userId: `u${k % 5}`, itemId: `i${(batch + k) % 17}`, type: 'like' }));
      const answer = await call('POST', '/v1/events', { events }).catch(() => null);
      if (answer?.status === 200) acknowledged.push(...events.map((e) => e.id));
      if (batch === 10) {
        process.kill(workerPids().at(-1)!, 'SIGKILL');
        killed = true;
      }
    }
    assert.ok(killed && acknowledged.length >= 20 * 20, `${acknowledged.length} events acknowledged`);
    // Started again within a few seconds, with the store's events in its graph.
    const deadline = Date.now() + 30_000;
    while (workerPids().length < WORKERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(workerPids().length, WORKERS);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stored = new Set<string>();
    for (let u = 0; u < 5; u++) for (const i of (await call('GET', `/v1/users/u${u}/export`)).body.interactions) stored.add(i.id);
    assert.deepEqual(
      acknowledged.filter((id) => !stored.has(id)),
      [],
    );
    const perWorker = await Promise.all(Array.from({ length: 2 * WORKERS }, () => edgesSeen('u0')));
    assert.equal(new Set(perWorker).size, 1, `every worker holds the same graph: ${perWorker.join(', ')}`);
  });

  it('stops once on Ctrl-C (SIGINT to the whole process group, through npm): the workers are stopped, not started again', async () => {
    // A server of its own, started by npm in its own process group, as a terminal runs it.
    const npmDir = mkdtempSync(path.join(tmpdir(), 'workers-npm-'));
    try {
      const viaNpm = await startServerProcess(
        { PORT: '0', HOST: '127.0.0.1', DATA_DIR: npmDir, WORKERS: String(WORKERS), DEMO_DATA: 'none', API_KEYS: `test:${KEY}:admin`, LOG_LEVEL: 'info' },
        { viaNpm: true },
      );
      const serverPids = descendantsRunningStart(viaNpm.child.pid!);
      assert.equal(serverPids.length, 1 + WORKERS, 'npm → the primary → its workers');
      const exited = new Promise<number | null>((resolve) => viaNpm.child.once('exit', (code) => resolve(code)));
      process.kill(-viaNpm.child.pid!, 'SIGINT');
      assert.equal(await exited, 0);
      assert.doesNotMatch(viaNpm.stderr(), /a worker exited/);
      // The primary alone acts on the SIGINT; each worker stops on the SIGTERM the primary sends it.
      const shutdowns = viaNpm
        .stderr()
        .split('\n')
        .filter((line) => line.includes('"msg":"shutting down'))
        .map((line) => (JSON.parse(line) as { signal: string }).signal);
      assert.deepEqual(shutdowns.sort(), ['SIGINT', ...Array.from({ length: WORKERS }, () => 'SIGTERM')]);
      for (const pid of serverPids) assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
    } finally {
      rmSync(npmDir, { recursive: true, force: true });
    }
  });

  it('stops the primary and every worker on SIGTERM, exiting 0', async () => {
    const pids = workerPids();
    const exited = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
    server!.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'no worker left');
  });
});
