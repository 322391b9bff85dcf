/**
 * Load test of the HTTP API with autocannon: recommendations with explanations (top 20) and event
 * ingest, on a server over a synthetic interest graph of --edges interactions with a trained GAT.
 * The server runs on this process's main thread (auth on, one key) as it does under `npm start`; the
 * autocannon client runs in a child process, so it does not steal the server's event loop.
 *
 *   npm run loadtest -- [--edges 1000000] [--seconds 10] [--connections 8]
 *
 * The last line is one JSON object: recommend_requests_per_s, recommend_p50_ms, recommend_p99_ms,
 * ingest_events_per_s, ingest_p99_ms, …
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';
import { Command } from 'commander';

import { createLogger } from '../base/logger.ts';
import { ApiServer } from '../src/api/api-server.ts';
import { loadConfig } from '../src/config.ts';
import { InterestEngine } from '../src/engine.ts';
import { type EngineServices, startEngineServices } from '../src/engine-services.ts';
import { generateSyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { positiveInteger } from './cli.ts';

type Args = { edges: number; seconds: number; connections: number; batch: number; workers: number };
const parseArgs = (): Args =>
  new Command()
    .option('--edges <n>', 'interactions in the graph', positiveInteger, 1_000_000)
    .option('--seconds <n>', 'duration of each run', positiveInteger, 10)
    .option('--connections <n>', 'concurrent connections', positiveInteger, 8)
    .option('--batch <n>', 'events per ingest request', positiveInteger, 100)
    .option('--workers <n>', 'server processes (as WORKERS); 1 serves from this process', positiveInteger, loadConfig({ env: {} }).workers)
    .parse()
    .opts<Args>();
const say = (line: string) => process.stderr.write(`${line}\n`);
const KEY = 'loadtest-key-0123456789abcdef';

async function main(args: Args): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'loadtest-'));
  const config = loadConfig({
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      GNN_EPOCHS: process.env.GNN_EPOCHS ?? '1',
      GNN_REFRESH_MINUTES: '0',
      API_KEYS: `loadtest:${KEY}:admin`,
      LOG_LEVEL: 'warn',
    },
    overrides: { durability: 'normal' },
  });
  const logger = createLogger('warn');
  const users = Math.max(100, Math.round(args.edges / 50));
  const data = generateSyntheticDataset({ seed: 5, edges: args.edges, users, items: Math.max(200, Math.round(args.edges / 250)), topics: 20 });
  const engine = await InterestEngine.open(config, { logger });
  const api = new ApiServer({ ...config, api: { ...config.api, rateLimitPerMinute: 100_000_000 } }, logger);
  let services: EngineServices | null = null;
  let cluster: Awaited<ReturnType<typeof startCluster>> | null = null;
  try {
    let started = performance.now();
    await engine.upsertItems(data.catalogue());
    for (const batch of data.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
    say(`loaded ${args.edges} interactions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    services = await startEngineServices(engine, logger);
    // Measured with the model in service: the embedding source is part of every request.
    await services.embeddings.trainingSettled();
    say(`GAT trained and communities found in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    let url: string;
    if (args.workers > 1) {
      // The workers open the same data directory: this process lets go of it first.
      await services.close();
      services = null;
      await engine.close();
      cluster = await startCluster(dataDir, args.workers);
      url = cluster.url;
    } else {
      api.attach({ engine, ...services, lastEvaluation: () => null });
      url = await api.listen(0, '127.0.0.1');
    }

    const run = {
      url,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      connections: args.connections,
      seconds: args.seconds,
      batch: args.batch,
    };
    const userIds = Array.from({ length: users }, (_, i) => data.userId(i));
    const itemIds = Array.from({ length: data.options.items }, (_, i) => data.itemId(i));
    const recommend = await inClientProcess({ ...run, kind: 'recommend', userIds, itemIds });
    const memory = cluster ? processMemory(cluster.pid) : { primary_rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20), worker_rss_mb: [] };
    say(
      `recommendations (top 20 with explanations): ${recommend.requests.average.toFixed(0)} requests/s, p50 ${recommend.latency.p50} ms, p99 ${recommend.latency.p99} ms, errors ${recommend.non2xx + recommend.errors}`,
    );
    const ingest = await inClientProcess({ ...run, kind: 'ingest', userIds, itemIds });
    const eventsPerSecond = ingest.requests.average * args.batch;
    say(
      `ingest (${args.batch} events a request, durable before the answer): ${eventsPerSecond.toFixed(0)} events/s, p50 ${ingest.latency.p50} ms, p99 ${ingest.latency.p99} ms, errors ${ingest.non2xx + ingest.errors}`,
    );
    process.stdout.write(
      `${JSON.stringify({
        edges: args.edges,
        connections: args.connections,
        workers: args.workers,
        ...memory,
        recommend_requests_per_s: Math.round(recommend.requests.average),
        recommend_p50_ms: recommend.latency.p50,
        recommend_p99_ms: recommend.latency.p99,
        recommend_errors: recommend.non2xx + recommend.errors,
        ingest_events_per_s: Math.round(eventsPerSecond),
        ingest_requests_per_s: Math.round(ingest.requests.average),
        ingest_p50_ms: ingest.latency.p50,
        ingest_p99_ms: ingest.latency.p99,
        ingest_errors: ingest.non2xx + ingest.errors,
      })}\n`,
    );
  } finally {
    await cluster?.stop();
    await api.close();
    await services?.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `npm start` with `workers` workers on the loaded data directory (the model trained above is in it). */
