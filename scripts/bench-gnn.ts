/**
 * GNN benchmark, per backend that runs here:
 * - incremental update latency per interaction (p50/p99): one interaction applied to the graph, its user's
 *   embedding recomputed by the IncrementalUpdater, measured until it is in place;
 * - full inference time (every item and subject embedding), and the same scaled to 1M edges;
 * - training time per epoch on MovieLens latest-small (when the data set is present).
 *
 *   npm run bench:gnn -- --edges 1000000 [--backends wasm,cpu] [--updates 500] [--movielens DIR]
 *
 * The last stdout line is one JSON object: the first backend's figures at the top level, every backend's
 * under `backends`.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { baseWeight } from '../graph/edge-weight.ts';
import { InterestGraph } from '../graph/interest-graph.ts';
import { EdgeTypeCode } from '../graph/model.ts';
import { BACKEND_PREFERENCES, BackendUnavailableError, initialiseBackend, type BackendPreference } from '../gnn/backend.ts';
import { trainingInputFromGraph, vocabularyOf } from '../gnn/graph-training-input.ts';
import { IncrementalUpdater } from '../gnn/incremental-updater.ts';
import { InterestEmbeddings } from '../gnn/interest-embeddings.ts';
import { DEFAULT_GAT, InterestGAT } from '../gnn/interest-gat.ts';
import { DEFAULT_TRAINING, trainGat } from '../gnn/training/gat-trainer.ts';
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
  .parse();
const args = program.opts<{ edges: number; updates: number; backends?: string; movielens: string; seed: number }>();

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

interface BackendFigures {
  backend: string;
  edges: number;
  subjects: number;
  incremental_p50_ms: number;
  incremental_p99_ms: number;
  full_inference_s: number;
  full_inference_s_per_1m_edges: number;
  epoch_s: number | null;
}

async function measure(preference: BackendPreference, ml: InterestGraph | null): Promise<BackendFigures> {
  const info = await initialiseBackend(preference, logger);
  say(`\n== ${info.name} (${info.package}) ==`);
  const { graph, extraUsers, items } = syntheticGraph(args.edges);
  const vocabulary = vocabularyOf(graph);
  const model = new InterestGAT(DEFAULT_GAT, vocabulary.items.length, vocabulary.tags.length);
  const embeddings = new InterestEmbeddings(model, vocabulary, { version: 'bench', trainedAt: '', backend: info.name }, () => graph);
  embeddings.recomputeAll(); // warm-up: kernels compiled, tables allocated
  const fullStart = performance.now();
  const counts = embeddings.recomputeAll();
  const full = (performance.now() - fullStart) / 1000;
  say(`full inference: ${counts.items} items + ${counts.subjects} subjects in ${full.toFixed(2)} s (${(full / (args.edges / 1e6)).toFixed(2)} s per 1M edges)`);

  const updater = new IncrementalUpdater(() => embeddings, () => graph);
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
  say(`incremental update per interaction: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms over ${args.updates}`);
  model.dispose();

  let epoch: number | null = null;
  if (ml) {
    const { input, vocabulary: mlVocabulary } = trainingInputFromGraph(ml, policy);
    const mlModel = new InterestGAT(DEFAULT_GAT, mlVocabulary.items.length, mlVocabulary.tags.length);
    const report = await trainGat(mlModel, input, { ...DEFAULT_TRAINING, epochs: 2, patience: 2 });
    // The first epoch includes one-off kernel set-up; the second is the steady state.
    epoch = report.epochs.at(-1)!.seconds;
    say(`training epoch on MovieLens latest-small (${report.examples} examples, ${report.threads} threads): ${report.epochs.map((e) => e.seconds.toFixed(1)).join(' s, ')} s`);
    mlModel.dispose();
  }
  return {
    backend: info.name,
    edges: args.edges,
    subjects: counts.subjects,
    incremental_p50_ms: round(percentile(latencies, 0.5)),
    incremental_p99_ms: round(percentile(latencies, 0.99)),
    full_inference_s: round(full),
    full_inference_s_per_1m_edges: round(full / (args.edges / 1e6)),
    epoch_s: epoch === null ? null : round(epoch, 2),
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
