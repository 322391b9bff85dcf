import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one server: request latency by route, ingest counts and lag, incremental update
 * latency, graph size and model version. Graph and model figures are read when scraped.
 */
export interface MetricSources {
  graph(): { users: number; sessions: number; items: number; tags: number; interactions: number } | null;
  model(): { version: string | null; subjectsUpdated: number } | null;
  /** Incremental update latencies (ms) since the last call. */
  updateLatenciesMs(): number[];
}

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly ingested: Counter<'result'>;
  readonly ingestLagSeconds: Histogram;
  readonly updateSeconds: Histogram;

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    this.requestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.ingested = new Counter({ name: 'ingest_events_total', help: 'Events received, by result', labelNames: ['result'], registers: [this.registry] });
    this.ingestLagSeconds = new Histogram({
      name: 'ingest_lag_seconds',
      help: 'Time from an event happening to it being durable and in the graph',
      buckets: [0.01, 0.1, 1, 10, 60, 600, 3600, 86_400],
      registers: [this.registry],
    });
    this.updateSeconds = new Histogram({
      name: 'embedding_update_seconds',
      help: 'Time from an interaction being applied to its subject embedding being recomputed (incremental GNN update)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [this.registry],
      collect() {
        for (const ms of sources.updateLatenciesMs()) this.observe(ms / 1000);
      },
    });
    new Gauge({
      name: 'graph_nodes',
      help: 'Nodes of the interest graph, by kind',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const g = sources.graph();
        if (!g) return;
        for (const kind of ['users', 'sessions', 'items', 'tags'] as const) this.set({ kind }, g[kind]);
      },
    });
    new Gauge({
      name: 'graph_interactions',
      help: 'Interaction edges of the interest graph',
      registers: [this.registry],
      collect() {
        const g = sources.graph();
        if (g) this.set(g.interactions);
      },
    });
    new Gauge({
      name: 'model_info',
      help: 'The GNN model in service (value 1), by version',
      labelNames: ['version'],
      registers: [this.registry],
      collect() {
        this.reset();
        const m = sources.model();
        if (m?.version) this.set({ version: m.version }, 1);
      },
    });
  }
}