async function startCluster(dataDir: string, workers: number): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  // LOADTEST_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to the server's processes, workers included.
  const nodeArgs = (process.env.LOADTEST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(new URL('./start.ts', import.meta.url))], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      WORKERS: String(workers),
      API_KEYS: `loadtest:${KEY}:admin`,
      API_RATE_LIMIT_PER_MINUTE: '100000000',
      GNN_REFRESH_MINUTES: '0',
      DEMO_DATA: 'none',
      DURABILITY: 'normal',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ready = /^Ready: (http:\/\/[^/\s]+)\//.exec(line);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code} before it was ready`)));
  });
  say(`${workers} workers serving at ${url}`);
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory of the primary and of each of its workers, from /proc (Linux). */
function processMemory(primary: number): { primary_rss_mb: number; worker_rss_mb: number[] } {
  const rssMb = (pid: number): number => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  };
  const children = execFileSync('pgrep', ['-P', String(primary), '-f', 'start.ts'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  return { primary_rss_mb: rssMb(primary), worker_rss_mb: children.map(rssMb) };
}

interface ClientRun {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  batch: number;
  kind: 'recommend' | 'ingest';
  userIds: string[];
  itemIds: string[];
}

type ClientResult = Pick<autocannon.Result, 'requests' | 'latency' | 'non2xx' | 'errors'>;

function inClientProcess(run: ClientRun): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--client'], { execArgv: ['--import', 'tsx'] });
    child.once('message', (result) => {
      resolve(result as ClientResult);
      child.disconnect();
    });
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the load-test client exited with code ${code}`)));
    child.send(run);
  });
}

/** The client: one autocannon run, its result posted back. */
async function client(run: ClientRun): Promise<void> {
  let n = 0;
  const request: autocannon.Request =
    run.kind === 'recommend'
      ? { method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/users/${run.userIds[n++ % run.userIds.length]}/recommendations?count=20` }) }
      : {
          method: 'POST',
          path: '/v1/events',
          setupRequest: (req) => {
            const events = Array.from({ length: run.batch }, () => {
              const k = n++;
              return { id: `load-${k}`, userId: run.userIds[k % run.userIds.length], itemId: run.itemIds[(k * 7919) % run.itemIds.length], type: 'view' };
            });
            return { ...req, body: JSON.stringify({ events }) };
          },
        };
  const result = await autocannon({ url: run.url, connections: run.connections, duration: run.seconds, headers: run.headers, requests: [request] });
  const summary: ClientResult = { requests: result.requests, latency: result.latency, non2xx: result.non2xx, errors: result.errors };
  process.send!(summary);
}

if (process.argv.includes('--client')) {
  process.once('message', (run) => void client(run as ClientRun));
} else {
  main(parseArgs()).catch((error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  });
}
