/**
 * TensorFlow.js backends on GAT-shaped work, to decide the `auto` order in gnn/backend.ts.
 *
 *   npm run bench:backends -- [--nodes 50000] [--fanout 10] [--heads 4] [--head-dims 16] [--runs 3]
 *                              [--backends tensorflow-gpu,tensorflow,wasm,cpu]
 *
 * Per backend that loads (with our kernels, as the GNN runs it): one graph-attention layer over every node
 * as a centre — gather its neighbours' features, project them (matMul), attention logits, softmax over the
 * neighbours, weighted sum — forward, and forward + gradient step (SGD on the weights and on the node
 * features, whose gradient goes through gather's: UnsortedSegmentSum); and the full-softmax scoring
 * product [256×64]·[64×10000]. Median of --runs runs after one warm-up. Backends that do not load are
 * reported with the reason. Prints a table and its conditions, then one JSON object as the last line.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError } from 'commander';

import { createLogger } from '../base/logger.ts';
import { BACKEND_PREFERENCES, type BackendInfo, type BackendPreference, BackendUnavailableError, selectBackend } from '../gnn/index.ts';
import { SeededRandom } from '../graph/random.ts';
import { positiveInteger } from './cli.ts';

const CONCRETE = BACKEND_PREFERENCES.filter((b) => b !== 'auto');

const program = new Command('bench:backends')
  .option('--nodes <n>', 'centre nodes (also the size of the node table)', positiveInteger, 50_000)
  .option('--fanout <n>', 'neighbours per centre node', positiveInteger, 10)
  .option('--heads <n>', 'attention heads', positiveInteger, 4)
  .option('--head-dims <n>', 'dimensions per head', positiveInteger, 16)
  .option('--input-dims <n>', 'node feature dimensions', positiveInteger, 64)
  .option('--runs <n>', 'timed runs per figure (median reported), after one warm-up', positiveInteger, 3)
  .option('--backends <list>', `comma-separated, of ${CONCRETE.join(', ')}`, backendList, [...CONCRETE])
  .option('--seed <n>', 'seed for features and neighbour lists', positiveInteger, 1)
  .parse();
const opts = program.opts<{
  nodes: number;
  fanout: number;
  heads: number;
  headDims: number;
  inputDims: number;
  runs: number;
  backends: BackendPreference[];
  seed: number;
}>();

function backendList(value: string): BackendPreference[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(CONCRETE as readonly string[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown backend ${unknown.join(', ')} (choose from ${CONCRETE.join(', ')})`);
  return names as BackendPreference[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (line: string) => process.stdout.write(`${line}\n`);
const logger = createLogger('info');

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'gnn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (dirty.trim() !== '') commit += '+uncommitted gnn/';
} catch {
  // Not a git checkout: the commit stays unknown.
}

const { nodes: n, fanout: k, heads: h, headDims: dh, inputDims: dIn } = opts;
const dOut = h * dh;
const SCORING = { users: 256, dims: 64, items: 10_000 };

// Data drawn once, in JavaScript, so every backend sees the same numbers.
const random = new SeededRandom(opts.seed);
const features = Float32Array.from({ length: n * dIn }, () => (random.float() * 2 - 1) * 0.5);
const neighbours = Int32Array.from({ length: n * k }, () => Math.floor(random.float() * n));
const glorot = (fanIn: number, fanOut: number, size: number) => {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: size }, () => (random.float() * 2 - 1) * limit);
};
const wInit = glorot(dIn, dOut, dIn * dOut);
const aSrcInit = glorot(dh, 1, h * dh);
const aDstInit = glorot(dh, 1, h * dh);
const usersInit = Float32Array.from({ length: SCORING.users * SCORING.dims }, () => random.float() * 2 - 1);
const itemsInit = Float32Array.from({ length: SCORING.dims * SCORING.items }, () => random.float() * 2 - 1);

/** One GAT layer: every node attends over its k sampled neighbours, h heads of dh dimensions. */
class AttentionLayer {
  readonly x = tf.variable(tf.tensor2d(features, [n, dIn]), true, 'x');
  readonly w = tf.variable(tf.tensor2d(wInit, [dIn, dOut]), true, 'W');
  readonly aSrc = tf.variable(tf.tensor2d(aSrcInit, [h, dh]), true, 'a_src');
  readonly aDst = tf.variable(tf.tensor2d(aDstInit, [h, dh]), true, 'a_dst');
  readonly ids = tf.tensor1d(neighbours, 'int32');

  forward(): tf.Tensor2D {
    return tf.tidy(() => {
      const gathered = tf.gather(this.x, this.ids); // [n·k, dIn]
      const p = tf.matMul(gathered, this.w).reshape([n, k, h, dh]);
      const centre = tf.matMul(this.x, this.w).reshape([n, 1, h, dh]);
      const logits = tf.leakyRelu(tf.add(tf.sum(tf.mul(p, this.aSrc), 3), tf.sum(tf.mul(centre, this.aDst), 3)), 0.2); // [n, k, h]
      const alpha = tf.transpose(tf.softmax(tf.transpose(logits, [0, 2, 1])), [0, 2, 1]); // softmax over k
      const pooled = tf.sum(tf.mul(alpha.reshape([n, k, h, 1]), p), 1); // [n, h, dh]
      return tf.elu<tf.Tensor2D>(pooled.reshape([n, dOut]));
    });
  }

