import { NotFoundError } from '../../base/errors.ts';
import type { InterestEmbeddings } from '../../gnn/index.ts';
import { baseWeight, type WeightPolicy } from '../../graph/edge-weight.ts';
import { InteractionAdjacency } from '../../graph/interaction-adjacency.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, type SubjectKind } from '../../graph/model.ts';
import { NodeTable } from '../../graph/node-table.ts';
import { PositiveEdges } from '../../graph/positive-edges.ts';
import { TopKSelector } from '../../graph/top-k.ts';
import { SeedWalks, topByWalk, walkScore } from '../../graph/walks.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';
import type { EngineConfig } from '../config.ts';
import type { GraphChangeListener } from '../engine.ts';
import { diversify } from './diversity.ts';
import { Explainer, type RequestState, roundScore } from './explainer.ts';
import { type ExplanationPath, PathNodes, PathWriter } from './explanation-path.ts';
import { compileFilters, leavesOutOnlyDefaults } from './item-filter.ts';
import { ItemVectorIndex } from './item-vector-index.ts';
import type { KeptOutReason, RecommendationFilters, RecommendationOptions, RecommendationTarget } from './recommendation-query.ts';
import { itemsProfile, type SubjectProfile, subjectProfile } from './subject-profile.ts';
import { TagLists, tagProfile, TagScorer } from './tag-affinity.ts';
import { TrendingItems } from './trending-items.ts';

/**
 * The query layer: candidates from four sources (embedding similarity, graph walks from the subject's
 * recent positive items, tag affinity, trending items), one score per item combining them, the request's
 * filters, MMR diversity, and explanations made of real paths of the graph.
 *
 *   score(i) = Σ_source weight_source · normalised_source(i)
 *
 *   embedding  exp((z·x_i + b_i − best) / T)     relative to the subject's best item that is neither
 *                                                 consumed nor rejected, whatever the request's filters; T = 6
 *   walk       1 − exp(−walk(i) / 0.1)            walk(i) = Σ_s w_s · hop_s(i), see graph/walks.ts
 *   tags       1 − exp(−tags(i) / 4)              see tag-affinity.ts
 *   trending   log(1 + t_i) / log(1 + t_max)
 *
 * Each normalisation depends only on the subject and the item, not on the other candidates, so an
 * item's score is the same in a list and in an explain call, and taking an edge of its paths away can
 * only lower the walk and tag terms that flowed along it.
 */
export type RecommendSettings = EngineConfig['recommend'];

export interface RecommenderHost {
  readonly graph: InterestGraph;
  readonly catalogue: ItemCatalogue;
  readonly weightPolicy: WeightPolicy;
  decayReference(): number;
  subscribe(listener: GraphChangeListener): () => void;
}

/** The embeddings in service (the embedding service), read through this so the query layer needs no tensors. */
export interface EmbeddingSource {
  embeddings(): InterestEmbeddings | null;
  /** Applies queued incremental updates now, so a request sees its subject's latest interactions. */
  readonly updater: { flush(): void };
}

export interface SourceScores {
  readonly embedding: number;
  readonly walk: number;
  readonly tags: number;
  readonly trending: number;
}

export interface RecommendedItem {
  readonly itemId: string;
  readonly title: string;
  readonly score: number;
  /** Each source's part of the score (weight × normalised score); they add up to `score`. */
  readonly sources: SourceScores;
  /** 1–3 paths, strongest first; absent when explanations were not asked for. */
  readonly paths?: readonly ExplanationPath[];
  /** The strongest path's sentence. */
  readonly because?: string;
}

export interface RecommendationList {
  readonly target: RecommendationTarget;
  readonly items: readonly RecommendedItem[];
  /** The model whose embeddings were used, or null when none is trained yet. */
  readonly modelVersion: string | null;
  /** Whether the embedding source searched an approximate index (large catalogues). */
  readonly approximate: boolean;
}

export interface ItemExplanation {
  readonly subject: { readonly kind: SubjectKind; readonly id: string };
  readonly item: RecommendedItem;
  /** Whether the subject already interacted with the item, or turned it down. */
  readonly consumed: boolean;
  readonly rejected: boolean;
  /** Where the item stands against the subject's default list (no filters, the default count). */
  readonly standing: ItemStanding;
}

