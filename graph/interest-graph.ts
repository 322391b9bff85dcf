import { decayedWeight } from './edge-weight.ts';
import { ALL_EDGE_TYPES, DELETED_EDGE, DELETED_NODE, HAS_TAG, NODE_KINDS, type NodeKind, NodeKindCode, nodeKindOf } from './model.ts';

/**
 * The engine's in-memory working set: a typed, timestamped multigraph of users, sessions, items and tags.
 *
 * Layout: columnar typed arrays, no object per edge. Each edge has a source, target, type code,
 * timestamp and base weight, and two "next" pointers that thread it into its source's out-list and its
 * target's in-list. Appending an edge prepends it to both lists, so append is amortised O(1) and a list
 * reads newest-arrival first. A node whose edges arrived out of timestamp order is flagged, and its list is
 * re-threaded in timestamp order the first time someone asks for it by recency.
 *
 * Removal marks edges deleted (and wipes their data); lists skip deleted edges until `compact` re-threads
 * them. Edge and node ids are stable for the life of the process.
 *
 * About 29 bytes per edge plus growth slack (×1.5), and about 38 bytes plus the external id per node.
 */

const NONE = -1;
const OUT_UNORDERED = 1;
const IN_UNORDERED = 2;
const GROWTH = 1.5;

export type EdgeVisitor = (edge: number, neighbour: number) => boolean | void;

export interface GraphCounts {
  readonly users: number;
  readonly items: number;
  readonly tags: number;
  readonly sessions: number;
  readonly nodes: number;
  /** Live interaction edges (subject → item). */
  readonly interactions: number;
  /** Live item → tag edges. */
  readonly itemTags: number;
  readonly deletedEdges: number;
}

export class InterestGraph {
  // Nodes.
  private nodeCap: number;
  private nodeTotal = 0;
  private kind: Uint8Array;
  private outHead: Int32Array;
  private inHead: Int32Array;
  private outDegree: Uint32Array;
  private inDegree: Uint32Array;
  private outLatest: Float64Array;
  private inLatest: Float64Array;
  private order: Uint8Array;
  /** Bumped whenever an edge of the node is added or removed: lets caches of neighbour lists validate. */
  private revision: Uint32Array;
  private externalIds: string[] = [];
  private readonly byId: Map<string, number>[] = NODE_KINDS.map(() => new Map<string, number>());
  private readonly kindCounts = new Uint32Array(NODE_KINDS.length);

  // Edges.
  private edgeCap: number;
  private edgeTotal = 0;
  private src: Uint32Array;
  private dst: Uint32Array;
  private type: Uint8Array;
  private ts: Float64Array;
  private base: Float32Array;
  private nextOut: Int32Array;
  private nextIn: Int32Array;
  private liveInteractions = 0;
  private liveTags = 0;
  private deleted = 0;
  private latestEventTs = Number.NEGATIVE_INFINITY;

  constructor(capacity: { nodes?: number; edges?: number } = {}) {
    this.nodeCap = Math.max(16, capacity.nodes ?? 1024);
    this.edgeCap = Math.max(16, capacity.edges ?? 4096);
    this.kind = new Uint8Array(this.nodeCap);
    this.outHead = new Int32Array(this.nodeCap);
    this.inHead = new Int32Array(this.nodeCap);
    this.outDegree = new Uint32Array(this.nodeCap);
    this.inDegree = new Uint32Array(this.nodeCap);
    this.outLatest = new Float64Array(this.nodeCap);
    this.inLatest = new Float64Array(this.nodeCap);
    this.order = new Uint8Array(this.nodeCap);
    this.revision = new Uint32Array(this.nodeCap);
    this.src = new Uint32Array(this.edgeCap);
    this.dst = new Uint32Array(this.edgeCap);
    this.type = new Uint8Array(this.edgeCap);
    this.ts = new Float64Array(this.edgeCap);
    this.base = new Float32Array(this.edgeCap);
    this.nextOut = new Int32Array(this.edgeCap);
    this.nextIn = new Int32Array(this.edgeCap);
  }

  /** Grows storage ahead of a bulk load so it happens once (and without slack). */
  reserve(nodes: number, edges: number): void {
    if (nodes > this.nodeCap) this.growNodes(nodes);
    if (edges > this.edgeCap) this.growEdges(edges);
  }

  // ---- nodes ----

