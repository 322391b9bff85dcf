import type { NodeKind, SubjectKind } from '../../graph/model.ts';
import type { CatalogueItem } from '../catalogue/catalogue-item.ts';
import type { Interaction } from '../events/interaction-event.ts';

/**
 * The store port: where interactions and the catalogue are kept durably. Adapters (embedded SQLite,
 * Neo4j) hide transactions, batching and retries, and all pass test/contract/graph-store.contract.ts.
 */
export interface GraphStore {
  /** Adapter name for logs and health output, e.g. `embedded` or `neo4j`. */
  readonly name: string;

  /**
   * Writes a batch of interactions durably: when the promise resolves, every accepted interaction
   * survives a crash. Idempotent by `eventId`: an id already stored (or repeated within the batch) is a
   * duplicate and changes nothing. `accepted[i]` tells whether `batch[i]` was new.
   */
  appendInteractions(batch: readonly Interaction[]): Promise<AppendResult>;

  /**
   * Inserts or replaces catalogue records, tags included; durable on resolve. `at` is when the writer
   * applies them to its graph (the tag edges' time), which a shared store passes on to its followers.
   */
  upsertItems(items: readonly CatalogueItem[], at?: number): Promise<void>;

  /** Removes an item's catalogue record and tags (interactions with it remain history); false if absent. */
  deleteItem(itemId: string): Promise<boolean>;

  getItem(itemId: string): Promise<CatalogueItem | null>;

  /** Catalogue records ordered by id, after `after` (exclusive), for paging. */
  listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]>;

  /** Every interaction of one user or session, oldest first (for data export). */
  interactionsOf(subjectKind: SubjectKind, subjectId: string): Promise<Interaction[]>;

  /**
   * Erases a user or session and all their interactions; durable on resolve. By then no file the adapter
   * manages holds their id or their events (the embedded store zeroes and checkpoints; Neo4j keeps its own
   * files, as its settings say). A full disk gives StorageFullError; adapters that can, keep space for this.
   */
  eraseSubject(subjectKind: SubjectKind, subjectId: string): Promise<{ found: boolean; interactions: number }>;

  counts(): Promise<StoreCounts>;

  /** Streams the whole graph to rebuild the in-memory projection at start-up. */
  readSnapshot(sink: SnapshotSink): Promise<void>;

  /** Present on stores that keep analytics next to the graph (Neo4j); see GraphWriteBack. */
  readonly writeBack?: GraphWriteBack;

  /**
   * Present on stores shared by several engines (the workers of one server: see src/store/shared/): calls
   * `apply` with every change the other engines write, in the store's order, from the end of this engine's
   * `readSnapshot` on. A change counts as seen by this engine once `apply` has returned, and the store
   * answers the engine that wrote it only when every follower has seen it: a write is in every engine's
   * projection by the time its writer is told it is durable.
   */
  follow?(apply: (change: StoreChange) => void): void;

  close(): Promise<void>;
}

/** A write, as followers of a shared store receive it (only what was accepted: duplicates are left out). */
export type StoreChange =
  | { readonly kind: 'interactions'; readonly interactions: readonly Interaction[] }
  /** `at`: when the writer applied the records (the tag edges' time). */
  | { readonly kind: 'items'; readonly items: readonly CatalogueItem[]; readonly at: number }
  | { readonly kind: 'itemDeleted'; readonly itemId: string }
  | { readonly kind: 'erased'; readonly subjectKind: SubjectKind; readonly subjectId: string };

export interface AppendResult {
  readonly accepted: readonly boolean[];
  readonly acceptedCount: number;
  readonly duplicateCount: number;
}

export interface StoreCounts {
  readonly users: number;
  readonly sessions: number;
  readonly items: number;
  readonly tags: number;
  readonly interactions: number;
}

/**
 * Receives a snapshot. Nodes come first; `key`s are numbers the adapter chooses, unique within one
 * snapshot, so rows can refer to nodes without repeating string ids.
 */
export interface SnapshotSink {
  /** Sizes, when the adapter knows them up front, so the receiver can allocate once. */
  begin(expected: { nodes: number; interactions: number; itemTags: number }): void;
  node(key: number, kind: NodeKind, externalId: string): void;
  /** Tags of an item in the order given at upsert; `ts` is when the item was last upserted. */
  itemTag(itemKey: number, tagKey: number, ts: number): void;
  /** Interactions in the order they were accepted; `typeCode` as in graph/model.ts. */
  interaction(subjectKey: number, itemKey: number, typeCode: number, value: number | null, ts: number): void;
}

/**
 * What a store offers analysts beyond the graph itself: the engine's embeddings, communities and model
 * version written next to the data, so they can be queried in the store's own language (Neo4j: Cypher,
 * vector index). Stores without such users (the embedded one) leave `GraphStore.writeBack` undefined.
 */
export interface GraphWriteBack {
  writeModel(model: ModelRecord): Promise<void>;
  /** Writes embeddings in batches; ids that are no longer stored are skipped. */
  writeEmbeddings(kind: 'user' | 'item', rows: readonly EmbeddingRow[], modelVersion: string): Promise<void>;
  /** Replaces the communities with those of one run, and each item's and user's membership. */
  writeCommunities(run: CommunityRun): Promise<void>;
}

export interface ModelRecord {
  readonly version: string;
  readonly trainedAt: string;
  readonly backend: string;
  readonly dimensions: number;
}

export interface EmbeddingRow {
  readonly id: string;
  readonly embedding: Float32Array;
}

export interface CommunityRun {
  readonly computedAt: number;
  readonly modularity: number;
  readonly communities: ReadonlyArray<{ id: number; size: number; topTags: readonly string[]; topItems: readonly string[] }>;
  readonly items: ReadonlyArray<{ id: string; community: number }>;
  /** A user's dominant community and their interest mix (shares sum to 1). */
  readonly users: ReadonlyArray<{ id: string; community: number; mix: ReadonlyArray<{ community: number; share: number }> }>;
}
