import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { DEFAULT_GAT, type GatHyperparameters } from '../../gnn/index.ts';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { type EngineConfig, loadConfig } from '../config.ts';
import { InterestEngine } from '../engine.ts';
import { type EngineServices, startEngineServices } from '../engine-services.ts';
import { type RecommendationList, Recommender, type RecommenderHost } from '../recommendations/recommender.ts';
import { BLEND_SEARCH, BLEND_SEARCH_QUICK, type BlendSearch, type BlendSettings, describeBlend, searchBlend } from './engine-weights.ts';
import { GAT_QUICK, GAT_TRAINING } from './gat-model.ts';
import type { FitContext, RecommenderModel, Scorer } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * The served Recommender in the evaluation harness: a real InterestEngine (embedded store in a temporary
 * folder) fed the training log in time order and the catalogue's tags, its GAT trained by the engine's own
 * embedding service, and the query layer that serves `GET /v1/users/{id}/recommendations` asked for each
 * user's list. The blend is the configured default (`engine`) or tuned on the validation split
 * (`engine-tuned`).
 *
 * Each user is served as of their own latest training interaction, the moment their held-out ones followed:
 * a live user asks while active, and the query layer decays a seed's weight by its age then (the walk and
 * tag terms), so serving everyone as of the end of the training period would weigh the history of a user last
 * seen years before it at nearly nothing (on lastfm-hetrec-2k, 2005 to 2011, most users). Trending items and
 * the GAT are as of the end of the training period, the same for everyone.
 *
 * The Recommender returns a list, not a score per item: listed items score by rank (the first highest) and
 * the rest −∞, which the evaluator never lists, so the metrics read exactly the served list. Its exclusions
 * are the evaluator's: the user's training positives go (named in the request) and everything else the user
 * interacted with may be listed, as for every other model; only items the user turned down (dislikes,
 * dismissals, low ratings) stay out, as they always do in service.
 */

/** The GAT the engine trains: the same shape and epoch limit as the `gat` model of the same budget. */
export interface EngineGnn {
  readonly hyper: GatHyperparameters;
  readonly epochs: number;
}

export const ENGINE_GNN: EngineGnn = { hyper: DEFAULT_GAT, epochs: GAT_TRAINING.epochs };
export const ENGINE_GNN_QUICK: EngineGnn = { hyper: GAT_QUICK.hyper, epochs: GAT_QUICK.training.epochs };

const quiet = pino({ level: 'silent' });

/** The configuration every engine of the evaluation runs with: the defaults, in a folder of its own. */
function engineConfig(dataDir: string, gnn: EngineGnn, seed: number): EngineConfig {
  const base = loadConfig({ env: {}, overrides: { dataDir, durability: 'normal', logLevel: 'silent' } });
  const { dims, heads, fanout, history, scale, coLiked = 0 } = gnn.hyper;
  return {
    ...base,
    // A throwaway folder: no space kept for erasures, no periodic jobs.
    erasureReserveMb: 0,
    gnn: { ...base.gnn, dims, heads, fanout, history, scale, coLiked, seed, epochs: gnn.epochs, trainOnStart: true, refreshMinutes: 0 },
    communities: { ...base.communities, refreshMinutes: 0 },
  };
}

/** The defaults' blend: what `engine` serves. */
export function defaultBlend(): BlendSettings {
  const { weights, diversity } = loadConfig({ env: {} }).recommend;
  return { weights, diversity };
}

/** An engine built on one training log, with the services the server runs on top of it. */
export class ServedEngine {
  /** The time the query layer serves at: the listed user's latest training interaction (see above). */
  private servedAt = Number.NaN;
  /** Each user's latest training interaction, epoch ms (NaN: none dated). */
  private readonly lastSeen: Float64Array;

  private constructor(
    private readonly train: TrainingData,
    private readonly engine: InterestEngine,
    private readonly services: EngineServices,
    private readonly dataDir: string,
    /** How the GNN training went: `succeeded`, or why the engine serves without embeddings. */
    readonly gnnOutcome: string,
    /** The embedding service's account of the training run (epochs, validation recall, seconds). */
    readonly gnnTraining: Record<string, unknown> | null,
  ) {
    const log = train.interactions;
    this.lastSeen = new Float64Array(train.userCount).fill(Number.NaN);
    for (let n = 0; n < log.length; n++) {
      const ts = log.ts[n]!;
      // NaN compares false: the first dated interaction sets it.
      if (Number.isFinite(ts) && !(ts <= this.lastSeen[log.user[n]!]!)) this.lastSeen[log.user[n]!] = ts;
    }
  }

