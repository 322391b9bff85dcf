import type { InterestGraph } from '../../graph/interest-graph.ts';
import { INTERACTION_MASK } from '../../graph/model.ts';
import type { PositiveEdges } from '../../graph/positive-edges.ts';

/**
 * Who liked what, as sorted arrays: each item's positive subjects and each subject's positive items. The
 * graph keeps neighbour lists as linked edges, fine for a scan but slow for the random access and set
 * intersections the walks and explanations do; these arrays are built on first use and rebuilt when the
 * node's revision says one of its edges changed, so they never disagree with the live graph.
 */
interface CachedList {
  readonly revision: number;
  /** Neighbours, ascending, each once. */
  readonly nodes: Int32Array;
  /** For each neighbour, the strongest positive edge between the two. */
  readonly edges: Int32Array;
}

const EMPTY: CachedList = { revision: -1, nodes: new Int32Array(0), edges: new Int32Array(0) };

export class InteractionAdjacency {
  /** By node index; a sparse array is faster than a Map here (every walk step reads one). */
  private readonly subjectsByItem: Array<CachedList | undefined> = [];
  private readonly itemsBySubject: Array<CachedList | undefined> = [];

  constructor(
    private readonly graph: () => InterestGraph,
    private readonly positives: PositiveEdges,
  ) {}

  /**
   * Builds every list in one pass over the edges (a second at 5M edges), so that the first requests do
   * not each pay for building the lists their walks touch.
   */
  warm(): void {
    const graph = this.graph();
    const bySubject = new Map<number, number[]>();
    const byItem = new Map<number, number[]>();
    for (let e = 0; e < graph.edgeBound; e++) {
      if (!graph.isLiveEdge(e) || ((1 << graph.edgeTypeCode(e)) & INTERACTION_MASK) === 0) continue;
      if (!this.positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) continue;
      let items = bySubject.get(graph.edgeSource(e));
      if (!items) bySubject.set(graph.edgeSource(e), (items = []));
      items.push(e);
      let subjects = byItem.get(graph.edgeTarget(e));
      if (!subjects) byItem.set(graph.edgeTarget(e), (subjects = []));
      subjects.push(e);
    }
    const store = (cache: Array<CachedList | undefined>, lists: Map<number, number[]>, outgoing: boolean) => {
      for (const [node, edges] of lists) cache[node] = this.cached(graph, node, edges, outgoing);
    };
    store(this.itemsBySubject, bySubject, true);
    store(this.subjectsByItem, byItem, false);
  }

  /** Subjects with a positive interaction with `item`, ascending, each once. */
  positiveSubjectsOf(item: number): Int32Array {
    return this.list(item, false, this.subjectsByItem).nodes;
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

  /** How many subjects liked both items (sorted-list intersection), and the first few of them. */
  sharedSubjects(a: number, b: number, exclude: number, sample: number[]): number {
    const x = this.positiveSubjectsOf(a);
    const y = this.positiveSubjectsOf(b);
    let i = 0;
    let j = 0;
    let count = 0;
    while (i < x.length && j < y.length) {
      const u = x[i]!;
      const v = y[j]!;
      if (u < v) i++;
      else if (v < u) j++;
      else {
        if (u !== exclude) {
          count++;
          if (sample.length < 8) sample.push(u);
        }
        i++;
        j++;
      }
    }
    return count;
  }

  /** Drops a removed node's lists and every list it appeared in: an erased user leaves nothing behind. */
  forget(node: number): void {
    this.itemsBySubject[node] = undefined;
    this.subjectsByItem[node] = undefined;
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
    if (cached && cached.revision === graph.revisionOf(node)) return cached;
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
    return { revision: graph.revisionOf(node), nodes: Int32Array.from(nodes), edges: Int32Array.from(strongest) };
  }
}

function indexOfSorted(nodes: Int32Array, node: number): number {
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
