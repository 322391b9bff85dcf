import { StoreError } from '../../../base/errors.ts';
import type { SubjectKind } from '../../../graph/model.ts';
import type { CatalogueItem } from '../../catalogue/catalogue-item.ts';
import type { Interaction } from '../../events/interaction-event.ts';
import type { AppendResult, GraphStore, SnapshotSink, StoreChange, StoreCounts } from '../graph-store.ts';
import { deserializeError, type MessageLink, type SnapshotChunk, type StoreMessage, type StoreMethod } from './store-protocol.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** A `readSnapshot`'s sink, fed by the chunks that come before its result. */
  readonly sink?: SnapshotSink;
}

/**
 * A store adapter for an engine that shares its store with others (the workers of one server): every
 * call goes over `link` to the `StoreHost` that owns the store, and the other engines' writes come back
 * as changes for `follow`. Changes that arrive before the engine follows (while it loads the catalogue,
 * after its snapshot) are kept and handed over first, in order; they count as applied when received,
 * since the engine serves nothing before it follows.
 */
export class SharedStore implements GraphStore {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private apply: ((change: StoreChange) => void) | null = null;
  private readonly early: Array<{ seq: number; change: StoreChange }> = [];
  private closed = false;

  constructor(
    /** The host store's name (logs, health): `embedded`, `neo4j`. */
    readonly name: string,
    private readonly link: MessageLink,
  ) {
    link.receive((message) => this.onMessage(message));
  }

  appendInteractions(batch: readonly Interaction[]): Promise<AppendResult> {
    return this.call('appendInteractions', [batch]) as Promise<AppendResult>;
  }

  upsertItems(items: readonly CatalogueItem[], at?: number): Promise<void> {
    return this.call('upsertItems', [items, at]) as Promise<void>;
  }

  deleteItem(itemId: string): Promise<boolean> {
    return this.call('deleteItem', [itemId]) as Promise<boolean>;
  }

  getItem(itemId: string): Promise<CatalogueItem | null> {
    return this.call('getItem', [itemId]) as Promise<CatalogueItem | null>;
  }

  listItems(page: { after?: string; limit: number }): Promise<CatalogueItem[]> {
    return this.call('listItems', [page]) as Promise<CatalogueItem[]>;
  }

  interactionsOf(subjectKind: SubjectKind, subjectId: string): Promise<Interaction[]> {
    return this.call('interactionsOf', [subjectKind, subjectId]) as Promise<Interaction[]>;
  }

  eraseSubject(subjectKind: SubjectKind, subjectId: string): Promise<{ found: boolean; interactions: number }> {
    return this.call('eraseSubject', [subjectKind, subjectId]) as Promise<{ found: boolean; interactions: number }>;
  }

  counts(): Promise<StoreCounts> {
    return this.call('counts', []) as Promise<StoreCounts>;
  }

  readSnapshot(sink: SnapshotSink): Promise<void> {
    return this.call('readSnapshot', [], sink) as Promise<void>;
  }

  follow(apply: (change: StoreChange) => void): void {
    this.apply = apply;
    for (const { change } of this.early.splice(0)) apply(change);
  }

  /** Stops answering; the host notices the link is gone when this engine's process (or port) closes. */
  close(): Promise<void> {
    this.closed = true;
    for (const pending of this.pending.values()) pending.reject(new StoreError('the store is closed'));
    this.pending.clear();
    return Promise.resolve();
  }

  private call(method: StoreMethod, args: readonly unknown[], sink?: SnapshotSink): Promise<unknown> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(sink ? { sink } : {}) });
      this.link.post({ t: 'call', id, method, args });
    });
  }

  private onMessage(message: StoreMessage): void {
    switch (message.t) {
      case 'result':
      case 'failure': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.t === 'result') pending.resolve(message.value);
        else pending.reject(deserializeError(message.error));
        return;
      }
      case 'snapshot': {
        const sink = this.pending.get(message.id)?.sink;
        if (sink) feed(sink, message.chunk);
        return;
      }
      case 'change':
        try {
          if (this.apply) this.apply(message.change);
          else this.early.push({ seq: message.seq, change: message.change });
        } finally {
          // Acknowledged even when applying failed, so that no write waits for this engine: the error goes
          // on (uncaught, it ends a worker's process, which is started again from the store's snapshot).
          this.link.post({ t: 'seen', seq: message.seq });
        }
        return;
      default:
        return;
    }
  }
}

function feed(sink: SnapshotSink, chunk: SnapshotChunk): void {
  switch (chunk.part) {
    case 'begin':
      sink.begin(chunk.expected);
      return;
    case 'nodes':
      for (let n = 0; n < chunk.keys.length; n++) sink.node(chunk.keys[n]!, chunk.kinds[n]!, chunk.ids[n]!);
      return;
    case 'itemTags':
      for (let n = 0; n < chunk.items.length; n++) sink.itemTag(chunk.items[n]!, chunk.tags[n]!, chunk.ts[n]!);
      return;
    case 'interactions':
      for (let n = 0; n < chunk.subjects.length; n++) {
        const value = chunk.values[n]!;
        sink.interaction(chunk.subjects[n]!, chunk.items[n]!, chunk.types[n]!, Number.isNaN(value) ? null : value, chunk.ts[n]!);
      }
      return;
  }
}
