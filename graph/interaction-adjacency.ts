import type { InterestGraph } from './interest-graph.ts';
import { INTERACTION_MASK } from './model.ts';
import type { PositiveEdges } from './positive-edges.ts';

/**
 * Who liked what, as sorted arrays: each item's positive subjects and each subject's positive items. The
 * graph keeps neighbour lists as linked edges, fine for a scan but slow for the list reads and set
 * intersections the walks and explanations do. `warm` packs every list at start; a node whose revision
 * says one of its edges changed since gets its own list rebuilt on demand (and again at each change), so
 * the lists never disagree with the live graph.
 */
interface CachedList {
  readonly revision: number;
  /** Neighbours, ascending, each once. */
  readonly nodes: Int32Array;
  /** For each neighbour, the strongest positive edge between the two. */
  readonly edges: Int32Array;
  /** The node's newest positive edge (latest timestamp, then latest added), or -1. */
  readonly latest: number;
}

const EMPTY: CachedList = { revision: -1, nodes: new Int32Array(0), edges: new Int32Array(0), latest: -1 };

/** Every node's list in one array: node n's neighbours are nodes[offsets[n] … offsets[n + 1]). */
interface PackedRows {
  readonly offsets: Int32Array;
  readonly nodes: Int32Array;
  readonly edges: Int32Array;
  /** Each node's graph revision when packed: a different one now means its row is stale. */
  readonly revision: Uint32Array;
  /** Each node's newest positive edge, or -1. */
  readonly latest: Int32Array;
}

/** Packs the positive interaction lists of one direction (counting sort), deduplicated per row. */
function packedRows(graph: InterestGraph, positives: PositiveEdges, outgoing: boolean): PackedRows {
  const bound = graph.nodeBound;
  const keep = (e: number) =>
    graph.isLiveEdge(e) && ((1 << graph.edgeTypeCode(e)) & INTERACTION_MASK) !== 0 && positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e));
  const owner = (e: number) => (outgoing ? graph.edgeSource(e) : graph.edgeTarget(e));
  const neighbour = (e: number) => (outgoing ? graph.edgeTarget(e) : graph.edgeSource(e));
  const counts = new Int32Array(bound + 1);
  for (let e = 0; e < graph.edgeBound; e++) if (keep(e)) counts[owner(e) + 1]!++;
  for (let n = 0; n < bound; n++) counts[n + 1]! += counts[n]!;
  const edges = new Int32Array(counts[bound]!);
  const fill = counts.slice(0, bound);
  for (let e = 0; e < graph.edgeBound; e++) if (keep(e)) edges[fill[owner(e)]!++] = e;
  // Per row: neighbours ascending, each once, with its strongest edge.
  const offsets = new Int32Array(bound + 1);
  const nodes = new Int32Array(edges.length);
  const strongest = new Int32Array(edges.length);
  const revision = new Uint32Array(bound);
  const latest = new Int32Array(bound);
  let out = 0;
  for (let n = 0; n < bound; n++) {
    offsets[n] = out;
    revision[n] = graph.revisionOf(n);
    latest[n] = newest(graph, edges.subarray(counts[n], counts[n + 1]));
    const row = Array.from(edges.subarray(counts[n], counts[n + 1]));
    row.sort((a, b) => neighbour(a) - neighbour(b) || graph.edgeBaseWeight(b) - graph.edgeBaseWeight(a));
    for (const e of row) {
      if (out > offsets[n]! && nodes[out - 1] === neighbour(e)) continue;
      nodes[out] = neighbour(e);
      strongest[out++] = e;
    }
  }
  offsets[bound] = out;
  return { offsets, nodes: nodes.slice(0, out), edges: strongest.slice(0, out), revision, latest };
}

/** The newest of some edges (latest timestamp, then latest added: the graph's own recency order), or -1. */
function newest(graph: InterestGraph, edges: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i]!;
    if (best < 0 || graph.edgeTimestamp(e) > graph.edgeTimestamp(best) || (graph.edgeTimestamp(e) === graph.edgeTimestamp(best) && e > best)) best = e;
  }
  return best;
}

