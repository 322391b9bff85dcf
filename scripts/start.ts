/**
 * The main job on the embedded default: open the data directory (./data unless DATA_DIR says otherwise),
 * load the demo data into it when it is empty, and report what the interest graph holds.
 *
 *   npm start
 */
import { loadConfig } from '../src/config.ts';
import { InterestEngine } from '../src/engine.ts';
import { EngineError } from '../src/errors.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';

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
    const stats = engine.stats();
    process.stdout.write(
      [
        `Interest graph in ${config.dataDir} (${stats.store} store)`,
        `  users ${stats.users}, sessions ${stats.sessions}, items ${stats.items}, tags ${stats.tags}`,
        `  interactions ${stats.interactions}, item-tag edges ${stats.itemTags}`,
        `  weights decay to ${new Date(stats.decayReference).toISOString()} (${config.weights.clock} clock, half-life ${config.weights.halfLifeDays} days)`,
        '',
      ].join('\n'),
    );
  } finally {
    await engine.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof EngineError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