  /** The node's index, creating it if needed. */
  addNode(kind: NodeKind, externalId: string): number {
    const ids = this.byId[NodeKindCode[kind]]!;
    const existing = ids.get(externalId);
    if (existing !== undefined) return existing;
    if (this.nodeTotal === this.nodeCap) this.growNodes(Math.ceil(this.nodeCap * GROWTH));
    const node = this.nodeTotal++;
    this.kind[node] = NodeKindCode[kind];
    this.outHead[node] = NONE;
    this.inHead[node] = NONE;
    this.outLatest[node] = Number.NEGATIVE_INFINITY;
    this.inLatest[node] = Number.NEGATIVE_INFINITY;
    this.externalIds[node] = externalId;
    ids.set(externalId, node);
    this.kindCounts[NodeKindCode[kind]]!++;
    return node;
  }

  /** The node's index, or -1 when there is no such node. */
  nodeIndex(kind: NodeKind, externalId: string): number {
    return this.byId[NodeKindCode[kind]]!.get(externalId) ?? NONE;
  }

  hasNode(node: number): boolean {
    return node >= 0 && node < this.nodeTotal && this.kind[node] !== DELETED_NODE;
  }

  nodeKind(node: number): NodeKind {
    this.assertNode(node);
    return nodeKindOf(this.kind[node]!);
  }

  nodeKindCode(node: number): number {
    return this.kind[node]!;
  }

  externalId(node: number): string {
    this.assertNode(node);
    return this.externalIds[node]!;
  }

  /** Upper bound (exclusive) of node indices, for arrays indexed by node. */
  get nodeBound(): number {
    return this.nodeTotal;
  }

  outDegreeOf(node: number): number {
    return this.outDegree[node]!;
  }

  inDegreeOf(node: number): number {
    return this.inDegree[node]!;
  }

  /** Changes whenever one of the node's edges is added or removed (wraps after 2^32 changes). */
  revisionOf(node: number): number {
    return this.revision[node]!;
  }

  /** Nodes of one kind, in index order. */
  *nodesOfKind(kind: NodeKind): IterableIterator<number> {
    const code = NodeKindCode[kind];
    for (let n = 0; n < this.nodeTotal; n++) if (this.kind[n] === code) yield n;
  }

  // ---- edges ----

  /** Appends an edge; amortised O(1). */
  addEdge(source: number, target: number, typeCode: number, timestamp: number, baseWeight: number): number {
    if (this.edgeTotal === this.edgeCap) this.growEdges(Math.ceil(this.edgeCap * GROWTH));
    const e = this.edgeTotal++;
    this.src[e] = source;
    this.dst[e] = target;
    this.type[e] = typeCode;
    this.ts[e] = timestamp;
    this.base[e] = baseWeight;
    this.nextOut[e] = this.outHead[source]!;
    this.outHead[source] = e;
    this.nextIn[e] = this.inHead[target]!;
    this.inHead[target] = e;
    this.outDegree[source]!++;
    this.inDegree[target]!++;
    this.revision[source]!++;
    this.revision[target]!++;
    if (timestamp < this.outLatest[source]!) this.order[source]! |= OUT_UNORDERED;
    else this.outLatest[source] = timestamp;
    if (timestamp < this.inLatest[target]!) this.order[target]! |= IN_UNORDERED;
    else this.inLatest[target] = timestamp;
    if (typeCode === HAS_TAG) this.liveTags++;
    else {
      this.liveInteractions++;
      if (timestamp > this.latestEventTs) this.latestEventTs = timestamp;
    }
    return e;
  }

  /** Upper bound (exclusive) of edge ids, for arrays indexed by edge. */
  get edgeBound(): number {
    return this.edgeTotal;
  }

  isLiveEdge(e: number): boolean {
    return e >= 0 && e < this.edgeTotal && this.type[e] !== DELETED_EDGE;
  }

  edgeSource(e: number): number {
    return this.src[e]!;
  }

  edgeTarget(e: number): number {
    return this.dst[e]!;
  }

  edgeTypeCode(e: number): number {
    return this.type[e]!;
  }

  edgeTimestamp(e: number): number {
    return this.ts[e]!;
  }

  edgeBaseWeight(e: number): number {
    return this.base[e]!;
  }

  /** Base weight decayed to `now`. Tag edges do not decay. */
  edgeWeight(e: number, now: number, halfLifeMs: number): number {
    const t = this.type[e]!;
    if (t === HAS_TAG) return this.base[e]!;
    return decayedWeight(this.base[e]!, this.ts[e]!, now, halfLifeMs);
  }

  /** Latest interaction timestamp ever added; the reference time of the `event` decay clock. */
  get latestTimestamp(): number {
    return this.latestEventTs;
  }

