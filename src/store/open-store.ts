import type { EngineConfig } from '../config.ts';
import { EmbeddedGraphStore } from './embedded-store.ts';
import type { GraphStore } from './graph-store.ts';

/**
 * Picks the store adapter named by the configuration. The Neo4j adapter (and with it `neo4j-driver`) is
 * loaded only when it is asked for: the embedded default never loads the driver.
 */
export async function openGraphStore(config: EngineConfig): Promise<GraphStore> {
  switch (config.store) {
    case 'embedded':
      return EmbeddedGraphStore.open({ dataDir: config.dataDir, durability: config.durability, erasureReserveBytes: config.erasureReserveMb * 1024 * 1024 });
    case 'neo4j': {
      const { Neo4jGraphStore } = await import('./neo4j/neo4j-store.ts');
      return Neo4jGraphStore.open({ ...config.neo4j, embeddingDimensions: config.gnn.dims });
    }
  }
}
