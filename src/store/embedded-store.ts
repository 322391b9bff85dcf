import { existsSync, mkdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';

import { dataDirectoryPath } from '../../base/data-directory.ts';
import { StorageFullError, StoreError } from '../../base/errors.ts';
import { EdgeTypeCode, interactionTypeOf, NODE_KINDS, NodeKindCode, nodeKindOf, type SubjectKind } from '../../graph/model.ts';
import type { CatalogueItem } from '../catalogue/catalogue-item.ts';
import type { Interaction } from '../events/interaction-event.ts';
import { ErasureReserve } from './erasure-reserve.ts';
import type { AppendResult, GraphStore, SnapshotSink, StoreCounts } from './graph-store.ts';

/**
 * The default store: SQLite (better-sqlite3) in one data directory, no server.
 *
 * Durability: write-ahead log with `synchronous=FULL`, so a commit is on disk (fsync'd) before any call
 * resolves; `normal` survives process kills but not power loss. The database is opened with an exclusive
 * lock: one engine process owns a data directory, and a second one gets a clear error instead of a
 * silently diverging copy of the graph.
 *
 * Nodes get integer keys so the interactions table (and snapshots) carry numbers, not repeated strings.
 *
 * Erasure leaves no bytes behind: deleted content is zeroed (`secure_delete`), the write-ahead log is
 * truncated and the database rewritten before the erasure returns (scrub() says why each is needed). A full
 * disk fails a write with StorageFullError and keeps nothing of it; an erasure then frees the ErasureReserve
 * and tries again.
 */

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS nodes (
  key  INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  ext  TEXT    NOT NULL,
  UNIQUE (kind, ext)
);
CREATE TABLE IF NOT EXISTS items (
  node       INTEGER PRIMARY KEY REFERENCES nodes(key),
  title      TEXT    NOT NULL,
  text       TEXT,
  attributes TEXT,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS item_tags (
  item     INTEGER NOT NULL,
  tag      INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (item, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS interactions (
  seq         INTEGER PRIMARY KEY,
  event_id    TEXT    NOT NULL UNIQUE,
  subject     INTEGER NOT NULL,
  item        INTEGER NOT NULL,
  type        INTEGER NOT NULL,
  value       REAL,
  ts          INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  context     TEXT
);
`;
// No index on interactions.subject, on purpose: subjects arrive in random order, and a random-key index
// dirties about one page per event, which cut durable ingest by 4x at 1M events. Export and erasure of one
// user scan the table instead (rare operations; about a second per 10M interactions).

export interface EmbeddedStoreOptions {
  readonly dataDir: string;
  readonly durability: 'full' | 'normal';
  /** Time source for `received_at` and catalogue `updated_at`. */
  readonly clock?: () => number;
  /** Disk space held back for erasures on a full disk (see ErasureReserve); 0 or unset: none. */
  readonly erasureReserveBytes?: number;
  /** Caps the database at this many pages (SQLite's `max_page_count`): writes beyond fail as on a full disk. */
  readonly maxPageCount?: number;
}

type Row = unknown[];

export class EmbeddedGraphStore implements GraphStore {
  readonly name = 'embedded';
  private readonly db: Database.Database;
  private readonly clock: () => number;
  /** Per node kind: external id → node key. Every node is cached so ingest never reads to resolve ids. */
  private readonly nodeKeys: Map<string, number>[] = NODE_KINDS.map(() => new Map<string, number>());
  private readonly statements;
  private readonly reserve: ErasureReserve;
  /** An erasure committed but its bytes are still in the log (the checkpoint failed): cleared at the next chance. */
  private scrubPending = false;
  /** An erasure's database rewrite waits for disk space (see scrub()). */
  private compactionPending: boolean;
  private readonly dataDir: string;
  private readonly file: string;

  static open(options: EmbeddedStoreOptions): EmbeddedGraphStore {
    return new EmbeddedGraphStore(options);
  }

  private constructor(options: EmbeddedStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.dataDir = options.dataDir;
    const file = dataDirectoryPath(options.dataDir, 'store');
    this.file = file;
    this.compactionPending = existsSync(dataDirectoryPath(options.dataDir, 'compactionMarker'));
    try {
      mkdirSync(options.dataDir, { recursive: true });
      // A short wait covers a previous owner that is still shutting down.
      this.db = new Database(file, { timeout: 2000 });
    } catch (error) {
      throw new StoreError(`cannot open the data directory ${options.dataDir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      // Exclusive locking before WAL: the lock is taken by the first write below and held until close.
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('cache_size = -262144');
      this.db.pragma('temp_store = MEMORY');
      // Deleted content is overwritten with zeros, in table and index pages and in freed pages: erasure.
      this.db.pragma('secure_delete = ON');
      if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
      // Fewer, larger checkpoints: measured 25% faster ingest than the default 1000 pages.
      this.db.pragma('wal_autocheckpoint = 10000');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new StoreError(`${file} was written by a newer version (schema ${version}, this build reads ${SCHEMA_VERSION})`);
      }
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.close();
      if (error instanceof StoreError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY') {
        throw new StoreError(`the data directory ${options.dataDir} is in use by another engine process`, {
          cause: error,
          retriable: true,
        });
      }
      throw new StoreError(`cannot open ${file}: ${(error as Error).message}`, { cause: error });
    }
    this.statements = this.prepare();
    for (const [key, kind, ext] of this.statements.allNodes.raw().iterate() as IterableIterator<[number, number, string]>) {
      this.nodeKeys[kind]!.set(ext, key);
    }
    try {
      this.reserve = new ErasureReserve(options.dataDir, options.erasureReserveBytes ?? 0);
    } catch (error) {
      this.db.close();
      throw new StoreError(`cannot keep the erasure reserve in ${options.dataDir}: ${(error as Error).message}`, { cause: error });
    }
    // A crash between an erasure's commit and its scrub left the erased rows in the log: clear it.
    try {
      this.checkpoint();
    } catch {
      this.scrubPending = true;
    }
    this.compactWhenRoom();
  }

  private prepare() {
    const db = this.db;
    return {
      allNodes: db.prepare('SELECT key, kind, ext FROM nodes'),
      insertNode: db.prepare('INSERT INTO nodes (kind, ext) VALUES (?, ?)'),
      deleteNode: db.prepare('DELETE FROM nodes WHERE key = ?'),
      insertInteraction: db.prepare(
        `INSERT OR IGNORE INTO interactions (event_id, subject, item, type, value, ts, received_at, context)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertItem: db.prepare(
        `INSERT INTO items (node, title, text, attributes, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (node) DO UPDATE SET title = excluded.title, text = excluded.text,
           attributes = excluded.attributes, updated_at = excluded.updated_at`,
      ),
      deleteItem: db.prepare('DELETE FROM items WHERE node = ?'),
      deleteItemTags: db.prepare('DELETE FROM item_tags WHERE item = ?'),
      insertItemTag: db.prepare('INSERT OR IGNORE INTO item_tags (item, tag, position) VALUES (?, ?, ?)'),
      getItem: db.prepare('SELECT title, text, attributes FROM items WHERE node = ?'),
      itemTags: db.prepare('SELECT t.ext FROM item_tags it JOIN nodes t ON t.key = it.tag WHERE it.item = ? ORDER BY it.position'),
      listItems: db.prepare(
        `SELECT n.key, n.ext, i.title, i.text, i.attributes FROM items i JOIN nodes n ON n.key = i.node
         WHERE n.kind = ${NodeKindCode.item} AND n.ext > ? ORDER BY n.ext LIMIT ?`,
      ),
      subjectInteractions: db.prepare(
        `SELECT i.event_id, n.ext, i.type, i.value, i.ts, i.context FROM interactions i
         JOIN nodes n ON n.key = i.item WHERE i.subject = ? ORDER BY i.ts, i.seq`,
      ),
      deleteSubjectInteractions: db.prepare('DELETE FROM interactions WHERE subject = ?'),
      countNodes: db.prepare('SELECT kind, count(*) FROM nodes GROUP BY kind'),
      countItems: db.prepare('SELECT count(*) FROM items'),
      countInteractions: db.prepare('SELECT count(*) FROM interactions'),
      countItemTags: db.prepare('SELECT count(*) FROM item_tags'),
      snapshotItemTags: db.prepare('SELECT it.item, it.tag, i.updated_at FROM item_tags it JOIN items i ON i.node = it.item ORDER BY it.item, it.position'),
      snapshotInteractions: db.prepare('SELECT subject, item, type, value, ts FROM interactions ORDER BY seq'),
    };
  }

  async appendInteractions(batch: readonly Interaction[]): Promise<AppendResult> {
    const receivedAt = this.clock();
    const accepted = new Array<boolean>(batch.length);
    let acceptedCount = 0;
    this.writeTransaction('write interactions', () => {
      const insert = this.statements.insertInteraction;
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        const subject = this.nodeKey(NodeKindCode[e.subjectKind], e.subjectId);
        const item = this.nodeKey(NodeKindCode.item, e.itemId);
        const info = insert.run(
          e.eventId,
          subject,
          item,
          EdgeTypeCode[e.type],
          e.value,
          e.ts,
          receivedAt,
          e.context === null ? null : JSON.stringify(e.context),
        );
        accepted[i] = info.changes === 1;
        if (accepted[i]) acceptedCount++;
      }
    });
    this.afterWrite();
    return { accepted, acceptedCount, duplicateCount: batch.length - acceptedCount };
  }

  async upsertItems(items: readonly CatalogueItem[]): Promise<void> {
    const now = this.clock();
    this.writeTransaction('write catalogue items', () => {
      const s = this.statements;
      for (const item of items) {
        const node = this.nodeKey(NodeKindCode.item, item.id);
        s.upsertItem.run(node, item.title, item.text ?? null, item.attributes === undefined ? null : JSON.stringify(item.attributes), now);
        s.deleteItemTags.run(node);
        item.tags.forEach((tag, position) => s.insertItemTag.run(node, this.nodeKey(NodeKindCode.tag, tag), position));
      }
    });
    this.afterWrite();
  }

  async deleteItem(itemId: string): Promise<boolean> {
    const node = this.nodeKeys[NodeKindCode.item]!.get(itemId);
    if (node === undefined) return false;
    let found = false;
    this.writeTransaction('delete a catalogue item', () => {
      found = this.statements.deleteItem.run(node).changes === 1;
      this.statements.deleteItemTags.run(node);
    });
    this.afterWrite();
    return found;
  }

  async getItem(itemId: string): Promise<CatalogueItem | null> {
    const node = this.nodeKeys[NodeKindCode.item]!.get(itemId);
    if (node === undefined) return null;
    const row = this.statements.getItem.raw().get(node) as [string, string | null, string | null] | undefined;
    if (row === undefined) return null;
    return this.itemFromRow(node, itemId, row[0], row[1], row[2]);
  }

  async listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]> {
    const rows = this.statements.listItems.raw().all(page.after ?? '', page.limit) as Array<[number, string, string, string | null, string | null]>;
    return rows.map(([node, id, title, text, attributes]) => this.itemFromRow(node, id, title, text, attributes));
  }

  private itemFromRow(node: number, id: string, title: string, text: string | null, attributes: string | null): CatalogueItem {
    const tags = (this.statements.itemTags.raw().all(node) as Array<[string]>).map((r) => r[0]);
    return {
      id,
      title,
      tags,
      ...(text !== null ? { text } : {}),
      ...(attributes !== null ? { attributes: JSON.parse(attributes) as Record<string, unknown> } : {}),
    };
  }

  async interactionsOf(subjectKind: SubjectKind, subjectId: string): Promise<Interaction[]> {
    const subject = this.nodeKeys[NodeKindCode[subjectKind]]!.get(subjectId);
    if (subject === undefined) return [];
    const rows = this.statements.subjectInteractions.raw().all(subject) as Array<[string, string, number, number | null, number, string | null]>;
    return rows.map(([eventId, itemId, type, value, ts, context]) => ({
      eventId,
      subjectKind,
      subjectId,
      itemId,
      type: interactionTypeOf(type),
      value,
      ts,
      context: context === null ? null : (JSON.parse(context) as Record<string, unknown>),
    }));
  }

  /**
   * Deletes the subject's rows, then scrubs (see scrub()), so no file holds them when this resolves. On a
   * full disk, the reserve is released and the erasure retried. Should clearing the log still fail, the
   * erasure stays committed and a StorageFullError asks for the call to be repeated: the repeat (subject
   * no longer found) finishes the scrub.
   */
  async eraseSubject(subjectKind: SubjectKind, subjectId: string): Promise<{ found: boolean; interactions: number }> {
    const keys = this.nodeKeys[NodeKindCode[subjectKind]]!;
    const subject = keys.get(subjectId);
    if (subject === undefined) {
      if (this.scrubPending) this.scrub();
      return { found: false, interactions: 0 };
    }
    let interactions = 0;
    this.withReserve(() =>
      this.writeTransaction('erase a user', () => {
        interactions = this.statements.deleteSubjectInteractions.run(subject).changes;
        this.statements.deleteNode.run(subject);
      }),
    );
    keys.delete(subjectId);
    this.scrub();
    this.reserve.replenish();
    return { found: true, interactions };
  }

  async counts(): Promise<StoreCounts> {
    const byKind = new Map((this.statements.countNodes.raw().all() as Array<[number, number]>).map(([k, n]) => [k, n]));
    return {
      users: byKind.get(NodeKindCode.user) ?? 0,
      sessions: byKind.get(NodeKindCode.session) ?? 0,
      items: byKind.get(NodeKindCode.item) ?? 0,
      tags: byKind.get(NodeKindCode.tag) ?? 0,
      interactions: this.statements.countInteractions.pluck().get() as number,
    };
  }

  async readSnapshot(sink: SnapshotSink): Promise<void> {
    const s = this.statements;
    sink.begin({
      nodes: this.nodeKeys.reduce((sum, keys) => sum + keys.size, 0),
      interactions: s.countInteractions.pluck().get() as number,
      itemTags: s.countItemTags.pluck().get() as number,
    });
    for (const [key, kind, ext] of s.allNodes.raw().iterate() as IterableIterator<[number, number, string]>) {
      sink.node(key, nodeKindOf(kind), ext);
    }
    for (const [item, tag, ts] of s.snapshotItemTags.raw().iterate() as IterableIterator<[number, number, number]>) {
      sink.itemTag(item, tag, ts);
    }
    for (const row of s.snapshotInteractions.raw().iterate() as IterableIterator<Row>) {
      sink.interaction(row[0] as number, row[1] as number, row[2] as number, row[3] as number | null, row[4] as number);
    }
  }

  async close(): Promise<void> {
    // Closing checkpoints and deletes the log too, but silently: a pending scrub gets its own try first.
    if (this.db.open && this.scrubPending) {
      try {
        this.scrub();
      } catch {
        // The next open tries again.
      }
    }
    if (this.db.open) this.db.close();
  }

  /** Copies the log into the database and truncates it to zero bytes (frames of deleted rows included). */
  private checkpoint(): void {
    let result: Array<{ busy: number }>;
    try {
      result = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    } catch (error) {
      throw storeErrorOf('clear the write-ahead log', error);
    }
    if (result[0]?.busy !== 0) throw new StoreError('could not clear the write-ahead log: the database is busy', { retriable: true });
  }

  /**
   * Leaves no byte of erased rows in any file. secure_delete zeroes the deleted cells, but the log's older
   * frames still hold the rows as written, B-tree rebalancing leaves stale copies of rows in unused page
   * space, and index interior pages keep deleted keys as dividers. So: clear the log, rewrite the database
   * (VACUUM: only live rows are copied), clear the log again. The rewrite needs free space of about the
   * database's size; without it, the rows are gone from every answer and the log, and the rewrite waits
   * (recorded in a marker file across restarts) until the disk has room.
   */
  private scrub(): void {
    this.scrubPending = true;
    this.clearLog();
    this.compact();
    this.clearLog();
    this.scrubPending = false;
  }

  /** Checkpoints and truncates the log, with the reserve's space if the disk is full. */
  private clearLog(): void {
    try {
      this.withReserve(() => this.checkpoint());
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
      throw new StorageFullError('the erasure is committed, but the disk is too full to clear it from the write-ahead log: free space and repeat the erasure', {
        cause: error,
      });
    }
  }

  /** Rewrites the database file without free space or stale copies; on a full disk, leaves it pending. */
  private compact(): void {
    try {
      this.db.exec('VACUUM');
    } catch (error) {
      const failure = storeErrorOf('rewrite the database', error);
      if (!(failure instanceof StorageFullError)) throw failure;
      this.setCompactionPending(true);
      return;
    }
    this.setCompactionPending(false);
  }

  /** A rewrite left pending by a full disk, done once there is room for it (the reserve aside). */
  private compactWhenRoom(): void {
    if (!this.compactionPending) return;
    try {
      const disk = statfsSync(this.dataDir);
      if (disk.bavail * disk.bsize < statSync(this.file).size + this.reserve.bytes) return;
      this.compact();
      this.checkpoint();
    } catch {
      // Tried again after the next write.
    }
  }

  private setCompactionPending(pending: boolean): void {
    this.compactionPending = pending;
    const marker = dataDirectoryPath(this.dataDir, 'compactionMarker');
    try {
      if (pending) writeFileSync(marker, '');
      else rmSync(marker, { force: true });
    } catch {
      // An empty file needs no data blocks; if even that fails, the rewrite still runs at the next erasure.
    }
  }

  /**
   * Runs an erasure's write; on a full disk, frees the reserve, checkpoints the log (its space is reused
   * from the start once it is copied back) and runs it once more.
   */
  private withReserve(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!(error instanceof StorageFullError) || !this.reserve.release()) throw error;
      try {
        this.checkpoint();
      } catch {
        // Not enough even so for the whole log; the erasure's own writes may still fit.
      }
      work();
    }
  }

  /** Space came back? Hold the reserve again and finish a rewrite that waited for it. */
  private afterWrite(): void {
    this.reserve.replenish();
    this.compactWhenRoom();
  }

  /** The node's key, inserting the node if it is new. Only inside a write transaction. */
  private nodeKey(kindCode: number, externalId: string): number {
    const keys = this.nodeKeys[kindCode]!;
    let key = keys.get(externalId);
    if (key === undefined) {
      key = Number(this.statements.insertNode.run(kindCode, externalId).lastInsertRowid);
      keys.set(externalId, key);
      this.pendingNodes.push([kindCode, externalId]);
    }
    return key;
  }

  private pendingNodes: Array<[number, string]> = [];

  /** Runs `work` in one transaction; on failure, forgets nodes cached by the rolled-back work. */
  private writeTransaction(what: string, work: () => void): void {
    this.pendingNodes = [];
    try {
      this.db.transaction(work)();
    } catch (error) {
      for (const [kindCode, externalId] of this.pendingNodes) this.nodeKeys[kindCode]!.delete(externalId);
      throw storeErrorOf(what, error);
    } finally {
      this.pendingNodes = [];
    }
  }
}

/** SQLite reports a full disk (ENOSPC) and a reached `max_page_count` alike, as SQLITE_FULL. */
function storeErrorOf(what: string, error: unknown): StoreError | StorageFullError {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL') {
    return new StorageFullError(`could not ${what}: the disk holding the data is full; nothing of it was written`, { cause: error });
  }
  return new StoreError(`could not ${what}: ${(error as Error).message}`, {
    cause: error,
    retriable: code === 'SQLITE_BUSY' || code.startsWith('SQLITE_IOERR'),
  });
}