  /**
   * Visits live out-edges newest-arrival first; return `false` from the visitor to stop.
   * `typeMask` is a bit mask over edge type codes (see `edgeTypeMask`).
   */
  forEachOutEdge(node: number, visit: EdgeVisitor, typeMask = ALL_EDGE_TYPES): void {
    for (let e = this.outHead[node]!; e !== NONE; e = this.nextOut[e]!) {
      const t = this.type[e]!;
      if (t === DELETED_EDGE || ((1 << t) & typeMask) === 0) continue;
      if (visit(e, this.dst[e]!) === false) return;
    }
  }

  /** Visits live in-edges newest-arrival first; see `forEachOutEdge`. */
  forEachInEdge(node: number, visit: EdgeVisitor, typeMask = ALL_EDGE_TYPES): void {
    for (let e = this.inHead[node]!; e !== NONE; e = this.nextIn[e]!) {
      const t = this.type[e]!;
      if (t === DELETED_EDGE || ((1 << t) & typeMask) === 0) continue;
      if (visit(e, this.src[e]!) === false) return;
    }
  }

  /** Up to `limit` out-edges, latest timestamp first (ties: latest arrival first). */
  recentOutEdges(node: number, limit: number, typeMask = ALL_EDGE_TYPES): number[] {
    if (this.order[node]! & OUT_UNORDERED) this.rethreadByTime(node, true);
    return this.collect(this.outHead[node]!, this.nextOut, limit, typeMask);
  }

  /** Up to `limit` in-edges, latest timestamp first (ties: latest arrival first). */
  recentInEdges(node: number, limit: number, typeMask = ALL_EDGE_TYPES): number[] {
    if (this.order[node]! & IN_UNORDERED) this.rethreadByTime(node, false);
    return this.collect(this.inHead[node]!, this.nextIn, limit, typeMask);
  }

  private collect(head: number, next: Int32Array, limit: number, typeMask: number): number[] {
    const out: number[] = [];
    for (let e = head; e !== NONE && out.length < limit; e = next[e]!) {
      const t = this.type[e]!;
      if (t !== DELETED_EDGE && ((1 << t) & typeMask) !== 0) out.push(e);
    }
    return out;
  }

  /** Re-threads one node's list in timestamp order (newest first), dropping deleted edges. */
  private rethreadByTime(node: number, outgoing: boolean): void {
    const next = outgoing ? this.nextOut : this.nextIn;
    const edges: number[] = [];
    for (let e = outgoing ? this.outHead[node]! : this.inHead[node]!; e !== NONE; e = next[e]!) {
      if (this.type[e] !== DELETED_EDGE) edges.push(e);
    }
    const ts = this.ts;
    edges.sort((a, b) => ts[b]! - ts[a]! || b - a);
    for (let i = 0; i < edges.length; i++) next[edges[i]!] = i + 1 < edges.length ? edges[i + 1]! : NONE;
    const head = edges.length > 0 ? edges[0]! : NONE;
    if (outgoing) {
      this.outHead[node] = head;
      this.order[node]! &= ~OUT_UNORDERED;
    } else {
      this.inHead[node] = head;
      this.order[node]! &= ~IN_UNORDERED;
    }
  }

  // ---- catalogue ----

  /** Replaces an item's tag edges with `tagIds` (creating Tag nodes as needed). */
  setItemTags(item: number, tagIds: readonly string[], timestamp: number): void {
    this.removeEdges(item, true, 1 << HAS_TAG);
    for (const tagId of tagIds) this.addEdge(item, this.addNode('tag', tagId), HAS_TAG, timestamp, 1);
  }

  // ---- removal ----

  /** Removes a node and every edge touching it; returns the number of edges removed. */
  removeNode(node: number): number {
    this.assertNode(node);
    const removed = this.removeEdges(node, true, ALL_EDGE_TYPES) + this.removeEdges(node, false, ALL_EDGE_TYPES);
    const code = this.kind[node]!;
    this.byId[code]!.delete(this.externalIds[node]!);
    this.kindCounts[code]!--;
    this.kind[node] = DELETED_NODE;
    this.externalIds[node] = '';
    this.outHead[node] = NONE;
    this.inHead[node] = NONE;
    this.compactIfWorthIt();
    return removed;
  }

  /** Removes one node's edges of the given types in one direction. */
  removeEdges(node: number, outgoing: boolean, typeMask: number): number {
    let removed = 0;
    const visit = (e: number) => {
      this.deleteEdge(e);
      removed++;
    };
    if (outgoing) this.forEachOutEdge(node, visit, typeMask);
    else this.forEachInEdge(node, visit, typeMask);
    return removed;
  }

