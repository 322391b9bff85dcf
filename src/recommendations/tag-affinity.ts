import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG, NodeKindCode } from '../../graph/model.ts';
import { NodeTable } from '../../graph/node-table.ts';
import { TopKSelector } from '../../graph/top-k.ts';
import type { Seed, SubjectProfile } from './subject-profile.ts';

/**
 * How much a subject likes each tag, from the tags of its seeds, and how well an item's tags match:
 *
 *   affinity(t) = Σ_{seeds s tagged t} w_s / |tags(s)|  −  the same over negative seeds
 *   tags(i)     = Σ_{t ∈ tags(i)} affinity⁺(t) · idf(t) / √|tags(i)|,    idf(t) = ln(1 + items / items tagged t)
 *
 * An item's score splits into the paths seed → tag ← item: the seed's share w_s / |tags(s)| of each tag.
 */
export interface TagProfile {
  /** Tag node → affinity (may be negative). */
  readonly affinity: ReadonlyMap<number, number>;
}

export function tagProfile(lists: TagLists, profile: SubjectProfile): TagProfile {
  const affinity = new Map<number, number>();
  const visit = (seed: Seed, sign: number) => {
    const tags = lists.tagsOf(seed.item).nodes;
    if (tags.length === 0) return;
    const share = seed.weight / tags.length;
    for (const tag of tags) affinity.set(tag, (affinity.get(tag) ?? 0) + sign * share);
  };
  for (const seed of profile.seeds) visit(seed, 1);
  for (const seed of profile.negatives) visit(seed, -1);
  return { affinity };
}

/** One node's tag edges as arrays: for an item its tags, for a tag its items (newest tagged first). */
export interface TagList {
  readonly revision: number;
  readonly nodes: Int32Array;
  readonly edges: Int32Array;
}

/** Where an item's tags lie, without a copy: `nodes[from … to)`. */
export interface TagSpan {
  nodes: Int32Array;
  from: number;
  to: number;
}

const NO_TAGS: TagList = { revision: -1, nodes: new Int32Array(0), edges: new Int32Array(0) };

/** Every node's tag list of one direction in one array: node n's are nodes[offsets[n] … offsets[n + 1]). */
interface PackedTagRows {
  readonly offsets: Int32Array;
  readonly nodes: Int32Array;
  readonly edges: Int32Array;
  /** Each node's graph revision when packed: a different one now means its row is stale. */
  readonly revision: Uint32Array;
}

/** Appends the node's tag edges (an item's out-edges, a tag's in-edges) and their other ends, in the graph's order. */
function appendTagEdges(graph: InterestGraph, node: number, outgoing: boolean, nodes: number[], edges: number[]): void {
  const visit = (edge: number, other: number): void => {
    nodes.push(other);
    edges.push(edge);
  };
  if (outgoing) graph.forEachOutEdge(node, visit, 1 << HAS_TAG);
  else graph.forEachInEdge(node, visit, 1 << HAS_TAG);
}

/** Items' tags (`outgoing`) or tags' items, each row in the order the graph lists the edges. */
function packTagRows(graph: InterestGraph, outgoing: boolean): PackedTagRows {
  const bound = graph.nodeBound;
  const owners = outgoing ? NodeKindCode.item : NodeKindCode.tag;
  const offsets = new Int32Array(bound + 1);
  const revision = new Uint32Array(bound);
  const nodes: number[] = [];
  const edges: number[] = [];
  for (let n = 0; n < bound; n++) {
    offsets[n] = nodes.length;
    if (!graph.hasNode(n)) continue;
    revision[n] = graph.revisionOf(n);
    if (graph.nodeKindCode(n) === owners) appendTagEdges(graph, n, outgoing, nodes, edges);
  }
  offsets[bound] = nodes.length;
  return { offsets, nodes: Int32Array.from(nodes), edges: Int32Array.from(edges), revision };
}

/**
 * Items' tags and tags' items, read from the graph once and kept until the node's revision changes. A
 * request scores hundreds of items by their tags and walks the items of its strongest tags; following
 * the graph's linked edge lists each time cost a closure per item and a pointer chase per edge. `warm`
 * packs every list at start into one array per direction (scoring an item then reads two small flat
 * arrays, where per-node lists scattered over the heap missed cache); a node whose revision moved on
 * since gets its own list, rebuilt on demand.
 */
export class TagLists {
  /** By node index; a sparse array is faster than a Map here. */
  private readonly lists: Array<TagList | undefined> = [];
  private itemTags: PackedTagRows | null = null;
  private tagItems: PackedTagRows | null = null;

  constructor(private readonly graph: () => InterestGraph) {}

  warm(): void {
    const graph = this.graph();
    this.lists.length = 0;
    this.itemTags = packTagRows(graph, true);
    this.tagItems = packTagRows(graph, false);
  }

  /** The item's tags (`nodes`) and item → tag edges. */
  tagsOf(item: number): TagList {
    return this.list(item, true);
  }

  /** The items tagged with `tag`, most recently tagged first, and their item → tag edges. */
  itemsOf(tag: number): TagList {
    return this.list(tag, false);
  }

