/**
 * GNN benchmark, per backend that runs here:
 * - incremental update latency per interaction (p50/p99): one interaction applied to the graph, its user's
 *   embedding recomputed by the IncrementalUpdater, measured until it is in place;
 * - full inference time (every item and subject embedding), and the same scaled to 1M edges;
 * - training time per epoch on MovieLens latest-small (when the data set is present), and per 100K training
 *   examples;
 * - with --items N, the same on a synthetic catalogue of N items (--train-edges interactions), and its ratio
 *   to MovieLens's: training should cost the interactions, not the catalogue.
 *
 *   npm run bench:gnn -- --edges 1000000 [--backends wasm,cpu] [--updates 500] [--movielens DIR]
 *                        [--items 100000 [--train-edges 300000]] [--training-only]
 *
 * The last stdout line is one JSON object: the first backend's figures at the top level, every backend's
 * under `backends`.
 */
import { existsSync } from 'node:fs';

import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

import {
  BACKEND_PREFERENCES,
  type BackendPreference,
  BackendUnavailableError,
  DEFAULT_GAT,
  DEFAULT_TRAINING,
  IncrementalUpdater,
  initialiseBackend,
  InterestEmbeddings,
  InterestGAT,
  trainGat,
  trainingInputFromGraph,
  vocabularyOf,
} from '../gnn/index.ts';
import { baseWeight } from '../graph/edge-weight.ts';
import { InterestGraph } from '../graph/interest-graph.ts';
import { EdgeTypeCode } from '../graph/model.ts';
import { loadConfig } from '../src/config.ts';
import { checkInteractionEvent } from '../src/events/interaction-event.ts';
import { openLoader } from '../src/loaders/index.ts';
import { applyCatalogueItem, applyInteraction } from '../src/projection/graph-projection.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { syntheticInterestGraph } from '../src/synthetic/synthetic-graph.ts';
import { positiveInteger } from './cli.ts';

const program = new Command('bench:gnn')
  .option('--edges <n>', 'synthetic interactions in the graph', positiveInteger, 1_000_000)
  .option('--updates <n>', 'interactions streamed one at a time for the latency figures', positiveInteger, 500)
  .option('--backends <list>', `comma-separated, of ${BACKEND_PREFERENCES.filter((b) => b !== 'auto').join(', ')}; default: every one that runs`)
  .option('--movielens <dir>', 'MovieLens latest-small folder for the epoch time', '../shared/datasets/movielens-latest-small')
  .option('--seed <n>', 'generator seed', positiveInteger, 1)
  .option('--items <n>', 'also time a training epoch on a synthetic catalogue of this many items', positiveInteger)
  .option('--train-edges <n>', 'interactions of that synthetic catalogue', positiveInteger, 300_000)
  .option('--training-only', 'only the training figures (no incremental update or inference)')
  .parse();
const args = program.opts<{
  edges: number;
  updates: number;
  backends?: string;
  movielens: string;
  seed: number;
  items?: number;
  trainEdges: number;
  trainingOnly?: boolean;
}>();

const logger = pino({ level: 'warn' }, pino.destination(2));
const policy = loadConfig({ env: {} }).weightPolicy;
const say = (line: string) => process.stderr.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** The synthetic graph, built directly (the store is not what this measures). */
function syntheticGraph(edges: number): { graph: InterestGraph; extraUsers: string[]; items: string[] } {
  const data = generateSyntheticDataset({ seed: args.seed, edges });
  const graph = syntheticInterestGraph(data, policy);
  const users = Array.from({ length: Math.min(data.options.users, 2_000) }, (_, u) => data.userId(u));
  const items = Array.from({ length: data.options.items }, (_, i) => data.itemId(i));
  return { graph, extraUsers: users, items };
}

async function movieLensGraph(dir: string): Promise<InterestGraph | null> {
  if (!existsSync(dir)) return null;
  const loader = await openLoader(dir, 'movielens');
  const graph = new InterestGraph();
  const validation = { now: Number.MAX_SAFE_INTEGER, maxClockSkewMs: 0 };
  for await (const record of loader.records()) {
    if (record.kind === 'item') applyCatalogueItem(graph, record.item, 0);
    else if (record.kind === 'event') {
      const check = checkInteractionEvent(record.event, validation, '');
      if (check.ok) applyInteraction(graph, policy, check.interaction);
    }
  }
  return graph;
}

interface EpochFigures {
  items: number;
  examples: number;
  threads: number;
  /** The second epoch's (the first includes one-off kernel set-up). */
  epoch_s: number;
  epoch_s_per_100k_examples: number;
}

interface BackendFigures {
  backend: string;
  edges: number;
  subjects: number | null;
  incremental_p50_ms: number | null;
  incremental_p99_ms: number | null;
  full_inference_s: number | null;
  full_inference_s_per_1m_edges: number | null;
  /** MovieLens latest-small's. */
  epoch_s: number | null;
  epoch_s_per_100k_examples: number | null;
  /** With --items: the synthetic catalogue's, and its time per 100K examples over MovieLens's. */
  synthetic_training?: EpochFigures & { train_edges: number; ratio_to_movielens: number | null };
}

