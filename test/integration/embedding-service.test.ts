import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { modelDirectory } from '../../gnn/checkpoint.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { type EmbeddingHost, EmbeddingService, embeddingSettingsOf } from '../../src/embeddings/embedding-service.ts';
import { InterestEngine } from '../../src/engine.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

const quiet = pino({ level: 'silent' });

function hostOf(engine: InterestEngine, config: EngineConfig): EmbeddingHost {
  return {
    get graph() {
      return engine.graph;
    },
    weightPolicy: config.weightPolicy,
    dataDir: config.dataDir,
    subscribe: (listener) => engine.subscribe(listener),
  };
}

describe('EmbeddingService on the engine', function () {
  this.timeout(120_000);
  const data = generateSyntheticDataset({ seed: 4, edges: 3_000, users: 60, items: 120, topics: 4 });
  let dataDir: string;
  let config: EngineConfig;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'embeddings-'));
    config = loadConfig({ env: { DATA_DIR: dataDir, GNN_DIMS: '16', GNN_HEADS: '2', GNN_FANOUT: '8', GNN_EPOCHS: '2', GNN_REFRESH_MINUTES: '0' } });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('trains at first start, follows new events and erasures, and loads the same model after a restart', async () => {
    let engine = await InterestEngine.open(config, { logger: quiet });
    await engine.upsertItems(data.catalogue());
    await engine.ingestEvents(data.eventsAt(0, 2_500));
    let service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), quiet);
    // Started without waiting for the first model: it trains in the background.
    assert.deepEqual([service.status().loaded, service.status().trainingInProgress, service.status().lastTraining?.status], [false, true, 'running']);
    assert.equal(service.embeddings(), null);
    await service.trainingSettled();
    const trained = service.status();
    assert.equal(trained.loaded, true);
    assert.equal(trained.lastTraining?.status, 'succeeded');
    assert.ok(existsSync(path.join(modelDirectory(dataDir), 'manifest.json')));

    // New events: the acting users' embeddings follow without retraining.
    const embeddings = service.embeddings()!;
    const user = engine.graph.nodeIndex('user', data.userId(3));
    const before = Float32Array.from(embeddings.subjects.get(user)!);
    await engine.ingestEvents([{ id: 'new-1', type: 'purchase', userId: data.userId(3), itemId: data.itemId(7), timestamp: Date.UTC(2025, 0, 2) }]);
    await service.updater.settled();
    const after = embeddings.subjects.get(user)!;
    assert.ok(
      after.some((v, d) => Math.abs(v - before[d]!) > 1e-6),
      'the embedding moved',
    );
    assert.deepEqual(Array.from(after), Array.from(embeddings.computeSubjects([user])));
    // A brand-new user gets an embedding from their first interaction.
    await engine.ingestEvents([{ id: 'new-2', type: 'like', userId: 'newcomer', itemId: data.itemId(1), timestamp: Date.UTC(2025, 0, 3) }]);
    await service.updater.settled();
    assert.ok(embeddings.subjects.get(engine.graph.nodeIndex('user', 'newcomer')));
    // Erasure removes the vector with the node.
    await engine.eraseSubject('user', 'newcomer');
    assert.equal(engine.graph.nodeIndex('user', 'newcomer'), -1);
    assert.equal(embeddings.subjects.size, engine.stats().users + engine.stats().sessions);

    const snapshot = Float32Array.from(embeddings.subjects.get(user)!);
    await service.close();
    await engine.close();

    engine = await InterestEngine.open(config, { logger: quiet });
    service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), quiet);
    assert.equal(service.status().version, trained.version, 'the saved model, not a new one');
    assert.deepEqual([service.status().trainingInProgress, service.status().lastTraining], [false, null]);
    assert.deepEqual(Array.from(service.embeddings()!.subjects.get(engine.graph.nodeIndex('user', data.userId(3)))!), Array.from(snapshot));
    // Fine-tuning swaps a new version in.
    await engine.ingestEvents(data.eventsAt(2_500, 3_000));
    assert.equal(await service.retrain({ fineTune: true }), true);
    assert.notEqual(service.status().version, trained.version);
    assert.equal(service.status().training?.fineTuned, true);
    assert.equal(service.status().lastTraining?.fineTune, true);
    await service.close();
    await engine.close();
  });

  it('trains a new model at start-up when the saved one is of an older format', async () => {
    const engine = await InterestEngine.open(config, { logger: quiet });
    await engine.ingestEvents(data.eventsAt(0, 2_500));
    let service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), quiet);
    await service.trainingSettled();
    const first = service.status().version!;
    await service.close();
    const manifest = path.join(modelDirectory(dataDir), `gat-${first}.json`);
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), format: 1 }));

    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), logger);
    await service.trainingSettled();
    assert.equal(service.status().loaded, true);
    assert.notEqual(service.status().version, first, 'a new model, not the outdated one');
    assert.ok(
      warnings.some((w) => /older format/.test(w)),
      warnings.join('\n'),
    );
    await service.close();
    await engine.close();
  });

  it('waits for enough interactions before training', async () => {
    const engine = await InterestEngine.open(config, { logger: quiet });
    await engine.ingestEvents(data.eventsAt(0, 20));
    const service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), quiet);
    await service.trainingSettled();
    assert.equal(service.status().loaded, false);
    assert.equal(service.embeddings(), null);
    assert.equal(service.status().lastTraining?.status, 'skipped');
    assert.match(service.status().lastTraining!.error!, /20 interactions; training needs at least 100/);
    // The scheduled job trains the first model once there is enough, without waiting for 10,000 new interactions.
    await service.refreshIfDue();
    assert.equal(service.status().loaded, false, 'still too few: nothing tried');
    await engine.ingestEvents(data.eventsAt(20, 2_500));
    await service.refreshIfDue();
    assert.equal(service.status().lastTraining?.status, 'succeeded');
    assert.equal(service.status().loaded, true);
    await service.close();
    await engine.close();
  });

  it('reports a run that fails, keeps serving, and logs each epoch at info where no progress bar shows it', async () => {
    const engine = await InterestEngine.open(config, { logger: quiet });
    await engine.ingestEvents(data.eventsAt(0, 2_500));
    const lines: Array<{ level: number; msg: string; epoch?: number; loss?: number; validationRecall?: number; seconds?: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const service = await EmbeddingService.start(hostOf(engine, config), embeddingSettingsOf(config.gnn), logger);
    // The run cannot save its checkpoint: a file stands where the model directory goes.
    rmSync(modelDirectory(dataDir), { recursive: true, force: true });
    writeFileSync(modelDirectory(dataDir), 'not a directory');
    await service.trainingSettled();
    const status = service.status();
    assert.deepEqual([status.loaded, status.trainingInProgress, status.lastTraining?.status], [false, false, 'failed']);
    assert.ok(status.lastTraining!.error && Date.parse(status.lastTraining!.at) > 0, JSON.stringify(status.lastTraining));
    const epochs = lines.filter((l) => l.msg === 'GNN epoch');
    assert.equal(epochs.length, 2);
    assert.ok(
      epochs.every((l) => l.level === 30 && l.epoch! >= 1 && Number.isFinite(l.loss) && Number.isFinite(l.validationRecall) && l.seconds! >= 0),
      JSON.stringify(epochs),
    );
    assert.ok(lines.some((l) => l.level === 50 && /GNN training failed/.test(l.msg)));
    // A request for training now runs again, and succeeds once the directory can be written.
    rmSync(modelDirectory(dataDir), { force: true });
    assert.deepEqual(await service.startTraining({ fineTune: false }), { fineTune: false });
    await service.trainingSettled();
    assert.deepEqual([service.status().loaded, service.status().lastTraining?.status], [true, 'succeeded']);
    await service.close();
    await engine.close();
  });

  it('stops a run in progress when it closes, rather than holding shutdown until it ends', async () => {
    const engine = await InterestEngine.open(config, { logger: quiet });
    await engine.ingestEvents(data.eventsAt(0, 2_500));
    const state: { closing: Promise<void> | null } = { closing: null };
    let epochs = 0;
    const service = await EmbeddingService.start(hostOf(engine, config), { ...embeddingSettingsOf(config.gnn), epochs: 50 }, quiet, {
      onEpoch: () => {
        epochs++;
        state.closing ??= service.close();
      },
    });
    while (!state.closing) await new Promise((resolve) => setTimeout(resolve, 20));
    await state.closing;
    assert.equal(epochs, 1, 'no epoch after close');
    assert.deepEqual([service.status().trainingInProgress, service.status().lastTraining?.status], [false, 'failed']);
    assert.match(service.status().lastTraining!.error!, /service closed/);
    await engine.close();
  });
});
