import { indexOfSorted, type InteractionAdjacency } from './interaction-adjacency.ts';
import { NodeTable } from './node-table.ts';
import { TopKSelector } from './top-k.ts';

/**
 * Co-interaction walks from a subject's seed items on the bipartite graph of positive interactions: from
 * each seed to the people who liked it, then on to the items they liked. The hop is computed, not sampled
 * (exactly, within the limits below):
 *
 *   walk(i)   = Σ_s w_s · hop_s(i)
 *   hop_s(i)  = Σ_{v ∈ V_s, i ∈ I_v} (|items(v)| / |I_v|) / (|V_s| · |items(v)|^½)
 *
 * with V_s the likers of s walked and I_v the items of v read: all of them, or for someone who liked many,
 * an even spread, each standing for |items(v)| / |I_v| of them.
 *
 * Each seed shares its weight evenly among its likers, as a walk step does; each liker passes it on to their
 * items divided by the square root of how many they liked, not by the count as a walk step would: someone
 * who liked 400 items says less about each than someone who liked 4, but not a hundred times less. Measured
 * as the only score on the evaluation's temporal split (seed 1, Recall@20 / NDCG@20, a user's 20 latest
 * training positives as seeds of weight 1): lastfm-hetrec-2k 0.1494 / 0.0943 with the square root, 0.1402 /
 * 0.0884 with the count (an exact walk step), 0.1469 / 0.0938 with the power 0.3; ml-latest-small 0.1224 /
 * 0.0967 and 0.1186 / 0.0942. The 50-step sampled walk it replaces reached about 0.05 on lastfm.
 *
 * V_s is an even spread of at most `likersPerSeed` of the seed's likers, the requesting subject left out
 * (its own history says nothing new), thinned evenly so that the request reads about `itemsPerRequest`
 * items, and I_v at most `itemsPerLiker` of v's items (see `WalkLimits`, `planSeeds`): a request's cost is
 * bounded at any graph size. Unbounded, the likers of popular items in a 5M-edge graph are mostly its
 * heaviest users, and requests took 10 ms instead of 1.3. Rare seeds are walked whole, and what sparse
 * catalogues gain is there: on lastfm-hetrec-2k (`engine`, Recall@20 / NDCG@20) unlimited 0.1633 / 0.1074,
 * 20,000 items a request 0.1639 / 0.1078, 10,000 (the default) 0.1628 / 0.1080, 5,000 0.1613 / 0.1050;
 * every liker capped at 50 items 0.1527 / 0.1023. At 5M edges the walk is most of a request's cost, and
 * 10,000 takes about a fifth off a request's time against 20,000. Everything is a function of the graph
 * alone, so the same graph gives the same answer.
 */

/** Where walks start: an item the subject likes, and how much it counts. */
export interface WalkSeed {
  readonly item: number;
  readonly weight: number;
}

export interface WalkVisits {
  /** Items reached. */
  readonly rows: NodeTable;
  /** [rows]: walk(i) of each reached item. */
  readonly totals: Float64Array;
  /** Which likers of each seed were walked: `shares` walks the same ones. */
  readonly plan: WalkPlan;
}

/** Per seed: its likers spread (`taken`), every `step`-th of them walked, how many that is (`walked`). */
export interface WalkPlan {
  readonly seeds: readonly WalkSeed[];
  readonly subject: number;
  readonly taken: Int32Array;
  readonly step: Int32Array;
  readonly walked: Int32Array;
}

/** Each seed's part of some items' walk scores, and a liker through whom it flowed. */
export interface WalkShares {
  /** Rows of the items asked about. */
  readonly rows: NodeTable;
  readonly seeds: number;
  /** [rows × seeds]: hop_s(i), before the seed's weight. */
  readonly hop: Float64Array;
  /** [rows × seeds]: the liker of both who passed on the most (ties: the lower node), or -1. */
  readonly via: Int32Array;
}

/** How much of the graph a request's walks read. */
export interface WalkLimits {
  /** The most likers of a seed considered (an even spread of them). */
  readonly likersPerSeed: number;
  /** The most items of one liker read (an even spread, each standing for its share of the rest). */
  readonly itemsPerLiker: number;
  /** About how many items one request reads at most, shared out among its seeds smallest first (see `planSeeds`). */
  readonly itemsPerRequest: number;
  /**
   * How many of a seed's likers `planSeeds` counts the items of to estimate what walking it would read (an
   * even spread of them, scaled up). Counting every liker of every seed took a third of the walk's time at
   * 5M edges: the likers of popular items are all over the graph.
   */
  readonly likersCountedToPlan?: number;
}

const LIKERS_COUNTED_TO_PLAN = 32;

