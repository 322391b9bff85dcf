import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';

import { createLogger } from '../../base/logger.ts';
import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { EmbeddedGraphStore } from '../../src/store/embedded-store.ts';
import { portLink } from '../../src/store/shared/message-links.ts';
import { SharedStore } from '../../src/store/shared/shared-store.ts';
import { StoreHost } from '../../src/store/shared/store-host.ts';

/**
 * Engines sharing one store (as a server's workers do): each has its own projection, and a write made
 * through one is in every other's graph and catalogue by the time its writer's call returns.
 */
describe('engines sharing one store', () => {
  let dataDir: string;
  let owner: EmbeddedGraphStore;
  let host: StoreHost;
  const channels: MessageChannel[] = [];
  const engines: InterestEngine[] = [];
  const logger = createLogger('silent');

  async function engine(): Promise<InterestEngine> {
    const channel = new MessageChannel();
    channels.push(channel);
    host.connect(portLink(channel.port1));
    const config = loadConfig({ env: { DATA_DIR: dataDir } });
    const opened = await InterestEngine.open(config, { logger, store: new SharedStore(owner.name, portLink(channel.port2)) });
    engines.push(opened);
    return opened;
  }

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'shared-engines-'));
    owner = EmbeddedGraphStore.open({ dataDir, durability: 'normal' });
    host = new StoreHost(owner, logger);
  });

  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    for (const c of channels.splice(0)) c.port1.close();
    await owner.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const edgesOf = (e: InterestEngine, kind: 'user' | 'session', id: string): number => {
    const node = e.graph.nodeIndex(kind, id);
    let count = 0;
    if (node >= 0) e.graph.forEachOutEdge(node, () => void count++);
    return count;
  };

  it('puts a write made through one engine in every other’s graph before the writer is answered', async () => {
    const [a, b, c] = [await engine(), await engine(), await engine()];
    const receipt = await a.ingestEvents([
      { id: 'e1', userId: 'u1', itemId: 'i1', type: 'like' },
      { id: 'e2', userId: 'u1', itemId: 'i2', type: 'dismiss' },
    ]);
    assert.equal(receipt.accepted, 2);
    // No waiting: the answer came after every other engine had applied the change.
    for (const e of [a, b, c]) assert.equal(edgesOf(e, 'user', 'u1'), 2);
    const again = await b.ingestEvents([{ id: 'e1', userId: 'u1', itemId: 'i1', type: 'like' }]);
    assert.equal(again.duplicates, 1, 'ids are checked by the one store');
    for (const e of [a, b, c]) assert.equal(edgesOf(e, 'user', 'u1'), 2, 'a duplicate reaches nobody');
  });

  it('hands an engine that starts later the snapshot and then the changes after it', async () => {
    const a = await engine();
    await a.ingestEvents([{ id: 'e1', userId: 'u1', itemId: 'i1', type: 'like' }]);
    const b = await engine();
    assert.equal(edgesOf(b, 'user', 'u1'), 1, 'from the snapshot');
    await a.ingestEvents([{ id: 'e2', userId: 'u1', itemId: 'i3', type: 'purchase' }]);
    assert.equal(edgesOf(b, 'user', 'u1'), 2, 'from the change');
  });

  it('shares catalogue upserts and deletions, with the same tag times', async () => {
    const [a, b] = [await engine(), await engine()];
    await a.upsertItems([{ id: 'film', title: 'A Film', tags: ['genre:drama'] }]);
    assert.equal(b.catalogue.title('film'), 'A Film');
    const [itemA, itemB] = [a.graph.nodeIndex('item', 'film'), b.graph.nodeIndex('item', 'film')];
    const tagTimes = (e: InterestEngine, item: number): number[] => {
      const times: number[] = [];
      e.graph.forEachOutEdge(item, (edge) => void times.push(e.graph.edgeTimestamp(edge)));
      return times;
    };
    assert.deepEqual(tagTimes(b, itemB), tagTimes(a, itemA));
    assert.equal(tagTimes(b, itemB).length, 1);
    await b.deleteItem('film');
    assert.equal(a.catalogue.title('film'), 'film', 'no record: the id stands for the title');
    assert.deepEqual(tagTimes(a, itemA), []);
  });

  it('erases a subject from every engine', async () => {
    const [a, b] = [await engine(), await engine()];
    await a.ingestEvents([{ id: 'e1', userId: 'gone', itemId: 'i1', type: 'like' }]);
    assert.equal(edgesOf(b, 'user', 'gone'), 1);
    const erased = await b.eraseSubject('user', 'gone');
    assert.deepEqual(erased, { found: true, interactions: 1 });
    assert.equal(a.graph.nodeIndex('user', 'gone'), -1);
    assert.deepEqual(await a.interactionsOf('user', 'gone'), []);
  });

  it('keeps the order of concurrent writes the same in every engine', async () => {
    const [a, b] = [await engine(), await engine()];
    await Promise.all(
      Array.from({ length: 40 }, (_, k) =>
        (k % 2 === 0 ? a : b).ingestEvents([{ id: `c${k}`, userId: 'u', itemId: `i${k % 7}`, type: k % 3 === 0 ? 'dislike' : 'like' }]),
      ),
    );
    const edges = (e: InterestEngine): string[] => {
      const list: string[] = [];
      e.graph.forEachOutEdge(e.graph.nodeIndex('user', 'u'), (edge, item) => void list.push(`${e.graph.externalId(item)}:${e.graph.edgeTypeCode(edge)}`));
      return list.sort();
    };
    assert.equal(edges(a).length, 40);
    assert.deepEqual(edges(a), edges(b));
  });
});