  /** Points `span` at the item's tags, in place: what scoring hundreds of items a request reads. */
  locateTags(item: number, span: TagSpan): void {
    const rows = this.freshRows(item, true);
    if (rows) {
      span.nodes = rows.nodes;
      span.from = rows.offsets[item]!;
      span.to = rows.offsets[item + 1]!;
      return;
    }
    const list = this.list(item, true);
    span.nodes = list.nodes;
    span.from = 0;
    span.to = list.nodes.length;
  }

  /** Drops everything (a node was removed: its index may be reused). */
  clear(): void {
    this.lists.length = 0;
    this.itemTags = null;
    this.tagItems = null;
  }

  /** The packed rows of that direction when they still hold the node's list as the graph has it. */
  private freshRows(node: number, outgoing: boolean): PackedTagRows | null {
    const rows = outgoing ? this.itemTags : this.tagItems;
    const graph = this.graph();
    return rows && node < rows.revision.length && graph.hasNode(node) && rows.revision[node] === graph.revisionOf(node) ? rows : null;
  }

  private list(node: number, outgoing: boolean): TagList {
    const graph = this.graph();
    if (!graph.hasNode(node)) return NO_TAGS;
    const revision = graph.revisionOf(node);
    const known = this.lists[node];
    if (known && known.revision === revision) return known;
    const rows = this.freshRows(node, outgoing);
    let list: TagList;
    if (rows) {
      const from = rows.offsets[node]!;
      const to = rows.offsets[node + 1]!;
      list = { revision, nodes: rows.nodes.subarray(from, to), edges: rows.edges.subarray(from, to) };
    } else {
      const nodes: number[] = [];
      const edges: number[] = [];
      appendTagEdges(graph, node, outgoing, nodes, edges);
      list = { revision, nodes: Int32Array.from(nodes), edges: Int32Array.from(edges) };
    }
    this.lists[node] = list;
    return list;
  }
}

export class TagScorer {
  private readonly itemCount: number;
  private readonly idfs = new Map<number, number>();
  /** The liked tags (affinity > 0) by row, and affinity⁺(t) · idf(t) for each: one lookup per item tag. */
  private readonly liked = new NodeTable();
  private likedWeights = new Float64Array(8);
  /**
   * Items already scored in this request (candidates, ranking and paths ask for the same items), by row;
   * sized for the usual request (six tags of a hundred items, then the other candidates).
   */
  private readonly scored = new NodeTable(1024);
  private scores = new Float64Array(1024);
  private readonly span: TagSpan = { nodes: new Int32Array(0), from: 0, to: 0 };

  constructor(
    private readonly graph: InterestGraph,
    private readonly lists: TagLists,
    profile: TagProfile,
  ) {
    this.itemCount = Math.max(1, graph.counts().items);
    for (const [tag, a] of profile.affinity) {
      if (a <= 0) continue;
      const row = this.liked.add(tag);
      this.likedWeights = ensureLength(this.likedWeights, row + 1);
      this.likedWeights[row] = a * this.idf(tag);
    }
  }

  idf(tag: number): number {
    let value = this.idfs.get(tag);
    if (value === undefined) {
      value = Math.log(1 + this.itemCount / Math.max(1, this.graph.inDegreeOf(tag)));
      this.idfs.set(tag, value);
    }
    return value;
  }

  /** tags(i) as above; 0 for an item without liked tags. */
  score(item: number): number {
    if (this.liked.size === 0) return 0;
    let row = this.scored.rowOf(item);
    if (row < 0) {
      row = this.scored.add(item);
      this.scores = ensureLength(this.scores, row + 1);
      this.scores[row] = this.compute(item);
    }
    return this.scores[row]!;
  }

  private compute(item: number): number {
    const span = this.span;
    this.lists.locateTags(item, span);
    let sum = 0;
    for (let t = span.from; t < span.to; t++) {
      const row = this.liked.rowOf(span.nodes[t]!);
      if (row >= 0) sum += this.likedWeights[row]!;
    }
    return span.to > span.from ? sum / Math.sqrt(span.to - span.from) : 0;
  }

  /**
   * Candidate items: those tagged with the subject's strongest tags (`tagLimit` of them, up to
   * `perTag` items each, most recently tagged first), best score first.
   */
  candidates(tagLimit: number, perTag: number, limit: number, skip: (item: number) => boolean): number[] {
    const strongest = Array.from(this.liked.nodes.subarray(0, this.liked.size), (tag, row) => ({ tag, weight: this.likedWeights[row]! }))
      .sort((x, y) => y.weight - x.weight || x.tag - y.tag)
      .slice(0, tagLimit);
    if (limit <= 0) return [];
    const seen = new NodeTable(tagLimit * perTag);
    // Ties go to the lower node, so the candidates do not depend on the order the tags list their items.
    const selector = new TopKSelector(limit);
    for (const { tag } of strongest) {
      const items = this.lists.itemsOf(tag).nodes;
      for (let n = 0; n < Math.min(perTag, items.length); n++) {
        const item = items[n]!;
        if (seen.rowOf(item) >= 0) continue;
        seen.add(item);
        if (!skip(item)) selector.offer(this.score(item), item);
      }
    }
    const out = new Uint32Array(limit);
    return Array.from(out.subarray(0, selector.drain(out)));
  }
}

/** `values`, or a copy twice as long when it has fewer than `length` entries. */
function ensureLength(values: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  if (length <= values.length) return values;
  const grown = new Float64Array(Math.max(length, values.length * 2));
  grown.set(values);
  return grown;
}
