/**
 * Query-layer benchmark: latency of top-20 recommendations for users (with explanation paths, and
 * without), and throughput with one worker thread per core, on a synthetic graph.
 *
 *   npm run bench:recs -- --users 100000 --items 20000 --edges 5000000 [--requests 3000] [--workers 2]
 *
 * A GAT is trained briefly on the first interactions (inference cost does not depend on how well it is
 * trained), saved, and loaded by each worker; every worker builds the same graph from the same seed and
 * serves requests for random users in a closed loop. Latencies are per request, measured while every
 * worker runs. The last stdout line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';

import { Command } from 'commander';
import { pino } from 'pino';

import { startModuleWorker } from '../base/worker-thread.ts';
import {
  DEFAULT_GAT,
  DEFAULT_TRAINING,
  initialiseBackend,
  InterestEmbeddings,
  loadCheckpoint,
  newVersion,
  saveCheckpoint,
  trainOnGraph,
} from '../gnn/index.ts';
import { SeededRandom } from '../graph/random.ts';
import { ItemCatalogue } from '../src/catalogue/item-catalogue.ts';
import { loadConfig } from '../src/config.ts';
import { Recommender } from '../src/recommendations/recommender.ts';
import { generateSyntheticDataset, type SyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { syntheticInterestGraph } from '../src/synthetic/synthetic-graph.ts';
import { positiveInteger } from './cli.ts';

interface Args {
  users: number;
  items: number;
  edges: number;
  requests: number;
  workers: number;
  seed: number;
  trainInteractions: number;
}

interface WorkerReport {
  withExplanations: { latencies: number[]; seconds: number };
  withoutExplanations: { latencies: number[]; seconds: number };
  approximate: boolean;
  setupSeconds: number;
}

const config = loadConfig({ env: {} });
const say = (line: string) => process.stderr.write(`${line}\n`);
const logger = pino({ level: 'warn' }, pino.destination(2));

function dataset(args: Args): SyntheticDataset {
  return generateSyntheticDataset({ seed: args.seed, edges: args.edges, users: args.users, items: args.items, sessionShare: 0 });
}

async function main(): Promise<void> {
  const args = new Command('bench:recs')
    .option('--users <n>', 'users in the synthetic graph', positiveInteger, 100_000)
    .option('--items <n>', 'items', positiveInteger, 20_000)
    .option('--edges <n>', 'interactions', positiveInteger, 5_000_000)
    .option('--requests <n>', 'requests per worker, for each of the two runs', positiveInteger, 3_000)
    .option('--workers <n>', 'worker threads serving requests (one per core)', positiveInteger, Math.min(2, availableParallelism()))
    .option('--seed <n>', 'generator seed', positiveInteger, 1)
    .option('--train-interactions <n>', 'interactions the GAT is trained on', positiveInteger, 200_000)
    .parse()
    .opts<Args>();

  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-recs-'));
  try {
    const started = performance.now();
    await initialiseBackend(config.gnn.backend, logger);
    const data = dataset(args);
    const sample = syntheticInterestGraph(data, config.weightPolicy, Math.min(args.trainInteractions, args.edges));
    const trained = await trainOnGraph(sample, config.weightPolicy, DEFAULT_GAT, { ...DEFAULT_TRAINING, epochs: 1 });
    saveCheckpoint(dataDir, trained.model, trained.vocabulary, {
      version: newVersion(),
      trainedAt: new Date().toISOString(),
      backend: 'bench',
      hyper: DEFAULT_GAT,
      training: {},
    });
    trained.model.dispose();
    say(
      `GAT trained on ${sample.counts().interactions} interactions in ${((performance.now() - started) / 1000).toFixed(1)} s; starting ${args.workers} workers`,
    );

    // Runs start together on every worker: a worker still building its graph would otherwise share a core
    // with one already serving, and the throughput "across both cores" would be understated.
    const workers: Worker[] = [];
    const barrier = new Barrier(args.workers, () => {
      for (const worker of workers) worker.postMessage('go');
    });
    const reports = await Promise.all(
      Array.from(
        { length: args.workers },
        (_, w) =>
          new Promise<WorkerReport>((resolve, reject) => {
            const worker = startModuleWorker(import.meta.url, { args, dataDir, worker: w });
            workers.push(worker);
            worker.on('message', (m: { waiting?: true; report?: WorkerReport }) => {
              if (m.waiting) barrier.arrive();
              if (m.report) resolve(m.report);
            });
            worker.on('error', reject);
            worker.on('exit', (code) => code !== 0 && reject(new Error(`worker ${w} exited with ${code}`)));
          }),
      ),
    );
    const summary = (run: 'withExplanations' | 'withoutExplanations') => {
      const latencies = reports.flatMap((r) => r[run].latencies).sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
      const throughput = reports.reduce((sum, r) => sum + r[run].latencies.length / r[run].seconds, 0);
      return { p50: pct(0.5), p99: pct(0.99), throughput };
    };
    const withPaths = summary('withExplanations');
    const without = summary('withoutExplanations');
    const r3 = (x: number) => Number(x.toFixed(3));
    say(
      `setup per worker (graph, embeddings, index): ${reports[0]!.setupSeconds.toFixed(1)} s; embedding search: ${reports[0]!.approximate ? 'HNSW' : 'exact scan'}`,
    );
    say(
      `top-20 with explanations:    p50 ${withPaths.p50.toFixed(2)} ms, p99 ${withPaths.p99.toFixed(2)} ms, ${withPaths.throughput.toFixed(0)} requests/s over ${args.workers} workers`,
    );
    say(`top-20 without explanations: p50 ${without.p50.toFixed(2)} ms, p99 ${without.p99.toFixed(2)} ms, ${without.throughput.toFixed(0)} requests/s`);
    process.stdout.write(
      `${JSON.stringify({
        users: args.users,
        items: args.items,
        edges: args.edges,
        workers: args.workers,
        approximate_index: reports[0]!.approximate,
        p50_ms: r3(withPaths.p50),
        p99_ms: r3(withPaths.p99),
        requests_per_s: Math.round(withPaths.throughput),
        p50_ms_without_explanations: r3(without.p50),
        p99_ms_without_explanations: r3(without.p99),
        requests_per_s_without_explanations: Math.round(without.throughput),
      })}\n`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One worker: builds the graph and embeddings, then serves the two runs and reports its latencies. */
