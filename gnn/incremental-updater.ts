import type { InterestGraph } from '../graph/interest-graph.ts';
import { INTERACTION_MASK } from '../graph/model.ts';
import type { InterestEmbeddings } from './interest-embeddings.ts';

/**
 * Keeps embeddings in step with the graph, recomputing only what changed. The model's receptive field:
 * a subject's z depends on its own latest `fanout` interactions and those items' features; an item's x
 * depends on its own tags. So a new interaction dirties its subject; an item whose tags changed is
 * refreshed and dirties the subjects that interacted with it.
 *
 * Arrivals are micro-batched: changes queue up and one flush, on the next turn of the event loop,
 * recomputes every dirty subject in a single batch through the same `computeSubjects` as full inference.
 * A flush writes each row in one synchronous copy, so readers see either the old or the new vector.
 */
export interface UpdateLatency {
  /** Milliseconds from the change being queued to its embedding being in place, per change. */
  readonly samples: number[];
}

export class IncrementalUpdater {
  private dirtySubjects = new Map<number, number>();
  private dirtyItems = new Map<number, number>();
  private scheduled: Promise<void> | null = null;
  private readonly latencies: number[] = [];
  private updatedCount = 0;

  constructor(
    private readonly embeddings: () => InterestEmbeddings | null,
    private readonly graph: () => InterestGraph,
    private readonly options: { readonly maxLatencySamples: number } = { maxLatencySamples: 10_000 },
  ) {}

  /** Subjects that gained interactions. */
  interactionsAdded(subjects: Iterable<number>): void {
    const now = performance.now();
    for (const s of subjects) if (!this.dirtySubjects.has(s)) this.dirtySubjects.set(s, now);
    this.schedule();
  }

  /** Items whose tags (or catalogue record) changed. */
  itemsChanged(items: Iterable<number>): void {
    const now = performance.now();
    for (const i of items) if (!this.dirtyItems.has(i)) this.dirtyItems.set(i, now);
    this.schedule();
  }

  /** A node erased from the graph: its vectors go at once. */
  nodeRemoved(node: number): void {
    this.dirtySubjects.delete(node);
    this.dirtyItems.delete(node);
    this.embeddings()?.forget(node);
  }

  /** Resolves once every change queued so far is in place. */
  settled(): Promise<void> {
    return this.scheduled ?? Promise.resolve();
  }

  /** Recomputes everything queued, now. */
  flush(): void {
    const embeddings = this.embeddings();
    const items = this.dirtyItems;
    const subjects = this.dirtySubjects;
    this.dirtyItems = new Map();
    this.dirtySubjects = new Map();
    if (!embeddings) return;
    const graph = this.graph();
    const liveItems = [...items.keys()].filter((n) => graph.hasNode(n));
    embeddings.refreshItems(liveItems);
    for (const item of liveItems) {
      const queued = items.get(item)!;
      graph.forEachInEdge(
        item,
        (_e, subject) => {
          if (!subjects.has(subject)) subjects.set(subject, queued);
        },
        INTERACTION_MASK,
      );
    }
    const liveSubjects = [...subjects.keys()].filter((n) => graph.hasNode(n));
    embeddings.storeSubjects(liveSubjects);
    const done = performance.now();
    for (const n of liveSubjects) this.record(done - subjects.get(n)!);
    this.updatedCount += liveSubjects.length;
  }

  /** Subjects recomputed since start. */
  get updated(): number {
    return this.updatedCount;
  }

  /** Latency samples (ms) of the most recent updates, and clears them. */
  drainLatencies(): number[] {
    return this.latencies.splice(0, this.latencies.length);
  }

  private record(ms: number): void {
    // Drop the older half at once when full: amortised O(1), where shift() would move every sample.
    if (this.latencies.length >= this.options.maxLatencySamples) this.latencies.splice(0, this.latencies.length >> 1);
    this.latencies.push(ms);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.scheduled = null;
        try {
          this.flush();
          resolve();
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    // A failed flush is reported to whoever awaits `settled`; nobody awaiting is not a crash.
    this.scheduled.catch(() => undefined);
  }
}
