import { SeededRandom } from '../../graph/random.ts';
import { AdamOptimizer, dotProductScores, normalVectors, sigmoid } from './dense-embeddings.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import { type TrainingData, transposeRows } from './training-data.ts';
import { TripleSampler } from './triple-sampler.ts';
import { type EarlyStoppingOptions, type EpochTrainer, type PartialAxes, tuneInStages } from './tuning.ts';

/**
 * LightGCN (He et al. 2020): free embeddings E⁰ of users and items, smoothed over the user–item graph of
 * training positives by propagation without weights or non-linearities, averaged over layers:
 *
 *   Â = D^−½ A D^−½                    (A the bipartite adjacency of users and items, D its degrees)
 *   E = (1 / (L + 1)) Σ_{l=0..L} Â^l E⁰ ,   x̂(u, i) = e_u · e_i
 *   loss = mean_(u,i,j) [ −ln σ(x̂(u, i) − x̂(u, j)) ] + λ · ½ (‖e⁰_u‖² + ‖e⁰_i‖² + ‖e⁰_j‖²) / batch
 *
 * Â is symmetric, so E is a symmetric linear map S of E⁰ and the gradient with respect to E⁰ is S applied to
 * the gradient with respect to E: backward is the same propagation as forward. Both are evaluated by
 * Horner's rule, H ← E⁰ + Â H, L times. Mini-batches of triples (uniform negatives), Adam.
 * Dimensions, learning rate, λ and L are tuned on the validation split (in stages); epochs by early stopping
 * on it.
 */

export interface LightGcnSettings {
  readonly dims: number;
  readonly layers: number;
  readonly learningRate: number;
  readonly regularisation: number;
}

/** Where tuning starts and which settings each stage searches (see `tuneInStages`). */
export interface LightGcnTuning {
  readonly start: LightGcnSettings;
  readonly stages: ReadonlyArray<PartialAxes<LightGcnSettings>>;
}

/**
 * Layers at 64 dimensions, then learning rate × λ, then the dimensions: 7 runs instead of the full grid's
 * 24. Every step propagates over the whole graph 2L times, so a run costs tens of seconds.
 */
export const LIGHTGCN_TUNING: LightGcnTuning = {
  start: { dims: 64, layers: 2, learningRate: 0.01, regularisation: 1e-4 },
  stages: [{ layers: [1, 2, 3] }, { learningRate: [0.01, 0.02], regularisation: [1e-4, 1e-3] }, { dims: [64, 128] }],
};

export const LIGHTGCN_STOPPING: EarlyStoppingOptions = { maxEpochs: 200, evalEvery: 5, patience: 3 };
/**
 * Twice the paper's 2048: half the propagations per epoch, for a validation NDCG within noise of 2048's on
 * ML small (0.105 against 0.106 at 64 dimensions, 2 layers).
 */
export const LIGHTGCN_BATCH_SIZE = 4096;

/** Used without a validation split (nothing to tune on). */
export const LIGHTGCN_DEFAULTS: LightGcnSettings & { readonly epochs: number } = {
  dims: 64,
  layers: 2,
  learningRate: 0.01,
  regularisation: 1e-4,
  epochs: 50,
};

const INIT_SD = 0.1;

export class LightGcnModel implements RecommenderModel {
  readonly name = 'lightgcn';
  private chosen: LightGcnSettings & { epochs: number } = { ...LIGHTGCN_DEFAULTS };
  private validationNdcg: number | undefined;
  private trainer: LightGcnTrainer | undefined;

  constructor(
    private readonly tuning: LightGcnTuning = LIGHTGCN_TUNING,
    private readonly stopping: EarlyStoppingOptions = LIGHTGCN_STOPPING,
    private readonly batchSize = LIGHTGCN_BATCH_SIZE,
  ) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    const seed = context.seed;
    if (context.validation !== undefined) {
      const tuned = tuneInStages(
        this.name,
        this.tuning.start,
        this.tuning.stages,
        (point, data) => new LightGcnTrainer(data, point, seed, this.batchSize),
        this.stopping,
        context.validation,
        context,
      );
      this.chosen = { ...tuned.point, epochs: tuned.epochs };
      this.validationNdcg = tuned.validationScore;
    }
    const trainer = new LightGcnTrainer(train, this.chosen, seed, this.batchSize);
    for (let e = 0; e < this.chosen.epochs; e++) trainer.trainEpoch();
    this.trainer = trainer;
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (this.trainer === undefined) throw new Error('lightgcn: fit before scoring');
    return this.trainer.scoreUsers(users);
  }

  settings(): Record<string, unknown> {
    return {
      ...this.chosen,
      batchSize: this.batchSize,
      optimiser: 'adam',
      negatives: 'uniform',
      ...(this.validationNdcg !== undefined ? { validationNdcg: this.validationNdcg } : {}),
    };
  }
}

