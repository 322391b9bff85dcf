import neo4j from 'neo4j-driver';

import { loadConfig } from '../../src/config.ts';
import type { GraphStore } from '../../src/store/graph-store.ts';
import { Neo4jGraphStore } from '../../src/store/neo4j/neo4j-store.ts';
import { describeGraphStoreContract } from './graph-store.contract.ts';

/**
 * The store contract against a real Neo4j 5, whenever NEO4J_URI (with NEO4J_USER, NEO4J_PASSWORD and
 * optionally NEO4J_DATABASE) is set, e.g. the server of `docker compose up neo4j`. The suite empties the
 * database before each test, so it refuses a database that holds data it did not write itself.
 */
const MARKER = 'contract-test';

if (!process.env.NEO4J_URI) {
  describe('GraphStore contract: neo4j', () => {
    before(() => {
      process.stdout.write(
        '  Neo4j store contract suite SKIPPED: NEO4J_URI is not set (docker compose up -d neo4j, then NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=… npm test)\n',
      );
    });
    it('runs against a Neo4j server when NEO4J_URI is set');
  });
} else {
  const config = loadConfig({ env: { ...process.env, STORE: 'neo4j' } });
  const options = { ...config.neo4j, embeddingDimensions: config.gnn.dims };

  /** Empties the test database, after checking that only this suite has written to it. */
  async function emptyDatabase(): Promise<void> {
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    const session = driver.session(options.database ? { database: options.database } : {});
    try {
      const probe = await session.run('OPTIONAL MATCH (marker:EngineState {name: $marker}) RETURN marker IS NOT NULL AS ours, COUNT { () } AS nodes', {
        marker: MARKER,
      });
      const [ours, nodes] = [probe.records[0]!.get('ours') as boolean, Number(probe.records[0]!.get('nodes'))];
      if (!ours && nodes > 0)
        throw new Error(
          `refusing to empty ${options.uri}: it holds ${nodes} nodes this suite did not write; point NEO4J_URI or NEO4J_DATABASE at a test database`,
        );
      await session.run('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
      await session.run('CREATE (:EngineState {name: $marker})', { marker: MARKER });
    } finally {
      await session.close();
      await driver.close();
    }
  }

  describeGraphStoreContract(`neo4j (${options.uri})`, async () => {
    await emptyDatabase();
    let store: GraphStore = await Neo4jGraphStore.open(options);
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = await Neo4jGraphStore.open(options);
        return store;
      },
      async dispose() {
        await store.close();
      },
    };
  });
}
