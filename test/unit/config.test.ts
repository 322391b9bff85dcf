import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ConfigError } from '../../base/errors.ts';
import { loadConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.store, 'embedded');
    assert.equal(config.durability, 'full');
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.weightPolicy.halfLifeMs, 90 * 86_400_000);
  });

  it('reads the environment, then overrides', () => {
    const config = loadConfig({ env: { DATA_DIR: '/tmp/x', HALF_LIFE_DAYS: '7', DECAY_CLOCK: 'wall' }, overrides: { dataDir: '/tmp/y' } });
    assert.equal(config.dataDir, '/tmp/y');
    assert.equal(config.weights.halfLifeDays, 7);
    assert.equal(config.weights.clock, 'wall');
  });

  it('reads a JSON file for the weight table', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-'));
    const file = path.join(dir, 'engine.json');
    writeFileSync(file, JSON.stringify({ weights: { types: { view: 0.05 } } }));
    const config = loadConfig({ env: { CONFIG_FILE: file } });
    assert.equal(config.weightPolicy.typeWeights.view, 0.05);
    assert.equal(config.weightPolicy.typeWeights.purchase, 1, 'other entries keep their defaults');
  });

  it('names the environment variable that holds a bad value', () => {
    try {
      loadConfig({ env: { HALF_LIFE_DAYS: 'soon', DURABILITY: 'maybe', MAX_BATCH_SIZE: '0' } });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const paths = error.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, ['DURABILITY', 'HALF_LIFE_DAYS', 'MAX_BATCH_SIZE']);
      assert.match(error.message, /HALF_LIFE_DAYS: must be a number, got 'soon'/);
    }
  });

  it('reads GNN_BACKEND into the gnn section, auto by default, and names it when bad', () => {
    assert.equal(loadConfig({ env: {} }).gnn.backend, 'auto');
    assert.equal(loadConfig({ env: { GNN_BACKEND: 'wasm' } }).gnn.backend, 'wasm');
    assert.throws(
      () => loadConfig({ env: { GNN_BACKEND: 'gpu' } }),
      (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && e.issues[0]!.path === 'GNN_BACKEND' && /tensorflow-gpu/.test(e.message),
    );
  });

  it("reads the query layer's settings and names a bad one", () => {
    const config = loadConfig({ env: { RECOMMEND_DIVERSITY: '0.5', RECOMMEND_ANN_THRESHOLD: '500' } });
    assert.equal(config.recommend.diversity, 0.5);
    assert.equal(config.recommend.annThreshold, 500);
    assert.throws(
      () => loadConfig({ env: { RECOMMEND_DIVERSITY: '1.5' } }),
      (e: unknown) => e instanceof ConfigError && e.issues.length === 1 && e.issues[0]!.path === 'RECOMMEND_DIVERSITY',
    );
  });

  it('reads API keys with roles and names a bad entry by its variable', () => {
    const config = loadConfig({ env: { API_KEYS: 'app:0123456789abcdef0:read+ingest,ops:fedcba98765432100:admin', PORT: '9000' } });
    assert.deepEqual(config.api.keys, [
      { name: 'app', key: '0123456789abcdef0', roles: ['read', 'ingest'] },
      { name: 'ops', key: 'fedcba98765432100', roles: ['admin'] },
    ]);
    assert.equal(config.api.port, 9000);
    assert.throws(
      () => loadConfig({ env: { API_KEYS: 'app:short:read,ops:fedcba98765432100:root' } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.some((i) => i.path === 'API_KEYS[0].key' && /at least 16/.test(i.message)) &&
        e.issues.some((i) => i.path.startsWith('API_KEYS[1].roles')),
    );
  });

  it('reads the Neo4j settings, user/password from NEO4J_AUTH, and needs a URI for the neo4j store', () => {
    const config = loadConfig({ env: { STORE: 'neo4j', NEO4J_URI: 'bolt://db:7687', NEO4J_AUTH: 'neo4j/pa/ss', NEO4J_DATABASE: 'graph' } });
    assert.deepEqual(
      [config.store, config.neo4j.uri, config.neo4j.user, config.neo4j.password, config.neo4j.database],
      ['neo4j', 'bolt://db:7687', 'neo4j', 'pa/ss', 'graph'],
    );
    assert.equal(loadConfig({ env: { NEO4J_AUTH: 'a/b', NEO4J_PASSWORD: 'c' } }).neo4j.password, 'c', 'NEO4J_PASSWORD wins over NEO4J_AUTH');
    assert.throws(
      () => loadConfig({ env: { STORE: 'neo4j' } }),
      (error: unknown) => error instanceof ConfigError && error.issues.some((i) => i.path === 'neo4j.uri' && /NEO4J_URI/.test(i.message)),
    );
    assert.throws(
      () => loadConfig({ env: { NEO4J_AUTH: 'no-slash' } }),
      (error: unknown) => error instanceof ConfigError && error.issues[0]!.path === 'NEO4J_AUTH',
    );
    assert.throws(
      () => loadConfig({ env: { STORE: 'mysql' } }),
      (error: unknown) => error instanceof ConfigError && error.issues[0]!.path === 'STORE',
    );
  });

  it('names bad fields in the config file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-'));
    const file = path.join(dir, 'engine.json');
    writeFileSync(file, JSON.stringify({ weights: { types: { veiw: 1 } } }));
    assert.throws(
      () => loadConfig({ env: { CONFIG_FILE: file } }),
      (e: unknown) => e instanceof ConfigError && /weights\.types\.veiw: unknown field/.test(e.message),
    );
    writeFileSync(file, '{ nope');
    assert.throws(() => loadConfig({ env: { CONFIG_FILE: file } }), /is not valid JSON/);
  });
});
