import { type FieldIssue, ValidationError } from '../base/errors.ts';
import { createLogger, type Logger } from '../base/logger.ts';
import type { WeightPolicy } from '../graph/edge-weight.ts';
import type { GraphCounts, InterestGraph } from '../graph/interest-graph.ts';
import type { SubjectKind } from '../graph/model.ts';
import { type CatalogueItem, checkCatalogueItem } from './catalogue/catalogue-item.ts';
import { ItemCatalogue } from './catalogue/item-catalogue.ts';
import type { EngineConfig } from './config.ts';
import type { Interaction } from './events/interaction-event.ts';
import { EventIngestor, type IngestOptions, type IngestReceipt } from './ingest/event-ingestor.ts';
import { applyCatalogueItem, applyInteraction, type LoadProgress, rebuildGraph } from './projection/graph-projection.ts';
import type { GraphStore, GraphWriteBack, StoreChange } from './store/graph-store.ts';
import { openGraphStore } from './store/open-store.ts';

export interface GraphStats extends GraphCounts {
  readonly store: string;
  /** The reference time weights are decayed to (epoch ms). */
  readonly decayReference: number;
}

/**
 * Told about every change to the graph, after it is applied: how derived state (embeddings, indexes)
 * keeps in step without the write paths knowing about it. Node indexes refer to the live graph.
 */
export interface GraphChangeListener {
  /** `interactions` are the newly accepted ones, in the order applied. */
  interactionsApplied?(subjects: readonly number[], interactions: readonly Interaction[]): void;
  itemsChanged?(items: readonly number[]): void;
  nodeRemoved?(node: number): void;
}

export interface EngineOptions {
  readonly logger?: Logger;
  readonly wallClock?: () => number;
  /** Progress of loading the projection from the store (a progress bar at start-up). */
  readonly onLoadProgress?: LoadProgress;
  /** A store opened by the caller (a worker's share of the server's store) instead of the configured one; closed with the engine. */
  readonly store?: GraphStore;
}

/**
 * The engine: a durable store, the in-memory interest graph rebuilt from it, and the write paths that
 * keep the two in step. Everything an application does goes through here.
 */
export class InterestEngine {
  private readonly ingestor: EventIngestor;
  private readonly listeners = new Set<GraphChangeListener>();
  private closed = false;

  private constructor(
    readonly config: EngineConfig,
    private readonly store: GraphStore,
    private graphState: InterestGraph,
    /** Titles and attributes of the catalogue, kept in step with the store. */
    readonly catalogue: ItemCatalogue,
    readonly logger: Logger,
    private readonly wallClock: () => number,
  ) {
    this.ingestor = new EventIngestor(store, () => this.graphState, {
      maxBatchSize: config.ingest.maxBatchSize,
      maxClockSkewMs: config.ingest.maxClockSkewMs,
      policy: config.weightPolicy,
      wallClock,
    });
    store.follow?.((change) => this.applyFollowed(change));
  }

