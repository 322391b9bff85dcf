import { createRequire } from 'node:module';

import { UndirectedGraph } from 'graphology';

import type { WeightPolicy } from './edge-weight.ts';
import type { InterestGraph } from './interest-graph.ts';
import { HAS_TAG, INTERACTION_MASK } from './model.ts';
import { PositiveEdges } from './positive-edges.ts';
import { SeededRandom } from './random.ts';

// A CommonJS package whose typings declare an ES default export, which NodeNext resolution reads as the
// module object: required, with the one call used typed here.
interface Louvain {
  detailed(
    graph: UndirectedGraph,
    options: { getEdgeWeight: string; resolution: number; rng: () => number },
  ): { communities: Record<string, number>; modularity: number };
}
const louvain = createRequire(import.meta.url)('graphology-communities-louvain') as Louvain;

/**
 * Interest communities: Louvain over the item–item co-interaction projection of the interest graph. Two
 * items are linked when the same users or sessions liked both (each subject's pairs weighted 1/(n−1), so a
 * heavy user does not outweigh many light ones), the link normalised like a cosine and kept only among
 * each item's strongest neighbours. Groups of items that the same people like are what "interests" are
 * in this product; users are then described as a mix of communities. (On the synthetic generator's data
 * these groups recover the planted topics: test/integration/communities.test.ts measures NMI.)
 */
export interface CommunitySettings {
  /** A subject's most recent positive items that form pairs (bounds the work per heavy user). */
  readonly itemsPerSubject: number;
  /** Strongest co-interaction links kept per item. */
  readonly neighboursPerItem: number;
  /** Louvain resolution: above 1, more and smaller communities. */
  readonly resolution: number;
  readonly seed: number;
}

export const DEFAULT_COMMUNITY_SETTINGS: CommunitySettings = { itemsPerSubject: 50, neighboursPerItem: 20, resolution: 1, seed: 1 };

export interface CommunityDetection {
  readonly modularity: number;
  /** Item node → community (0-based, dense); items with neither co-interactions nor tags shared with a member are absent. */
  readonly itemCommunity: Map<number, number>;
  readonly communityCount: number;
  readonly projection: { readonly items: number; readonly links: number };
}

export function detectCommunities(graph: InterestGraph, policy: WeightPolicy, settings: CommunitySettings = DEFAULT_COMMUNITY_SETTINGS): CommunityDetection {
  const positive = new PositiveEdges(policy);
  const bound = graph.nodeBound;
  const pairWeight = new Map<number, number>();
  const strength = new Float64Array(bound);
  const items: number[] = [];
  for (const kind of ['user', 'session'] as const) {
    for (const subject of graph.nodesOfKind(kind)) {
      items.length = 0;
      for (const e of graph.recentOutEdges(subject, settings.itemsPerSubject * 4, INTERACTION_MASK)) {
        if (!positive.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) continue;
        const item = graph.edgeTarget(e);
        if (!items.includes(item)) items.push(item);
        if (items.length === settings.itemsPerSubject) break;
      }
      if (items.length < 2) continue;
      const w = 1 / (items.length - 1);
      for (let a = 0; a < items.length; a++) {
        for (let b = a + 1; b < items.length; b++) {
          const [lo, hi] = items[a]! < items[b]! ? [items[a]!, items[b]!] : [items[b]!, items[a]!];
          const key = lo * bound + hi;
          pairWeight.set(key, (pairWeight.get(key) ?? 0) + w);
        }
        strength[items[a]!]! += w * (items.length - 1);
      }
    }
  }

  // Cosine-like normalisation, then each item's strongest links (a link stays if either end keeps it).
  const neighbours = new Map<number, Array<[number, number]>>();
  for (const [key, w] of pairWeight) {
    const lo = Math.floor(key / bound);
    const hi = key - lo * bound;
    const score = w / Math.sqrt(strength[lo]! * strength[hi]!);
    (neighbours.get(lo) ?? neighbours.set(lo, []).get(lo)!).push([hi, score]);
    (neighbours.get(hi) ?? neighbours.set(hi, []).get(hi)!).push([lo, score]);
  }
  pairWeight.clear();
  const projection = new UndirectedGraph<Record<string, never>, { weight: number }>({ allowSelfLoops: false });
  for (const [item, list] of neighbours) {
    list.sort((x, y) => y[1] - x[1]);
    if (!projection.hasNode(item)) projection.addNode(item);
    for (const [other, score] of list.slice(0, settings.neighboursPerItem)) {
      if (!projection.hasNode(other)) projection.addNode(other);
      if (!projection.hasEdge(item, other)) projection.addEdge(item, other, { weight: score });
    }
  }

  const itemCommunity = new Map<number, number>();
  let modularity = 0;
  let communityCount = 0;
  if (projection.size > 0) {
    const result = louvain.detailed(projection, { getEdgeWeight: 'weight', resolution: settings.resolution, rng: seededRng(settings.seed) });
    modularity = result.modularity;
    // Dense ids, largest community first, so ids read as ranks.
    const sizes = new Map<number, number>();
    const communities = result.communities;
    for (const c of Object.values(communities)) sizes.set(c, (sizes.get(c) ?? 0) + 1);
    const rank = new Map([...sizes].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([c], i) => [c, i]));
    for (const [node, c] of Object.entries(communities)) itemCommunity.set(Number(node), rank.get(c)!);
    communityCount = rank.size;
  }
  assignByTags(graph, itemCommunity);
  return { modularity, itemCommunity, communityCount, projection: { items: projection.order, links: projection.size } };
}

