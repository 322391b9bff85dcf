import type { Logger } from '../../../base/logger.ts';
import type { NodeKind, SubjectKind } from '../../../graph/model.ts';
import type { CatalogueItem } from '../../catalogue/catalogue-item.ts';
import type { Interaction } from '../../events/interaction-event.ts';
import type { GraphStore, SnapshotSink, StoreChange } from '../graph-store.ts';
import { type MessageLink, serializeError, type SnapshotChunk, type StoreMessage } from './store-protocol.ts';

/** Rows a snapshot message carries at most. */
const CHUNK_ROWS = 65_536;

/** One engine using the store through a link. */
interface Client {
  readonly link: MessageLink;
  /** Receives changes: from the end of its snapshot on. */
  following: boolean;
  /** The last change it has applied. */
  seen: number;
  /** Writes waiting for this client to apply their change. */
  readonly waiting: Map<number, () => void>;
  gone: boolean;
}

/**
 * Shares one store among several engines (the workers of one server): the host owns the store and runs
 * every call a `SharedStore` sends it. Writes run one at a time, in the order they arrive; each accepted
 * write goes, as a `StoreChange`, to every other engine that follows the store, and its writer gets its
 * answer once all of them have applied it. So every engine's projection holds every write whose answer
 * anyone has seen, and they all apply the writes in the same order. A snapshot is read in the same queue,
 * so the engine that reads it receives exactly the changes made after it.
 */
export class StoreHost {
  private readonly clients = new Set<Client>();
  private tail: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(
    private readonly store: GraphStore,
    private readonly logger: Logger,
  ) {}

  /** Serves the engine at the other end of `link`; returns what to call when that end is gone (its process exited). */
  connect(link: MessageLink): () => void {
    const client: Client = { link, following: false, seen: 0, waiting: new Map(), gone: false };
    this.clients.add(client);
    link.receive((message) => this.onMessage(client, message));
    return () => this.disconnect(client);
  }

  /** Waits for the writes in progress; the store itself is the caller's to close. */
  async drain(): Promise<void> {
    await this.serialise(() => Promise.resolve());
  }

  private disconnect(client: Client): void {
    client.gone = true;
    this.clients.delete(client);
    // Its projection is gone with it: writes need not wait for it any more.
    for (const release of client.waiting.values()) release();
    client.waiting.clear();
  }

  private onMessage(client: Client, message: StoreMessage): void {
    if (message.t === 'seen') {
      client.seen = Math.max(client.seen, message.seq);
      for (const [seq, release] of client.waiting) {
        if (seq <= client.seen) {
          client.waiting.delete(seq);
          release();
        }
      }
      return;
    }
    if (message.t !== 'call') return;
    const { id } = message;
    this.run(client, id, message.method, message.args).then(
      (value) => !client.gone && client.link.post({ t: 'result', id, value }),
      (error: unknown) => !client.gone && client.link.post({ t: 'failure', id, error: serializeError(error) }),
    );
  }

  private run(client: Client, id: number, method: string, args: readonly unknown[]): Promise<unknown> {
    const store = this.store;
    switch (method) {
      case 'appendInteractions':
        return this.serialise(async () => {
          const batch = args[0] as Interaction[];
          const result = await store.appendInteractions(batch);
          const interactions = batch.filter((_, i) => result.accepted[i]);
          if (interactions.length > 0) await this.publish(client, { kind: 'interactions', interactions });
          return result;
        });
      case 'upsertItems':
        return this.serialise(async () => {
          const items = args[0] as CatalogueItem[];
          const at = typeof args[1] === 'number' ? args[1] : Date.now();
          await store.upsertItems(items, at);
          await this.publish(client, { kind: 'items', items, at });
        });
      case 'deleteItem':
        return this.serialise(async () => {
          const itemId = args[0] as string;
          const found = await store.deleteItem(itemId);
          await this.publish(client, { kind: 'itemDeleted', itemId });
          return found;
        });
      case 'eraseSubject':
        return this.serialise(async () => {
          const [subjectKind, subjectId] = args as [SubjectKind, string];
          const result = await store.eraseSubject(subjectKind, subjectId);
          await this.publish(client, { kind: 'erased', subjectKind, subjectId });
          return result;
        });
      case 'readSnapshot':
        return this.serialise(async () => {
          const sink = new ChunkedSnapshot((chunk) => client.link.post({ t: 'snapshot', id, chunk }));
          await store.readSnapshot(sink);
          sink.end();
          client.following = true;
        });
      case 'getItem':
        return store.getItem(args[0] as string);
      case 'listItems':
        return store.listItems(args[0] as { after?: string; limit: number });
      case 'interactionsOf':
        return store.interactionsOf(args[0] as SubjectKind, args[1] as string);
      case 'counts':
        return store.counts();
      default:
        return Promise.reject(new Error(`not a store method: ${method}`));
    }
  }