/** The square root in `hop`: the damping of each liker's share by their number of liked items. */
const LIKER_DAMPING = 0.5;

export class SeedWalks {
  /**
   * By node, side by side: [2n] walk(n) while a walk runs, valid where [2n + 1] holds the walk's generation.
   * Together, one cache line serves both reads of an item: the walk's reads land all over a graph this size.
   */
  private cells = new Float64Array(0);
  private generation = 0;
  private reached: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** [from, to) of the liker's items being read. */
  private readonly span = new Int32Array(2);

  constructor(
    private readonly adjacency: InteractionAdjacency,
    private readonly limits: WalkLimits,
  ) {}

  /** walk(i) for every item the seeds reach. */
  walk(seeds: readonly WalkSeed[], subject: number, nodeBound: number): WalkVisits {
    this.prepare(nodeBound);
    const { cells } = this;
    const generation = this.generation;
    let reachedCount = 0;
    const plan = this.planSeeds(seeds, subject);
    this.forEachLiker(plan, (s, _liker, liked, from, count, read, share) => {
      const weighted = seeds[s]!.weight * share;
      // The whole list (the common case) without the spread's index arithmetic.
      const whole = read === count;
      for (let t = 0; t < read; t++) {
        const at = 2 * liked[whole ? from + t : from + Math.floor((t * count) / read)]!;
        if (cells[at + 1] !== generation) {
          cells[at + 1] = generation;
          cells[at] = 0;
          if (reachedCount === this.reached.length) this.reached = grow(this.reached);
          this.reached[reachedCount++] = at >> 1;
        }
        cells[at]! += weighted;
      }
    });
    const rows = new NodeTable(reachedCount);
    const totals = new Float64Array(reachedCount);
    for (let r = 0; r < reachedCount; r++) {
      const item = this.reached[r]!;
      rows.add(item);
      totals[r] = cells[2 * item]!;
    }
    return { rows, totals, plan };
  }

  /**
   * Each seed's hop to each of `items`, for their explanations: the walk that found `visits` again (the same
   * likers), kept for these items only.
   */
  shares(visits: WalkVisits, items: readonly number[], nodeBound: number): WalkShares {
    const { seeds } = visits.plan;
    this.prepare(nodeBound);
    const { cells } = this;
    const generation = this.generation;
    const rows = new NodeTable(items.length);
    for (const item of items) {
      if (rows.rowOf(item) >= 0) continue;
      rows.add(item);
      cells[2 * item + 1] = generation;
    }
    const width = Math.max(1, seeds.length);
    const hop = new Float64Array(rows.size * width);
    const via = new Int32Array(hop.length).fill(-1);
    const best = new Float64Array(hop.length);
    this.forEachLiker(visits.plan, (s, liker, liked, from, count, read, share) => {
      const whole = read === count;
      for (let t = 0; t < read; t++) {
        const item = liked[whole ? from + t : from + Math.floor((t * count) / read)]!;
        if (cells[2 * item + 1] !== generation) continue;
        const cell = rows.rowOf(item) * width + s;
        hop[cell]! += share;
        // Likers come in ascending order: the first with the largest share is the lowest.
        if (share > best[cell]!) {
          best[cell] = share;
          via[cell] = liker;
        }
      }
    });
    return { rows, seeds: width, hop, via };
  }

  /**
   * Every liker walked (see `planSeeds`), seed by seed in ascending node order: `visit` gets the seed's index,
   * the liker, where its items are (`liked[from .. from + count)`), how many of them to read (an even spread)
   * and what it passes to each, before the seed's weight.
   */
  private forEachLiker(
    plan: WalkPlan,
    visit: (s: number, liker: number, liked: Int32Array, from: number, count: number, read: number, share: number) => void,
  ): void {
    const itemsCap = Math.max(1, this.limits.itemsPerLiker);
    const { seeds, subject, taken, step, walked } = plan;
    for (let s = 0; s < seeds.length; s++) {
      const likers = this.adjacency.positiveSubjectsOf(seeds[s]!.item);
      const n = likers.length;
      for (let k = 0; k < taken[s]! && walked[s]! > 0; k += step[s]!) {
        const liker = likers[Math.floor((k * n) / taken[s]!)]!;
        if (liker === subject) continue;
        const liked = this.adjacency.positiveItemSpan(liker, this.span);
        const from = this.span[0]!;
        const count = this.span[1]! - from;
        const read = Math.min(count, itemsCap);
        visit(s, liker, liked, from, count, read, hopShare(walked[s]!, count, read));
      }
    }
  }

