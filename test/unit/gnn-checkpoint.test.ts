import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { CheckpointError, OutdatedCheckpointError } from '../../base/errors.ts';
import { initialiseBackend } from '../../gnn/backend.ts';
import { loadCheckpoint, type LoadedCheckpoint, modelDirectory, type RefusedCheckpoint, saveCheckpoint } from '../../gnn/checkpoint.ts';
import { trainingInputFromGraph, vocabularyOf } from '../../gnn/graph-training-input.ts';
import { InterestEmbeddings } from '../../gnn/interest-embeddings.ts';
import { InterestGAT } from '../../gnn/interest-gat.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { policy, syntheticGraph } from '../support/synthetic-graph.ts';

/**
 * Checkpoints on disk that are damaged after they were written: a block overwritten in place (same size),
 * a truncated file, a file gone, a manifest that cannot be read. Each is refused with the file named, and
 * the previous checkpoint (or none) is used, never the damage. Untrained models with different seeds stand
 * in for two trainings: their weights, and so their embeddings, differ.
 */
const hyper = { dims: 16, heads: 2, fanout: 8, history: 4, scale: 8, seed: 1 };
const BLOCK = 4096;

describe('GAT checkpoints: damage on disk', function () {
  this.timeout(60_000);
  const data = generateSyntheticDataset({ seed: 3, edges: 3_000, users: 60, items: 240, topics: 4, sessions: 0 });
  const graph = syntheticGraph(data, data.interactions.length);
  const vocabulary = vocabularyOf(graph);
  let dataDir: string;
  let dir: string;
  const models: InterestGAT[] = [];

  const modelOf = (seed: number): InterestGAT => {
    const model = new InterestGAT({ ...hyper, seed }, vocabulary.items.length, vocabulary.tags.length);
    models.push(model);
    return model;
  };
  const save = (version: string, seed: number): InterestGAT => {
    const model = modelOf(seed);
    saveCheckpoint(dataDir, model, vocabulary, {
      version,
      trainedAt: '2026-12-07T00:00:00.000Z',
      backend: 'test',
      hyper: { ...hyper, seed },
      training: { seed },
    });
    return model;
  };
  /** Loads, collecting what was refused. */
  const load = (): { loaded: LoadedCheckpoint | null; refused: RefusedCheckpoint[] } => {
    const refused: RefusedCheckpoint[] = [];
    const loaded = loadCheckpoint(dataDir, { onRefused: (error) => refused.push(error) });
    if (loaded) models.push(loaded.model);
    return { loaded, refused };
  };
  /** Every subject's embedding under the model, by node. */
  const embeddingsOf = (model: InterestGAT): Map<number, number[]> => {
    const embeddings = new InterestEmbeddings(model, vocabulary, { version: 'x', trainedAt: '', backend: '' }, () => graph);
    embeddings.recomputeAll();
    return new Map(Array.from(embeddings.subjects.nodes(), (node) => [node, Array.from(embeddings.subjects.get(node)!)]));
  };
  /** Overwrites `BLOCK` bytes in the middle of the file with other bytes; the size stays the same. */
  const overwriteMiddle = (file: string): void => {
    const size = statSync(file).size;
    assert.ok(size > 3 * BLOCK, `${file} has ${size} bytes`);
    const original = readFileSync(file).subarray(size / 2 - BLOCK / 2, size / 2 + BLOCK / 2);
    const garbage = Buffer.from(original).map((b) => b ^ 0x5a);
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, garbage, 0, BLOCK, size / 2 - BLOCK / 2);
    } finally {
      closeSync(fd);
    }
    assert.equal(statSync(file).size, size);
  };
  const file = (name: string) => path.join(dir, name);

  before(async () => {
    await initialiseBackend('auto', pino({ level: 'silent' }));
  });
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gat-checkpoint-damage-'));
    dir = modelDirectory(dataDir);
  });
  afterEach(() => {
    for (const model of models.splice(0)) model.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('falls back to the previous checkpoint when 4 KB in the middle of the newest .bin are overwritten', () => {
    const previous = save('v1', 1);
    const newest = save('v2', 2);
    assert.equal(load().loaded?.summary.version, 'v2');

    overwriteMiddle(file('gat-v2.bin'));
    const { loaded, refused } = load();
    assert.equal(loaded?.summary.version, 'v1', 'the previous checkpoint, not the damaged one');
    assert.equal(refused.length, 1);
    assert.ok(refused[0] instanceof CheckpointError);
    assert.equal(refused[0].path, file('gat-v2.bin'));
    assert.match(refused[0].message, /gat-v2\.bin: failed its checksum/);
    // The previous model itself: its embeddings are the ones it gave when it was saved.
    const expected = embeddingsOf(previous);
    assert.ok(expected.size >= 50);
    assert.deepEqual(embeddingsOf(loaded.model), expected);
    assert.notDeepEqual(embeddingsOf(newest), expected, 'the two checkpoints differ, so the comparison means something');
  });

  it('returns none and reports it when the only checkpoint is damaged', () => {
    save('v1', 1);
    overwriteMiddle(file('gat-v1.bin'));
    const { loaded, refused } = load();
    assert.equal(loaded, null);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.path, file('gat-v1.bin'));
    assert.match(refused[0]!.message, /checksum/);
  });

  it('refuses truncated files, the values or the description, and uses the previous checkpoint', () => {
    save('v1', 1);
    save('v2', 2);
    const size = statSync(file('gat-v2.bin')).size;
    truncateSync(file('gat-v2.bin'), size - 1000);
    let { loaded, refused } = load();
    assert.equal(loaded?.summary.version, 'v1');
    assert.deepEqual(
      refused.map((e) => e.path),
      [file('gat-v2.bin')],
    );
    assert.match(refused[0]!.message, new RegExp(`has ${size - 1000} bytes, the manifest says ${size}`));

    truncateSync(file('gat-v1.json'), 100);
    ({ loaded, refused } = load());
    assert.equal(loaded, null, 'both damaged: none is left, so the model is retrained');
    assert.deepEqual(
      refused.map((e) => e.path),
      [file('gat-v2.bin'), file('gat-v1.json')],
    );
  });

  it('refuses a manifest that points at missing files, and a manifest that cannot be read', () => {
    save('v1', 1);
    save('v2', 2);
    rmSync(file('gat-v2.bin'));
    let { loaded, refused } = load();
    assert.equal(loaded?.summary.version, 'v1');
    assert.equal(refused[0]!.path, file('gat-v2.bin'));
    assert.match(refused[0]!.message, /is missing/);

    rmSync(file('gat-v1.json'));
    ({ loaded, refused } = load());
    assert.equal(loaded, null);
    assert.deepEqual(
      refused.map((e) => e.path),
      [file('gat-v2.bin'), file('gat-v1.json')],
    );

    writeFileSync(file('manifest.json'), '{"format": 1, "checkpoints": [');
    ({ loaded, refused } = load());
    assert.equal(loaded, null);
    assert.deepEqual(
      refused.map((e) => e.path),
      [file('manifest.json')],
    );
  });

  it('keeps the current and the previous checkpoint, and only files the manifest lists', () => {
    save('v1', 1);
    save('v2', 2);
    writeFileSync(file('gat-v3.bin.tmp-999'), 'left by a crash');
    save('v3', 3);
    assert.deepEqual(readdirSync(dir).sort(), ['gat-v2.bin', 'gat-v2.json', 'gat-v3.bin', 'gat-v3.json', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(file('manifest.json'), 'utf8'));
    assert.deepEqual(
      manifest.checkpoints.map((c: { version: string }) => c.version),
      ['v3', 'v2'],
    );
    for (const checkpoint of manifest.checkpoints) {
      for (const listed of checkpoint.files) {
        assert.equal(listed.bytes, statSync(file(listed.name)).size);
        assert.match(listed.sha256, /^[0-9a-f]{64}$/);
      }
    }
  });

  it('keeps the checkpoint it fell back to, not the damaged one, when the next model is saved', () => {
    save('v1', 1);
    save('v2', 2);
    overwriteMiddle(file('gat-v2.bin'));
    assert.equal(load().loaded?.summary.version, 'v1');
    save('v3', 3);
    assert.deepEqual(readdirSync(dir).sort(), ['gat-v1.bin', 'gat-v1.json', 'gat-v3.bin', 'gat-v3.json', 'manifest.json']);
    overwriteMiddle(file('gat-v3.bin'));
    assert.equal(load().loaded?.summary.version, 'v1');
  });

  it('refuses a model saved by an engine before checksums, and removes its pointer at the next save', () => {
    const model = save('v1', 1);
    // What such an engine left: the same files and a CURRENT pointer, no manifest.
    rmSync(file('manifest.json'));
    writeFileSync(file('CURRENT'), 'v1\n');
    let { loaded, refused } = load();
    assert.equal(loaded, null);
    assert.ok(refused[0] instanceof CheckpointError && refused[0].path === file('CURRENT'), String(refused[0]));
    assert.match(refused[0].message, /without checksums/);

    const description = JSON.parse(readFileSync(file('gat-v1.json'), 'utf8'));
    writeFileSync(file('gat-v1.json'), JSON.stringify({ ...description, format: 1 }));
    ({ loaded, refused } = load());
    assert.equal(loaded, null);
    assert.ok(refused[0] instanceof OutdatedCheckpointError && refused[0].format === 1, String(refused[0]));

    saveCheckpoint(dataDir, model, vocabulary, { version: 'v2', trainedAt: '', backend: 'test', hyper, training: {} });
    assert.equal(existsSync(file('CURRENT')), false);
    assert.equal(load().loaded?.summary.version, 'v2');
  });

  it("saves a model's co-liked lists with it, loads them back, and refuses them damaged", () => {
    const { input, vocabulary: withLists } = trainingInputFromGraph(graph, policy, vocabulary, 5);
    assert.ok(withLists.coLiked && withLists.coLiked.neighbour.length > 0);
    const coLikedHyper = { ...hyper, coLiked: 5 };
    const model = new InterestGAT(coLikedHyper, withLists.items.length, withLists.tags.length);
    models.push(model);
    saveCheckpoint(dataDir, model, withLists, { version: 'v1', trainedAt: '', backend: 'test', hyper: coLikedHyper, training: {} });
    const { loaded } = load();
    assert.deepEqual(Array.from(loaded!.vocabulary.coLiked!.start), Array.from(withLists.coLiked.start));
    assert.deepEqual(Array.from(loaded!.vocabulary.coLiked!.neighbour), Array.from(withLists.coLiked.neighbour));
    // The same features as the model that was saved: every item's own row and its neighbours'.
    const encode = (m: InterestGAT, v: typeof withLists) => {
      const embeddings = new InterestEmbeddings(m, v, { version: 'x', trainedAt: '', backend: '' }, () => graph);
      embeddings.recomputeAll();
      return Array.from(embeddings.items.nodes(), (node) => Array.from(embeddings.items.get(node)!));
    };
    assert.deepEqual(encode(loaded!.model, loaded!.vocabulary), encode(model, withLists));
    assert.equal(
      input.itemTags.tag.some((t) => t >= withLists.tags.length),
      true,
      'training reads the co-liked rows',
    );
    assert.throws(() => new InterestEmbeddings(model, vocabulary, { version: 'x', trainedAt: '', backend: '' }, () => graph), /co-liked lists/);
    // Cut short, the lists are refused with the file named, and there is no other checkpoint.
    truncateSync(file('gat-v1.co-liked.bin'), 12);
    const { loaded: none, refused } = load();
    assert.equal(none, null);
    assert.match(refused[0]!.message, /gat-v1\.co-liked\.bin/);
  });
});