/**
 * Â over users then items (node u is user u, node U + i is item i), as CSR rows with their weights
 * 1 / sqrt(deg(a) · deg(b)).
 */
export interface NormalisedAdjacency {
  readonly nodes: number;
  readonly start: Uint32Array;
  readonly index: Uint32Array;
  readonly weight: Float32Array;
}

export function normalisedAdjacency(train: TrainingData): NormalisedAdjacency {
  const users = train.userCount;
  const nodes = users + train.itemCount;
  const byUser = train.positives;
  const byItem = transposeRows(byUser);
  const degree = new Float64Array(nodes);
  for (let u = 0; u < users; u++) degree[u] = byUser.start[u + 1]! - byUser.start[u]!;
  for (let i = 0; i < train.itemCount; i++) degree[users + i] = byItem.start[i + 1]! - byItem.start[i]!;
  const edges = byUser.index.length;
  const start = new Uint32Array(nodes + 1);
  const index = new Uint32Array(2 * edges);
  const weight = new Float32Array(2 * edges);
  let p = 0;
  for (let u = 0; u < users; u++) {
    for (let q = byUser.start[u]!; q < byUser.start[u + 1]!; q++) {
      const node = users + byUser.index[q]!;
      index[p] = node;
      weight[p++] = 1 / Math.sqrt(degree[u]! * degree[node]!);
    }
    start[u + 1] = p;
  }
  for (let i = 0; i < train.itemCount; i++) {
    const node = users + i;
    for (let q = byItem.start[i]!; q < byItem.start[i + 1]!; q++) {
      const u = byItem.index[q]!;
      index[p] = u;
      weight[p++] = 1 / Math.sqrt(degree[node]! * degree[u]!);
    }
    start[node + 1] = p;
  }
  return { nodes, start, index, weight };
}

/** out = Â x, for `dims`-wide rows. Neighbours four at a time: a quarter of the stores to `out`. */
export function propagate(graph: NormalisedAdjacency, x: Float32Array, out: Float32Array, dims: number): void {
  const { start, index, weight } = graph;
  for (let r = 0; r < graph.nodes; r++) {
    const ro = r * dims;
    const end = start[r + 1]!;
    let p = start[r]!;
    for (let d = 0; d < dims; d++) out[ro + d] = 0;
    for (; p + 4 <= end; p += 4) {
      const w0 = weight[p]!;
      const w1 = weight[p + 1]!;
      const w2 = weight[p + 2]!;
      const w3 = weight[p + 3]!;
      const c0 = index[p]! * dims;
      const c1 = index[p + 1]! * dims;
      const c2 = index[p + 2]! * dims;
      const c3 = index[p + 3]! * dims;
      for (let d = 0; d < dims; d++) {
        out[ro + d]! += w0 * x[c0 + d]! + w1 * x[c1 + d]! + w2 * x[c2 + d]! + w3 * x[c3 + d]!;
      }
    }
    for (; p < end; p++) {
      const w = weight[p]!;
      const co = index[p]! * dims;
      for (let d = 0; d < dims; d++) out[ro + d]! += w * x[co + d]!;
    }
  }
}

/**
 * out = (1 / (L + 1)) Σ_{l=0..L} Â^l x, by Horner's rule. Symmetric in the sense that matters here: it is
 * its own transpose, so it maps embeddings forward and gradients backward alike. `scratch` is as long as x.
 */
export function layerMean(graph: NormalisedAdjacency, layers: number, x: Float32Array, out: Float32Array, scratch: Float32Array, dims: number): void {
  out.set(x);
  for (let l = 0; l < layers; l++) {
    propagate(graph, out, scratch, dims);
    for (let n = 0; n < out.length; n++) out[n] = x[n]! + scratch[n]!;
  }
  const scale = 1 / (layers + 1);
  for (let n = 0; n < out.length; n++) out[n]! *= scale;
}

/** LightGCN parameters and their Adam epochs over one training set. */
export class LightGcnTrainer implements EpochTrainer {
  /** E⁰, the parameters: users then items, `dims` wide. */
  readonly ego: Float32Array;
  private readonly graph: NormalisedAdjacency;
  private readonly propagated: Float32Array;
  private readonly gradient: Float32Array;
  private readonly egoGradient: Float32Array;
  private readonly scratch: Float32Array;
  private readonly optimiser: AdamOptimizer;
  private readonly sampler: TripleSampler;
  private readonly batchUsers: Uint32Array;
  private readonly batchPositives: Uint32Array;
  private readonly batchNegatives: Uint32Array;
  /** Whether `propagated` reflects the current `ego`. */
  private fresh = false;

