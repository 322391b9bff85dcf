import neo4j from 'neo4j-driver';

import { EdgeTypeCode, type NodeKind, type SubjectKind } from '../../../graph/model.ts';
import type { CatalogueItem } from '../../catalogue/catalogue-item.ts';
import type { Interaction } from '../../events/interaction-event.ts';
import type { AppendResult, CommunityRun, EmbeddingRow, GraphStore, GraphWriteBack, ModelRecord, SnapshotSink, StoreCounts } from '../graph-store.ts';
import { CypherStatements, type StatementName } from './cypher-statements.ts';
import { integer, type Neo4jDriver, type Neo4jTransaction, nullableNumber, numberOf, TransactionRunner } from './neo4j-session.ts';

/**
 * The production store: the interest graph in Neo4j 5, every statement from `cypher/`.
 *
 * Model: (:User|:Session)-[:INTERACTED {eventId, type, value, ts, receivedAt, context, seq}]->(:Item),
 * (:Item)-[:HAS_TAG {position}]->(:Tag); a catalogued item has a `title`. `seq` numbers interactions in
 * the order they were accepted (reserved on one engine-state node, whose lock also serialises writers),
 * so start-up pages the projection by it. Write-back adds embeddings (vector properties), communities
 * and the model version for analysts.
 */
export interface Neo4jStoreOptions {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly pageSize: number;
  readonly writeBatchSize: number;
  readonly maxRetries: number;
  /** Width of the embeddings, for the vector indexes. */
  readonly embeddingDimensions: number;
  readonly clock?: () => number;
  /** Replaces the real driver (unit tests) and the wait between retries. */
  readonly driver?: Neo4jDriver;
  readonly sleep?: (ms: number) => Promise<void>;
}

const ALREADY_EXISTS = new Set([
  'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists',
  'Neo.ClientError.Schema.IndexAlreadyExists',
  'Neo.ClientError.Schema.ConstraintAlreadyExists',
]);
const IS_CONSTRAINT_CONFLICT = (error: unknown) => (error as { code?: string })?.code === 'Neo.ClientError.Schema.ConstraintValidationFailed';

export class Neo4jGraphStore implements GraphStore, GraphWriteBack {
  readonly name = 'neo4j';
  readonly writeBack: GraphWriteBack = this;
  private readonly tx: TransactionRunner;
  private readonly clock: () => number;

  private constructor(
    private readonly driver: Neo4jDriver,
    private readonly options: Neo4jStoreOptions,
    private readonly cypher: CypherStatements,
  ) {
    this.tx = new TransactionRunner(driver, { database: options.database, maxRetries: options.maxRetries, sleep: options.sleep });
    this.clock = options.clock ?? Date.now;
  }