  dispose(): void {
    for (const t of [this.x, this.w, this.aSrc, this.aDst, this.ids]) t.dispose();
  }
}

async function timeMs(work: () => tf.Tensor): Promise<number> {
  const started = performance.now();
  const out = work();
  await out.data(); // the work is done once the values can be read
  const ms = performance.now() - started;
  out.dispose();
  return ms;
}

async function medianMs(runs: number, work: () => tf.Tensor): Promise<{ median: number; runs: number[] }> {
  await timeMs(work); // warm-up: kernel set-up, first allocations
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push(await timeMs(work));
  return { median: median(times), runs: times };
}

interface Measured {
  readonly backend: BackendPreference;
  readonly available: true;
  readonly info: BackendInfo;
  readonly forwardMs: { median: number; runs: number[] };
  readonly stepMs: { median: number; runs: number[] };
  readonly scoringMs: { median: number; runs: number[] };
}
interface Unavailable {
  readonly backend: BackendPreference;
  readonly available: false;
  readonly reason: string;
}

async function measure(backend: BackendPreference): Promise<Measured | Unavailable> {
  let info: BackendInfo;
  try {
    info = await selectBackend(backend, logger);
  } catch (error) {
    if (error instanceof BackendUnavailableError) return { backend, available: false, reason: error.message };
    throw error;
  }
  const layer = new AttentionLayer();
  const optimizer = tf.train.sgd(0.01);
  const variables = [layer.x, layer.w, layer.aSrc, layer.aDst];
  const loss = () => tf.mean<tf.Scalar>(tf.square(layer.forward()));
  const users = tf.tensor2d(usersInit, [SCORING.users, SCORING.dims]);
  const items = tf.tensor2d(itemsInit, [SCORING.dims, SCORING.items]);
  try {
    const forwardMs = await medianMs(opts.runs, () => layer.forward());
    log(`  ${backend}: forward ${forwardMs.runs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`);
    const stepMs = await medianMs(opts.runs, () => optimizer.minimize(loss, true, variables)!);
    log(`  ${backend}: forward + gradient step ${stepMs.runs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`);
    const scoringMs = await medianMs(Math.max(opts.runs, 10), () => tf.matMul(users, items));
    log(`  ${backend}: matMul [256×64]·[64×10000] median ${scoringMs.median.toFixed(1)} ms`);
    return { backend, available: true, info, forwardMs, stepMs, scoringMs };
  } finally {
    layer.dispose();
    optimizer.dispose();
    users.dispose();
    items.dispose();
  }
}

const wasmThreadsDetected = await (async () => {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  } catch {
    return false;
  }
})();

log(
  `bench:backends  GAT layer: ${n} centre nodes × fan-out ${k} × ${h} heads × ${dh} dims (input ${dIn})  scoring: ` +
    `[${SCORING.users}×${SCORING.dims}]·[${SCORING.dims}×${SCORING.items}]  runs=${opts.runs} (median, after a warm-up)`,
);
const loadAverage = Number(os.loadavg()[0]!.toFixed(1));
log(
  `  node=${process.version}  tfjs=${tf.version.tfjs}  cpus=${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}  ` +
    `load average=${loadAverage}  commit=${commit}`,
);

const results: Array<Measured | Unavailable> = [];
for (const backend of opts.backends) results.push(await measure(backend));

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows = results.map((r) =>
  r.available
    ? [
        r.backend + (r.info.simd === undefined ? '' : ` (SIMD ${r.info.simd ? 'on' : 'off'}, ${r.info.threads ?? 1} thread${r.info.threads === 1 ? '' : 's'})`),
        seconds(r.forwardMs.median),
        seconds(r.stepMs.median),
        `${r.scoringMs.median.toFixed(1)} ms`,
      ]
    : [r.backend, 'unavailable', '', ''],
);
const header = ['backend', 'GAT forward', 'GAT forward + step', 'matMul 256×64·64×10000'];
const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
log('');
log(line(header));
log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) log(line(row));
for (const r of results) if (!r.available) log(`  ${r.backend}: ${r.reason}`);
log(`  wasm threads under Node: ${wasmThreadsDetected ? 'detected' : 'not used (tfjs turns them off under Node, tfjs issue #3830)'}`);

const round = (ms: number) => Number(ms.toFixed(1));
log(
  JSON.stringify({
    workload: { nodes: n, fanout: k, heads: h, head_dims: dh, input_dims: dIn, scoring: SCORING, runs: opts.runs },
    results: results.map((r) =>
      r.available
        ? {
            backend: r.backend,
            available: true,
            package: r.info.package,
            simd: r.info.simd,
            threads: r.info.threads,
            fused_kernels: r.info.fusedKernels,
            gat_forward_ms: round(r.forwardMs.median),
            gat_step_ms: round(r.stepMs.median),
            scoring_matmul_ms: round(r.scoringMs.median),
          }
        : { backend: r.backend, available: false, reason: r.reason },
    ),
    wasm_threads_under_node: wasmThreadsDetected,
    node: process.version,
    tfjs: tf.version.tfjs,
    cpus: os.cpus().length,
    load_average: loadAverage,
    commit,
  }),
);