  static async open(config: EngineConfig, options: EngineOptions = {}): Promise<InterestEngine> {
    const logger = options.logger ?? createLogger(config.logLevel);
    const started = performance.now();
    const store = options.store ?? (await openGraphStore(config));
    try {
      const graph = await rebuildGraph(store, config.weightPolicy, options.onLoadProgress);
      const catalogue = await ItemCatalogue.load(store);
      const counts = graph.counts();
      logger.info({ store: store.name, dataDir: config.dataDir, ...counts, rebuildMs: Math.round(performance.now() - started) }, 'interest graph loaded');
      return new InterestEngine(config, store, graph, catalogue, logger, options.wallClock ?? Date.now);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  get weightPolicy(): WeightPolicy {
    return this.config.weightPolicy;
  }

  get dataDir(): string {
    return this.config.dataDir;
  }

  /** The live graph. Readers must not keep node or edge ids across a user's erasure. */
  get graph(): InterestGraph {
    return this.graphState;
  }

  /** Validates, stores durably, then applies new events; duplicates (by id) are ignored. */
  async ingestEvents(raw: readonly unknown[], options: IngestOptions = { partial: false }): Promise<IngestReceipt> {
    this.assertOpen();
    const receipt = await this.ingestor.ingest(raw, options);
    this.announceInteractions(receipt.interactions);
    return receipt;
  }

  /** Registers a listener for graph changes; returns the function that unregisters it. */
  subscribe(listener: GraphChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates and upserts catalogue records (tags become Tag nodes). All or nothing. */
  upsertItems(raw: readonly unknown[]): Promise<CatalogueItem[]> {
    this.assertOpen();
    const items: CatalogueItem[] = [];
    const issues: FieldIssue[] = [];
    raw.forEach((candidate, index) => {
      const check = checkCatalogueItem(candidate, raw.length === 1 ? '' : `items[${index}]`);
      if (check.ok) items.push(check.item);
      else issues.push(...check.issues);
    });
    if (issues.length > 0) return Promise.reject(new ValidationError(issues));
    return this.ingestor.serialise(async () => {
      const at = this.wallClock();
      await this.store.upsertItems(items, at);
      this.applyItems(items, at);
      return items;
    });
  }

  /** Where analytics (embeddings, communities, model version) are written back, if the store keeps them. */
  get writeBack(): GraphWriteBack | undefined {
    return this.store.writeBack;
  }

  /** Removes an item from the catalogue (its tags go; interactions with it stay as users' history). */
  deleteItem(itemId: string): Promise<boolean> {
    this.assertOpen();
    return this.ingestor.serialise(async () => {
      const found = await this.store.deleteItem(itemId);
      this.applyItemDeleted(itemId);
      return found;
    });
  }

  getItem(itemId: string): Promise<CatalogueItem | null> {
    return this.store.getItem(itemId);
  }

  listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]> {
    return this.store.listItems(page);
  }

  interactionsOf(subjectKind: 'user' | 'session', subjectId: string): Promise<Interaction[]> {
    return this.store.interactionsOf(subjectKind, subjectId);
  }

  /** Erases a user (or session) and every edge of theirs, from the store first and then from memory. */
  eraseSubject(subjectKind: 'user' | 'session', subjectId: string): Promise<{ found: boolean; interactions: number }> {
    this.assertOpen();
    return this.ingestor.serialise(async () => {
      const result = await this.store.eraseSubject(subjectKind, subjectId);
      const inGraph = this.applyErasure(subjectKind, subjectId);
      return { found: result.found || inGraph, interactions: result.interactions };
    });
  }

  /** The time weights decay to: the latest event (replayed data) or the wall clock, per configuration. */
  decayReference(): number {
    if (this.config.weights.clock === 'wall') return this.wallClock();
    const latest = this.graphState.latestTimestamp;
    return Number.isFinite(latest) ? latest : this.wallClock();
  }

  stats(): GraphStats {
    return { store: this.store.name, decayReference: this.decayReference(), ...this.graphState.counts() };
  }

  /** Waits for queued writes, then closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ingestor.serialise(async () => undefined);
    await this.store.close();
  }

  /**
   * A change another engine wrote to a shared store, applied as this engine applies its own writes. It
   * runs at once, not behind this engine's queued writes: the store delivers changes in its own order, and
   * this engine's writes still waiting for the store come after them in it.
   */
  private applyFollowed(change: StoreChange): void {
    switch (change.kind) {
      case 'interactions':
        for (const interaction of change.interactions) applyInteraction(this.graphState, this.config.weightPolicy, interaction);
        this.announceInteractions(change.interactions);
        return;
      case 'items':
        this.applyItems(change.items, change.at);
        return;
      case 'itemDeleted':
        this.applyItemDeleted(change.itemId);
        return;
      case 'erased':
        this.applyErasure(change.subjectKind, change.subjectId);
        return;
    }
  }

  /** Tells listeners which interactions were applied (already in the graph) and whose they were. */
  private announceInteractions(interactions: readonly Interaction[]): void {
    if (interactions.length === 0 || this.listeners.size === 0) return;
    const subjects = new Set<number>();
    for (const i of interactions) {
      const node = this.graphState.nodeIndex(i.subjectKind, i.subjectId);
      if (node >= 0) subjects.add(node);
    }
    this.notify((l) => l.interactionsApplied?.([...subjects], interactions));
  }

  private applyItems(items: readonly CatalogueItem[], at: number): void {
    for (const item of items) {
      applyCatalogueItem(this.graphState, item, at);
      this.catalogue.put(item);
    }
    this.notify((l) => l.itemsChanged?.(items.map((item) => this.graphState.nodeIndex('item', item.id))));
  }

  private applyItemDeleted(itemId: string): void {
    this.catalogue.delete(itemId);
    const node = this.graphState.nodeIndex('item', itemId);
    if (node >= 0) {
      this.graphState.setItemTags(node, [], 0);
      this.notify((l) => l.itemsChanged?.([node]));
    }
  }

  /** Removes the subject's node and edges from memory; false when it had none. */
  private applyErasure(subjectKind: SubjectKind, subjectId: string): boolean {
    const node = this.graphState.nodeIndex(subjectKind, subjectId);
    if (node < 0) return false;
    this.graphState.removeNode(node);
    this.notify((l) => l.nodeRemoved?.(node));
    return true;
  }

  /** A failing listener must not fail a write that is already durable: it is logged instead. */
  private notify(call: (listener: GraphChangeListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.logger.error({ err: error }, 'a graph change listener failed');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the engine is closed');
  }
}