async function serve(args: Args, dataDir: string, worker: number): Promise<WorkerReport> {
  const started = performance.now();
  await initialiseBackend(config.gnn.backend, logger);
  const data = dataset(args);
  const graph = syntheticInterestGraph(data, config.weightPolicy);
  const catalogue = new ItemCatalogue();
  for (const item of data.catalogue()) catalogue.put(item);
  const saved = loadCheckpoint(dataDir)!;
  const embeddings = new InterestEmbeddings(saved.model, saved.vocabulary, saved.summary, () => graph);
  embeddings.recomputeAll();
  const recommender = new Recommender(
    { graph, catalogue, weightPolicy: config.weightPolicy, decayReference: () => graph.latestTimestamp, subscribe: () => () => undefined },
    { embeddings: () => embeddings, updater: { flush: () => undefined } },
    config.recommend,
  );
  const random = new SeededRandom(1_000 + worker);
  const users = Array.from({ length: Math.min(args.users, data.options.users) }, (_, u) => data.userId(u)).filter((id) => graph.nodeIndex('user', id) >= 0);
  const run = (explain: boolean, requests: number) => {
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let n = 0; n < requests; n++) {
      const id = users[random.int(users.length)]!;
      const t = performance.now();
      recommender.recommend({ kind: 'user', id }, { count: 20, explain });
      latencies.push(performance.now() - t);
    }
    return { latencies, seconds: (performance.now() - t0) / 1000 };
  };
  run(true, Math.min(300, args.requests)); // warm-up: JIT, adjacency caches
  const setupSeconds = (performance.now() - started) / 1000;
  const { approximate } = recommender.recommend({ kind: 'user', id: users[0]! }, { count: 1, explain: false });
  await allWorkersReady();
  const withExplanations = run(true, args.requests);
  await allWorkersReady();
  const withoutExplanations = run(false, args.requests);
  return { withExplanations, withoutExplanations, approximate, setupSeconds };
}

/** Tells the main thread this worker is waiting, and resolves when every worker is. */
function allWorkersReady(): Promise<void> {
  return new Promise((resolve) => {
    parentPort!.once('message', () => resolve());
    parentPort!.postMessage({ waiting: true });
  });
}

/** Calls `release` each time `parties` arrivals have been counted. */
class Barrier {
  private arrived = 0;
  constructor(
    private readonly parties: number,
    private readonly release: () => void,
  ) {}
  arrive(): void {
    if (++this.arrived < this.parties) return;
    this.arrived = 0;
    this.release();
  }
}

if (isMainThread) {
  await main();
} else {
  const { args, dataDir, worker } = workerData as { args: Args; dataDir: string; worker: number };
  parentPort!.postMessage({ report: await serve(args, dataDir, worker) });
}
