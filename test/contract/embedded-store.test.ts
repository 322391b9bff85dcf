import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { EmbeddedGraphStore } from '../../src/store/embedded-store.ts';
import type { GraphStore } from '../../src/store/graph-store.ts';
import { describeGraphStoreContract } from './graph-store.contract.ts';

describeGraphStoreContract('embedded (SQLite)', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'store-contract-'));
  let store: GraphStore = EmbeddedGraphStore.open({ dataDir, durability: 'full' });
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = EmbeddedGraphStore.open({ dataDir, durability: 'full' });
      return store;
    },
    async dispose() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
