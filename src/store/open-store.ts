import type { EngineConfig } from '../config.ts';
import { EmbeddedGraphStore } from './embedded-store.ts';
import type { GraphStore } from './graph-store.ts';

/** Picks the store adapter named by the configuration. */
export async function openGraphStore(config: EngineConfig): Promise<GraphStore> {
  switch (config.store) {
    case 'embedded':
      return EmbeddedGraphStore.open({ dataDir: config.dataDir, durability: config.durability });
  }
}
