import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';

import { createLogger } from '../../base/logger.ts';
import { EmbeddedGraphStore } from '../../src/store/embedded-store.ts';
import type { GraphStore } from '../../src/store/graph-store.ts';
import { portLink } from '../../src/store/shared/message-links.ts';
import { SharedStore } from '../../src/store/shared/shared-store.ts';
import { StoreHost } from '../../src/store/shared/store-host.ts';
import { describeGraphStoreContract } from './graph-store.contract.ts';

/** The shared store, as a worker sees it: every call crosses a real MessagePort to a host over SQLite. */
describeGraphStoreContract('shared (a worker’s view of the embedded store, over a MessagePort)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'store-contract-shared-'));
  const open = (): { owner: GraphStore; store: SharedStore; channel: MessageChannel } => {
    const owner = EmbeddedGraphStore.open({ dataDir, durability: 'full' });
    const channel = new MessageChannel();
    new StoreHost(owner, createLogger('silent')).connect(portLink(channel.port1));
    return { owner, store: new SharedStore(owner.name, portLink(channel.port2)), channel };
  };
  const close = async (opened: ReturnType<typeof open>): Promise<void> => {
    await opened.store.close();
    opened.channel.port1.close();
    await opened.owner.close();
  };
  let opened = open();
  return Promise.resolve({
    get store() {
      return opened.store;
    },
    async reopen() {
      await close(opened);
      opened = open();
      return opened.store;
    },
    async dispose() {
      await close(opened);
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
});