  static async open(train: TrainingData, gnn: EngineGnn, seed: number, log: (line: string) => void): Promise<ServedEngine> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'evaluate-engine-'));
    let engine: InterestEngine | undefined;
    let services: EngineServices | undefined;
    try {
      const events = eventsOf(train);
      // The engine lives at the end of the training period: decay and trending are as of then, and an event
      // without a timestamp is stamped then.
      const latest = events.reduce((max, e) => (e.timestamp !== undefined && e.timestamp > max ? e.timestamp : max), Number.NEGATIVE_INFINITY);
      const now = Number.isFinite(latest) ? latest : Date.now();
      const config = engineConfig(dataDir, gnn, seed);
      engine = await InterestEngine.open(config, { logger: quiet, wallClock: () => now });
      const started = performance.now();
      const items = catalogueOf(train);
      for (let at = 0; at < items.length; at += config.ingest.maxBatchSize) await engine.upsertItems(items.slice(at, at + config.ingest.maxBatchSize));
      for (let at = 0; at < events.length; at += config.ingest.maxBatchSize) {
        const receipt = await engine.ingestEvents(events.slice(at, at + config.ingest.maxBatchSize), { partial: true });
        if (receipt.rejected.length > 0)
          throw new Error(`the engine refused ${receipt.rejected.length} training events, e.g. ${JSON.stringify(receipt.rejected[0])}`);
      }
      log(
        `${items.length} catalogue items and ${events.length} training interactions stored in ${((performance.now() - started) / 1000).toFixed(1)} s; training the GAT`,
      );
      services = await startEngineServices(engine, quiet, {
        epochsShown: true,
        onEpoch: (epoch) =>
          log(`GAT epoch ${epoch.epoch} loss ${epoch.loss.toFixed(4)} validation recall ${epoch.validationRecall.toFixed(4)} (${epoch.seconds.toFixed(1)} s)`),
      });
      await services.embeddings.trainingSettled();
      const outcome = services.embeddings.status().lastTraining;
      if (outcome?.status === 'failed') throw new Error(`the engine's GAT training failed: ${outcome.error}`);
      const gnnOutcome = outcome === null ? 'not trained' : outcome.status === 'succeeded' ? 'succeeded' : `${outcome.status}: ${outcome.error ?? ''}`;
      if (gnnOutcome !== 'succeeded') log(`no GAT (${gnnOutcome}): the engine serves from walks, tags and trending items`);
      return new ServedEngine(train, engine, services, dataDir, gnnOutcome, services.embeddings.status().training);
    } catch (error) {
      await services?.close();
      await engine?.close();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The query layer the server builds (startEngineServices), with this blend; the caller closes it. */
  recommender(blend: BlendSettings): Recommender {
    const engine = this.engine;
    const host: RecommenderHost = {
      get graph() {
        return engine.graph;
      },
      catalogue: engine.catalogue,
      weightPolicy: engine.weightPolicy,
      decayReference: () => (Number.isNaN(this.servedAt) ? engine.decayReference() : this.servedAt),
      subscribe: (listener) => engine.subscribe(listener),
    };
    return new Recommender(host, this.services.embeddings, { ...this.engine.config.recommend, weights: blend.weights, diversity: blend.diversity });
  }

  /** What the Recommender serves `user` (a dense index of the training data), the user's training positives left out. */
  listFor(recommender: Recommender, user: number, count: number): RecommendationList {
    const { start, index } = this.train.positives;
    const excludeItems: string[] = [];
    for (let p = start[user]!; p < start[user + 1]!; p++) excludeItems.push(this.train.itemIds[index[p]!]!);
    this.servedAt = this.lastSeen[user]!;
    return recommender.recommend({ kind: 'user', id: this.train.userIds[user]! }, { count, explain: false, filters: { includeConsumed: true, excludeItems } });
  }

  /** Lists of `count` items as scores: count − rank for listed items, −∞ (never listed) for the rest. */
  scorer(recommender: Recommender, count: number): Scorer {
    const items = this.train.itemCount;
    const itemIndex = new Map(this.train.itemIds.map((id, i) => [id, i]));
    return {
      scoreUsers: (users) => {
        const out = new Float32Array(users.length * items).fill(Number.NEGATIVE_INFINITY);
        users.forEach((user, r) => {
          this.listFor(recommender, user, count).items.forEach((item, rank) => {
            const i = itemIndex.get(item.itemId);
            if (i !== undefined) out[r * items + i] = count - rank;
          });
        });
        return out;
      },
    };
  }

  async close(): Promise<void> {
    await this.services.close();
    await this.engine.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The training log as engine events, in time order (ties and undated events in the order read). */
function eventsOf(train: TrainingData): Array<{ id: string; type: string; userId: string; itemId: string; value?: number; timestamp?: number }> {
  const log = train.interactions;
  const order = Array.from({ length: log.length }, (_, n) => n);
  const when = (n: number) => (Number.isFinite(log.ts[n]!) ? log.ts[n]! : Number.POSITIVE_INFINITY);
  order.sort((a, b) => when(a) - when(b) || a - b);
  return order.map((n) => {
    const type = INTERACTION_TYPES[log.type[n]!]!;
    return {
      id: `evaluation-${n}`,
      type,
      userId: train.userIds[log.user[n]!]!,
      itemId: train.itemIds[log.item[n]!]!,
      ...(type === 'rating' ? { value: log.value[n]! } : {}),
      ...(Number.isFinite(log.ts[n]!) ? { timestamp: log.ts[n]! } : {}),
    };
  });
}

/**
 * Catalogue records for the items with tags or training interactions (items seen only in test events are
 * not known yet when the engine is built). The log keeps no titles: the id stands in, and only
 * explanations, which the evaluation does not ask for, show it.
 */
function catalogueOf(train: TrainingData): Array<{ id: string; title: string; tags: string[] }> {
  const { start, tags, names } = train.itemTags;
  const used = new Uint8Array(train.itemCount);
  for (let n = 0; n < train.interactions.length; n++) used[train.interactions.item[n]!] = 1;
  const items: Array<{ id: string; title: string; tags: string[] }> = [];
  for (let i = 0; i < train.itemCount; i++) {
    if (!used[i] && start[i] === start[i + 1]) continue;
    const id = train.itemIds[i]!;
    items.push({ id, title: id, tags: Array.from(tags.subarray(start[i], start[i + 1]), (t) => names[t]!) });
  }
  return items;
}

/** `engine`: the default blend. `engine-tuned`: the blend searched on the validation split. */
export class EngineModel implements RecommenderModel {
  private served: ServedEngine | undefined;
  private recommender: Recommender | undefined;
  private blend: BlendSettings = defaultBlend();
  private count = 0;
  private gnnOutcome = 'not built';
  private gnnTraining: Record<string, unknown> | null = null;
  private tuning: { validationNdcg: number; defaultsValidationNdcg: number; evaluated: number } | undefined;

  constructor(
    readonly name: 'engine' | 'engine-tuned',
    private readonly gnn: EngineGnn = ENGINE_GNN,
    private readonly search: BlendSearch | null = null,
  ) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    await this.close();
    const log = (line: string) => context.log(`${this.name}: ${line}`);
    this.blend = defaultBlend();
    if (this.search && context.validation) {
      const validation = context.validation;
      log('building an engine on the validation split to tune the blend');
      const served = await ServedEngine.open(validation.train, this.gnn, context.seed, log);
      try {
        const ndcgOf = (blend: BlendSettings): number => {
          const recommender = served.recommender(blend);
          try {
            return validation.evaluate(served.scorer(recommender, context.k)).ndcg;
          } finally {
            recommender.close();
          }
        };
        const result = searchBlend(this.blend, this.search, ndcgOf, (line) => log(`${line} on the validation split`));
        this.blend = result.best;
        this.tuning = { validationNdcg: result.bestScore, defaultsValidationNdcg: result.startScore, evaluated: result.evaluated };
        log(`tuned ${describeBlend(this.blend)} (validation NDCG@${context.k} ${result.bestScore.toFixed(4)}, defaults ${result.startScore.toFixed(4)})`);
      } finally {
        await served.close();
      }
    }
    // The lists hold as many items as the largest cut-off reported.
    this.count = Math.max(context.k, context.maxK ?? context.k);
    this.served = await ServedEngine.open(train, this.gnn, context.seed, log);
    this.gnnOutcome = this.served.gnnOutcome;
    this.gnnTraining = this.served.gnnTraining;
    this.recommender = this.served.recommender(this.blend);
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (!this.served || !this.recommender) throw new Error(`${this.name}: fit before scoring`);
    return this.served.scorer(this.recommender, this.count).scoreUsers(users);
  }

  /** The list the Recommender serves a user of the training data (by dense index), as scored. */
  listFor(user: number): RecommendationList {
    if (!this.served || !this.recommender) throw new Error(`${this.name}: fit before scoring`);
    return this.served.listFor(this.recommender, user, this.count);
  }

  settings(): Record<string, unknown> {
    const { hyper, epochs } = this.gnn;
    return {
      ...this.blend.weights,
      diversity: this.blend.diversity,
      listLength: this.count,
      gat: this.gnnOutcome,
      dims: hyper.dims,
      heads: hyper.heads,
      fanout: hyper.fanout,
      history: hyper.history,
      maxEpochs: epochs,
      ...(this.gnnTraining
        ? { epochs: this.gnnTraining.bestEpoch, gatValidationRecall: this.gnnTraining.validationRecall, gatSeconds: this.gnnTraining.seconds }
        : {}),
      ...(this.tuning ?? {}),
    };
  }

  /** Closes the engine and removes its folder; the settings stay readable. */
  async close(): Promise<void> {
    const { served, recommender } = this;
    this.served = undefined;
    this.recommender = undefined;
    recommender?.close();
    await served?.close();
  }
}

export function createEngineModel(name: 'engine' | 'engine-tuned', budget: 'full' | 'quick'): EngineModel {
  const gnn = budget === 'quick' ? ENGINE_GNN_QUICK : ENGINE_GNN;
  const search = name === 'engine' ? null : budget === 'quick' ? BLEND_SEARCH_QUICK : BLEND_SEARCH;
  return new EngineModel(name, gnn, search);
}