  /** Removes one edge; false when it was already gone. */
  removeEdge(e: number): boolean {
    if (!this.isLiveEdge(e)) return false;
    this.deleteEdge(e);
    return true;
  }

  private deleteEdge(e: number): void {
    if (this.type[e] === HAS_TAG) this.liveTags--;
    else this.liveInteractions--;
    this.outDegree[this.src[e]!]!--;
    this.inDegree[this.dst[e]!]!--;
    this.revision[this.src[e]!]!++;
    this.revision[this.dst[e]!]!++;
    // Wipe the data, not just the flag: an erased user's history must not linger in memory.
    this.type[e] = DELETED_EDGE;
    this.ts[e] = 0;
    this.base[e] = 0;
    this.deleted++;
  }

  private compactIfWorthIt(): void {
    if (this.deleted > 100_000 && this.deleted > (this.liveInteractions + this.liveTags) / 4) this.compact();
  }

  /** Re-threads every list without deleted edges. O(edges); edge ids stay valid. */
  compact(): void {
    this.outHead.fill(NONE, 0, this.nodeTotal);
    this.inHead.fill(NONE, 0, this.nodeTotal);
    this.order.fill(0, 0, this.nodeTotal);
    this.outLatest.fill(Number.NEGATIVE_INFINITY, 0, this.nodeTotal);
    this.inLatest.fill(Number.NEGATIVE_INFINITY, 0, this.nodeTotal);
    for (let e = 0; e < this.edgeTotal; e++) {
      if (this.type[e] === DELETED_EDGE) continue;
      const s = this.src[e]!;
      const d = this.dst[e]!;
      const t = this.ts[e]!;
      this.nextOut[e] = this.outHead[s]!;
      this.outHead[s] = e;
      this.nextIn[e] = this.inHead[d]!;
      this.inHead[d] = e;
      if (t < this.outLatest[s]!) this.order[s]! |= OUT_UNORDERED;
      else this.outLatest[s] = t;
      if (t < this.inLatest[d]!) this.order[d]! |= IN_UNORDERED;
      else this.inLatest[d] = t;
    }
    this.deleted = 0;
  }

  // ---- accounting ----

  counts(): GraphCounts {
    return {
      users: this.kindCounts[NodeKindCode.user]!,
      items: this.kindCounts[NodeKindCode.item]!,
      tags: this.kindCounts[NodeKindCode.tag]!,
      sessions: this.kindCounts[NodeKindCode.session]!,
      nodes: this.kindCounts.reduce((a, b) => a + b, 0),
      interactions: this.liveInteractions,
      itemTags: this.liveTags,
      deletedEdges: this.deleted,
    };
  }

  /** Bytes held by the typed arrays (allocated capacity, slack included); ids and maps are extra. */
  typedArrayBytes(): number {
    const nodeBytes = [this.kind, this.outHead, this.inHead, this.outDegree, this.inDegree, this.outLatest, this.inLatest, this.order, this.revision];
    const edgeBytes = [this.src, this.dst, this.type, this.ts, this.base, this.nextOut, this.nextIn];
    return [...nodeBytes, ...edgeBytes].reduce((sum, a) => sum + a.byteLength, 0);
  }

  private assertNode(node: number): void {
    if (!this.hasNode(node)) throw new RangeError(`no such node: ${node}`);
  }

  private growNodes(capacity: number): void {
    this.nodeCap = capacity;
    this.kind = grow(this.kind, capacity);
    this.outHead = grow(this.outHead, capacity);
    this.inHead = grow(this.inHead, capacity);
    this.outDegree = grow(this.outDegree, capacity);
    this.inDegree = grow(this.inDegree, capacity);
    this.outLatest = grow(this.outLatest, capacity);
    this.inLatest = grow(this.inLatest, capacity);
    this.order = grow(this.order, capacity);
    this.revision = grow(this.revision, capacity);
  }

  private growEdges(capacity: number): void {
    this.edgeCap = capacity;
    this.src = grow(this.src, capacity);
    this.dst = grow(this.dst, capacity);
    this.type = grow(this.type, capacity);
    this.ts = grow(this.ts, capacity);
    this.base = grow(this.base, capacity);
    this.nextOut = grow(this.nextOut, capacity);
    this.nextIn = grow(this.nextIn, capacity);
  }
}

type NumericArray = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

function grow<T extends NumericArray>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(capacity);
  bigger.set(array);
  return bigger;
}