function seededRng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.float();
}

/**
 * Items nobody has liked together with another (new items, niche ones) join the community whose items
 * share their tags most, relative to its size (so broad tags do not send every cold item to the largest
 * community). A cold item still gets a place.
 */
function assignByTags(graph: InterestGraph, itemCommunity: Map<number, number>): void {
  const sizes = new Map<number, number>();
  for (const c of itemCommunity.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  const cold = [...graph.nodesOfKind('item')].filter((item) => !itemCommunity.has(item));
  const votes = new Map<number, number>();
  for (const item of cold) {
    votes.clear();
    graph.forEachOutEdge(
      item,
      (_e, tag) => {
        const carriers = graph.inDegreeOf(tag);
        graph.forEachInEdge(
          tag,
          (_f, other) => {
            const c = itemCommunity.get(other);
            // A rare tag says more than a common one.
            if (c !== undefined) votes.set(c, (votes.get(c) ?? 0) + 1 / Math.log(2 + carriers));
          },
          1 << HAS_TAG,
        );
      },
      1 << HAS_TAG,
    );
    let best = -1;
    let bestScore = 0;
    for (const [c, v] of votes) {
      const score = v / Math.sqrt(sizes.get(c)!);
      if (score > bestScore || (score === bestScore && c < best)) [best, bestScore] = [c, score];
    }
    if (best >= 0) itemCommunity.set(item, best);
  }
}

/**
 * Keeps community ids stable across runs: (new, previous) pairs are matched greedily by how many items
 * they share, largest overlap first, and a match needs at least a third of the previous community's
 * items; the rest get ids never used before (`nextId` onwards), so an id never names two groups.
 */
export function alignCommunityIds(
  current: Map<number, number>,
  previous: ReadonlyMap<number, number> | null,
  nextId = 0,
): { assignment: Map<number, number>; nextId: number } {
  const members = groupBy(current);
  const previousSizes = new Map([...groupBy(previous ?? new Map())].map(([c, nodes]) => [c, nodes.length]));
  const overlaps = new Map<string, number>();
  for (const [node, c] of current) {
    const before = previous?.get(node);
    if (before !== undefined) overlaps.set(`${c}|${before}`, (overlaps.get(`${c}|${before}`) ?? 0) + 1);
  }
  const pairs = [...overlaps]
    .map(([key, shared]) => {
      const [c, before] = key.split('|').map(Number) as [number, number];
      return { c, before, shared };
    })
    .filter((p) => p.shared * 3 >= previousSizes.get(p.before)!)
    .sort((x, y) => y.shared - x.shared || x.c - y.c || x.before - y.before);
  const idOf = new Map<number, number>();
  const taken = new Set<number>();
  for (const { c, before } of pairs) {
    if (idOf.has(c) || taken.has(before)) continue;
    idOf.set(c, before);
    taken.add(before);
  }
  let next = Math.max(nextId, ...[...previousSizes.keys()].map((id) => id + 1));
  for (const [c] of [...members].sort((x, y) => y[1].length - x[1].length || x[0] - y[0])) if (!idOf.has(c)) idOf.set(c, next++);
  return { assignment: new Map([...current].map(([node, c]) => [node, idOf.get(c)!])), nextId: next };
}

function groupBy(assignment: ReadonlyMap<number, number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const [node, c] of assignment) (groups.get(c) ?? groups.set(c, []).get(c)!).push(node);
  return groups;
}

/** Normalised mutual information between two labellings of the same nodes (1: identical partitions). */
export function normalisedMutualInformation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n === 0 || n !== b.length) throw new RangeError('labellings must be non-empty and of equal length');
  const count = (labels: readonly number[]) => labels.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<number, number>());
  const ca = count(a);
  const cb = count(b);
  const joint = new Map<string, number>();
  for (let i = 0; i < n; i++) joint.set(`${a[i]}|${b[i]}`, (joint.get(`${a[i]}|${b[i]}`) ?? 0) + 1);
  let mutual = 0;
  for (const [key, nij] of joint) {
    const [x, y] = key.split('|').map(Number);
    mutual += (nij / n) * Math.log((nij * n) / (ca.get(x!)! * cb.get(y!)!));
  }
  const entropy = (c: Map<number, number>) => [...c.values()].reduce((h, k) => h - (k / n) * Math.log(k / n), 0);
  const [ha, hb] = [entropy(ca), entropy(cb)];
  if (ha === 0 && hb === 0) return 1;
  return (2 * mutual) / (ha + hb);
}
