import { SeededRandom } from '../synthetic/random.ts';
import type { InteractionAdjacency } from './interaction-adjacency.ts';
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
  /** Visits per item, one entry per seed (same order as the seeds). */
  readonly bySeed: ReadonlyMap<number, Float32Array>;
  readonly stepsPerSeed: number;
}

export function walkFromSeeds(
  adjacency: InteractionAdjacency,
  seeds: readonly Seed[],
  subject: number,
  stepsPerSeed: number,
  restart: number,
  requestSeed: number,
): WalkVisits {
  const bySeed = new Map<number, Float32Array>();
  seeds.forEach((seed, s) => {
    const random = new SeededRandom((Math.imul(seed.item + 1, 0x9e3779b1) ^ requestSeed) >>> 0);
    let current = seed.item;
    for (let step = 0; step < stepsPerSeed; step++) {
      const subjects = adjacency.positiveSubjectsOf(current);
      const via = subjects.length > 0 ? subjects[random.int(subjects.length)]! : -1;
      const items = via >= 0 && via !== subject ? adjacency.positiveItemsOf(via) : null;
      if (!items || items.length === 0) {
        current = seed.item;
        continue;
      }
      const next = items[random.int(items.length)]!;
      let visits = bySeed.get(next);
      if (!visits) {
        visits = new Float32Array(seeds.length);
        bySeed.set(next, visits);
      }
      visits[s]!++;
      current = random.float() < restart ? seed.item : next;
    }
  });
  return { bySeed, stepsPerSeed };
}

/** Σ_s w_s · visits_s(i) / steps for one item (0 when never reached). */
export function walkScore(visits: WalkVisits, seeds: readonly Seed[], item: number): number {
  const row = visits.bySeed.get(item);
  if (!row || visits.stepsPerSeed === 0) return 0;
  let sum = 0;
  for (let s = 0; s < seeds.length; s++) sum += seeds[s]!.weight * row[s]!;
  return sum / visits.stepsPerSeed;
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
