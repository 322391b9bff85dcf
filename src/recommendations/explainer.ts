import type { InterestEmbeddings } from '../../gnn/index.ts';
import type { InteractionAdjacency } from '../../graph/interaction-adjacency.ts';
import { type SeedWalks, walkScore, type WalkShares, type WalkVisits } from '../../graph/walks.ts';
import { type ExplanationPath, isoTimestamp, type PathWriter, people, tagLabel } from './explanation-path.ts';
import type { ItemVectorIndex } from './item-vector-index.ts';
import type { RecommendedItem, RecommenderHost, RecommendSettings, SourceScores } from './recommender.ts';
import type { SubjectProfile } from './subject-profile.ts';
import type { TagList, TagLists, TagScorer } from './tag-affinity.ts';

/** Everything a request computes once and every candidate's score reads. */
export interface RequestState {
  readonly profile: SubjectProfile;
  readonly z: Float32Array | null;
  /** The best embedding score among items neither consumed nor rejected: the reference of the embedding term. */
  readonly bestEmbedding: number;
  readonly visits: WalkVisits;
  /** Each seed's part of the walk scores of the items being explained (found when their paths are written). */
  walkShares: WalkShares | null;
  readonly tags: TagScorer;
  /** The attention on each seed's edge in the subject's embedding (1 for given items, 0 for none). */
  readonly seedAttention: Float64Array;
  /** Each seed's tag edges, read once for all the items whose paths they start. */
  readonly seedTags: readonly TagList[];
  /** Each seed's slot in the embedding index (-1: none), for the embedding term's split over the seeds. */
  readonly seedSlots: Int32Array;
  /** Room for one item's `embeddingShares` at a time (written afresh for each item's paths). */
  readonly shares: Float64Array;
  readonly embeddings: InterestEmbeddings | null;
}

/** A path worked out by weight only; the strongest are written out in full. */
type PathCandidate =
  | { readonly kind: 'co-interaction'; readonly seed: number; readonly via: number; readonly weight: number }
  | {
      readonly kind: 'shared-tag';
      readonly seed: number;
      readonly tag: number;
      readonly seedTagEdge: number;
      readonly itemTagEdge: number;
      readonly weight: number;
    }
  | { readonly kind: 'trending'; readonly weight: number };

/**
 * Writes why an item was picked: its score by source, and its strongest paths through the graph from the
 * request's seeds, each weighted by the part of the score that flowed along it. The `Recommender` scores;
 * the explainer reads the same request state (walks, tag profile, attention) and turns it into paths and
 * sentences (explanation-path.ts writes their nodes, edges and words).
 */
export class Explainer {
  constructor(
    private readonly host: RecommenderHost,
    private readonly adjacency: InteractionAdjacency,
    private readonly walks: SeedWalks,
    private readonly tagLists: TagLists,
    private readonly index: ItemVectorIndex,
    private readonly settings: RecommendSettings,
  ) {}

  describe(state: RequestState, item: number, sources: SourceScores, score: number, writer: PathWriter | null): RecommendedItem {
    const graph = this.host.graph;
    const itemId = graph.externalId(item);
    const title = writer ? writer.title(item) : this.host.catalogue.title(itemId);
    const rounded = roundScore(score);
    const bySource = roundSources(sources);
    if (!writer) return { itemId, title, score: rounded, sources: bySource };
    writer.startItem();
    const paths = this.paths(state, item, sources, score, writer);
    // Written out field by field: spreading the base object cost 2 % of a request.
    return paths[0]
      ? { itemId, title, score: rounded, sources: bySource, paths, because: paths[0].sentence }
      : { itemId, title, score: rounded, sources: bySource, paths };
  }

  /**
   * The item's strongest paths from the request's seeds, each weighted by the score that flowed along it:
   * the walk term of its seed (co-interaction paths: seed ← someone → item, where the walk went), the tag
   * term of its (seed, tag) pair (shared-tag paths: seed → tag ← item), the embedding term split by the
   * attention on the seed's edge and the seed's likeness to the item (on the seed's co-interaction path,
   * else its first shared-tag path), and the trending term (someone's latest interaction with the item).
   * Weights are worked out for every candidate path first; only the strongest are written out.
   */
  private paths(state: RequestState, item: number, sources: SourceScores, score: number, writer: PathWriter): ExplanationPath[] {
    const { seeds } = state.profile;
    if (score <= 0) return [];
    const walkRaw = walkScore(state.visits, item);
    const shares = walkRaw > 0 ? this.findWalkShares(state, [item]) : null;
    const row = shares ? shares.rows.rowOf(item) : -1;
    const tagRaw = state.tags.score(item);
    const itemTags = this.tagLists.tagsOf(item);
    const itemTagCount = itemTags.nodes.length;
    const embeddingShares = this.embeddingShares(state, item);
    const candidates: PathCandidate[] = [];
    for (let s = 0; s < seeds.length; s++) {
      const seed = seeds[s]!;
      if (seed.item === item) continue;
      let embedding = sources.embedding * embeddingShares[s]!;
      const cell = row * (shares?.seeds ?? 0) + s;
      const via = row < 0 ? -1 : shares!.via[cell]!;
      if (via >= 0) {
        const walk = (sources.walk * seed.weight * shares!.hop[cell]!) / walkRaw;
        candidates.push({ kind: 'co-interaction', seed: s, via, weight: walk + embedding });
        embedding = 0;
      }
      const seedTags = state.seedTags[s]!;
      // The seed's part of the tag's affinity (see tagProfile).
      const seedShare = seed.weight / seedTags.nodes.length;
      for (let t = 0; t < seedTags.nodes.length; t++) {
        const tag = seedTags.nodes[t]!;
        let at = 0;
        while (at < itemTagCount && itemTags.nodes[at] !== tag) at++;
        if (at === itemTagCount) continue;
        const share = tagRaw > 0 ? (seedShare * state.tags.idf(tag)) / Math.sqrt(itemTagCount) / tagRaw : 0;
        const weight = sources.tags * share + embedding;
        embedding = 0;
        if (weight > 0) candidates.push({ kind: 'shared-tag', seed: s, seedTagEdge: seedTags.edges[t]!, itemTagEdge: itemTags.edges[at]!, tag, weight });
      }
    }
    if (sources.trending > 0) candidates.push({ kind: 'trending', weight: sources.trending });

    // The strongest first (ties: the earlier candidate), taken one at a time: only a few are written.
    const out: ExplanationPath[] = [];
    const taken = new Uint8Array(candidates.length);
    while (out.length < this.settings.maxPaths) {
      let best = -1;
      for (let c = 0; c < candidates.length; c++) if (!taken[c] && (best < 0 || candidates[c]!.weight > candidates[best]!.weight)) best = c;
      if (best < 0) break;
      taken[best] = 1;
      const candidate = candidates[best]!;
      const path = this.writePath(state, item, candidate, roundScore(Math.min(1, candidate.weight / score)), writer);
      if (path) out.push(path);
    }
    return out;
  }

