import type { Logger } from '../base/logger.ts';
import type { EpochReport } from '../gnn/index.ts';
import { ApiServer } from './api/api-server.ts';
import type { EngineConfig } from './config.ts';
import { InterestEngine } from './engine.ts';
import { type EngineServices, startEngineServices, type TrainingPlace } from './engine-services.ts';
import { lastEvaluationIn } from './evaluation/evaluation-report.ts';
import type { LoadProgress } from './projection/graph-projection.ts';
import type { GraphStore } from './store/graph-store.ts';
import { generateSyntheticDataset } from './synthetic/synthetic-dataset.ts';

/** The demo data `npm start` loads into an empty store (DEMO_DATA=synthetic). */
export const DEMO_DATA = { seed: 7, edges: 200_000, users: 4_000, items: 2_000, topics: 12 };

export interface ServeOptions {
  readonly logger: Logger;
  /** A store opened by the caller (a worker's share of the server's store); the configured one otherwise. */
  readonly store?: GraphStore;
  /** Loads the demo data when the store is empty and the configuration asks for it (one process of a server does). */
  readonly loadsDemoData: boolean;
  readonly training: TrainingPlace;
  readonly onLoadProgress?: LoadProgress;
  readonly onEpoch?: (report: EpochReport) => void;
  readonly epochsShown?: boolean;
  /** Listen once the engine and services are up (a worker of a cluster), not at once (answering 503 until then). */
  readonly listenOnceLoaded?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly engine: InterestEngine;
  readonly services: EngineServices;
  /** Stops accepting, answers the requests in flight, closes the services and the engine (and its store). */
  stop(): Promise<void>;
}

/**
 * One serving process: the HTTP API listens at once (readiness follows), the engine opens its store and
 * rebuilds its projection, the demo data goes into an empty store, and the services (the GNN in service,
 * the query layer, communities) start. `npm start` runs one of these, or one per worker.
 */
export async function serve(config: EngineConfig, options: ServeOptions, onListening?: (url: string) => void): Promise<RunningServer> {
  const { logger } = options;
  const api = new ApiServer(config, logger);
  const listen = async (): Promise<string> => {
    const url = await api.listen();
    onListening?.(url);
    return url;
  };
  const listening = options.listenOnceLoaded ? null : await listen();
  let engine: InterestEngine | null = null;
  try {
    engine = await InterestEngine.open(config, {
      logger,
      ...(options.store ? { store: options.store } : {}),
      ...(options.onLoadProgress ? { onLoadProgress: options.onLoadProgress } : {}),
    });
    if (options.loadsDemoData && engine.stats().interactions === 0 && config.demoData === 'synthetic') {
      const started = performance.now();
      // Ends now: data ending in the past would decay to nothing as soon as the first live event moves the clock.
      const demo = generateSyntheticDataset({ ...DEMO_DATA, endAt: Date.now() });
      await engine.upsertItems(demo.catalogue());
      for (const batch of demo.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
      logger.info({ ...DEMO_DATA, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) }, 'demo data loaded');
    }
    const services = await startEngineServices(
      engine,
      logger,
      { ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}), ...(options.epochsShown !== undefined ? { epochsShown: options.epochsShown } : {}) },
      options.training,
    );
    api.attach({ engine, ...services, lastEvaluation: lastEvaluationIn(config.dataDir) });
    const url = listening ?? (await listen());
    const opened = engine;
    return {
      url,
      engine: opened,
      services,
      async stop() {
        await api.close();
        await services.close();
        await opened.close();
      },
    };
  } catch (error) {
    await api.close();
    await engine?.close();
    throw error;
  }
}
