import { NotFoundError } from '../../base/errors.ts';
import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { ALL_EDGE_TYPES, EDGE_TYPES, type EdgeType, edgeTypeMask, NODE_KINDS, type NodeKind } from '../../graph/model.ts';
import { shortestPaths } from '../../graph/paths.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';

/**
 * What analysts explore: a node's typed neighbourhood (paged, newest edges first, filtered by edge type and
 * time window), the shortest paths between two nodes, a search by id or title, and graph statistics. It
 * reads the live interest graph; every node and edge it returns exists there at answer time.
 */
export interface NodeView {
  /** `kind:id`: unique across kinds (ids may repeat between kinds, and contain colons). */
  readonly key: string;
  readonly kind: NodeKind;
  readonly id: string;
  readonly label: string;
  readonly community: number | null;
  readonly degree: number;
}

export interface EdgeView {
  readonly key: string;
  readonly source: string;
  readonly target: string;
  readonly type: EdgeType;
  readonly ts: string;
  /** Decayed weight at answer time (negative for dislikes and dismissals). */
  readonly weight: number;
}

export interface NeighbourhoodQuery {
  readonly types?: readonly EdgeType[];
  readonly limit: number;
  /** `nextCursor` of the previous page: pages continue after its last edge even while the graph changes. */
  readonly cursor?: string;
  readonly since?: number;
  readonly until?: number;
}

export interface Neighbourhood {
  readonly node: NodeView;
  readonly nodes: readonly NodeView[];
  readonly edges: readonly EdgeView[];
  /** Edges matching the filters in all (the page holds up to `limit` of them after `cursor`). */
  readonly total: number;
  readonly nextCursor: string | null;
}

export interface GraphPath {
  readonly nodes: readonly NodeView[];
  readonly edges: readonly EdgeView[];
}

export interface ExplorerContext {
  readonly graph: InterestGraph;
  readonly catalogue: ItemCatalogue;
  readonly weightPolicy: WeightPolicy;
  decayReference(): number;
  communityOf(item: number): number | undefined;
}

/** A neighbourhood cursor, `<timestamp>.<edge>`; null when absent (the first page). */
function parseCursor(cursor: string | undefined): { ts: number; edge: number } | null {
  if (cursor === undefined) return null;
  const dot = cursor.lastIndexOf('.');
  return { ts: Number(cursor.slice(0, dot)), edge: Number(cursor.slice(dot + 1)) };
}

export class GraphExplorer {
  constructor(private readonly context: ExplorerContext) {}

  nodeOf(kind: NodeKind, id: string): number {
    const node = this.context.graph.nodeIndex(kind, id);
    if (node < 0) throw new NotFoundError(kind, id);
    return node;
  }

  neighbourhood(kind: NodeKind, id: string, query: NeighbourhoodQuery): Neighbourhood {
    const graph = this.context.graph;
    const node = this.nodeOf(kind, id);
    const mask = query.types && query.types.length > 0 ? edgeTypeMask(query.types) : ALL_EDGE_TYPES;
    const since = query.since ?? -Infinity;
    const until = query.until ?? Infinity;
    const edges: Array<[edge: number, neighbour: number]> = [];
    const collect = (e: number, neighbour: number) => {
      const ts = graph.edgeTimestamp(e);
      if (ts >= since && ts <= until) edges.push([e, neighbour]);
    };
    graph.forEachOutEdge(node, collect, mask);
    graph.forEachInEdge(node, collect, mask);
    // Newest first, ties by edge id; the cursor is the (time, edge) of the last edge sent.
    edges.sort((a, b) => graph.edgeTimestamp(b[0]) - graph.edgeTimestamp(a[0]) || a[0] - b[0]);
    const after = parseCursor(query.cursor);
    const start = after ? edges.findIndex(([e]) => graph.edgeTimestamp(e) < after.ts || (graph.edgeTimestamp(e) === after.ts && e > after.edge)) : 0;
    const page = start < 0 ? [] : edges.slice(start, start + query.limit);
    const last = page.at(-1);
    const neighbours = new Map<number, NodeView>();
    for (const [, neighbour] of page) if (!neighbours.has(neighbour)) neighbours.set(neighbour, this.view(neighbour));
    return {
      node: this.view(node),
      nodes: [...neighbours.values()],
      edges: page.map(([e]) => this.edgeView(e)),
      total: edges.length,
      nextCursor: last && start + page.length < edges.length ? `${graph.edgeTimestamp(last[0])}.${last[0]}` : null,
    };
  }

