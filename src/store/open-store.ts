import type { EngineConfig } from '../config.ts';
import { EmbeddedGraphStore } from './embedded-store.ts';
import type { GraphStore } from './graph-store.ts';
import { Neo4jGraphStore } from './neo4j/neo4j-store.ts';

/** Picks the store adapter named by the configuration. */
export async function openGraphStore(config: EngineConfig): Promise<GraphStore> {
  switch (config.store) {
    case 'embedded':
      return EmbeddedGraphStore.open({ dataDir: config.dataDir, durability: config.durability, erasureReserveBytes: config.erasureReserveMb * 1024 * 1024 });
    case 'neo4j':
      return Neo4jGraphStore.open({ ...config.neo4j, embeddingDimensions: config.gnn.dims });
  }
}