/** Two epochs on `graph`; the second one's time. */
async function epochTime(graph: InterestGraph, label: string): Promise<EpochFigures> {
  const { input, vocabulary } = trainingInputFromGraph(graph, policy);
  const model = new InterestGAT(DEFAULT_GAT, vocabulary.items.length, vocabulary.tags.length);
  try {
    const report = await trainGat(model, input, { ...DEFAULT_TRAINING, epochs: 2, patience: 2 });
    const seconds = report.epochs.at(-1)!.seconds;
    const per100k = (seconds / report.examples) * 1e5;
    say(
      `training epoch on ${label} (${vocabulary.items.length} items, ${report.examples} examples, ${report.threads} threads): ${report.epochs.map((e) => e.seconds.toFixed(1)).join(' s, ')} s; ${per100k.toFixed(1)} s per 100K examples`,
    );
    return {
      items: vocabulary.items.length,
      examples: report.examples,
      threads: report.threads,
      epoch_s: round(seconds, 2),
      epoch_s_per_100k_examples: round(per100k, 2),
    };
  } finally {
    model.dispose();
  }
}

/** The training figures: MovieLens latest-small's, and with --items the synthetic catalogue's. */
async function trainingFigures(ml: InterestGraph | null): Promise<Pick<BackendFigures, 'epoch_s' | 'epoch_s_per_100k_examples' | 'synthetic_training'>> {
  const movieLens = ml ? await epochTime(ml, 'MovieLens latest-small') : null;
  let synthetic: BackendFigures['synthetic_training'];
  if (args.items) {
    const data = generateSyntheticDataset({ seed: args.seed, edges: args.trainEdges, items: args.items });
    const figures = await epochTime(syntheticInterestGraph(data, policy), `a synthetic catalogue`);
    const ratio = movieLens ? round(figures.epoch_s_per_100k_examples / movieLens.epoch_s_per_100k_examples, 2) : null;
    if (ratio !== null) say(`time per 100K training examples, ${figures.items} synthetic items against MovieLens: ${ratio}×`);
    synthetic = { ...figures, train_edges: args.trainEdges, ratio_to_movielens: ratio };
  }
  const training = {
    epoch_s: movieLens?.epoch_s ?? null,
    epoch_s_per_100k_examples: movieLens?.epoch_s_per_100k_examples ?? null,
    ...(synthetic ? { synthetic_training: synthetic } : {}),
  };
  return training;
}

async function measure(preference: BackendPreference, ml: InterestGraph | null): Promise<BackendFigures> {
  const info = await initialiseBackend(preference, logger);
  say(`\n== ${info.name} (${info.package}) ==`);
  if (args.trainingOnly) {
    const training = await trainingFigures(ml);
    return {
      backend: info.name,
      edges: args.edges,
      subjects: null,
      incremental_p50_ms: null,
      incremental_p99_ms: null,
      full_inference_s: null,
      full_inference_s_per_1m_edges: null,
      ...training,
    };
  }
  const { graph, extraUsers, items } = syntheticGraph(args.edges);
  const vocabulary = vocabularyOf(graph);
  const model = new InterestGAT(DEFAULT_GAT, vocabulary.items.length, vocabulary.tags.length);
  const embeddings = new InterestEmbeddings(model, vocabulary, { version: 'bench', trainedAt: '', backend: info.name }, () => graph);
  embeddings.recomputeAll(); // warm-up: kernels compiled, tables allocated
  const fullStart = performance.now();
  const counts = embeddings.recomputeAll();
  const full = (performance.now() - fullStart) / 1000;
  say(`full inference: ${counts.items} items + ${counts.subjects} subjects in ${full.toFixed(2)} s (${(full / (args.edges / 1e6)).toFixed(2)} s per 1M edges)`);

  const updater = new IncrementalUpdater(
    () => embeddings,
    () => graph,
  );
  const latencies: number[] = [];
  const t0 = graph.latestTimestamp;
  for (let n = 0; n < args.updates; n++) {
    const user = graph.nodeIndex('user', extraUsers[(n * 7919) % extraUsers.length]!);
    const item = graph.nodeIndex('item', items[(n * 104_729) % items.length]!);
    const started = performance.now();
    graph.addEdge(user, item, EdgeTypeCode.click, t0 + n * 1000, baseWeight(policy, 'click', null));
    updater.interactionsAdded([user]);
    await updater.settled();
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  say(
    `incremental update per interaction: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms over ${args.updates}`,
  );
  model.dispose();
  // After the latency figures, as before training was measured per 100K examples.
  const training = await trainingFigures(ml);
  return {
    backend: info.name,
    edges: args.edges,
    subjects: counts.subjects,
    incremental_p50_ms: round(percentile(latencies, 0.5)),
    incremental_p99_ms: round(percentile(latencies, 0.99)),
    full_inference_s: round(full),
    full_inference_s_per_1m_edges: round(full / (args.edges / 1e6)),
    ...training,
  };
}

async function main(): Promise<void> {
  const wanted = (args.backends ?? 'tensorflow-gpu,tensorflow,wasm,cpu').split(',').map((b) => b.trim()) as BackendPreference[];
  for (const b of wanted) {
    if (!BACKEND_PREFERENCES.includes(b) || b === 'auto') throw new InvalidArgumentError(`--backends: unknown backend '${b}'`);
  }
  const ml = await movieLensGraph(args.movielens);
  if (!ml) say(`no MovieLens data at ${args.movielens}: epoch time not measured`);
  const results: Record<string, BackendFigures | { unavailable: string }> = {};
  for (const preference of wanted) {
    try {
      results[preference] = await measure(preference, ml);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      say(`\n== ${preference}: unavailable (${error.message})`);
      results[preference] = { unavailable: error.message };
    }
  }
  const first = Object.values(results).find((r): r is BackendFigures => 'backend' in r);
  if (!first) throw new Error('no backend ran');
  process.stdout.write(`${JSON.stringify({ ...first, backends: results })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:gnn: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