  /**
   * V_s for each seed: an even spread of at most `likersPerSeed` of its likers (the subject left out), thinned
   * to every step-th so that the request reads about `itemsPerRequest` items (each liker's count capped at
   * `itemsPerLiker`). The budget is shared out smallest seed first: a seed that needs less than an even share
   * is walked whole and leaves the rest to the others, so rare seeds are never thinned. What a seed would
   * read is counted on an even spread of `likersCountedToPlan` of its likers and scaled up (exact for seeds
   * with no more likers than that).
   */
  private planSeeds(seeds: readonly WalkSeed[], subject: number): WalkPlan {
    const count = seeds.length;
    const plan = { seeds, subject, taken: new Int32Array(count), step: new Int32Array(count), walked: new Int32Array(count) };
    const { taken, step, walked } = plan;
    const reads = new Float64Array(count);
    const itemsCap = Math.max(1, this.limits.itemsPerLiker);
    const counted = Math.max(1, this.limits.likersCountedToPlan ?? LIKERS_COUNTED_TO_PLAN);
    for (let s = 0; s < count; s++) {
      const likers = this.adjacency.positiveSubjectsOf(seeds[s]!.item);
      const n = likers.length;
      const t = (taken[s] = Math.min(n, Math.max(1, this.limits.likersPerSeed)));
      const m = Math.min(t, counted);
      let r = 0;
      let others = 0;
      for (let j = 0; j < m; j++) {
        const liker = likers[Math.floor((Math.floor((j * t) / m) * n) / t)]!;
        if (liker === subject) continue;
        this.adjacency.positiveItemSpan(liker, this.span);
        r += Math.min(this.span[1]! - this.span[0]!, itemsCap);
        others++;
      }
      const subjectTaken = walksThrough(likers, t, 1, subject) ? 1 : 0;
      reads[s] = others > 0 ? (r * (t - subjectTaken)) / others : 0;
    }
    const order = Array.from({ length: count }, (_, s) => s).sort((a, b) => reads[a]! - reads[b]! || a - b);
    let remaining = Math.max(1, this.limits.itemsPerRequest);
    order.forEach((s, i) => {
      const share = remaining / (count - i);
      step[s] = reads[s]! <= share ? 1 : Math.ceil(reads[s]! / Math.max(1, share));
      remaining = Math.max(0, remaining - reads[s]! / step[s]);
      const likers = this.adjacency.positiveSubjectsOf(seeds[s]!.item);
      walked[s] = Math.ceil(taken[s]! / step[s]) - (walksThrough(likers, taken[s]!, step[s], subject) ? 1 : 0);
    });
    return plan;
  }

  private prepare(nodeBound: number): void {
    if (this.cells.length < 2 * nodeBound) {
      this.cells = new Float64Array(2 * Math.max(nodeBound, this.cells.length));
      this.generation = 0;
    }
    // Exact as a double for 2^53 walks: never wraps in practice.
    this.generation++;
  }
}

/**
 * Whether `subject` is among the likers walked: those at floor(k · n / taken) for k = 0, step, 2·step, … below
 * `taken`. With n ≥ taken that index rises strictly with k, so at most one k lands on the subject's position.
 */
function walksThrough(likers: Int32Array, taken: number, step: number, subject: number): boolean {
  const at = indexOfSorted(likers, subject);
  if (at < 0) return false;
  const n = likers.length;
  const k = Math.ceil((at * taken) / n);
  return k < taken && k % step === 0 && Math.floor((k * n) / taken) === at;
}

/** What one liker passes on to each of the `read` of its `liked` items it is read for: (liked / read) / (walked · liked^½). */
function hopShare(walked: number, liked: number, read: number): number {
  return liked / read / (walked * Math.pow(liked, LIKER_DAMPING));
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(1024, 2 * array.length));
  out.set(array);
  return out;
}

/** walk(i) for one item (0 when never reached). */
export function walkScore(walk: WalkVisits, item: number): number {
  const row = walk.rows.rowOf(item);
  return row < 0 ? 0 : walk.totals[row]!;
}

/**
 * The `limit` reached items with the highest walk score that `skip` lets through, best first (ties: lower
 * node first). A walk reaches thousands of items, of which sixty are wanted: a heap, not a sort.
 */
export function topByWalk(walk: WalkVisits, limit: number, skip: (node: number) => boolean): number[] {
  if (limit <= 0) return [];
  const { nodes } = walk.rows;
  const selector = new TopKSelector(limit);
  // The filters are asked only about items that would make the list so far: most of thousands never do.
  for (let row = 0; row < walk.rows.size; row++) {
    const score = walk.totals[row]!;
    const node = nodes[row]!;
    if (selector.wouldKeep(score, node) && !skip(node)) selector.offer(score, node);
  }
  const out = new Uint32Array(limit);
  return Array.from(out.subarray(0, selector.drain(out)));
}
