import { SeededRandom } from '../synthetic/random.ts';
import { TopKSelector } from '../top-k.ts';
import type { InteractionAdjacency } from './interaction-adjacency.ts';
import { NodeTable } from './node-table.ts';
import type { Seed } from './subject-profile.ts';

/**
 * Pixie-style random walks with restart on the bipartite graph of positive interactions: from each seed
 * item, hop to a random subject who liked it, then to a random item that subject liked, counting visits;
 * after each hop jump back to the seed with probability `restart`. A fixed number of steps per seed bounds
 * the cost; visits per seed are kept apart so that the score, and its explanation, can be split by seed.
 *
 *   walk(i) = Σ_s w_s · visits_s(i) / steps
 *
 * The requesting subject's own edges are not walked (its own history says nothing new), and each seed's
 * walk is seeded from the seed item and the request, so the same graph gives the same answer.
 */
export interface WalkVisits {
  /** Items reached, each with its row in `visits` and `directVia`. */
  readonly rows: NodeTable;
  /** [rows × seeds]: visits of each item from each seed. */
  readonly visits: Float32Array;
  /**
   * [rows × seeds]: a subject who liked both the seed and the item (the walk went seed → subject → item
   * in one hop), or -1: the middle of a co-interaction path, found without intersecting neighbour lists.
   */
  readonly directVia: Int32Array;
  readonly seeds: number;
  readonly stepsPerSeed: number;
  /** [rows]: walk(i) of each reached item, summed once for the candidates, the ranking and the paths. */
  readonly totals: Float64Array;
}

export function walkFromSeeds(
  adjacency: InteractionAdjacency,
  seeds: readonly Seed[],
  subject: number,
  stepsPerSeed: number,
  restart: number,
  requestSeed: number,
): WalkVisits {
  const width = Math.max(1, seeds.length);
  // Sized for every step to reach a new item: the table never grows during a walk.
  const rows = new NodeTable(stepsPerSeed * seeds.length);
  // Room for every step to reach a new item: growing as the walk went cost more than the zeroing.
  const visits = new Float32Array(Math.max(1, stepsPerSeed * seeds.length) * width);
  const directVia = new Int32Array(visits.length).fill(-1);
  const randoms = seeds.map((seed) => new SeededRandom((Math.imul(seed.item + 1, 0x9e3779b1) ^ requestSeed) >>> 0));
  const n = seeds.length;
  const current = Int32Array.from(seeds, (seed) => seed.item);
  const via = new Int32Array(n);
  const next = new Int32Array(n);
  const draws = new Float64Array(n);
  // Step by step across the seeds rather than seed by seed, each hop of every seed in one batch: a walk is
  // a chain of dependent reads, mostly cache misses at 5M edges, and the seeds' chains are independent, so
  // the CPU overlaps their misses (walks took 0.34 instead of 0.50 ms of a request at 5M edges). Each seed
  // has its own generator, drawn in the same order either way, so the visits are the same.
  for (let step = 0; step < stepsPerSeed; step++) {
    for (let s = 0; s < n; s++) draws[s] = randoms[s]!.float();
    adjacency.randomNeighbours(current, draws, false, via);
    for (let s = 0; s < n; s++) {
      if (via[s]! === subject) via[s] = -1;
      if (via[s]! >= 0) draws[s] = randoms[s]!.float();
    }
    adjacency.randomNeighbours(via, draws, true, next);
    for (let s = 0; s < n; s++) {
      const start = seeds[s]!.item;
      const item = next[s]!;
      if (item < 0) {
        current[s] = start;
        continue;
      }
      let row = rows.rowOf(item);
      if (row < 0) row = rows.add(item);
      const cell = row * width + s;
      visits[cell]!++;
      if (current[s] === start && directVia[cell]! < 0) directVia[cell] = via[s]!;
      current[s] = randoms[s]!.float() < restart ? start : item;
    }
  }
  const totals = new Float64Array(rows.size);
  if (stepsPerSeed > 0) {
    for (let row = 0; row < rows.size; row++) {
      let sum = 0;
      for (let s = 0; s < seeds.length; s++) sum += seeds[s]!.weight * visits[row * width + s]!;
      totals[row] = sum / stepsPerSeed;
    }
  }
  return { rows, visits, directVia, seeds: width, stepsPerSeed, totals };
}

/** Σ_s w_s · visits_s(i) / steps for one item (0 when never reached). */
export function walkScore(walk: WalkVisits, item: number): number {
  const row = walk.rows.rowOf(item);
  return row < 0 ? 0 : walk.totals[row]!;
}

/**
 * The `limit` reached items with the highest walk score that `skip` lets through, best first (ties: lower
 * node first). A walk reaches about a thousand items, of which sixty are wanted: a heap, not a sort.
 */
export function topByWalk(walk: WalkVisits, limit: number, skip: (node: number) => boolean): number[] {
  if (limit <= 0) return [];
  const { nodes } = walk.rows;
  const selector = new TopKSelector(limit);
  for (let row = 0; row < walk.rows.size; row++) if (!skip(nodes[row]!)) selector.offer(walk.totals[row]!, nodes[row]!);
  const out = new Uint32Array(limit);
  return Array.from(out.subarray(0, selector.drain(out)));
}

/** A 32-bit string hash (FNV-1a): request seeds from ids. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