export interface ItemStanding {
  /** The item's place among the subject's ranked candidates by score (1: the best), or null when it is not one. */
  readonly rank: number | null;
  /** How many items a default list asks for. */
  readonly listCount: number;
  /** The lowest score in the default list (its last item when diversity is 0), or null when the list is empty. */
  readonly lastListedScore: number | null;
  /** Null when the default list shows the item. */
  readonly keptOutBy: KeptOutReason | null;
}

export interface ExplainOptions {
  /** As in RecommendationOptions: other people on the paths without their ids. */
  readonly anonymiseOthers?: boolean;
}

/**
 * The normalisations' scales (see the header). T and the tag scale were chosen on the evaluation's validation
 * splits (temporal, seed 1; Recall@20 / NDCG@20 of `engine`): T 3 → 6 and tags 2 → 4 took lastfm-hetrec-2k
 * from 0.1705 / 0.1052 to 0.1723 / 0.1070 and ml-latest-small from 0.2006 / 0.1497 to 0.2045 / 0.1506 (T 10
 * was worse on both). The walk's 0.1 beat 0.3, 1 and 3 on lastfm-hetrec-2k.
 */
const EMBEDDING_TEMPERATURE = 6;
const WALK_SCALE = 0.1;
const TAG_SCALE = 4;
const TAGS_PER_PROFILE = 6;
const ITEMS_PER_TAG = 100;
const POOL_FACTOR = 3;
/** Embedding, walk, tags, trending. */
const SOURCES = 4;

/** A request's candidates ranked: the pool MMR picked from (best totals first), their totals, the positions picked. */
interface Ranking {
  readonly state: RequestState;
  /** Every candidate the sources found that the filters let through. */
  readonly candidates: NodeTable;
  readonly pool: readonly number[];
  readonly relevance: readonly number[];
  readonly picked: readonly number[];
}