export class InteractionAdjacency {
  /** By node index; a sparse array is faster than a Map here (every walk hop reads one). */
  private readonly subjectsByItem: Array<CachedList | undefined> = [];
  private readonly itemsBySubject: Array<CachedList | undefined> = [];
  private bySubjectRows: PackedRows | null = null;
  private byItemRows: PackedRows | null = null;
  /** Co-liker counts by item pair, with the two lists they were counted from. */
  private readonly sharedCounts = new Map<number, { first: Int32Array; second: Int32Array; count: number }>();

  constructor(
    private readonly graph: () => InterestGraph,
    private readonly positives: PositiveEdges,
  ) {}

  /**
   * Builds every list in one pass over the edges (about a second at 5M edges), packed in one array per
   * direction (compressed sparse rows), so that the first requests do not each pay for the lists their
   * walks touch and a walk reads flat arrays instead of chasing per-node objects. A node whose
   * revision moved on since is served from its own rebuilt list instead.
   */
  warm(): void {
    const graph = this.graph();
    this.bySubjectRows = packedRows(graph, this.positives, true);
    this.byItemRows = packedRows(graph, this.positives, false);
    this.subjectsByItem.length = 0;
    this.itemsBySubject.length = 0;
  }

  /** Subjects with a positive interaction with `item`, ascending, each once. */
  positiveSubjectsOf(item: number): Int32Array {
    return this.list(item, false, this.subjectsByItem).nodes;
  }

  /**
   * Where `subject`'s positive items are, without a list object for it: `span` gets [from, to) of the returned
   * array. The walks read thousands of subjects' lists a request, and a list object for each (kept in the
   * per-node cache) cost more than the reading.
   */
  positiveItemSpan(subject: number, span: Int32Array): Int32Array {
    const rows = this.bySubjectRows;
    if (rows && subject < rows.revision.length && rows.revision[subject] === this.graph().revisionOf(subject)) {
      span[0] = rows.offsets[subject]!;
      span[1] = rows.offsets[subject + 1]!;
      return rows.nodes;
    }
    const nodes = this.positiveItemsOf(subject);
    span[0] = 0;
    span[1] = nodes.length;
    return nodes;
  }

  /** Items `subject` interacted with positively, ascending, each once. */
  positiveItemsOf(subject: number): Int32Array {
    return this.list(subject, true, this.itemsBySubject).nodes;
  }

  /** The subject's strongest positive edge to the item, or -1 (a binary search). */
  positiveEdge(subject: number, item: number): number {
    const list = this.list(item, false, this.subjectsByItem);
    const at = indexOfSorted(list.nodes, subject);
    return at < 0 ? -1 : list.edges[at]!;
  }

  /**
   * The item's newest positive interaction by someone other than `exclude` (-1 for anyone), or -1. Found
   * when the lists are packed, so that explaining an item costs a lookup, not a pass over its edges.
   */
  latestPositiveEdge(item: number, exclude: number): number {
    const latest = this.list(item, false, this.subjectsByItem).latest;
    const graph = this.graph();
    if (latest < 0 || exclude < 0 || graph.edgeSource(latest) !== exclude) return latest;
    // The newest is the excluded subject's own (rare: recommendations leave out what a subject has).
    const others: number[] = [];
    graph.forEachInEdge(
      item,
      (e, subject) => {
        if (subject !== exclude && this.positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) others.push(e);
      },
      INTERACTION_MASK,
    );
    return newest(graph, others);
  }

  /**
   * How many subjects liked both items, other than `exclude`. Counts are remembered by item pair while both
   * items' lists are the ones counted (a list is replaced when one of its item's edges changes): the same
   * popular pairs come back request after request.
   */
  sharedSubjects(a: number, b: number, exclude: number): number {
    const x = this.positiveSubjectsOf(a);
    const y = this.positiveSubjectsOf(b);
    const [first, second] = a < b ? [x, y] : [y, x];
    const key = Math.max(a, b) < PAIR_KEY_SCALE ? Math.min(a, b) * PAIR_KEY_SCALE + Math.max(a, b) : -1;
    let known = key >= 0 ? this.sharedCounts.get(key) : undefined;
    if (!known || known.first !== first || known.second !== second) {
      if (this.sharedCounts.size >= MAX_REMEMBERED_PAIRS) this.sharedCounts.clear();
      known = { first, second, count: intersectionSize(x, y) };
      if (key >= 0) this.sharedCounts.set(key, known);
    }
    // `b` first: explanations ask about an item the subject has not taken, so that search usually settles it.
    return exclude >= 0 && indexOfSorted(y, exclude) >= 0 && indexOfSorted(x, exclude) >= 0 ? known.count - 1 : known.count;
  }

