/**
 * The main job: serve the HTTP API at once (readiness follows), open the store (the embedded one in
 * ./data unless DATA_DIR says otherwise; Neo4j with STORE=neo4j), load the demo data into it when it is
 * empty, load the GNN (training it in the background when the data directory holds no model yet: the
 * server is ready before, and the model joins the recommendations when trained), write embeddings back
 * when the store keeps them (Neo4j), then answer requests until SIGTERM or Ctrl-C, when it stops
 * accepting, finishes requests in flight and closes the store.
 *
 *   npm start                      PORT (8080), DATA_DIR, API_KEYS or API_AUTH=disabled: see the README
 */
import { mkdirSync } from 'node:fs';

import { EngineError } from '../base/errors.ts';
import { createLogger } from '../base/logger.ts';
import { ApiServer } from '../src/api/api-server.ts';
import { ensureApiKeys } from '../src/api/key-file.ts';
import { loadConfig } from '../src/config.ts';
import { InterestEngine } from '../src/engine.ts';
import { type EngineServices, startEngineServices } from '../src/engine-services.ts';
import { lastEvaluationIn } from '../src/evaluation/evaluation-report.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { epochProgress, loadProgress } from './progress.ts';

const DEMO = { seed: 7, edges: 200_000, users: 4_000, items: 2_000, topics: 12 };

async function main(): Promise<void> {
  const loaded = loadConfig();
  mkdirSync(loaded.dataDir, { recursive: true });
  const { config, created, file } = ensureApiKeys(loaded);
  const logger = createLogger(config.logLevel);
  const api = new ApiServer(config, logger);
  const url = await api.listen();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`Interest graph engine: API docs at ${url}/docs (OpenAPI: ${url}/openapi.json); loading…`);
  if (created)
    say(`Created an admin API key in ${file}: ${created.key}\n  (send it as "Authorization: Bearer <key>"; set API_KEYS for your own keys and roles)`);

  const loading = loadProgress();
  const engine = await InterestEngine.open(config, { logger, onLoadProgress: loading.update });
  loading.stop();
  let stopping: Promise<void> | null = null;
  let services: EngineServices | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    stopping = (async () => {
      logger.info({ signal }, 'shutting down: no new connections, answering requests in flight');
      await api.close();
      await services?.close();
      await engine.close();
      logger.info('stopped');
    })();
    stopping.then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Listeners stay for repeated signals: Ctrl-C under `npm start` reaches the process twice (from the
  // terminal and forwarded by npm), and without a listener the second one would end it mid-drain.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  if (engine.stats().interactions === 0 && config.demoData === 'synthetic') {
    const started = performance.now();
    // Ends now: data ending in the past would decay to nothing as soon as the first live event moves the clock.
    const demo = generateSyntheticDataset({ ...DEMO, endAt: Date.now() });
    await engine.upsertItems(demo.catalogue());
    for (const batch of demo.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
    logger.info({ ...DEMO, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) }, 'demo data loaded');
  }
  const progress = epochProgress(config.gnn.epochs);
  services = await startEngineServices(engine, logger, { onEpoch: progress.update, epochsShown: progress.shown });
  api.attach({ engine, ...services, lastEvaluation: lastEvaluationIn(config.dataDir) });
  // With no saved model the GNN trains in the background; the bar ends with the run.
  void services.embeddings.trainingSettled().then(() => progress.stop());

  const stats = engine.stats();
  const model = services.embeddings.status();
  const firstUser = engine.graph.nodesOfKind('user').next();
  say(
    [
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
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof EngineError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
