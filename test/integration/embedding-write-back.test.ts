import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { loadConfig } from '../../src/config.ts';
import { EmbeddingService, embeddingSettingsOf } from '../../src/embeddings/embedding-service.ts';
import { EmbeddingWriteBack } from '../../src/embeddings/embedding-write-back.ts';
import { InterestEngine } from '../../src/engine.ts';
import type { CommunityRun, EmbeddingRow, GraphWriteBack, ModelRecord } from '../../src/store/graph-store.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

const quiet = pino({ level: 'silent' });

/** A write-back target that keeps what it was sent, and can be told to fail. */
class RecordingWriteBack implements GraphWriteBack {
  models: ModelRecord[] = [];
  writes: Array<{ kind: 'user' | 'item'; rows: readonly EmbeddingRow[]; version: string }> = [];
  failNext = false;
  async writeModel(model: ModelRecord): Promise<void> {
    this.models.push(model);
  }
  async writeEmbeddings(kind: 'user' | 'item', rows: readonly EmbeddingRow[], version: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('store unavailable');
    }
    this.writes.push({ kind, rows, version });
  }
  async writeCommunities(_run: CommunityRun): Promise<void> {}
  ids(kind: 'user' | 'item'): string[] {
    return this.writes
      .filter((w) => w.kind === kind)
      .flatMap((w) => w.rows.map((r) => r.id))
      .sort();
  }
}

describe('embedding write-back to the store', function () {
  this.timeout(120_000);
  const data = generateSyntheticDataset({ seed: 8, edges: 2_000, users: 40, items: 80, topics: 4, sessionShare: 0.2 });
  let dataDir: string;
  let engine: InterestEngine;
  let service: EmbeddingService;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'write-back-'));
    const config = loadConfig({ env: { DATA_DIR: dataDir, GNN_DIMS: '8', GNN_HEADS: '2', GNN_FANOUT: '6', GNN_EPOCHS: '1', GNN_REFRESH_MINUTES: '0' } });
    engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    await engine.ingestEvents(data.eventsAt(0, 2_000));
    service = await EmbeddingService.start(engine, embeddingSettingsOf(config.gnn), quiet);
    await service.trainingSettled();
  });
  after(async () => {
    await service.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the model and every user and item embedding, then only what changed, and again after retraining', async () => {
    const target = new RecordingWriteBack();
    const job = new EmbeddingWriteBack(engine, service, target, 0, quiet);
    try {
      await job.sync();
      const embeddings = service.embeddings()!;
      assert.deepEqual(
        target.models.map((m) => [m.version, m.dimensions]),
        [[embeddings.info.version, 8]],
      );
      const users = [...engine.graph.nodesOfKind('user')].map((n) => engine.graph.externalId(n)).sort();
      assert.deepEqual(target.ids('user'), users, 'every user, and no session');
      assert.equal(target.ids('item').length, [...engine.graph.nodesOfKind('item')].length);
      const someone = target.writes.find((w) => w.kind === 'user')!.rows[0]!;
      assert.deepEqual(Array.from(someone.embedding), Array.from(embeddings.subjects.get(engine.graph.nodeIndex('user', someone.id))!));

      target.writes = [];
      await job.sync();
      assert.deepEqual(
        target.writes.flatMap((w) => w.rows),
        [],
        'nothing changed, nothing written',
      );

      await engine.ingestEvents([{ id: 'wb-1', type: 'like', userId: data.userId(5), itemId: data.itemId(3), timestamp: Date.UTC(2025, 0, 5) }]);
      await engine.upsertItems([{ id: 'brand-new', title: 'New', tags: ['t:new'] }]);
      await service.updater.settled();
      target.failNext = true;
      await job.sync();
      assert.equal(target.writes.length, 0, 'the failed round wrote nothing');
      await job.sync();
      assert.deepEqual(target.ids('user'), [data.userId(5)]);
      assert.deepEqual(target.ids('item'), ['brand-new'], 'the failed round’s nodes were kept for the next one');
      const written = target.writes.find((w) => w.kind === 'user')!.rows[0]!.embedding;
      assert.deepEqual(Array.from(written), Array.from(service.embeddings()!.subjects.get(engine.graph.nodeIndex('user', data.userId(5)))!));

      target.writes = [];
      await service.retrain({ fineTune: true });
      await job.sync();
      assert.equal(target.models.length, 2, 'a new model is recorded');
      assert.equal(target.ids('user').length, users.length, 'and every embedding written again');
      assert.ok(target.writes.every((w) => w.version === service.embeddings()!.info.version));
    } finally {
      await job.close();
    }
  });
});
