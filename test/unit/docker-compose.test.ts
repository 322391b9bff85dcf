import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { parse } from 'yaml';

import { configEnvironmentVariables, loadConfig } from '../../src/config.ts';

/** docker-compose.yml cannot be started here (no Docker engine); this checks what can be checked offline. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'));

  it('runs Neo4j 5 with a health check, a data volume and credentials from the env file', () => {
    const neo4j = compose.services.neo4j;
    assert.match(neo4j.image, /^neo4j:5\./);
    assert.ok(neo4j.healthcheck.test.join(' ').includes('cypher-shell'));
    assert.ok(neo4j.volumes.some((v: string) => v.endsWith(':/data')));
    assert.equal(neo4j.env_file, 'neo4j.env');
    assert.ok(existsSync('neo4j.env.example'), 'an example env file to copy');
    assert.match(readFileSync('neo4j.env.example', 'utf8'), /^NEO4J_AUTH=neo4j\/\S{8,}$/m);
  });

  it('starts the engine on Neo4j once it is healthy, with settings the engine reads', () => {
    const engine = compose.services.engine;
    assert.deepEqual(engine.depends_on, { neo4j: { condition: 'service_healthy' } });
    assert.equal(engine.env_file, 'neo4j.env');
    const known = new Set(configEnvironmentVariables());
    for (const name of Object.keys(engine.environment)) assert.ok(known.has(name), `${name} is not a setting of the engine`);
    const example = Object.fromEntries(
      readFileSync('neo4j.env.example', 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z0-9_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const config = loadConfig({ env: { ...engine.environment, ...example } });
    assert.equal(config.store, 'neo4j');
    assert.equal(config.neo4j.uri, 'bolt://neo4j:7687');
    assert.equal(config.neo4j.password, 'change-this-password');
    assert.ok(existsSync('Dockerfile'), 'the engine image is built from the Dockerfile');
  });
});