  /** Up to `limit` shortest paths (at most `maxLength` edges, either direction) from one node to another (see graph/paths.ts). */
  paths(
    from: { kind: NodeKind; id: string },
    to: { kind: NodeKind; id: string },
    options: { maxLength: number; limit: number; types?: readonly EdgeType[] },
  ): GraphPath[] {
    const source = this.nodeOf(from.kind, from.id);
    const target = this.nodeOf(to.kind, to.id);
    const mask = options.types && options.types.length > 0 ? edgeTypeMask(options.types) : ALL_EDGE_TYPES;
    return shortestPaths(this.context.graph, source, target, { maxLength: options.maxLength, limit: options.limit, mask }).map((path) => ({
      nodes: path.nodes.map((n) => this.view(n)),
      edges: path.edges.map((e) => this.edgeView(e)),
    }));
  }

  search(text: string, limit: number, kinds: readonly NodeKind[] = NODE_KINDS): NodeView[] {
    const graph = this.context.graph;
    const needle = text.toLowerCase();
    const found: NodeView[] = [];
    const distinctKinds = [...new Set(kinds)];
    const exact = distinctKinds
      .map((kind) => graph.nodeIndex(kind, text))
      .filter((n) => n >= 0)
      .slice(0, limit);
    for (const node of exact) found.push(this.view(node));
    const seen = new Set(exact);
    for (const kind of distinctKinds) {
      for (const node of graph.nodesOfKind(kind)) {
        if (found.length >= limit) return found;
        if (seen.has(node)) continue;
        const id = graph.externalId(node);
        const title = kind === 'item' ? this.context.catalogue.get(id)?.title : undefined;
        if (id.toLowerCase().startsWith(needle) || (title !== undefined && title.toLowerCase().includes(needle))) {
          found.push(this.view(node));
          seen.add(node);
        }
      }
    }
    return found;
  }

  stats(): {
    nodes: Record<NodeKind, number>;
    edges: Record<EdgeType, number>;
    degree: Record<'user' | 'item' | 'tag', { p50: number; p90: number; max: number }>;
  } {
    const graph = this.context.graph;
    const counts = graph.counts();
    const edges = Object.fromEntries(EDGE_TYPES.map((t) => [t, 0])) as Record<EdgeType, number>;
    const degree = { user: [] as number[], item: [] as number[], tag: [] as number[] };
    for (const kind of NODE_KINDS) {
      for (const node of graph.nodesOfKind(kind)) {
        graph.forEachOutEdge(node, (e) => void edges[EDGE_TYPES[graph.edgeTypeCode(e)]!]++);
        if (kind !== 'session') degree[kind].push(graph.outDegreeOf(node) + graph.inDegreeOf(node));
      }
    }
    const summary = (values: number[]) => {
      values.sort((a, b) => a - b);
      const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
      return { p50: at(0.5), p90: at(0.9), max: values[values.length - 1] ?? 0 };
    };
    return {
      nodes: { user: counts.users, item: counts.items, tag: counts.tags, session: counts.sessions },
      edges,
      degree: { user: summary(degree.user), item: summary(degree.item), tag: summary(degree.tag) },
    };
  }

  view(node: number): NodeView {
    const graph = this.context.graph;
    const kind = graph.nodeKind(node);
    const id = graph.externalId(node);
    const label = kind === 'item' ? (this.context.catalogue.get(id)?.title ?? id) : id;
    return {
      key: `${kind}:${id}`,
      kind,
      id,
      label,
      community: kind === 'item' ? (this.context.communityOf(node) ?? null) : null,
      degree: graph.outDegreeOf(node) + graph.inDegreeOf(node),
    };
  }

  private edgeView(e: number): EdgeView {
    const graph = this.context.graph;
    const key = (node: number) => `${graph.nodeKind(node)}:${graph.externalId(node)}`;
    const type = EDGE_TYPES[graph.edgeTypeCode(e)]!;
    return {
      key: `e${e}`,
      source: key(graph.edgeSource(e)),
      target: key(graph.edgeTarget(e)),
      type,
      ts: new Date(graph.edgeTimestamp(e)).toISOString(),
      weight: type === 'has_tag' ? 1 : Number(graph.edgeWeight(e, this.context.decayReference(), this.context.weightPolicy.halfLifeMs).toFixed(4)),
    };
  }
}
