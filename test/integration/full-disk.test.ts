import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { dataDirectoryPath } from '../../base/data-directory.ts';
import { writeFileDurably } from '../../base/durable-file.ts';
import { StorageFullError } from '../../base/errors.ts';
import { ApiServer } from '../../src/api/api-server.ts';
import { ensureApiKeys } from '../../src/api/key-file.ts';
import { problemOf } from '../../src/api/problem.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';
import type { Interaction } from '../../src/events/interaction-event.ts';
import { EmbeddedGraphStore } from '../../src/store/embedded-store.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { filesIn, tracesIn } from '../support/data-dir-scan.ts';

/**
 * A full disk: writes are refused with StorageFullError (HTTP 507, no Retry-After) and leave nothing
 * behind, while an erasure still goes through. First with SQLite's page cap (`max_page_count` fails writes
 * exactly as a full disk does), then, where the test may mount one, on a real full file system (a small
 * tmpfs), which is what the erasure reserve is for.
 */
const quiet = pino({ level: 'silent' });
const ADMIN = 'admin-key-0123456789abcdef';
const PADDING = 'p'.repeat(300);

function interaction(subjectId: string, n: number, context: Record<string, unknown>): Interaction {
  return {
    eventId: `${subjectId}-event-${n}`,
    subjectKind: 'user',
    subjectId,
    itemId: `item-${n % 40}`,
    type: 'view',
    value: null,
    ts: 1_700_000_000_000 + n,
    context,
  };
}

describe('A full store (SQLite max_page_count)', () => {
  let dataDir: string;
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a write with StorageFullError (507, no Retry-After), keeps nothing of it, and still erases', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'store-cap-'));
    let store = EmbeddedGraphStore.open({ dataDir, durability: 'full', maxPageCount: 80 });
    const subject = Array.from({ length: 30 }, (_, n) => interaction('capped-subject', n, { email: 'capped.subject@example.org', padding: PADDING }));
    await store.appendInteractions(subject);
    let stored = subject.length;
    let failure: unknown;
    let refused: Interaction[] = [];
    for (let batch = 0; failure === undefined && batch < 500; batch++) {
      // New users in every batch: a refused batch must not leave their nodes cached either.
      const events = Array.from({ length: 20 }, (_, n) => interaction(`filler-${batch}-${n % 5}`, n, { padding: PADDING }));
      try {
        await store.appendInteractions(events);
        stored += events.length;
      } catch (error) {
        failure = error;
        refused = events;
      }
    }
    assert.ok(failure instanceof StorageFullError, `a full store gives StorageFullError, got ${String(failure)}`);
    const { problem, headers } = problemOf(failure, '/v1/events');
    assert.deepEqual([problem.status, problem.title, headers['Retry-After']], [507, 'Insufficient Storage', undefined]);
    assert.match(problem.detail, /full/);

    const counts = await store.counts();
    assert.equal(counts.interactions, stored, 'nothing of the refused batch is stored');
    assert.deepEqual(await store.interactionsOf('user', refused[0]!.subjectId), []);

    assert.deepEqual(await store.eraseSubject('user', 'capped-subject'), { found: true, interactions: subject.length });
    assert.deepEqual(tracesIn(dataDir, ['capped-subject', 'capped.subject@example.org']), []);
    await store.close();
    store = EmbeddedGraphStore.open({ dataDir, durability: 'full' });
    assert.equal((await store.counts()).interactions, stored - subject.length);
    assert.equal((await store.counts()).users, counts.users - 1, 'the refused batch left no user node behind');
    await store.close();
  });
});

