import type { InterestGraph } from './interest-graph.ts';
import { ALL_EDGE_TYPES } from './model.ts';

/** A path as node and edge indexes: `nodes[k]` and `nodes[k + 1]` are the ends of `edges[k]`. */
export interface NodePath {
  readonly nodes: readonly number[];
  readonly edges: readonly number[];
}

export interface PathSearch {
  /** Longest path, in edges. */
  readonly maxLength: number;
  /** Paths to return at most. */
  readonly limit: number;
  /** Edge types to follow (a mask of `EDGE_TYPES` bits); all by default. */
  readonly mask?: number;
}

/** Edges looked at per node: hubs (popular items, broad tags) are cut to their newest. */
const PATH_FANOUT = 400;
const PATH_VISIT_LIMIT = 200_000;
const PARENTS_PER_NODE = 4;

/**
 * Up to `limit` shortest paths (at most `maxLength` edges, either direction) from `source` to `target`, by
 * breadth-first search; each hop looks at a node's PATH_FANOUT newest edges, the search stops after
 * PATH_VISIT_LIMIT nodes, and each node keeps at most PARENTS_PER_NODE ways in, so its cost is bounded
 * on any graph.
 */
export function shortestPaths(graph: InterestGraph, source: number, target: number, search: PathSearch): NodePath[] {
  if (source === target) return [{ nodes: [source], edges: [] }];
  const mask = search.mask ?? ALL_EDGE_TYPES;
  const depth = new Map<number, number>([[source, 0]]);
  const parents = new Map<number, Array<[edge: number, parent: number]>>();
  let frontier = [source];
  for (let d = 1; d <= search.maxLength && frontier.length > 0 && !depth.has(target); d++) {
    const next: number[] = [];
    for (const node of frontier) {
      let seen = 0;
      const visit = (e: number, neighbour: number): boolean => {
        if (++seen > PATH_FANOUT) return false;
        const known = depth.get(neighbour);
        if (known === undefined) {
          if (depth.size >= PATH_VISIT_LIMIT) return false;
          depth.set(neighbour, d);
          parents.set(neighbour, [[e, node]]);
          next.push(neighbour);
        } else if (known === d) {
          // One edge per parent node (its newest): parallel edges would only repeat the same route.
          const list = parents.get(neighbour);
          if (list && list.length < PARENTS_PER_NODE && !list.some(([, parent]) => parent === node)) list.push([e, node]);
        }
        return true;
      };
      graph.forEachOutEdge(node, visit, mask);
      seen = 0;
      graph.forEachInEdge(node, visit, mask);
    }
    frontier = next;
  }
  if (!depth.has(target)) return [];
  const found: NodePath[] = [];
  const walk = (node: number, nodes: number[], edges: number[]): void => {
    if (found.length >= search.limit) return;
    if (node === source) {
      found.push({ nodes: [...nodes].reverse(), edges: [...edges].reverse() });
      return;
    }
    for (const [e, parent] of parents.get(node) ?? []) walk(parent, [...nodes, parent], [...edges, e]);
  };
  walk(target, [target], []);
  return found;
}
