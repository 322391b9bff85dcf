import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { initialiseBackend } from '../../gnn/backend.ts';
import { modelDirectory, saveCheckpoint } from '../../gnn/checkpoint.ts';
import { vocabularyOf } from '../../gnn/graph-training-input.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import { type EngineConfig, loadConfig } from '../../src/config.ts';
import { EmbeddingService, embeddingSettingsOf } from '../../src/embeddings/embedding-service.ts';
import { InterestEngine } from '../../src/engine.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * The engine starting on a data directory whose newest saved model was damaged on disk (4 KB overwritten
 * in the middle of its `.bin`, same size): the damage is logged with the file that failed its checksum and
 * the previous model goes into service; with nothing intact left, a new model is trained.
 */
const quiet = pino({ level: 'silent' });
const hyper = { dims: 16, heads: 2, fanout: 8, history: 0, scale: 8, seed: 1 };

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly path?: string;
  readonly version?: string;
}

function overwriteMiddle(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096, 0x7f), 0, 4096, Math.floor(size / 2) - 2048);
  } finally {
    closeSync(fd);
  }
  assert.equal(statSync(file).size, size);
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EmbeddingService with a damaged saved model', function () {
  this.timeout(120_000);
  const data = generateSyntheticDataset({ seed: 4, edges: 3_000, users: 60, items: 240, topics: 4 });
  let dataDir: string;
  let engine: InterestEngine;
  const models: InterestGAT[] = [];

  const configOf = (trainOnStart: boolean): EngineConfig =>
    loadConfig({
      env: {
        DATA_DIR: dataDir,
        GNN_DIMS: '16',
        GNN_HEADS: '2',
        GNN_FANOUT: '8',
        GNN_EPOCHS: '1',
        GNN_REFRESH_MINUTES: '0',
        GNN_TRAIN_ON_START: String(trainOnStart),
      },
    });
  const hostOf = (config: EngineConfig) => ({
    get graph() {
      return engine.graph;
    },
    weightPolicy: config.weightPolicy,
    dataDir,
    subscribe: engine.subscribe.bind(engine),
  });
  /** Saves an untrained model with this seed as `version`, as training would. */
  const save = (version: string, seed: number): InterestGAT => {
    const vocabulary = vocabularyOf(engine.graph);
    const model = new InterestGAT({ ...hyper, seed }, vocabulary.items.length, vocabulary.tags.length);
    models.push(model);
    saveCheckpoint(dataDir, model, vocabulary, {
      version,
      trainedAt: new Date().toISOString(),
      backend: 'test',
      hyper: { ...hyper, seed },
      training: { interactions: 3_000 },
    });
    return model;
  };
  const start = async (trainOnStart: boolean) => {
    const lines: LogLine[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
    const config = configOf(trainOnStart);
    const service = await EmbeddingService.start(hostOf(config), embeddingSettingsOf(config.gnn), logger);
    return { service, lines };
  };

  before(async () => {
    await initialiseBackend('auto', quiet);
  });
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'checkpoint-recovery-'));
    engine = await InterestEngine.open(configOf(false), { logger: quiet });
    await engine.upsertItems(data.catalogue());
    await engine.ingestEvents(data.eventsAt(0, 3_000));
  });
  afterEach(async () => {
    await engine.close();
    for (const model of models.splice(0)) model.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs which file failed its checksum and serves the previous model', async () => {
    const previous = save('v1', 1);
    save('v2', 2);
    const damaged = path.join(modelDirectory(dataDir), 'gat-v2.bin');
    overwriteMiddle(damaged);

    const { service, lines } = await start(false);
    try {
      assert.equal(service.status().version, 'v1');
      // GET /v1/model says which checkpoint was refused and why.
      assert.deepEqual(
        service.status().refusedCheckpoints.map((r) => r.path),
        [damaged],
      );
      assert.match(service.status().refusedCheckpoints[0]!.problem, /failed its checksum/);
      const error = lines.find((l) => l.level >= 50);
      assert.ok(error, JSON.stringify(lines));
      assert.equal(error.path, damaged);
      assert.match(error.msg, /gat-v2\.bin: failed its checksum/);
      assert.ok(
        lines.some((l) => l.level === 40 && /previous saved GNN model/.test(l.msg) && l.version === 'v1'),
        JSON.stringify(lines),
      );
      // The embeddings in service are the previous model's.
      const expected = new InterestEmbeddings(previous, vocabularyOf(engine.graph), { version: 'v1', trainedAt: '', backend: '' }, () => engine.graph);
      expected.recomputeAll();
      const served = service.embeddings()!;
      let compared = 0;
      for (const node of expected.subjects.nodes()) {
        assert.deepEqual(served.subjects.get(node), expected.subjects.get(node));
        compared++;
      }
      assert.ok(compared >= 50);
    } finally {
      await service.close();
    }
  });

  it('trains a new model when the only saved one is damaged, and keeps none of the damage', async () => {
    save('v1', 1);
    overwriteMiddle(path.join(modelDirectory(dataDir), 'gat-v1.bin'));

    const { service, lines } = await start(true);
    try {
      assert.ok(
        lines.some((l) => l.level >= 50 && l.path?.endsWith('gat-v1.bin') && /checksum/.test(l.msg)),
        JSON.stringify(lines),
      );
      assert.ok(
        lines.some((l) => /no usable saved GNN model/.test(l.msg)),
        JSON.stringify(lines),
      );
      await until(() => service.status().loaded, 60_000);
      const version = service.status().version!;
      assert.notEqual(version, 'v1');
      await until(() => !service.status().trainingInProgress, 60_000);
      assert.deepEqual(readdirSync(modelDirectory(dataDir)).sort(), [`gat-${version}.bin`, `gat-${version}.json`, 'manifest.json']);
    } finally {
      await service.close();
    }
  });
});
