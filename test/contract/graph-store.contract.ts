import assert from 'node:assert/strict';

import type { NodeKind } from '../../graph/model.ts';
import type { Interaction } from '../../src/events/interaction-event.ts';
import type { GraphStore, SnapshotSink } from '../../src/store/graph-store.ts';

/**
 * The behaviour every GraphStore adapter must have. An adapter's test file calls this with a factory
 * that opens a fresh, empty store and can reopen the same one (to prove durability).
 */
export interface StoreUnderTest {
  readonly store: GraphStore;
  /** Closes this handle and opens the same data again. */
  reopen(): Promise<GraphStore>;
  /** Closes and deletes everything the test wrote. */
  dispose(): Promise<void>;
}

export function interaction(eventId: string, overrides: Partial<Interaction> = {}): Interaction {
  return {
    eventId,
    subjectKind: 'user',
    subjectId: 'u1',
    itemId: 'i1',
    type: 'view',
    value: null,
    ts: 1_700_000_000_000,
    context: null,
    ...overrides,
  };
}

/** Records a snapshot with string ids resolved, so adapters with different keys compare equal. */
export class RecordingSink implements SnapshotSink {
  expected = { nodes: 0, interactions: 0, itemTags: 0 };
  readonly nodes = new Map<number, { kind: NodeKind; id: string }>();
  readonly itemTags: Array<{ item: string; tag: string }> = [];
  readonly interactions: Array<{ subject: string; item: string; typeCode: number; value: number | null; ts: number }> = [];
  begin(expected: { nodes: number; interactions: number; itemTags: number }): void {
    this.expected = expected;
  }
  node(key: number, kind: NodeKind, externalId: string): void {
    assert.ok(!this.nodes.has(key), `node key ${key} repeated`);
    this.nodes.set(key, { kind, id: externalId });
  }
  itemTag(itemKey: number, tagKey: number): void {
    this.itemTags.push({ item: this.nodes.get(itemKey)!.id, tag: this.nodes.get(tagKey)!.id });
  }
  interaction(subjectKey: number, itemKey: number, typeCode: number, value: number | null, ts: number): void {
    const subject = this.nodes.get(subjectKey);
    const item = this.nodes.get(itemKey);
    assert.ok(subject && item, 'interaction refers to a node not sent before it');
    this.interactions.push({ subject: `${subject.kind}:${subject.id}`, item: item.id, typeCode, value, ts });
  }
}

