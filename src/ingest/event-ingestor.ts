import { type FieldIssue, ValidationError } from '../../base/errors.ts';
import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { checkInteractionEvent, type Interaction } from '../events/interaction-event.ts';
import { applyInteraction } from '../projection/graph-projection.ts';
import type { GraphStore } from '../store/graph-store.ts';

export interface RejectedEvent {
  /** Position in the submitted batch. */
  readonly index: number;
  readonly issues: readonly FieldIssue[];
}

export interface IngestReceipt {
  /** New events, now durable and in the graph. */
  readonly accepted: number;
  /** Events whose id was already stored (or repeated in the batch): ignored. */
  readonly duplicates: number;
  readonly rejected: readonly RejectedEvent[];
  /** The accepted interactions, in order; what downstream consumers (embeddings, caches) react to. */
  readonly interactions: readonly Interaction[];
}

export interface IngestOptions {
  /**
   * true: store the valid events and report the invalid ones (bulk loads).
   * false: all or nothing; any invalid event rejects the batch with a ValidationError (API calls).
   */
  readonly partial: boolean;
}

export interface EventIngestorSettings {
  readonly maxBatchSize: number;
  readonly maxClockSkewMs: number;
  readonly policy: WeightPolicy;
  readonly wallClock: () => number;
}

/**
 * Validates events at the edge, writes them durably, and only then applies the new ones to the graph.
 * Writes are serialised so the graph sees events in the order the store accepted them.
 */
export class EventIngestor {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: GraphStore,
    private readonly graph: () => InterestGraph,
    private readonly settings: EventIngestorSettings,
  ) {}

  ingest(raw: readonly unknown[], options: IngestOptions): Promise<IngestReceipt> {
    if (raw.length > this.settings.maxBatchSize) {
      return Promise.reject(
        new ValidationError([{ path: 'events', message: `a batch holds at most ${this.settings.maxBatchSize} events, got ${raw.length}` }]),
      );
    }
    const now = this.settings.wallClock();
    const valid: Interaction[] = [];
    const rejected: RejectedEvent[] = [];
    raw.forEach((event, index) => {
      const check = checkInteractionEvent(event, { now, maxClockSkewMs: this.settings.maxClockSkewMs }, options.partial ? '' : `events[${index}]`);
      if (check.ok) valid.push(check.interaction);
      else rejected.push({ index, issues: check.issues });
    });
    if (!options.partial && rejected.length > 0) {
      return Promise.reject(new ValidationError(rejected.flatMap((r) => r.issues)));
    }
    return this.serialise(async () => {
      if (valid.length === 0) return { accepted: 0, duplicates: 0, rejected, interactions: [] };
      const result = await this.store.appendInteractions(valid);
      const graph = this.graph();
      const accepted: Interaction[] = [];
      for (let i = 0; i < valid.length; i++) {
        if (!result.accepted[i]) continue;
        applyInteraction(graph, this.settings.policy, valid[i]!);
        accepted.push(valid[i]!);
      }
      return { accepted: result.acceptedCount, duplicates: result.duplicateCount, rejected, interactions: accepted };
    });
  }

  /** Runs `work` after every write queued before it. */
  serialise<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
