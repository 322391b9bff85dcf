/**
 * Ingest benchmark: in-memory insert rate, bytes per edge of the projection, durable ingest rate through
 * the engine (validation + SQLite commit + graph update) in batches of 1,000, and restart time.
 *
 *   npm run bench:ingest -- --edges 1000000 [--data-dir DIR] [--durability full|normal] [--runs 3]
 *
 * Prints its figures and conditions, then one JSON object as the last line.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Command } from 'commander';
import { pino } from 'pino';

import { baseWeight } from '../graph/edge-weight.ts';
import { InterestGraph } from '../graph/interest-graph.ts';
import { INTERACTION_TYPES, NodeKindCode } from '../graph/model.ts';
import { loadConfig } from '../src/config.ts';
import { InterestEngine } from '../src/engine.ts';
import { generateSyntheticDataset, type SyntheticDataset } from '../src/synthetic/synthetic-dataset.ts';
import { positiveInteger } from './cli.ts';

const program = new Command('bench:ingest')
  .option('--edges <n>', 'synthetic interactions', positiveInteger, 1_000_000)
  .option('--runs <n>', 'in-memory insert runs (median reported)', positiveInteger, 3)
  .option('--batch <n>', 'events per durable batch', positiveInteger, 1_000)
  .option('--durability <mode>', 'full (fsync per commit) or normal', 'full')
  .option('--data-dir <dir>', 'where the benchmark store goes (default: a temp dir, removed afterwards)')
  .option('--seed <n>', 'generator seed', positiveInteger, 1)
  .option('--random-ids', 'send random (UUIDv4-like) event ids instead of time-ordered ones')
  .parse();
const opts = program.opts<{
  edges: number;
  runs: number;
  batch: number;
  durability: string;
  dataDir?: string;
  seed: number;
  randomIds?: boolean;
}>();
if (opts.durability !== 'full' && opts.durability !== 'normal') {
  program.error(`error: option '--durability' must be full or normal, got '${opts.durability}'`, { exitCode: 2 });
}

const gc = (globalThis as { gc?: () => void }).gc;
function settledMemory(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (line: string) => process.stdout.write(`${line}\n`);

const config = loadConfig({
  env: {},
  overrides: { dataDir: opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'bench-ingest-')), durability: opts.durability as 'full' },
});

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // Not a git checkout: the commit stays unknown.
}

log(`bench:ingest  edges=${opts.edges}  batch=${opts.batch}  durability=${opts.durability}  node=${process.version}  commit=${commit}`);
let started = performance.now();
const dataset = generateSyntheticDataset({ edges: opts.edges, seed: opts.seed });
const { users, items, sessions } = dataset.options;
log(`generated ${opts.edges} interactions (${users} users, ${items} items, ${sessions} sessions) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

// ---- 1. in-memory inserts into a graph growing from empty: append alone (node ids resolved before the
// clock starts), and append with string id resolution (what the ingest path does) ----
const userIds = Array.from({ length: users }, (_, u) => dataset.userId(u));
const sessionIds = Array.from({ length: sessions }, (_, s) => dataset.sessionId(s));
const itemIds = Array.from({ length: items }, (_, i) => dataset.itemId(i));
const typeBase = INTERACTION_TYPES.map((t) => (t === 'rating' ? Number.NaN : baseWeight(config.weightPolicy, t, null)));

function weightOf(c: SyntheticDataset['interactions'], k: number): number {
  const t = c.type[k]!;
  return Number.isNaN(typeBase[t]!) ? baseWeight(config.weightPolicy, 'rating', c.value[k]!) : typeBase[t]!;
}

function appendOnly(data: SyntheticDataset): { graph: InterestGraph; seconds: number } {
  const c = data.interactions;
  const graph = new InterestGraph();
  const userNodes = Int32Array.from(userIds, (id) => graph.addNode('user', id));
  const sessionNodes = Int32Array.from(sessionIds, (id) => graph.addNode('session', id));
  const itemNodes = Int32Array.from(itemIds, (id) => graph.addNode('item', id));
  const started = performance.now();
  for (let k = 0; k < c.length; k++) {
    const subject = c.subjectKind[k] === NodeKindCode.session ? sessionNodes[c.subject[k]!]! : userNodes[c.subject[k]!]!;
    graph.addEdge(subject, itemNodes[c.item[k]!]!, c.type[k]!, c.ts[k]!, weightOf(c, k));
  }
  return { graph, seconds: (performance.now() - started) / 1000 };
}

function appendWithLookups(data: SyntheticDataset): { graph: InterestGraph; seconds: number } {
  const c = data.interactions;
  const graph = new InterestGraph();
  const started = performance.now();
  for (let k = 0; k < c.length; k++) {
    const isSession = c.subjectKind[k] === NodeKindCode.session;
    const subject = isSession ? graph.addNode('session', sessionIds[c.subject[k]!]!) : graph.addNode('user', userIds[c.subject[k]!]!);
    const item = graph.addNode('item', itemIds[c.item[k]!]!);
    graph.addEdge(subject, item, c.type[k]!, c.ts[k]!, weightOf(c, k));
  }
  return { graph, seconds: (performance.now() - started) / 1000 };
}

const appendRates: number[] = [];
const lookupRates: number[] = [];
let bytesPerEdge = 0;
let typedBytesPerEdge = 0;
for (let run = 0; run < opts.runs; run++) {
  const appended = appendOnly(dataset);
  appendRates.push(opts.edges / appended.seconds);
  const before = settledMemory();
  const built: { graph: InterestGraph; seconds: number } | null = appendWithLookups(dataset);
  lookupRates.push(opts.edges / built.seconds);
  // Everything the projection holds: typed arrays, id strings' table entries and the id maps.
  bytesPerEdge = (settledMemory() - before) / opts.edges;
  typedBytesPerEdge = built.graph.typedArrayBytes() / opts.edges;
  log(
    `in-memory run ${run + 1}: append ${(appendRates[run]! / 1e6).toFixed(2)} M edges/s, ` +
      `append with id lookups ${(lookupRates[run]! / 1e6).toFixed(2)} M edges/s, ` +
      `${bytesPerEdge.toFixed(1)} bytes/edge (typed arrays ${typedBytesPerEdge.toFixed(1)})`,
  );
}

// ---- 2. durable ingest through the engine, batches of `batch` ----
const quiet = pino({ level: 'silent' });
let engine = await InterestEngine.open(config, { logger: quiet });
await engine.upsertItems(dataset.catalogue().slice(0, 0)); // warm the write path without data
const batchSeconds: number[] = [];
started = performance.now();
let lastReport = started;
for (let k = 0; k < opts.edges; k += opts.batch) {
  const events = dataset.eventsAt(k, k + opts.batch);
  if (opts.randomIds) for (const e of events) e.id = randomUUID();
  const t = performance.now();
  const receipt = await engine.ingestEvents(events);
  batchSeconds.push((performance.now() - t) / 1000);
  if (receipt.accepted !== events.length) throw new Error(`batch at ${k}: ${receipt.accepted} of ${events.length} accepted`);
  if (performance.now() - lastReport > 10_000) {
    lastReport = performance.now();
    process.stderr.write(`  durable ingest: ${k + events.length} / ${opts.edges}\n`);
  }
}
const ingestWall = (performance.now() - started) / 1000;
const ingestBusy = batchSeconds.reduce((a, b) => a + b, 0);
const durableRate = opts.edges / ingestBusy;
log(
  `durable ingest: ${Math.round(durableRate)} events/s in ingest calls (median batch ${(median(batchSeconds) * 1000).toFixed(2)} ms), ` +
    `${Math.round(opts.edges / ingestWall)} events/s including building the event objects`,
);
await engine.close();

const dbBytes = readdirSync(config.dataDir).reduce((sum, f) => sum + statSync(path.join(config.dataDir, f)).size, 0);
log(`store on disk: ${(dbBytes / 1e6).toFixed(0)} MB (${(dbBytes / opts.edges).toFixed(0)} bytes/event)`);

// ---- 3. restart: open the store and rebuild the projection ----
started = performance.now();
engine = await InterestEngine.open(config, { logger: quiet });
const restartSeconds = (performance.now() - started) / 1000;
const counts = engine.stats();
// Erasing one user scans the interactions table (there is deliberately no index by subject).
started = performance.now();
await engine.eraseSubject('user', dataset.userId(0));
const eraseMs = performance.now() - started;
await engine.close();
log(`erase one user: ${eraseMs.toFixed(0)} ms`);
if (counts.interactions !== opts.edges) throw new Error(`restart found ${counts.interactions} interactions, expected ${opts.edges}`);
log(`restart (open + rebuild ${counts.interactions} interactions, ${counts.nodes} nodes): ${restartSeconds.toFixed(2)} s`);

if (!opts.dataDir) rmSync(config.dataDir, { recursive: true, force: true });

const result = {
  edges: opts.edges,
  users,
  items,
  insert_edges_per_s: Math.round(median(appendRates)),
  insert_with_id_lookup_edges_per_s: Math.round(median(lookupRates)),
  bytes_per_edge: Number(bytesPerEdge.toFixed(1)),
  typed_array_bytes_per_edge: Number(typedBytesPerEdge.toFixed(1)),
  durable_events_per_s: Math.round(durableRate),
  durable_batch_p50_ms: Number((median(batchSeconds) * 1000).toFixed(2)),
  durability: opts.durability,
  event_ids: opts.randomIds ? 'random' : 'time-ordered',
  erase_user_ms: Math.round(eraseMs),
  restart_s: Number(restartSeconds.toFixed(2)),
  store_bytes_per_event: Math.round(dbBytes / opts.edges),
  commit,
};
log(JSON.stringify(result));