describe('A full disk (a real, small file system)', function () {
  this.timeout(180_000);
  const RESERVE_MB = 1;
  const SUBJECT = 'full-disk-subject-7d1e';
  const EMAIL = 'full.disk.7d1e@example.org';
  const data = generateSyntheticDataset({ seed: 5, edges: 20_000, users: 300, items: 400, topics: 5, sessionShare: 0 });
  let mount: string;
  let mounted = false;
  let dataDir: string;
  let filler: string;
  let config: EngineConfig;
  let engine: InterestEngine | null = null;
  let services: EngineServices | null = null;
  let api: ApiServer | null = null;
  let url: string;

  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
    const response = await fetch(url + route, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text,
    };
  }

  async function start(): Promise<void> {
    api = new ApiServer(config, quiet);
    url = await api.listen(0, '127.0.0.1');
    engine = await InterestEngine.open(config, { logger: quiet });
    services = await startEngineServices(engine, quiet);
    api.attach({ engine, ...services, lastEvaluation: () => null });
  }

  async function stop(): Promise<void> {
    await api?.close();
    await services?.close();
    await engine?.close();
    [api, services, engine] = [null, null, null];
  }

  /** Fills the file system to the last byte, as a runaway log or a full volume would. */
  function fillDisk(): void {
    const fd = openSync(filler, 'a');
    try {
      for (const size of [1 << 20, 4096, 512, 1]) {
        const chunk = Buffer.alloc(size, 1);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  const subjectEvents = () =>
    Array.from({ length: 60 }, (_, i) => ({
      id: `${SUBJECT}-event-${i}`,
      type: 'view',
      userId: SUBJECT,
      itemId: data.itemId(i),
      context: { email: EMAIL, padding: PADDING },
    }));
  const needles = () => [SUBJECT, EMAIL, ...subjectEvents().map((e) => e.id)];

  before(async function () {
    mount = mkdtempSync(path.join(tmpdir(), 'full-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount], { stdio: 'pipe' });
      mounted = true;
    } catch (error) {
      const reason = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message)
        .trim()
        .split('\n')[0];
      process.stdout.write(`  full-disk tests SKIPPED: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): ${reason}\n`);
      rmSync(mount, { recursive: true, force: true });
      this.skip();
    }
    dataDir = path.join(mount, 'data');
    filler = path.join(mount, 'filler');
    config = loadConfig({
      env: {
        DATA_DIR: dataDir,
        ERASURE_RESERVE_MB: String(RESERVE_MB),
        GNN_TRAIN_ON_START: 'false',
        GNN_REFRESH_MINUTES: '0',
        COMMUNITIES_REFRESH_MINUTES: '0',
        API_KEYS: `admin:${ADMIN}:admin`,
      },
    });
    engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    for (const batch of data.eventBatches(5_000)) await engine.ingestEvents(batch);
    await engine.close();
    engine = null;
    await start();
  });
  after(async () => {
    await stop();
    if (!mounted) return;
    execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('answers writes with 507 and keeps nothing of them; erases anyway; takes the reserve back once space returns', async () => {
    const reserve = dataDirectoryPath(dataDir, 'erasureReserve');
    assert.equal(statSync(reserve).size, RESERVE_MB << 20, 'the reserve is made at open');
    assert.equal((await call('POST', '/v1/events', { events: subjectEvents() })).status, 200);
    const before = engine!.stats().interactions;
    assert.ok(
      statSync(dataDirectoryPath(dataDir, 'store')).size > RESERVE_MB << 20,
      'the database outgrows the reserve, so its rewrite cannot run on the full disk',
    );

    fillDisk();
    const late = Array.from({ length: 200 }, (_, i) => ({
      id: `late-event-${i}`,
      type: 'view',
      userId: `late-user-${i % 7}`,
      itemId: data.itemId(i),
      context: { padding: PADDING },
    }));
    const refused = await call('POST', '/v1/events', { events: late });
    assert.equal(refused.status, 507);
    assert.match(refused.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal(refused.headers.get('retry-after'), null, 'no Retry-After: retrying in a second cannot help');
    assert.equal(refused.body.title, 'Insufficient Storage');
    assert.match(refused.body.detail, /full/);
    assert.equal(engine!.stats().interactions, before, 'nothing of the refused batch is served');
    assert.equal((await call('GET', '/v1/users/late-user-1/export')).status, 404);

    const erased = await call('DELETE', `/v1/users/${SUBJECT}`);
    assert.deepEqual([erased.status, erased.body], [200, { erased: true, interactions: 60 }]);
    assert.equal(existsSync(reserve), false, 'the erasure spent the reserve');
    assert.equal(
      existsSync(path.join(dataDir, 'interest-graph.sqlite-wal')) ? statSync(path.join(dataDir, 'interest-graph.sqlite-wal')).size : 0,
      0,
      'the log is empty',
    );
    assert.equal(existsSync(dataDirectoryPath(dataDir, 'compactionMarker')), true, 'the rewrite waits for space');
    assert.equal((await call('GET', `/v1/users/${SUBJECT}/export`)).status, 404);

    rmSync(filler);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await call('POST', '/v1/events', { events: late.slice(0, 10) })).status, 200, 'writes work again once space is freed');
    assert.equal(statSync(reserve).size, RESERVE_MB << 20, 'the reserve is taken back');
    assert.equal(existsSync(dataDirectoryPath(dataDir, 'compactionMarker')), false, 'the waiting rewrite ran');
    assert.deepEqual(tracesIn(dataDir, needles()), [], `files: ${filesIn(dataDir).join(', ')}`);

    await stop();
    await start();
    assert.equal((await call('GET', `/v1/users/${SUBJECT}/export`)).status, 404);
    assert.equal(engine!.stats().interactions, before - 60 + 10, 'after a restart: the erasure and the later batch, nothing of the refused one');
    assert.deepEqual(tracesIn(dataDir, needles()), []);
  });

  it('writes the API key file and model files whole or not at all', () => {
    const keysDir = path.join(mount, 'keys');
    mkdirSync(keysDir);
    fillDisk();
    try {
      const keyConfig = loadConfig({ env: { DATA_DIR: keysDir } });
      assert.throws(() => ensureApiKeys(keyConfig), StorageFullError);
      assert.throws(() => writeFileDurably(path.join(keysDir, 'gat-test.bin'), new Uint8Array(1 << 20)), StorageFullError);
      assert.deepEqual(readdirSync(keysDir), [], 'no half-written or temporary file is left');
    } finally {
      rmSync(filler, { force: true });
    }
  });
});