  /** Connects, and creates the constraints and indexes the statements rely on (idempotent). */
  static async open(options: Neo4jStoreOptions): Promise<Neo4jGraphStore> {
    const driver =
      options.driver ??
      neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password), {
        // Integers come back as JS numbers: ids and times fit in 2^53.
        disableLosslessIntegers: true,
        maxTransactionRetryTime: 30_000,
      });
    const store = new Neo4jGraphStore(driver, options, new CypherStatements());
    try {
      await store.createSchema();
    } catch (error) {
      await driver.close().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /**
   * Constraints and indexes (IF NOT EXISTS: idempotent); embedding indexes of another width are rebuilt.
   * One statement per transaction: Neo4j does not mix schema changes with other work in one.
   */
  private async createSchema(): Promise<void> {
    const schema = (statement: string, parameters: Record<string, unknown> = {}) =>
      this.tx
        .write('create the schema', (tx) => run(tx, statement, parameters))
        .catch((error: unknown) => {
          // Another engine starting at the same moment created it first: that is the state we want.
          if (!ALREADY_EXISTS.has((error as { cause?: { code?: string } }).cause?.code ?? '')) throw error;
        });
    for (const statement of this.cypher.all('schema/constraints')) await schema(statement);
    const existing = await this.tx.read('read the vector indexes', (tx) => this.records(tx, 'schema/vector-index-dimensions'));
    if (existing.some((r) => numberOf(r.get('dimensions')) !== this.options.embeddingDimensions)) {
      for (const statement of this.cypher.all('schema/drop-vector-indexes')) await schema(statement);
    }
    for (const statement of this.cypher.all('schema/vector-indexes')) await schema(statement, { dimensions: integer(this.options.embeddingDimensions) });
  }

  async appendInteractions(batch: readonly Interaction[]): Promise<AppendResult> {
    if (batch.length === 0) return { accepted: [], acceptedCount: 0, duplicateCount: 0 };
    const receivedAt = this.clock();
    return this.tx.write(
      'write interactions',
      async (tx) => {
        const [reserved] = await this.records(tx, 'events/reserve-sequence', { count: integer(batch.length) });
        const first = numberOf(reserved!.get('first'));
        const stored = new Set<string>();
        for (const ids of chunks(
          batch.map((e) => e.eventId),
          this.options.writeBatchSize,
        )) {
          for (const record of await this.records(tx, 'events/existing-event-ids', { eventIds: ids })) stored.add(record.get('eventId') as string);
        }
        const accepted = batch.map((e) => {
          if (stored.has(e.eventId)) return false;
          stored.add(e.eventId);
          return true;
        });
        const rows: Record<SubjectKind, Record<string, unknown>[]> = { user: [], session: [] };
        batch.forEach((e, i) => {
          if (!accepted[i]) return;
          rows[e.subjectKind].push({
            eventId: e.eventId,
            subjectId: e.subjectId,
            itemId: e.itemId,
            type: e.type,
            value: e.value,
            ts: integer(e.ts),
            receivedAt: integer(receivedAt),
            context: e.context === null ? null : JSON.stringify(e.context),
            seq: integer(first + i),
          });
        });
        for (const part of chunks(rows.user, this.options.writeBatchSize)) await this.records(tx, 'events/append-user-interactions', { rows: part });
        for (const part of chunks(rows.session, this.options.writeBatchSize)) await this.records(tx, 'events/append-session-interactions', { rows: part });
        const acceptedCount = rows.user.length + rows.session.length;
        return { accepted, acceptedCount, duplicateCount: batch.length - acceptedCount };
      },
      // Another writer slipped the same event id in: on replay it is found and counted as a duplicate.
      IS_CONSTRAINT_CONFLICT,
    );
  }

  async upsertItems(items: readonly CatalogueItem[]): Promise<void> {
    if (items.length === 0) return;
    const updatedAt = integer(this.clock());
    const rows = items.map((item) => ({
      id: item.id,
      title: item.title,
      text: item.text ?? null,
      attributes: item.attributes === undefined ? null : JSON.stringify(item.attributes),
      tags: [...new Set(item.tags)],
      updatedAt,
    }));
    await this.tx.write('write catalogue items', async (tx) => {
      for (const part of chunks(rows, this.options.writeBatchSize)) await this.records(tx, 'catalogue/upsert-items', { items: part });
    });
  }

  async deleteItem(itemId: string): Promise<boolean> {
    return this.tx.write('delete a catalogue item', async (tx) => {
      const [record] = await this.records(tx, 'catalogue/delete-item', { itemId });
      return numberOf(record?.get('deleted') ?? 0) > 0;
    });
  }

  async getItem(itemId: string): Promise<CatalogueItem | null> {
    const [record] = await this.tx.read('read a catalogue item', (tx) => this.records(tx, 'catalogue/get-item', { itemId }));
    return record ? itemOf(record) : null;
  }

  async listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]> {
    const records = await this.tx.read('list catalogue items', (tx) =>
      this.records(tx, 'catalogue/list-items', { after: page.after ?? '', limit: integer(page.limit) }),
    );
    return records.map(itemOf);
  }

  async interactionsOf(subjectKind: SubjectKind, subjectId: string): Promise<Interaction[]> {
    const records = await this.tx.read('read a subject’s interactions', (tx) =>
      this.records(tx, subjectKind === 'user' ? 'subjects/user-interactions' : 'subjects/session-interactions', { subjectId }),
    );
    return records.map((r) => {
      const context = r.get('context') as string | null;
      return {
        eventId: r.get('eventId') as string,
        subjectKind,
        subjectId,
        itemId: r.get('itemId') as string,
        type: r.get('type') as Interaction['type'],
        value: nullableNumber(r.get('value')),
        ts: numberOf(r.get('ts')),
        context: context === null || context === undefined ? null : (JSON.parse(context) as Record<string, unknown>),
      };
    });
  }

  /** Neo4j manages its own files: how long erased rows stay in its transaction logs is its setting (README). */
  async eraseSubject(subjectKind: SubjectKind, subjectId: string): Promise<{ found: boolean; interactions: number }> {
    return this.tx.write('erase a user', async (tx) => {
      const [record] = await this.records(tx, subjectKind === 'user' ? 'subjects/erase-user' : 'subjects/erase-session', { subjectId });
      return record ? { found: true, interactions: numberOf(record.get('interactions')) } : { found: false, interactions: 0 };
    });
  }

  async counts(): Promise<StoreCounts> {
    const c = await this.storedCounts();
    return { users: c.users, sessions: c.sessions, items: c.items, tags: c.tags, interactions: c.interactions };
  }

  /**
   * Streams the graph in pages (nodes by kind and id, catalogue tags by item, interactions by sequence), so
   * memory on both sides stays bounded. Pages are separate read transactions: the engine loads before it
   * accepts writes, so nothing changes in between; a node first seen in a later page is still announced
   * before the row that refers to it.
   */
  async readSnapshot(sink: SnapshotSink): Promise<void> {
    const counts = await this.storedCounts();
    sink.begin({ nodes: counts.users + counts.sessions + counts.items + counts.tags, interactions: counts.interactions, itemTags: counts.itemTags });
    const keys: Record<NodeKind, Map<string, number>> = { user: new Map(), session: new Map(), item: new Map(), tag: new Map() };
    let nextKey = 0;
    const keyOf = (kind: NodeKind, id: string): number => {
      let key = keys[kind].get(id);
      if (key === undefined) {
        key = nextKey++;
        keys[kind].set(id, key);
        sink.node(key, kind, id);
      }
      return key;
    };
    const pages: Array<[NodeKind, StatementName]> = [
      ['user', 'load/user-ids'],
      ['session', 'load/session-ids'],
      ['item', 'load/item-ids'],
      ['tag', 'load/tag-ids'],
    ];
    for (const [kind, statement] of pages) {
      await this.pages(
        statement,
        (r) => r.get('id') as string,
        (record) => keyOf(kind, record.get('id') as string),
      );
    }
    await this.pages(
      'load/item-tags',
      (r) => r.get('itemId') as string,
      (record) => {
        const item = keyOf('item', record.get('itemId') as string);
        const ts = numberOf(record.get('updatedAt'));
        for (const [, tag] of sortedTags(record.get('tags'))) sink.itemTag(item, keyOf('tag', tag), ts);
      },
    );
    await this.pages(
      'load/interactions',
      (r) => numberOf(r.get('seq')),
      (record) => {
        const subject = keyOf(record.get('subjectKind') as SubjectKind, record.get('subjectId') as string);
        const item = keyOf('item', record.get('itemId') as string);
        const type = record.get('type') as Interaction['type'];
        sink.interaction(subject, item, EdgeTypeCode[type], nullableNumber(record.get('value')), numberOf(record.get('ts')));
      },
      -1,
    );
  }

  async writeModel(model: ModelRecord): Promise<void> {
    await this.tx.write('write the model version', (tx) =>
      this.records(tx, 'write-back/model', {
        version: model.version,
        trainedAt: model.trainedAt,
        backend: model.backend,
        dimensions: integer(model.dimensions),
        writtenAt: integer(this.clock()),
      }),
    );
  }

  async writeEmbeddings(kind: 'user' | 'item', rows: readonly EmbeddingRow[], modelVersion: string): Promise<void> {
    const statement = kind === 'user' ? 'write-back/user-embeddings' : 'write-back/item-embeddings';
    // One transaction per batch: a write-back is a refreshable copy, so progress beats atomicity here.
    for (const part of chunks(rows, this.options.writeBatchSize)) {
      const params = { rows: part.map((r) => ({ id: r.id, embedding: Array.from(r.embedding) })), version: modelVersion };
      await this.tx.write(`write ${kind} embeddings`, (tx) => this.records(tx, statement, params));
    }
  }

  async writeCommunities(run: CommunityRun): Promise<void> {
    const computedAt = integer(run.computedAt);
    await this.tx.write('write communities', async (tx) => {
      const communities = run.communities.map((c) => ({ id: integer(c.id), size: integer(c.size), topTags: [...c.topTags], topItems: [...c.topItems] }));
      await this.records(tx, 'write-back/prune-communities', { ids: communities.map((c) => c.id) });
      for (const part of chunks(communities, this.options.writeBatchSize)) {
        await this.records(tx, 'write-back/communities', { communities: part, modularity: run.modularity, computedAt });
      }
    });
    for (const part of chunks(run.items, this.options.writeBatchSize)) {
      const rows = part.map((r) => ({ id: r.id, community: integer(r.community) }));
      await this.tx.write('write item communities', (tx) => this.records(tx, 'write-back/item-communities', { rows }));
    }
    for (const part of chunks(run.users, this.options.writeBatchSize)) {
      const rows = part.map((r) => ({
        id: r.id,
        community: integer(r.community),
        mix: r.mix.map((m) => ({ community: integer(m.community), share: m.share })),
      }));
      await this.tx.write('write user communities', (tx) => this.records(tx, 'write-back/user-communities', { rows, computedAt }));
    }
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private async storedCounts(): Promise<StoreCounts & { itemTags: number }> {
    const [record] = await this.tx.read('count the graph', (tx) => this.records(tx, 'load/counts'));
    const n = (key: string) => numberOf(record!.get(key));
    return { users: n('users'), sessions: n('sessions'), items: n('items'), tags: n('tags'), interactions: n('interactions'), itemTags: n('itemTags') };
  }

  /** Keyset paging: each page starts after the last key of the previous one. */
  private async pages<K extends string | number>(
    statement: StatementName,
    keyOf: (record: { get(key: string): unknown }) => K,
    visit: (record: { get(key: string): unknown }) => void,
    start: K = '' as K,
  ): Promise<void> {
    let after = start;
    for (;;) {
      const records = await this.tx.read('load the graph', (tx) =>
        this.records(tx, statement, { after: typeof after === 'number' ? integer(after) : after, limit: integer(this.options.pageSize) }),
      );
      for (const record of records) visit(record);
      if (records.length < this.options.pageSize) return;
      after = keyOf(records[records.length - 1]!);
    }
  }

  private records(tx: Neo4jTransaction, name: StatementName, parameters: Record<string, unknown> = {}) {
    return run(tx, this.cypher.one(name), parameters);
  }
}

async function run(tx: Neo4jTransaction, statement: string, parameters: Record<string, unknown> = {}) {
  return (await tx.run(statement, parameters)).records;
}

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** [position, tag] pairs from a pattern comprehension, in catalogue order. */
function sortedTags(pairs: unknown): Array<[number, string]> {
  return (pairs as Array<[unknown, string]>).map(([position, tag]) => [numberOf(position), tag] as [number, string]).sort((a, b) => a[0] - b[0]);
}

function itemOf(record: { get(key: string): unknown }): CatalogueItem {
  const text = record.get('text') as string | null;
  const attributes = record.get('attributes') as string | null;
  return {
    id: record.get('id') as string,
    title: record.get('title') as string,
    tags: sortedTags(record.get('tags')).map(([, tag]) => tag),
    ...(text !== null && text !== undefined ? { text } : {}),
    ...(attributes !== null && attributes !== undefined ? { attributes: JSON.parse(attributes) as Record<string, unknown> } : {}),
  };
}