export class Recommender {
  private readonly positives: PositiveEdges;
  private readonly adjacency: InteractionAdjacency;
  private readonly walks: SeedWalks;
  private readonly trending: TrendingItems;
  private readonly index: ItemVectorIndex;
  private readonly tagLists: TagLists;
  private readonly pathNodes: PathNodes;
  private readonly explainer: Explainer;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly host: RecommenderHost,
    private readonly embeddingSource: EmbeddingSource | null,
    private readonly settings: RecommendSettings,
  ) {
    this.positives = new PositiveEdges(host.weightPolicy);
    this.adjacency = new InteractionAdjacency(() => host.graph, this.positives);
    this.adjacency.warm();
    this.walks = new SeedWalks(this.adjacency, {
      likersPerSeed: settings.walkLikersPerSeed,
      itemsPerLiker: settings.walkItemsPerLiker,
      itemsPerRequest: settings.walkItemsPerRequest,
    });
    this.trending = new TrendingItems(() => host.graph, this.positives, host.weightPolicy.halfLifeMs);
    this.index = new ItemVectorIndex(settings.annThreshold);
    this.tagLists = new TagLists(() => host.graph);
    this.tagLists.warm();
    this.pathNodes = new PathNodes(host.catalogue);
    this.explainer = new Explainer(host, this.adjacency, this.walks, this.tagLists, this.index, settings);
    this.unsubscribe = host.subscribe({
      interactionsApplied: (_subjects, interactions) => {
        const graph = host.graph;
        for (const i of interactions) {
          const item = graph.nodeIndex('item', i.itemId);
          if (item < 0) continue;
          this.trending.add(item, EdgeTypeCode[i.type], baseWeight(host.weightPolicy, i.type, i.value), i.ts);
        }
      },
      nodeRemoved: (node) => {
        this.adjacency.forget(node);
        this.tagLists.clear();
        this.pathNodes.clear();
        this.trending.rebuild();
      },
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * The sources that can contribute now: embeddings once a model is in service; walks and trending items
   * once someone gave an item positive feedback (views alone are not), tag affinity once such items carry
   * tags too. None needs the others.
   */
  liveSources(): Record<keyof SourceScores, boolean> {
    const positives = this.trending.topItems().length > 0;
    return {
      embedding: (this.embeddingSource?.embeddings() ?? null) !== null,
      walk: positives,
      tags: positives && this.host.graph.counts().itemTags > 0,
      trending: positives,
    };
  }

  /** Top items for a user, a session, an item (similar items) or a list of items (more like these). */
  recommend(target: RecommendationTarget, options: RecommendationOptions = {}): RecommendationList {
    const embeddings = this.prepareEmbeddings();
    const count = options.count ?? this.settings.defaultCount;
    const explain = options.explain ?? true;
    const lambda = options.diversity ?? this.settings.diversity;
    const { profile, z } = this.resolveTarget(target, embeddings);
    const { state, pool, relevance, picked } = this.rank(profile, z, embeddings, options.filters, count, lambda);
    const writer = explain ? this.pathWriter(profile, options.anonymiseOthers) : null;
    if (writer)
      this.explainer.findWalkShares(
        state,
        picked.map((i) => pool[i]!),
      );
    return {
      target,
      items: picked.map((i) => this.explainer.describe(state, pool[i]!, this.scoreOf(state, pool[i]!).sources, relevance[i]!, writer)),
      modelVersion: embeddings?.info.version ?? null,
      approximate: this.index.approximate,
    };
  }

  /**
   * Why (or why not) `itemId` for this user or session: its score by source and its paths (the same as in
   * any list of the subject's), and where it stands against the subject's default list.
   */
  explain(subject: { kind: SubjectKind; id: string }, itemId: string, options: ExplainOptions = {}): ItemExplanation {
    const graph = this.host.graph;
    const embeddings = this.prepareEmbeddings();
    const item = graph.nodeIndex('item', itemId);
    if (item < 0) throw new NotFoundError('item', itemId);
    if (graph.nodeIndex(subject.kind, subject.id) < 0) throw new NotFoundError(subject.kind, subject.id);
    const { profile, z } = this.resolveTarget(subject, embeddings);
    const ranking = this.rank(profile, z, embeddings, undefined, this.settings.defaultCount, this.settings.diversity);
    const { sources, total } = this.scoreOf(ranking.state, item);
    return {
      subject,
      item: this.explainer.describe(ranking.state, item, sources, total, this.pathWriter(profile, options.anonymiseOthers)),
      consumed: profile.consumed.has(item),
      rejected: profile.rejected.has(item),
      standing: this.standing(ranking, item, total),
    };
  }

  /**
   * The candidates from the four sources that the filters let through, ranked by score, and the `count`
   * MMR picks from the best of them. Every score is normalised from the subject and the item alone (the
   * embedding term's reference ignores the request's filters), so filters and diversity choose items but
   * never change one's score.
   */
  private rank(
    profile: SubjectProfile,
    z: Float32Array | null,
    embeddings: InterestEmbeddings | null,
    filters: RecommendationFilters | undefined,
    count: number,
    lambda: number,
  ): Ranking {
    const graph = this.host.graph;
    const skip = compileFilters(graph, this.host.catalogue, profile, filters);
    const perSource = Math.max(this.settings.candidatesPerSource, count * POOL_FACTOR);

    // Merged in the order found, each once.
    const candidates = new NodeTable(4 * perSource);
    const add = (node: number): void => {
      if (candidates.rowOf(node) < 0) candidates.add(node);
    };
    let bestEmbedding = Number.NEGATIVE_INFINITY;
    if (z && embeddings) {
      const found = this.index.search(z, perSource, skip);
      for (const { node } of found) add(node);
      // An exact scan without filters of the request's own found the reference already; otherwise it
      // takes a search of its own (an approximate one searches the same way in every request).
      bestEmbedding = !this.index.approximate && leavesOutOnlyDefaults(filters) ? (found[0]?.score ?? bestEmbedding) : this.embeddingReference(profile, z);
    }
    const state = this.requestState(profile, z, embeddings, bestEmbedding);
    for (const node of topByWalk(state.visits, perSource, skip)) add(node);
    for (const node of state.tags.candidates(TAGS_PER_PROFILE, ITEMS_PER_TAG, perSource, skip)) add(node);
    let trendingTaken = 0;
    for (const node of this.trending.topItems()) {
      if (trendingTaken >= perSource) break;
      if (skip(node)) continue;
      add(node);
      trendingTaken++;
    }

    // The pool MMR picks from: the best totals (ties: lower node first). Only the items picked get their
    // scores by source written out.
    const selector = new TopKSelector(Math.max(1, count * POOL_FACTOR));
    const terms = new Float64Array(SOURCES);
    for (let c = 0; c < candidates.size; c++) {
      const node = candidates.nodes[c]!;
      selector.offer(this.sourceTerms(state, node, terms), node);
    }
    const poolNodes = new Uint32Array(selector.k);
    const poolTotals = new Float64Array(selector.k);
    const poolSize = selector.drainWithScores(poolNodes, poolTotals);
    const pool = Array.from(poolNodes.subarray(0, poolSize));
    const relevance = Array.from(poolTotals.subarray(0, poolSize));
    const picked = diversify(relevance, this.similarity(embeddings, pool), count, lambda);
    return { state, candidates, pool, relevance, picked };
  }

  /** The embedding term's reference: the subject's best score among items neither consumed nor rejected. */
  private embeddingReference(profile: SubjectProfile, z: Float32Array): number {
    const skip = compileFilters(this.host.graph, this.host.catalogue, profile, undefined);
    return this.index.search(z, 1, skip)[0]?.score ?? Number.NEGATIVE_INFINITY;
  }

  /** Where `item` (of score `total`) stands against the default list `ranking` made. */
  private standing(ranking: Ranking, item: number, total: number): ItemStanding {
    const { state, candidates, pool, relevance, picked } = ranking;
    let listed = false;
    let lowest = Number.POSITIVE_INFINITY;
    for (const i of picked) {
      if (pool[i] === item) listed = true;
      lowest = Math.min(lowest, relevance[i]!);
    }
    // The ranking's order: higher totals first, ties to the lower node (as the pool's selector breaks them).
    let rank: number | null = null;
    if (candidates.rowOf(item) >= 0) {
      rank = 1;
      const terms = new Float64Array(SOURCES);
      for (let c = 0; c < candidates.size; c++) {
        const node = candidates.nodes[c]!;
        if (node === item) continue;
        const other = this.sourceTerms(state, node, terms);
        if (other > total || (other === total && node < item)) rank++;
      }
    }
    const { profile } = state;
    let keptOutBy: KeptOutReason | null = null;
    if (!listed) {
      if (profile.rejected.has(item)) keptOutBy = 'rejected';
      else if (profile.consumed.has(item)) keptOutBy = 'consumed';
      else if (rank === null) keptOutBy = 'not-reached';
      else keptOutBy = total >= lowest ? 'diversity' : 'ranked-below';
    }
    return {
      rank,
      listCount: this.settings.defaultCount,
      lastListedScore: picked.length > 0 ? roundScore(lowest) : null,
      keptOutBy,
    };
  }

  private pathWriter(profile: SubjectProfile, anonymiseOthers: boolean | undefined): PathWriter {
    return new PathWriter(this.host.graph, this.pathNodes, this.host.weightPolicy, { anonymiseOthers: anonymiseOthers === true, subject: profile.subject });
  }

  /** The walks, the tag profile and the attention a request's scores and paths read. */
  private requestState(profile: SubjectProfile, z: Float32Array | null, embeddings: InterestEmbeddings | null, bestEmbedding: number): RequestState {
    const graph = this.host.graph;
    return {
      profile,
      z,
      bestEmbedding,
      visits: this.walks.walk(profile.seeds, profile.subject, graph.nodeBound),
      walkShares: null,
      tags: new TagScorer(graph, this.tagLists, tagProfile(this.tagLists, profile)),
      seedAttention: seedAttention(profile, profile.subject >= 0 && embeddings ? embeddings.attentionOf(profile.subject) : null),
      seedTags: profile.seeds.map((seed) => this.tagLists.tagsOf(seed.item)),
      seedSlots: Int32Array.from(profile.seeds, (seed) => (embeddings ? this.index.unitSlot(seed.item) : -1)),
      shares: new Float64Array(profile.seeds.length),
      embeddings,
    };
  }

  private prepareEmbeddings(): InterestEmbeddings | null {
    this.embeddingSource?.updater.flush();
    const embeddings = this.embeddingSource?.embeddings() ?? null;
    if (embeddings) this.index.sync(embeddings);
    return embeddings;
  }

  private resolveTarget(target: RecommendationTarget, embeddings: InterestEmbeddings | null): { profile: SubjectProfile; z: Float32Array | null } {
    const graph = this.host.graph;
    const now = this.host.decayReference();
    switch (target.kind) {
      case 'user':
      case 'session': {
        const node = graph.nodeIndex(target.kind, target.id);
        // Someone we have never seen: no history, so the trending items are what they get.
        if (node < 0) return { profile: itemsProfile([]), z: null };
        const profile = subjectProfile(graph, node, this.settings.seeds, now, this.host.weightPolicy.halfLifeMs);
        return { profile, z: embeddings?.subjects.get(node) ?? null };
      }
      case 'similar': {
        const node = graph.nodeIndex('item', target.itemId);
        if (node < 0) throw new NotFoundError('item', target.itemId);
        return { profile: itemsProfile([node]), z: this.virtualSubject(embeddings, [node]) };
      }
      case 'items': {
        const nodes = target.itemIds.map((id) => graph.nodeIndex('item', id)).filter((n) => n >= 0);
        if (nodes.length === 0) throw new NotFoundError('item', target.itemIds.join(', '));
        return { profile: itemsProfile(nodes), z: this.virtualSubject(embeddings, nodes) };
      }
    }
  }

  /** The embedding of someone who just liked these items (the GAT is inductive: no lookup table needed). */
  private virtualSubject(embeddings: InterestEmbeddings | null, items: readonly number[]): Float32Array | null {
    if (!embeddings) return null;
    const likeWeight = this.host.weightPolicy.typeWeights.like;
    return embeddings.embedInteractions(items, EdgeTypeCode.like, likeWeight);
  }

  /** The item's score and its parts by source (the same numbers as the ranking's `sourceTerms`). */
  private scoreOf(state: RequestState, item: number): { sources: SourceScores; total: number } {
    const terms = new Float64Array(SOURCES);
    const total = this.sourceTerms(state, item, terms);
    return { sources: { embedding: terms[0]!, walk: terms[1]!, tags: terms[2]!, trending: terms[3]! }, total };
  }

  /**
   * Each source's part of the item's score (weight × normalised score) into `terms` (embedding, walk,
   * tags, trending), and their sum: the ranking of two hundred candidates needs no object per item.
   */
  private sourceTerms(state: RequestState, item: number, terms: Float64Array): number {
    const w = this.settings.weights;
    let embedding = 0;
    if (state.z && state.embeddings) {
      const raw = this.index.score(state.z, item);
      if (Number.isFinite(raw) && Number.isFinite(state.bestEmbedding)) {
        embedding = Math.exp(Math.min(0, raw - state.bestEmbedding) / EMBEDDING_TEMPERATURE);
      }
    }
    const walk = 1 - Math.exp(-walkScore(state.visits, item) / WALK_SCALE);
    const tags = 1 - Math.exp(-state.tags.score(item) / TAG_SCALE);
    terms[0] = w.embedding * embedding;
    terms[1] = w.walk * walk;
    terms[2] = w.tags * tags;
    terms[3] = w.trending * this.trending.normalised(item);
    return terms[0] + terms[1] + terms[2] + terms[3];
  }

  /** Similarity of pool positions: cosine of the item vectors, or tag overlap (Jaccard) without a model. */
  private similarity(embeddings: InterestEmbeddings | null, pool: readonly number[]): (a: number, b: number) => number {
    if (embeddings) {
      const slots = pool.map((node) => this.index.unitSlot(node));
      return (a, b) => (slots[a]! >= 0 && slots[b]! >= 0 ? this.index.cosine(slots[a]!, slots[b]!) : 0);
    }
    const tags = pool.map((node) => new Set(this.tagLists.tagsOf(node).nodes));
    return (a, b) => {
      let common = 0;
      for (const t of tags[b]!) if (tags[a]!.has(t)) common++;
      const union = tags[a]!.size + tags[b]!.size - common;
      return union > 0 ? common / union : 0;
    };
  }
}

/** Each seed's attention weight: the subject's attention on the seed's edge, 1 for a given item. */
function seedAttention(profile: SubjectProfile, attention: ReadonlyMap<number, number> | null): Float64Array {
  return Float64Array.from(profile.seeds, (seed) => (seed.edge < 0 ? 1 : (attention?.get(seed.edge) ?? 0)));
}