export function describeGraphStoreContract(adapter: string, open: () => Promise<StoreUnderTest>): void {
  describe(`GraphStore contract: ${adapter}`, () => {
    let subject: StoreUnderTest;
    let store: GraphStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.dispose();
    });

    it('accepts new interactions and reports each one as accepted', async () => {
      const result = await store.appendInteractions([interaction('a'), interaction('b', { itemId: 'i2' })]);
      assert.deepEqual(result.accepted, [true, true]);
      assert.equal(result.acceptedCount, 2);
      assert.equal(result.duplicateCount, 0);
      assert.equal((await store.counts()).interactions, 2);
    });

    it('ignores an event id it already holds, across batches and within one batch', async () => {
      await store.appendInteractions([interaction('a')]);
      const again = await store.appendInteractions([interaction('a', { type: 'purchase' }), interaction('c'), interaction('c', { itemId: 'other' })]);
      assert.deepEqual(again.accepted, [false, true, false]);
      assert.equal(again.duplicateCount, 2);
      const stored = await store.interactionsOf('user', 'u1');
      assert.deepEqual(
        stored.map((i) => [i.eventId, i.type, i.itemId]),
        [
          ['a', 'view', 'i1'],
          ['c', 'view', 'i1'],
        ],
      );
    });

    it('keeps every field of an interaction, context included', async () => {
      const rating = interaction('r', { type: 'rating', value: 4.5, ts: 1_600_000_000_123, context: { rec: 'x1', pos: 3 } });
      const session = interaction('s', { subjectKind: 'session', subjectId: 'anon-1', type: 'click' });
      await store.appendInteractions([rating, session]);
      assert.deepEqual(await store.interactionsOf('user', 'u1'), [rating]);
      assert.deepEqual(await store.interactionsOf('session', 'anon-1'), [session]);
      assert.deepEqual(await store.interactionsOf('user', 'anon-1'), [], 'users and sessions are separate namespaces');
    });

    it("returns a subject's interactions oldest first, whatever order they arrived in", async () => {
      await store.appendInteractions([interaction('late', { ts: 3000 }), interaction('early', { ts: 1000 }), interaction('mid', { ts: 2000 })]);
      assert.deepEqual(
        (await store.interactionsOf('user', 'u1')).map((i) => i.eventId),
        ['early', 'mid', 'late'],
      );
    });

    it('keeps what it acknowledged after being closed and reopened', async () => {
      await store.appendInteractions([interaction('a'), interaction('b', { subjectId: 'u2' })]);
      await store.upsertItems([{ id: 'i1', title: 'One', tags: ['t1'] }]);
      store = await subject.reopen();
      assert.equal((await store.counts()).interactions, 2);
      assert.deepEqual(await store.getItem('i1'), { id: 'i1', title: 'One', tags: ['t1'] });
      const replay = await store.appendInteractions([interaction('a'), interaction('d')]);
      assert.deepEqual(replay.accepted, [false, true], 'idempotency survives a restart');
    });

    it('upserts catalogue items, replacing title, tags, text and attributes', async () => {
      await store.upsertItems([{ id: 'm1', title: 'Alien', tags: ['genre:SciFi', 'genre:Horror'], text: 'In space…', attributes: { year: 1979 } }]);
      assert.deepEqual(await store.getItem('m1'), {
        id: 'm1',
        title: 'Alien',
        tags: ['genre:SciFi', 'genre:Horror'],
        text: 'In space…',
        attributes: { year: 1979 },
      });
      await store.upsertItems([{ id: 'm1', title: 'Alien (1979)', tags: ['genre:Horror', 'keyword:ripley'] }]);
      assert.deepEqual(await store.getItem('m1'), { id: 'm1', title: 'Alien (1979)', tags: ['genre:Horror', 'keyword:ripley'] });
      assert.equal(await store.getItem('nope'), null);
    });

    it('lists items by id in pages', async () => {
      await store.upsertItems(['c', 'a', 'e', 'b', 'd'].map((id) => ({ id, title: id.toUpperCase(), tags: [] })));
      const first = await store.listItems({ limit: 2 });
      assert.deepEqual(
        first.map((i) => i.id),
        ['a', 'b'],
      );
      const second = await store.listItems({ after: 'b', limit: 2 });
      assert.deepEqual(
        second.map((i) => i.id),
        ['c', 'd'],
      );
      const last = await store.listItems({ after: 'd', limit: 2 });
      assert.deepEqual(
        last.map((i) => i.id),
        ['e'],
      );
    });

    it('does not list an item that is only known from interactions', async () => {
      await store.appendInteractions([interaction('a', { itemId: 'ghost' })]);
      assert.deepEqual(await store.listItems({ limit: 10 }), []);
      assert.equal(await store.getItem('ghost'), null);
    });

    it('deletes a catalogue item but keeps the interactions with it', async () => {
      await store.upsertItems([{ id: 'i1', title: 'One', tags: ['t'] }]);
      await store.appendInteractions([interaction('a')]);
      assert.equal(await store.deleteItem('i1'), true);
      assert.equal(await store.deleteItem('i1'), false);
      assert.equal(await store.getItem('i1'), null);
      assert.equal((await store.interactionsOf('user', 'u1')).length, 1);
    });

    it('erases a subject and every interaction of theirs, and nothing of anyone else', async () => {
      await store.appendInteractions([interaction('a'), interaction('b', { itemId: 'i2' }), interaction('c', { subjectId: 'u2' })]);
      assert.deepEqual(await store.eraseSubject('user', 'u1'), { found: true, interactions: 2 });
      assert.deepEqual(await store.interactionsOf('user', 'u1'), []);
      assert.equal((await store.interactionsOf('user', 'u2')).length, 1);
      assert.deepEqual(await store.eraseSubject('user', 'u1'), { found: false, interactions: 0 });
      const counts = await store.counts();
      assert.equal(counts.users, 1);
      assert.equal(counts.interactions, 1);
      store = await subject.reopen();
      assert.deepEqual(await store.interactionsOf('user', 'u1'), [], 'erasure is durable');
    });

    it('streams a snapshot with nodes before the rows that use them, in acceptance order', async () => {
      await store.upsertItems([{ id: 'i1', title: 'One', tags: ['t2', 't1'] }]);
      await store.appendInteractions([
        interaction('a', { ts: 5 }),
        interaction('b', { subjectKind: 'session', subjectId: 's1', itemId: 'i2', type: 'rating', value: 2, ts: 3 }),
      ]);
      const sink = new RecordingSink();
      await store.readSnapshot(sink);
      assert.deepEqual(sink.expected, { nodes: sink.nodes.size, interactions: 2, itemTags: 2 });
      const kinds = [...sink.nodes.values()].map((n) => `${n.kind}:${n.id}`).sort();
      assert.deepEqual(kinds, ['item:i1', 'item:i2', 'session:s1', 'tag:t1', 'tag:t2', 'user:u1']);
      assert.deepEqual(sink.itemTags, [
        { item: 'i1', tag: 't2' },
        { item: 'i1', tag: 't1' },
      ]);
      assert.deepEqual(sink.interactions, [
        { subject: 'user:u1', item: 'i1', typeCode: 0, value: null, ts: 5 },
        { subject: 'session:s1', item: 'i2', typeCode: 4, value: 2, ts: 3 },
      ]);
    });

    it('counts nodes by kind', async () => {
      await store.upsertItems([{ id: 'i1', title: 'One', tags: ['t1'] }]);
      await store.appendInteractions([interaction('a'), interaction('b', { subjectKind: 'session', subjectId: 's' })]);
      assert.deepEqual(await store.counts(), { users: 1, sessions: 1, items: 1, tags: 1, interactions: 2 });
    });
  });
}
