import assert from 'node:assert/strict';

import { isInt, Neo4jError } from 'neo4j-driver';

import { StoreError } from '../../base/errors.ts';
import { splitStatements } from '../../src/store/neo4j/cypher-statements.ts';
import { Neo4jGraphStore, type Neo4jStoreOptions } from '../../src/store/neo4j/neo4j-store.ts';
import { interaction, RecordingSink } from '../contract/graph-store.contract.ts';
import { FakeNeo4jDriver, type Script } from '../support/fake-neo4j.ts';

const DEADLOCK = () => new Neo4jError('deadlock', 'Neo.TransientError.Transaction.DeadlockDetected', 'N/A', 'N/A');
const SYNTAX = () => new Neo4jError('bad query', 'Neo.ClientError.Statement.SyntaxError', 'N/A', 'N/A');

/** Answers reserve-sequence and the duplicate check the way a database holding `stored` would. */
function ingestScript(stored: readonly string[] = [], first = 0): Script {
  return (statement, parameters) => {
    if (statement === 'events/reserve-sequence') return [{ first }];
    if (statement === 'events/existing-event-ids') return (parameters.eventIds as string[]).filter((id) => stored.includes(id)).map((eventId) => ({ eventId }));
    return [];
  };
}

async function openWith(driver: FakeNeo4jDriver, overrides: Partial<Neo4jStoreOptions> = {}) {
  const sleeps: number[] = [];
  const store = await Neo4jGraphStore.open({
    uri: 'bolt://nowhere:7687',
    user: 'neo4j',
    password: 'secret',
    database: 'interests',
    pageSize: 3,
    writeBatchSize: 2,
    maxRetries: 2,
    embeddingDimensions: 16,
    clock: () => 1_700_000_000_500,
    driver,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  driver.runs.length = 0;
  driver.transactions.length = 0;
  return { store, sleeps };
}

describe('Neo4j adapter without a server (driver session replaced)', () => {
  it('creates the schema at open: every constraint and index, vector dimensions as an integer', async () => {
    const driver = new FakeNeo4jDriver();
    await Neo4jGraphStore.open({
      uri: 'bolt://x',
      user: 'u',
      password: 'p',
      database: '',
      pageSize: 10,
      writeBatchSize: 10,
      maxRetries: 0,
      embeddingDimensions: 64,
      driver,
    });
    const constraints = driver.runsOf('schema/constraints');
    assert.ok(constraints.length >= 8, 'each schema statement runs on its own');
    const vector = driver.runsOf('schema/vector-indexes');
    assert.equal(vector.length, 2);
    for (const run of vector) {
      assert.ok(isInt(run.parameters.dimensions));
      assert.equal(Number(run.parameters.dimensions), 64);
    }
    assert.equal(driver.runsOf('schema/drop-vector-indexes').length, 0, 'no index to rebuild');
    assert.ok(
      driver.transactions.every((t) => t.outcome === 'committed' && t.database === undefined),
      'no database: the server default',
    );
    assert.equal(new Set(driver.runs.map((r) => r.transaction)).size, driver.runs.length, 'one statement per transaction');
  });

  it('rebuilds the embedding indexes for a model of another width, and takes a schema another engine just made', async () => {
    const driver = new FakeNeo4jDriver((statement) => {
      if (statement === 'schema/vector-index-dimensions') return [{ name: 'item_embedding', dimensions: 32 }];
      if (statement === 'schema/constraints') throw new Neo4jError('exists', 'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists', 'N/A', 'N/A');
      return [];
    });
    await Neo4jGraphStore.open({
      uri: 'bolt://x',
      user: 'u',
      password: 'p',
      database: '',
      pageSize: 10,
      writeBatchSize: 10,
      maxRetries: 0,
      embeddingDimensions: 64,
      driver,
    });
    assert.equal(driver.runsOf('schema/drop-vector-indexes').length, 2);
    const order = driver.runs.map((r) => r.statement).filter((s) => s.includes('vector'));
    assert.ok(order.lastIndexOf('schema/drop-vector-indexes') < order.indexOf('schema/vector-indexes'), 'dropped before being made anew');
  });

  it('writes a batch in one transaction of UNWIND statements of at most writeBatchSize rows', async () => {
    const driver = new FakeNeo4jDriver(ingestScript([], 100));
    const { store } = await openWith(driver);
    const batch = [
      interaction('e1'),
      interaction('e2', { subjectId: 'u2', type: 'rating', value: 4.5, context: { rec: 'r1' } }),
      interaction('e3', { subjectKind: 'session', subjectId: 's1', type: 'click' }),
      interaction('e4', { ts: 1_700_000_000_999 }),
      interaction('e5', { subjectId: 'u3' }),
    ];
    const result = await store.appendInteractions(batch);
    assert.deepEqual(result, { accepted: [true, true, true, true, true], acceptedCount: 5, duplicateCount: 0 });
    assert.equal(driver.transactions.length, 1);
    assert.deepEqual([driver.transactions[0]!.mode, driver.transactions[0]!.outcome, driver.transactions[0]!.database], ['WRITE', 'committed', 'interests']);
    assert.equal(Number(driver.runsOf('events/reserve-sequence')[0]!.parameters.count), 5);
    assert.deepEqual(
      driver.runsOf('events/existing-event-ids').map((r) => r.parameters.eventIds),
      [['e1', 'e2'], ['e3', 'e4'], ['e5']],
    );
    const users = driver.runsOf('events/append-user-interactions').map((r) => r.parameters.rows as Array<Record<string, unknown>>);
    assert.deepEqual(
      users.map((rows) => rows.length),
      [2, 2],
      'four user events in batches of two',
    );
    const sessions = driver.runsOf('events/append-session-interactions');
    assert.equal(sessions.length, 1);
    const rating = users[0]![1]!;
    assert.equal(rating.value, 4.5, 'a rating stays a float');
    assert.equal(rating.type, 'rating');
    assert.equal(rating.context, '{"rec":"r1"}', 'context is kept as JSON text');
    assert.ok(isInt(rating.ts) && isInt(rating.seq) && isInt(rating.receivedAt), 'times and sequence numbers are integers');
    assert.deepEqual(
      users.flat().map((r) => Number(r.seq)),
      [100, 101, 103, 104],
      'sequence numbers follow the batch order',
    );
    assert.equal(Number((sessions[0]!.parameters.rows as Array<Record<string, unknown>>)[0]!.seq), 102);
    assert.equal(Number(users[1]![0]!.ts), 1_700_000_000_999);
    assert.equal(users[0]![0]!.value, null);
  });

  it('reports stored and repeated event ids as duplicates and does not write them', async () => {
    const driver = new FakeNeo4jDriver(ingestScript(['old']));
    const { store } = await openWith(driver);
    const result = await store.appendInteractions([interaction('old'), interaction('new'), interaction('new', { itemId: 'x' })]);
    assert.deepEqual(result, { accepted: [false, true, false], acceptedCount: 1, duplicateCount: 2 });
    const written = driver.runsOf('events/append-user-interactions').flatMap((r) => r.parameters.rows as Array<{ eventId: string }>);
    assert.deepEqual(
      written.map((r) => r.eventId),
      ['new'],
    );
  });

  it('retries a transaction that failed with a transient error, with growing waits', async () => {
    const driver = new FakeNeo4jDriver(ingestScript());
    const { store, sleeps } = await openWith(driver, { maxRetries: 3 });
    driver.commitFailures.set(0, DEADLOCK());
    driver.commitFailures.set(1, DEADLOCK());
    const result = await store.appendInteractions([interaction('a')]);
    assert.equal(result.acceptedCount, 1);
    assert.deepEqual(
      driver.transactions.map((t) => t.outcome),
      ['open', 'open', 'committed'],
    );
    assert.equal(sleeps.length, 2);
    assert.ok(sleeps[0]! >= 50 && sleeps[0]! <= 100 && sleeps[1]! >= 100 && sleeps[1]! <= 200, `backoff ${sleeps.join(', ')}`);
  });

  it('gives up after maxRetries with a retriable StoreError, and at once on a client error', async () => {
    const driver = new FakeNeo4jDriver(ingestScript());
    const { store } = await openWith(driver, { maxRetries: 2 });
    for (let t = 0; t < 3; t++) driver.commitFailures.set(t, DEADLOCK());
    await assert.rejects(store.appendInteractions([interaction('a')]), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.retriable, true);
      assert.match(error.message, /after 3 attempts/);
      return true;
    });

    const failing = new FakeNeo4jDriver((statement) => {
      if (statement === 'catalogue/upsert-items') throw SYNTAX();
      return [];
    });
    const opened = await openWith(failing);
    await assert.rejects(opened.store.upsertItems([{ id: 'i', title: 'I', tags: [] }]), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.retriable, false);
      return true;
    });
    assert.deepEqual(
      failing.transactions.map((t) => t.outcome),
      ['rolled back'],
      'one attempt, rolled back',
    );
  });

  it('replays a write that met a concurrent writer’s event id (constraint conflict)', async () => {
    let attempts = 0;
    const driver = new FakeNeo4jDriver((statement, parameters) => {
      if (statement === 'events/reserve-sequence') return [{ first: 0 }];
      if (statement === 'events/existing-event-ids') return attempts > 0 ? (parameters.eventIds as string[]).map((eventId) => ({ eventId })) : [];
      if (statement === 'events/append-user-interactions' && attempts++ === 0) {
        throw new Neo4jError('exists', 'Neo.ClientError.Schema.ConstraintValidationFailed', 'N/A', 'N/A');
      }
      return [];
    });
    const { store } = await openWith(driver);
    assert.deepEqual(await store.appendInteractions([interaction('raced')]), { accepted: [false], acceptedCount: 0, duplicateCount: 1 });
  });

  it('maps catalogue records to parameters and back', async () => {
    const driver = new FakeNeo4jDriver((statement) => {
      if (statement === 'catalogue/get-item')
        return [
          {
            id: 'i1',
            title: 'One',
            text: null,
            attributes: '{"year":1999}',
            tags: [
              [1, 'b'],
              [0, 'a'],
            ],
          },
        ];
      if (statement === 'catalogue/delete-item') return [{ deleted: 0 }];
      return [];
    });
    const { store } = await openWith(driver);
    await store.upsertItems([
      { id: 'i1', title: 'One', tags: ['a', 'b', 'a'], attributes: { year: 1999 } },
      { id: 'i2', title: 'Two', tags: [], text: 'words' },
      { id: 'i3', title: 'Three', tags: ['c'] },
    ]);
    const batches = driver.runsOf('catalogue/upsert-items').map((r) => r.parameters.items as Array<Record<string, unknown>>);
    assert.deepEqual(
      batches.map((b) => b.length),
      [2, 1],
    );
    assert.equal(driver.transactions.length, 1, 'all items in one transaction');
    assert.deepEqual(batches[0]![0]!.tags, ['a', 'b']);
    assert.equal(batches[0]![0]!.attributes, '{"year":1999}');
    assert.equal(batches[0]![0]!.text, null);
    assert.equal(batches[0]![1]!.text, 'words');
    assert.ok(isInt(batches[0]![0]!.updatedAt));
    assert.deepEqual(await store.getItem('i1'), { id: 'i1', title: 'One', tags: ['a', 'b'], attributes: { year: 1999 } });
    assert.equal(driver.transactions.at(-1)!.mode, 'READ');
    assert.equal(await store.deleteItem('i1'), false);
    await store.listItems({ limit: 7 });
    const list = driver.runsOf('catalogue/list-items')[0]!.parameters;
    assert.deepEqual([list.after, isInt(list.limit), Number(list.limit)], ['', true, 7]);
  });

  it('loads the snapshot in keyset pages, announcing every node before it is used', async () => {
    const pages: Record<string, Array<Array<Record<string, unknown>>>> = {
      'load/user-ids': [[{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }], [{ id: 'u4' }]],
      'load/session-ids': [[]],
      'load/item-ids': [[{ id: 'i1' }, { id: 'i2' }]],
      'load/tag-ids': [[{ id: 't1' }]],
      'load/item-tags': [
        [
          {
            itemId: 'i1',
            updatedAt: 5,
            tags: [
              [1, 't2'],
              [0, 't1'],
            ],
          },
        ],
      ],
      'load/interactions': [
        [
          { seq: 0, subjectKind: 'user', subjectId: 'u1', itemId: 'i1', type: 'view', value: null, ts: 10 },
          { seq: 1, subjectKind: 'user', subjectId: 'u2', itemId: 'i2', type: 'rating', value: 4, ts: 11 },
          { seq: 4, subjectKind: 'session', subjectId: 's9', itemId: 'i3', type: 'click', value: null, ts: 12 },
        ],
        [],
      ],
    };
    const driver = new FakeNeo4jDriver((statement) => {
      if (statement === 'load/counts') return [{ users: 4, sessions: 1, items: 3, tags: 2, interactions: 3, itemTags: 2 }];
      return pages[statement]?.shift() ?? [];
    });
    const { store } = await openWith(driver);
    const sink = new RecordingSink();
    await store.readSnapshot(sink);
    assert.deepEqual(sink.expected, { nodes: 10, interactions: 3, itemTags: 2 });
    assert.deepEqual(
      driver.runsOf('load/user-ids').map((r) => r.parameters.after),
      ['', 'u3'],
      'the next page starts after the last id',
    );
    const interactionPages = driver.runsOf('load/interactions').map((r) => r.parameters.after);
    assert.ok(interactionPages.every(isInt));
    assert.deepEqual(interactionPages.map(Number), [-1, 4], 'interactions page by sequence number');
    assert.deepEqual(
      sink.itemTags,
      [
        { item: 'i1', tag: 't1' },
        { item: 'i1', tag: 't2' },
      ],
      'tags in catalogue order; t2 announced on first use',
    );
    assert.deepEqual(
      sink.interactions.map((i) => [i.subject, i.item, i.typeCode, i.value]),
      [
        ['user:u1', 'i1', 0, null],
        ['user:u2', 'i2', 4, 4],
        ['session:s9', 'i3', 1, null],
      ],
    );
    assert.ok(driver.transactions.every((t) => t.mode === 'READ'));
  });

  it('writes embeddings back as plain number lists, one transaction per batch', async () => {
    const driver = new FakeNeo4jDriver();
    const { store } = await openWith(driver);
    const rows = ['a', 'b', 'c'].map((id, i) => ({ id, embedding: new Float32Array([i, 0.5]) }));
    await store.writeEmbeddings('item', rows, 'v7');
    const runs = driver.runsOf('write-back/item-embeddings');
    assert.equal(runs.length, 2);
    assert.equal(new Set(runs.map((r) => r.transaction)).size, 2);
    assert.deepEqual(runs[0]!.parameters, {
      rows: [
        { id: 'a', embedding: [0, 0.5] },
        { id: 'b', embedding: [1, 0.5] },
      ],
      version: 'v7',
    });
    await store.writeModel({ version: 'v7', trainedAt: '2026-01-01T00:00:00Z', backend: 'wasm', dimensions: 2 });
    assert.ok(isInt(driver.runsOf('write-back/model')[0]!.parameters.dimensions));
  });

  it('writes a community run: prunes old communities, then members in batches', async () => {
    const driver = new FakeNeo4jDriver();
    const { store } = await openWith(driver);
    await store.writeCommunities({
      computedAt: 1000,
      modularity: 0.4,
      communities: [
        { id: 0, size: 2, topTags: ['t'], topItems: ['i1'] },
        { id: 1, size: 1, topTags: [], topItems: ['i3'] },
      ],
      items: [
        { id: 'i1', community: 0 },
        { id: 'i2', community: 0 },
        { id: 'i3', community: 1 },
      ],
      users: [
        {
          id: 'u1',
          community: 1,
          mix: [
            { community: 1, share: 0.75 },
            { community: 0, share: 0.25 },
          ],
        },
      ],
    });
    assert.deepEqual(
      driver.runsOf('write-back/prune-communities')[0]!.parameters.ids!.valueOf() &&
        (driver.runsOf('write-back/prune-communities')[0]!.parameters.ids as unknown[]).map(Number),
      [0, 1],
    );
    assert.equal(driver.runsOf('write-back/item-communities').length, 2);
    const user = (driver.runsOf('write-back/user-communities')[0]!.parameters.rows as Array<{ mix: Array<{ community: unknown; share: number }> }>)[0]!;
    assert.ok(isInt(user.mix[0]!.community));
    assert.equal(user.mix[0]!.share, 0.75);
  });

  it('splits schema files into statements at line-ending semicolons only', () => {
    assert.deepEqual(splitStatements("// header\nCREATE (a {s: 'x;y'});\n// between\nMATCH (n) RETURN n;\n"), [
      "// header\nCREATE (a {s: 'x;y'})",
      '// between\nMATCH (n) RETURN n',
    ]);
    assert.deepEqual(splitStatements('// only a comment\n'), []);
  });
});
