import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

/**
 * Graceful shutdown of the real server process (`scripts/start.ts`): a signal while six keep-alive clients
 * send ingest batches and recommendation requests. Every request sent before the signal must be answered
 * (no reset, no hang-up), each connection is closed after the response in flight (the clients cannot keep
 * the server alive), the process exits 0, and every acknowledged event is in the store when it is opened
 * again. Run directly with SIGTERM, and through `npm start` with SIGTERM to npm (npm forwards it to its
 * script's process: `docker stop` on the image's command) and with Ctrl-C (SIGINT to the whole process
 * group, which npm forwards too: the server receives it twice).
 */
const KEY = 'shutdown-test-key-0123456789';
const CLIENTS = 6;
const USERS = 30;
const ITEMS = 60;
const BATCH = 40;

interface Outcome {
  readonly client: number;
  readonly sentAt: number;
  readonly kind: 'ingest' | 'recommend';
  readonly status?: number;
  readonly error?: string;
  readonly eventIds: readonly string[];
}

/** One HTTP call on `agent`; `sentAt` is when the request was fully written to the socket. */
function call(agent: Agent, base: URL, method: string, route: string, body?: unknown): Promise<{ sentAt: number; status?: number; error?: string }> {
  return new Promise((resolve) => {
    let sentAt = Number.POSITIVE_INFINITY;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path: route,
        headers: { authorization: `Bearer ${KEY}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ sentAt, status: res.statusCode }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ sentAt, error: error.code ?? error.message }));
      },
    );
    req.on('finish', () => (sentAt = performance.timeOrigin + performance.now()));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ sentAt, error: error.code ?? error.message }));
    req.end(payload);
  });
}

type Launch = 'node' | 'npm';

/** Starts the server; resolves with its base URL once it prints that it is ready. */
function startServer(launch: Launch, dataDir: string): Promise<ServerProcess> {
  return startServerProcess(
    {
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO_DATA: 'none',
      API_KEYS: `tester:${KEY}:admin`,
      GNN_TRAIN_ON_START: 'false',
      GNN_REFRESH_MINUTES: '0',
      COMMUNITIES_REFRESH_MINUTES: '0',
      GNN_BACKEND: 'cpu',
      LOG_LEVEL: 'warn',
    },
    { viaNpm: launch === 'npm' },
  );
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

describe('graceful shutdown of the server process', function () {
  this.timeout(180_000);
  const dataDirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) {
      try {
        // npm's whole group: a server that npm left behind when it exited included.
        if (child.spawnargs[0] === 'npm') process.kill(-child.pid!, 'SIGKILL');
        else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function underLoad(launch: Launch, signal: (server: ChildProcess) => void): Promise<void> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'shutdown-'));
    dataDirs.push(dataDir);
    const started = await startServer(launch, dataDir);
    const server = started.child;
    children.push(server);
    const base = new URL(started.url);
    const seed = new Agent({ keepAlive: true, maxSockets: 1 });
    const items = Array.from({ length: ITEMS }, (_, i) => ({ id: `item-${i}`, title: `Item ${i}`, tags: [`topic:${i % 5}`] }));
    assert.equal((await call(seed, base, 'POST', '/v1/items', { items })).status, 200);
    const warmup = Array.from({ length: USERS * 4 }, (_, i) => ({
      id: `seed-${i}`,
      userId: `user-${i % USERS}`,
      itemId: `item-${(i * 7) % ITEMS}`,
      type: 'like',
    }));
    assert.equal((await call(seed, base, 'POST', '/v1/events', { events: warmup })).status, 200);
    seed.destroy();

    // Six clients, each on one kept-alive connection, alternate ingest batches and recommendations until
    // a request fails after the signal (the server is gone) or 400 requests are done.
    const outcomes: Outcome[] = [];
    let signalAt = Number.POSITIVE_INFINITY;
    const client = async (c: number): Promise<void> => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; n < 400; n++) {
          let answer: Awaited<ReturnType<typeof call>>;
          let eventIds: string[] = [];
          const kind = (n + c) % 2 === 0 ? 'ingest' : 'recommend';
          if (kind === 'ingest') {
            eventIds = Array.from({ length: BATCH }, (_, k) => `c${c}-n${n}-k${k}`);
            const events = eventIds.map((id, k) => ({
              id,
              userId: `user-${(c * 5 + k) % USERS}`,
              itemId: `item-${(n * 3 + k) % ITEMS}`,
              type: k % 3 === 0 ? 'like' : 'view',
            }));
            answer = await call(agent, base, 'POST', '/v1/events', { events });
          } else {
            answer = await call(agent, base, 'GET', `/v1/users/user-${(c + n) % USERS}/recommendations?count=10`);
          }
          outcomes.push({ client: c, sentAt: answer.sentAt, kind, status: answer.status, error: answer.error, eventIds });
          if (answer.error && answer.sentAt > signalAt) return;
          if (answer.error && !Number.isFinite(signalAt)) throw new Error(`client ${c}: ${kind} failed before the signal: ${answer.error}`);
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    // Signal once the clients are well into their loops, so that requests are in flight on every connection.
    while (outcomes.length < 60) await new Promise((r) => setTimeout(r, 5));
    signalAt = performance.timeOrigin + performance.now();
    signal(server);
    await Promise.all(clients);
    const exit = await exited(server);

    const failedBefore = outcomes.filter((o) => o.sentAt < signalAt && (o.error !== undefined || o.status !== 200));
    assert.deepEqual(
      failedBefore.map((o) => `${o.kind} sent ${(signalAt - o.sentAt).toFixed(0)} ms before the signal: ${o.error ?? o.status}`),
      [],
      'every request sent before the signal is answered',
    );
    assert.deepEqual(exit, { code: 0, signal: null }, `the server exited with ${JSON.stringify(exit)}:\n${started.stderr()}`);
    // After the signal a request is answered, or refused because the server no longer listens; never reset
    // on a connection the server had kept alive (it answered with keep-alive until it saw the signal).
    assert.deepEqual(
      outcomes
        .filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED')
        .map((o) => `${o.kind} sent ${(o.sentAt - signalAt).toFixed(0)} ms after the signal: ${o.error}`),
      [],
    );
    assert.deepEqual(
      outcomes.filter((o) => o.status !== undefined && o.status !== 200).map((o) => o.status),
      [],
    );
    // The connections close after the response in flight: a client gets that one and whatever the server
    // answered before it saw the signal, not the rest of its loop.
    for (let c = 0; c < CLIENTS; c++) {
      const answeredAfter = outcomes.filter((o) => o.client === c && o.sentAt >= signalAt && o.status === 200).length;
      assert.ok(answeredAfter <= 3, `client ${c} was answered ${answeredAfter} times after the signal: its connection was kept alive`);
    }

    const acknowledged = outcomes.filter((o) => o.kind === 'ingest' && o.status === 200).flatMap((o) => o.eventIds);
    assert.ok(acknowledged.length >= BATCH * 10, `only ${acknowledged.length} events were acknowledged`);
    const engine = await InterestEngine.open(loadConfig({ env: { DATA_DIR: dataDir } }), { logger: pino({ level: 'silent' }) });
    try {
      const stored = new Set<string>();
      for (let u = 0; u < USERS; u++) for (const i of await engine.interactionsOf('user', `user-${u}`)) stored.add(i.eventId);
      const lost = acknowledged.filter((id) => !stored.has(id));
      assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acknowledged.length} acknowledged events are not in the store`);
    } finally {
      await engine.close();
    }
  }

  it('SIGTERM: answers every request sent before it, closes each connection after its response, keeps every acknowledged event, exits 0', async () => {
    await underLoad('node', (server) => server.kill('SIGTERM'));
  });

  it('SIGTERM to `npm start` (a container whose command it is): the same', async () => {
    await underLoad('npm', (npm) => npm.kill('SIGTERM'));
  });

  it('Ctrl-C under `npm start` (SIGINT to the process group, forwarded again by npm): the same', async () => {
    await underLoad('npm', (npm) => process.kill(-npm.pid!, 'SIGINT'));
  });
});
