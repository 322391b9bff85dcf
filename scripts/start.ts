/**
 * The main job on the embedded default: open the data directory (./data unless DATA_DIR says otherwise),
 * load the demo data into it when it is empty, load the GNN (training it, with a progress bar, when the
 * data directory holds no model yet), and report what the interest graph and the model hold, with a
 * first user's top picks and why.
 *
 *   npm start
 */
import { loadConfig, type EngineConfig } from '../src/config.ts';
import { EmbeddingService, embeddingSettingsOf } from '../src/embeddings/embedding-service.ts';
import { InterestEngine } from '../src/engine.ts';
import { EngineError } from '../src/errors.ts';
import { Recommender } from '../src/recommendations/recommender.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { epochProgress } from './progress.ts';

const DEMO = { seed: 7, edges: 200_000, users: 4_000, items: 2_000, topics: 12 };

async function main(): Promise<void> {
  const config = loadConfig();
  const engine = await InterestEngine.open(config);
  try {
    if (engine.stats().interactions === 0 && config.demoData === 'synthetic') {
      const started = performance.now();
      const demo = generateSyntheticDataset(DEMO);
      await engine.upsertItems(demo.catalogue());
      for (const batch of demo.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
      engine.logger.info({ ...DEMO, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) }, 'demo data loaded');
    }
    const settings = embeddingSettingsOf(config.gnn);
    const progress = epochProgress(settings.epochs);
    const service = await EmbeddingService.start(engine, settings, engine.logger, { onEpoch: progress.update });
    progress.stop();
    const model = service.status();
    const sample = sampleRecommendations(engine, service, config);
    await service.close();
    const stats = engine.stats();
    process.stdout.write(
      [
        `Interest graph in ${config.dataDir} (${stats.store} store)`,
        `  users ${stats.users}, sessions ${stats.sessions}, items ${stats.items}, tags ${stats.tags}`,
        `  interactions ${stats.interactions}, item-tag edges ${stats.itemTags}`,
        `  weights decay to ${new Date(stats.decayReference).toISOString()} (${config.weights.clock} clock, half-life ${config.weights.halfLifeDays} days)`,
        model.loaded
          ? `GNN model ${model.version} (trained ${model.trainedAt}) on the ${model.backend.name} backend, validation recall@20 ${Number(model.training?.validationRecall ?? 0).toFixed(3)}`
          : `GNN model: none yet (${config.gnn.minInteractions} interactions needed to train)`,
        ...sample,
        '',
      ].join('\n'),
    );
  } finally {
    await engine.close();
  }
}

/** The top three for the first user, with why: what `npm run recommend` shows in full. */
function sampleRecommendations(engine: InterestEngine, service: EmbeddingService, config: EngineConfig): string[] {
  const first = engine.graph.nodesOfKind('user').next();
  if (first.done) return [];
  const user = engine.graph.externalId(first.value);
  const recommender = new Recommender(engine, service, config.recommend);
  try {
    const { items } = recommender.recommend({ kind: 'user', id: user }, { count: 3 });
    return [
      `Top picks for ${user} (npm run recommend -- --user ${user}):`,
      ...items.map((item, k) => `  ${k + 1}. ${item.title}: ${item.because ?? ''}`),
    ];
  } finally {
    recommender.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof EngineError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