  constructor(
    private readonly train: TrainingData,
    private readonly settings: LightGcnSettings,
    seed: number,
    private readonly batchSize = LIGHTGCN_BATCH_SIZE,
  ) {
    const random = new SeededRandom(seed);
    const size = (train.userCount + train.itemCount) * settings.dims;
    this.ego = normalVectors(random, train.userCount + train.itemCount, settings.dims, INIT_SD);
    this.graph = normalisedAdjacency(train);
    this.propagated = new Float32Array(size);
    this.gradient = new Float32Array(size);
    this.egoGradient = new Float32Array(size);
    this.scratch = new Float32Array(size);
    this.optimiser = new AdamOptimizer(size, settings.learningRate);
    this.sampler = new TripleSampler(train.positives, random);
    this.batchUsers = new Uint32Array(batchSize);
    this.batchPositives = new Uint32Array(batchSize);
    this.batchNegatives = new Uint32Array(batchSize);
  }

  /** The propagated embeddings E: users then items. */
  embeddings(): Float32Array {
    if (!this.fresh) {
      layerMean(this.graph, this.settings.layers, this.ego, this.propagated, this.scratch, this.settings.dims);
      this.fresh = true;
    }
    return this.propagated;
  }

  /** Says `ego` was changed from outside (a test perturbing a parameter), so E must be recomputed. */
  invalidate(): void {
    this.fresh = false;
  }

  trainEpoch(): void {
    const { sampler, batchUsers, batchPositives, batchNegatives } = this;
    sampler.shuffle();
    for (let from = 0; from < sampler.pairCount; from += this.batchSize) {
      const to = Math.min(sampler.pairCount, from + this.batchSize);
      let size = 0;
      for (let n = from; n < to; n++) {
        const pair = sampler.order[n]!;
        const u = sampler.pairUser[pair]!;
        const j = sampler.negativeFor(u);
        if (j < 0) continue;
        batchUsers[size] = u;
        batchPositives[size] = sampler.pairItem[pair]!;
        batchNegatives[size++] = j;
      }
      if (size === 0) continue;
      const { gradient } = this.lossAndGradient(batchUsers.subarray(0, size), batchPositives.subarray(0, size), batchNegatives.subarray(0, size));
      this.optimiser.step(this.ego, gradient);
      this.fresh = false;
    }
  }

  /**
   * The loss of a batch of triples (user, positive item, negative item) and its gradient with respect to E⁰.
   * The gradient array is this trainer's own buffer, overwritten by the next call.
   */
  lossAndGradient(users: ArrayLike<number>, positives: ArrayLike<number>, negatives: ArrayLike<number>): { loss: number; gradient: Float32Array } {
    const { dims, layers, regularisation } = this.settings;
    const { gradient: G, egoGradient, ego } = this;
    const userCount = this.train.userCount;
    const E = this.embeddings();
    const batch = users.length;
    G.fill(0);
    let loss = 0;
    for (let n = 0; n < batch; n++) {
      const uo = users[n]! * dims;
      const io = (userCount + positives[n]!) * dims;
      const jo = (userCount + negatives[n]!) * dims;
      let x = 0;
      for (let d = 0; d < dims; d++) x += E[uo + d]! * (E[io + d]! - E[jo + d]!);
      // −ln σ(x) = ln(1 + e^−x), written to stay finite for any x.
      loss += x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
      // Its derivative −σ(−x), averaged over the batch.
      const g = -sigmoid(-x) / batch;
      for (let d = 0; d < dims; d++) {
        const eu = E[uo + d]!;
        G[uo + d]! += g * (E[io + d]! - E[jo + d]!);
        G[io + d]! += g * eu;
        G[jo + d]! -= g * eu;
      }
    }
    // Back through the propagation: the same symmetric map.
    layerMean(this.graph, layers, G, egoGradient, this.scratch, dims);
    const decay = regularisation / batch;
    let squares = 0;
    for (let n = 0; n < batch; n++) {
      for (const ro of [users[n]! * dims, (userCount + positives[n]!) * dims, (userCount + negatives[n]!) * dims]) {
        for (let d = 0; d < dims; d++) {
          const e = ego[ro + d]!;
          squares += e * e;
          egoGradient[ro + d]! += decay * e;
        }
      }
    }
    return { loss: loss / batch + (decay * squares) / 2, gradient: egoGradient };
  }

  scoreUsers(users: Uint32Array): Float32Array {
    const E = this.embeddings();
    const { dims } = this.settings;
    return dotProductScores(users, E, E.subarray(this.train.userCount * dims), dims, this.train.itemCount);
  }
}
