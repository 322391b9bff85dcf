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
  readonly nodes: Int32Array;
}

const EMPTY = new Int32Array(0);

export class InteractionAdjacency {
  private readonly subjectsByItem = new Map<number, CachedList>();
  private readonly itemsBySubject = new Map<number, CachedList>();

  constructor(
    private readonly graph: () => InterestGraph,
    private readonly positives: PositiveEdges,
  ) {}

  /** Subjects with a positive interaction with `item`, ascending, each once. */
  positiveSubjectsOf(item: number): Int32Array {
    return this.list(item, false, this.subjectsByItem);
  }

  /** Items `subject` interacted with positively, ascending, each once. */
  positiveItemsOf(subject: number): Int32Array {
    return this.list(subject, true, this.itemsBySubject);
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
    this.itemsBySubject.delete(node);
    this.subjectsByItem.delete(node);
    // The node's edges are gone from the graph already, so look through the lists themselves (erasure is rare).
    for (const cache of [this.subjectsByItem, this.itemsBySubject]) {
      for (const [key, list] of cache) if (includesSorted(list.nodes, node)) cache.delete(key);
    }
  }

  private list(node: number, outgoing: boolean, cache: Map<number, CachedList>): Int32Array {
    const graph = this.graph();
    if (!graph.hasNode(node)) return EMPTY;
    const revision = graph.revisionOf(node);
    const cached = cache.get(node);
    if (cached && cached.revision === revision) return cached.nodes;
    const found: number[] = [];
    const visit = (e: number, neighbour: number) => {
      if (this.positives.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) found.push(neighbour);
    };
    if (outgoing) graph.forEachOutEdge(node, visit, INTERACTION_MASK);
    else graph.forEachInEdge(node, visit, INTERACTION_MASK);
    const nodes = Int32Array.from(new Set(found)).sort();
    cache.set(node, { revision, nodes });
    return nodes;
  }
}

function includesSorted(nodes: Int32Array, node: number): boolean {
  let lo = 0;
  let hi = nodes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (nodes[mid]! === node) return true;
    if (nodes[mid]! < node) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