  /** Sends a change to every other follower and waits until each has applied it (or is gone). */
  private async publish(writer: Client, change: StoreChange): Promise<void> {
    const seq = ++this.seq;
    const applied: Promise<void>[] = [];
    for (const client of this.clients) {
      if (client === writer || !client.following || client.gone) continue;
      applied.push(new Promise<void>((resolve) => client.waiting.set(seq, resolve)));
      client.link.post({ t: 'change', seq, change });
    }
    await Promise.all(applied);
    this.logger.debug({ seq, kind: change.kind, followers: applied.length }, 'change applied by every follower');
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** Collects snapshot rows into column chunks and sends each when full, keeping the order of the parts. */
class ChunkedSnapshot implements SnapshotSink {
  private nodes: { keys: number[]; kinds: NodeKind[]; ids: string[] } = { keys: [], kinds: [], ids: [] };
  private tags: { items: number[]; tags: number[]; ts: number[] } = { items: [], tags: [], ts: [] };
  private rows: { subjects: number[]; items: number[]; types: number[]; values: number[]; ts: number[] } = {
    subjects: [],
    items: [],
    types: [],
    values: [],
    ts: [],
  };

  constructor(private readonly send: (chunk: SnapshotChunk) => void) {}

  begin(expected: { nodes: number; interactions: number; itemTags: number }): void {
    this.send({ part: 'begin', expected });
  }

  node(key: number, kind: NodeKind, externalId: string): void {
    this.flushTags();
    this.flushRows();
    this.nodes.keys.push(key);
    this.nodes.kinds.push(kind);
    this.nodes.ids.push(externalId);
    if (this.nodes.keys.length >= CHUNK_ROWS) this.flushNodes();
  }

  itemTag(itemKey: number, tagKey: number, ts: number): void {
    this.flushNodes();
    this.flushRows();
    this.tags.items.push(itemKey);
    this.tags.tags.push(tagKey);
    this.tags.ts.push(ts);
    if (this.tags.items.length >= CHUNK_ROWS) this.flushTags();
  }

  interaction(subjectKey: number, itemKey: number, typeCode: number, value: number | null, ts: number): void {
    this.flushNodes();
    this.flushTags();
    const r = this.rows;
    r.subjects.push(subjectKey);
    r.items.push(itemKey);
    r.types.push(typeCode);
    r.values.push(value ?? NaN);
    r.ts.push(ts);
    if (r.subjects.length >= CHUNK_ROWS) this.flushRows();
  }

  /** Sends what is left; called by the host once the store has streamed everything. */
  end(): void {
    this.flushNodes();
    this.flushTags();
    this.flushRows();
  }

  private flushNodes(): void {
    const n = this.nodes;
    if (n.keys.length === 0) return;
    this.send({ part: 'nodes', keys: Int32Array.from(n.keys), kinds: n.kinds, ids: n.ids });
    this.nodes = { keys: [], kinds: [], ids: [] };
  }

  private flushTags(): void {
    const t = this.tags;
    if (t.items.length === 0) return;
    this.send({ part: 'itemTags', items: Int32Array.from(t.items), tags: Int32Array.from(t.tags), ts: Float64Array.from(t.ts) });
    this.tags = { items: [], tags: [], ts: [] };
  }

  private flushRows(): void {
    const r = this.rows;
    if (r.subjects.length === 0) return;
    this.send({
      part: 'interactions',
      subjects: Int32Array.from(r.subjects),
      items: Int32Array.from(r.items),
      types: Uint8Array.from(r.types),
      values: Float64Array.from(r.values),
      ts: Float64Array.from(r.ts),
    });
    this.rows = { subjects: [], items: [], types: [], values: [], ts: [] };
  }
}
