/**
 * The main job: serve the HTTP API at once (readiness follows), open the store (the embedded one in
 * ./data unless DATA_DIR says otherwise; Neo4j with STORE=neo4j), load the demo data into it when it is
 * empty, load the GNN (training it in the background when the data directory holds no model yet: the
 * server is ready before, and the model joins the recommendations when trained), write embeddings back
 * when the store keeps them (Neo4j), then answer requests until SIGTERM or Ctrl-C, when it stops
 * accepting, finishes requests in flight and closes the store.
 *
 * With WORKERS above 1 (the default: one per core) the process is the primary of a cluster: it opens the
 * store and shares it with the workers, which serve (src/workers/).
 *
 *   npm start                      PORT (8080), DATA_DIR, API_KEYS or API_AUTH=disabled, WORKERS: see the README
 */
import cluster from 'node:cluster';
import { mkdirSync } from 'node:fs';

import { EngineError } from '../base/errors.ts';
import { createLogger, type Logger } from '../base/logger.ts';
import { ensureApiKeys } from '../src/api/key-file.ts';
import { type EngineConfig, loadConfig } from '../src/config.ts';
import type { RunningServer } from '../src/server.ts';
import { openGraphStore } from '../src/store/open-store.ts';
import { ServerPrimary } from '../src/workers/server-primary.ts';
import type { WorkerRole } from '../src/workers/worker-control.ts';
import { epochProgress, loadProgress } from './progress.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const loaded = loadConfig();
  if (cluster.isWorker) return serveWorker(loaded);
  mkdirSync(loaded.dataDir, { recursive: true });
  const { config, created, file } = ensureApiKeys(loaded);
  const logger = createLogger(config.logLevel);
  const announceKey = () => {
    if (created)
      say(`Created an admin API key in ${file}: ${created.key}\n  (send it as "Authorization: Bearer <key>"; set API_KEYS for your own keys and roles)`);
  };
  if (config.workers > 1) return servePrimary(config, logger, announceKey);

  const loading = loadProgress();
  const progress = epochProgress(config.gnn.epochs);
  // A signal during start-up stops it too: what is written is durable, and nothing is served yet.
  let running: RunningServer | null = null;
  stopOnSignals(logger, () => running?.stop() ?? Promise.resolve());
  // Loaded here, not at the top: the primary of a server with workers never loads the engine, the GNN or the HTTP layer.
  const { serve } = await import('../src/server.ts');
  const server = await serve(
    config,
    { logger, loadsDemoData: true, training: { trainsHere: true }, onLoadProgress: loading.update, onEpoch: progress.update, epochsShown: progress.shown },
    (url) => {
      say(`Interest graph engine: API docs at ${url}/docs (OpenAPI: ${url}/openapi.json); loading…`);
      announceKey();
    },
  );
  running = server;
  loading.stop();
  // With no saved model the GNN trains in the background; the bar ends with the run.
  void server.services.embeddings.trainingSettled().then(() => progress.stop());
  say(readyBanner(config, server));
}

/** The primary of a server with several workers: opens the store, starts the workers, stops them on a signal. */
async function servePrimary(config: EngineConfig, logger: Logger, announceKey: () => void): Promise<void> {
  const store = await openGraphStore(config);
  const primary = new ServerPrimary(config, store, logger);
  stopOnSignals(logger, () => primary.stop());
  say(`Interest graph engine: starting ${config.workers} workers (WORKERS), the first loads the graph and trains the GNN…`);
  announceKey();
  const { summary } = await primary.start();
  say(`${summary}\n  ${config.workers} workers (WORKERS), each with its own copy of the graph, over the store this process owns`);
}

async function serveWorker(loaded: EngineConfig): Promise<void> {
  // The primary made the key file before starting the workers: each reads it.
  const { config } = ensureApiKeys(loaded);
  const role: WorkerRole = process.env.WORKER_ROLE === 'trainer' ? 'trainer' : 'follower';
  const logger = createLogger(config.logLevel).child({ worker: cluster.worker?.id, role });
  let running: RunningServer | null = null;
  stopOnSignals(logger, () => running?.stop() ?? Promise.resolve(), ['SIGTERM']);
  // Ctrl-C reaches the whole process group: a worker leaves it to the primary, which stops the workers
  // (SIGTERM) knowing it is stopping, rather than seeing them exit and starting them again.
  process.on('SIGINT', () => undefined);
  const { runWorker } = await import('../src/workers/server-worker.ts');
  running = await runWorker(config, logger, role, (server) => readyBanner(config, server));
  // The primary is gone (killed): nothing is left to share the store, so this worker stops too.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/**
 * SIGTERM and SIGINT stop the process once: listeners stay for repeated signals (Ctrl-C under `npm start`
 * reaches the process twice, from the terminal and forwarded by npm), so a second one does not end it mid-drain.
 */
function stopOnSignals(logger: Logger, stop: () => Promise<void>, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  let stopping: Promise<void> | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    logger.info({ signal }, 'shutting down: no new connections, answering requests in flight');
    stopping = stop();
    stopping.then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

function readyBanner(config: EngineConfig, server: RunningServer): string {
  const { url, engine, services } = server;
  const stats = engine.stats();
  const model = services.embeddings.status();
  const firstUser = engine.graph.nodesOfKind('user').next();
  return [
    `Ready: ${url}/health/ready · explanation view ${url}/explain · graph explorer ${url}/explore`,
    `  interest graph in ${config.dataDir} (${stats.store} store): users ${stats.users}, sessions ${stats.sessions}, items ${stats.items}, tags ${stats.tags}, interactions ${stats.interactions}`,
    model.loaded
      ? `  GNN model ${model.version} (trained ${model.trainedAt}) on the ${model.backend.name} backend`
      : model.trainingInProgress
        ? `  GNN model: training in the background on the ${model.backend.name} backend; recommendations come from graph walks, tags and trending items until it is in service (GET /v1/model)`
        : `  GNN model: none yet (${config.gnn.minInteractions} interactions needed to train); recommendations come from graph walks, tags and trending items`,
    ...(firstUser.done
      ? []
      : [`  try: curl -H "Authorization: Bearer <key>" ${url}/v1/users/${engine.graph.externalId(firstUser.value)}/recommendations?count=3`]),
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof EngineError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
