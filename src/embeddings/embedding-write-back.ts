import type { Logger } from '../../base/logger.ts';
import type { InterestEmbeddings } from '../../gnn/index.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { NodeKindCode } from '../../graph/model.ts';
import type { GraphChangeListener } from '../engine.ts';
import type { EmbeddingRow, GraphWriteBack } from '../store/graph-store.ts';
import type { EmbeddingService } from './embedding-service.ts';

/**
 * Keeps the store's copy of the embeddings current for analysts: after a model goes into service, the model
 * record and every user and item embedding; then, every `intervalMinutes`, those of users and items that
 * changed since. A failed write is logged and its nodes stay queued for the next round.
 */
export interface WriteBackHost {
  readonly graph: InterestGraph;
  subscribe(listener: GraphChangeListener): () => void;
}

export class EmbeddingWriteBack {
  private readonly dirtyUsers = new Set<number>();
  private readonly dirtyItems = new Set<number>();
  private writtenVersion: string | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly host: WriteBackHost,
    private readonly service: EmbeddingService,
    private readonly target: GraphWriteBack,
    intervalMinutes: number,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = [
      host.subscribe({
        interactionsApplied: (subjects) => {
          for (const node of subjects) if (host.graph.nodeKindCode(node) === NodeKindCode.user) this.dirtyUsers.add(node);
        },
        itemsChanged: (items) => {
          for (const node of items) if (node >= 0) this.dirtyItems.add(node);
        },
        nodeRemoved: (node) => {
          this.dirtyUsers.delete(node);
          this.dirtyItems.delete(node);
        },
      }),
      service.onInstalled(() => void this.sync()),
    ];
    if (intervalMinutes > 0) {
      this.timer = setInterval(() => void this.sync(), intervalMinutes * 60_000);
      this.timer.unref();
    }
  }

  /** Writes what is due now; concurrent calls share one run (plus one more if asked during it). */
  sync(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.writeDue()
      .catch((error: unknown) => this.logger.error({ err: error }, 'embedding write-back failed; it is retried at the next round'))
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          void this.sync();
        }
      });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const stop of this.unsubscribe) stop();
    await this.running;
  }

  private async writeDue(): Promise<void> {
    const embeddings = this.service.embeddings();
    if (!embeddings) return;
    const graph = this.host.graph;
    const version = embeddings.info.version;
    const full = version !== this.writtenVersion;
    const users = full ? [...graph.nodesOfKind('user')] : [...this.dirtyUsers];
    const items = full ? [...graph.nodesOfKind('item')] : [...this.dirtyItems];
    this.dirtyUsers.clear();
    this.dirtyItems.clear();
    if (!full && users.length === 0 && items.length === 0) return;
    const started = performance.now();
    try {
      if (full) {
        await this.target.writeModel({ version, trainedAt: embeddings.info.trainedAt, backend: embeddings.info.backend, dimensions: embeddings.dims });
      }
      await this.target.writeEmbeddings('item', rowsOf(graph, embeddings.items, items), version);
      await this.target.writeEmbeddings('user', rowsOf(graph, embeddings.subjects, users), version);
    } catch (error) {
      if (!full) {
        for (const node of users) this.dirtyUsers.add(node);
        for (const node of items) this.dirtyItems.add(node);
      }
      throw error;
    }
    this.writtenVersion = version;
    this.logger.info(
      { version, full, users: users.length, items: items.length, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) },
      'embeddings written back to the store',
    );
  }
}

/** Copies (not views) of the vectors of the nodes still in the graph. */
function rowsOf(graph: InterestGraph, table: InterestEmbeddings['items'], nodes: readonly number[]): EmbeddingRow[] {
  const rows: EmbeddingRow[] = [];
  for (const node of nodes) {
    if (!graph.hasNode(node)) continue;
    const vector = table.get(node);
    if (vector) rows.push({ id: graph.externalId(node), embedding: Float32Array.from(vector) });
  }
  return rows;
}