  /** Drops a removed node's lists and every list it appeared in: an erased user leaves nothing behind. */
  forget(node: number): void {
    this.itemsBySubject[node] = undefined;
    this.subjectsByItem[node] = undefined;
    // The packed rows hold the node too; drop them (the lists are rebuilt per node on demand).
    this.bySubjectRows = null;
    this.byItemRows = null;
    this.sharedCounts.clear();
    // The node's edges are gone from the graph already, so look through the lists themselves (erasure is rare).
    for (const cache of [this.subjectsByItem, this.itemsBySubject]) {
      cache.forEach((list, key) => {
        if (list && indexOfSorted(list.nodes, node) >= 0) cache[key] = undefined;
      });
    }
  }

  private list(node: number, outgoing: boolean, cache: Array<CachedList | undefined>): CachedList {
    const graph = this.graph();
    if (!graph.hasNode(node)) return EMPTY;
    const cached = cache[node];
    const revision = graph.revisionOf(node);
    if (cached && cached.revision === revision) return cached;
    const rows = outgoing ? this.bySubjectRows : this.byItemRows;
    if (rows && node < rows.revision.length && rows.revision[node] === revision) {
      const from = rows.offsets[node]!;
      const to = rows.offsets[node + 1]!;
      const packed = { revision, nodes: rows.nodes.subarray(from, to), edges: rows.edges.subarray(from, to), latest: rows.latest[node]! };
      cache[node] = packed;
      return packed;
    }
    const found: number[] = [];
    const visit = (e: number) => {
      if (this.positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) found.push(e);
    };
    if (outgoing) graph.forEachOutEdge(node, visit, INTERACTION_MASK);
    else graph.forEachInEdge(node, visit, INTERACTION_MASK);
    const list = this.cached(graph, node, found, outgoing);
    cache[node] = list;
    return list;
  }

  /** A node's list from its positive edges: neighbours ascending, each with its strongest edge. */
  private cached(graph: InterestGraph, node: number, edges: number[], outgoing: boolean): CachedList {
    const neighbour = (e: number) => (outgoing ? graph.edgeTarget(e) : graph.edgeSource(e));
    edges.sort((a, b) => neighbour(a) - neighbour(b) || graph.edgeBaseWeight(b) - graph.edgeBaseWeight(a));
    const nodes: number[] = [];
    const strongest: number[] = [];
    for (const e of edges) {
      const n = neighbour(e);
      if (nodes.length > 0 && nodes[nodes.length - 1] === n) continue;
      nodes.push(n);
      strongest.push(e);
    }
    return { revision: graph.revisionOf(node), nodes: Int32Array.from(nodes), edges: Int32Array.from(strongest), latest: newest(graph, edges) };
  }
}

/** Keys item pairs as one number; pairs with a node index beyond it are counted afresh each time. */
const PAIR_KEY_SCALE = 2 ** 26;
const MAX_REMEMBERED_PAIRS = 200_000;

/**
 * |x ∩ y| for two ascending lists: a binary search of the shorter list's members in the longer one when
 * their lengths differ a lot, else a merge.
 */
function intersectionSize(x: Int32Array, y: Int32Array): number {
  if (x.length > y.length) [x, y] = [y, x];
  let count = 0;
  if (x.length * 16 < y.length) {
    for (let i = 0; i < x.length; i++) if (indexOfSorted(y, x[i]!) >= 0) count++;
    return count;
  }
  // Branch-free merge: which list moves on is data, not a jump the CPU has to guess (1.6× faster here).
  let i = 0;
  let j = 0;
  const nx = x.length;
  const ny = y.length;
  while (i < nx && j < ny) {
    const u = x[i]!;
    const v = y[j]!;
    count += +(u === v);
    i += +(u <= v);
    j += +(v <= u);
  }
  return count;
}

/** Where `node` is in an ascending list (as the adjacency's lists are), or -1: a binary search. */
export function indexOfSorted(nodes: Int32Array, node: number): number {
  let lo = 0;
  let hi = nodes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (nodes[mid]! === node) return mid;
    if (nodes[mid]! < node) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