  /** The candidate written out (nodes, edges, sentence), or null where an edge it needs is gone. */
  private writePath(state: RequestState, item: number, candidate: PathCandidate, weight: number, writer: PathWriter): ExplanationPath | null {
    const graph = this.host.graph;
    const subject = state.profile.subject;
    if (candidate.kind === 'trending') {
      const recent = this.adjacency.latestPositiveEdge(item, subject);
      if (recent < 0) return null;
      const fans = this.adjacency.positiveSubjectsOf(item).length;
      return {
        kind: 'trending',
        nodes: [writer.node(graph.edgeSource(recent)), writer.node(item)],
        edges: [writer.edge(recent, 0, 1)],
        sentence: `Popular right now: ${people(fans)} liked ${writer.title(item)}, most recently ${isoTimestamp(graph.edgeTimestamp(recent)).slice(0, 10)}`,
        weight,
      };
    }
    const seed = state.profile.seeds[candidate.seed]!;
    // The path starts at the subject, if any: subject → seed → … (positions 0, 1, …), else at the seed.
    const nodes = subject >= 0 ? [writer.node(subject), writer.node(seed.item)] : [writer.node(seed.item)];
    const edges = subject >= 0 ? [writer.edge(seed.edge, 0, 1)] : [];
    const seedAt = nodes.length - 1;
    const at = nodes.length;
    const lead = subject >= 0 ? `Because you ${writer.action(seed.edge)}, and ` : '';
    let sentence: string;
    if (candidate.kind === 'co-interaction') {
      const toSeed = this.adjacency.positiveEdge(candidate.via, seed.item);
      const toItem = this.adjacency.positiveEdge(candidate.via, item);
      if (toSeed < 0 || toItem < 0) return null;
      const shared = this.adjacency.sharedSubjects(seed.item, item, subject);
      // Starts with "Because" or with the count: no capital to add.
      sentence = `${lead}${people(shared)} who liked ${writer.title(seed.item)} also liked ${writer.title(item)}`;
      nodes.push(writer.node(candidate.via), writer.node(item));
      edges.push(writer.edge(toSeed, at, seedAt), writer.edge(toItem, at, at + 1));
    } else {
      const name = tagLabel(graph.externalId(candidate.tag));
      sentence =
        subject >= 0 ? `${lead}${writer.title(item)} is also tagged ${name}` : `${writer.title(item)} is tagged ${name}, like ${writer.title(seed.item)}`;
      nodes.push(writer.node(candidate.tag), writer.node(item));
      edges.push(writer.edge(candidate.seedTagEdge, seedAt, at), writer.edge(candidate.itemTagEdge, at + 1, at));
    }
    return { kind: candidate.kind, nodes, edges, sentence, weight };
  }

  /**
   * How the embedding term splits over the seeds: the attention on the seed's edge (uniform for given
   * items) times how alike the seed and the item are (cosine of their vectors, negative counted as 0).
   * Written into the request's `shares`, valid until the next item's.
   */
  private embeddingShares(state: RequestState, item: number): Float64Array {
    const { seeds } = state.profile;
    const shares = state.shares.fill(0);
    const slot = state.embeddings ? this.index.unitSlot(item) : -1;
    if (slot < 0) return shares;
    let sum = 0;
    for (let s = 0; s < seeds.length; s++) {
      const attention = state.seedAttention[s]!;
      const other = state.seedSlots[s]!;
      if (other < 0 || attention <= 0) continue;
      const share = attention * Math.max(0, this.index.cosine(slot, other));
      shares[s] = share;
      sum += share;
    }
    if (sum > 0) for (let s = 0; s < seeds.length; s++) shares[s]! /= sum;
    return shares;
  }

  /** Each seed's part of these items' walk scores, found once per request for the items whose paths are written. */
  findWalkShares(state: RequestState, items: readonly number[]): WalkShares {
    const known = state.walkShares;
    if (known && items.every((item) => known.rows.rowOf(item) >= 0)) return known;
    state.walkShares = this.walks.shares(state.visits, items, this.host.graph.nodeBound);
    return state.walkShares;
  }
}

/** Scores as answered: six decimals. */
export function roundScore(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function roundSources(s: SourceScores): SourceScores {
  return { embedding: roundScore(s.embedding), walk: roundScore(s.walk), tags: roundScore(s.tags), trending: roundScore(s.trending) };
}
