import { TopKSelector } from '../../graph/top-k.ts';
import { intraListDiversity, itemNovelty, RankDiscounts } from './metrics.ts';
import type { Scorer } from './recommender-model.ts';
import type { HeldOut } from './split.ts';
import type { TrainingData } from './training-data.ts';

/**
 * Ranks the catalogue for every evaluated user and averages the metrics (see metrics.ts for definitions).
 * Users are scored in batches so memory stays bounded whatever the catalogue size; each user's training
 * positives are never ranked; everything else, items they only viewed or rated low included, is a candidate,
 * unless the model scores it −∞ (it does not recommend it: the list is shorter than K).
 */

export interface MetricValues {
  readonly recall: number;
  readonly ndcg: number;
  readonly precision: number;
  readonly hitRate: number;
  readonly mrr: number;
  /** Share of the catalogue in anyone's top K. */
  readonly coverage: number;
  /** Mean over the lists whose items all have tags; null when no list qualified. */
  readonly diversity: number | null;
  /** Mean self-information of recommended items, in bits. */
  readonly novelty: number;
}

export interface RankingResult {
  /** Users evaluated (averaged over). */
  readonly users: number;
  readonly ks: readonly number[];
  readonly byK: Readonly<Record<number, MetricValues>>;
  /** Per K, how many top-K lists the diversity average covers (the rest hold an item without tags). */
  readonly diversityLists: Readonly<Record<number, number>>;
  readonly seconds: number;
}

export interface RankingOptions {
  readonly ks: readonly number[];
  /** Upper bound on scores held at once (users × items). Default 2^24 (64 MB of Float32). */
  readonly maxBatchScores?: number;
  onProgress?(usersDone: number, usersTotal: number): void;
}

const DEFAULT_MAX_BATCH_SCORES = 1 << 24;
const MAX_BATCH_USERS = 1024;

export function evaluateRanking(scorer: Scorer, train: TrainingData, heldOut: HeldOut, options: RankingOptions): RankingResult {
  const started = performance.now();
  const ks = [...new Set(options.ks)].sort((a, b) => a - b);
  if (ks.length === 0 || ks.some((k) => !(Number.isInteger(k) && k >= 1))) {
    throw new RangeError(`cut-offs must be positive integers, got ${options.ks.join(', ')}`);
  }
  const maxK = ks[ks.length - 1]!;
  const itemCount = train.itemCount;
  const discounts = new RankDiscounts(maxK);
  const selector = new TopKSelector(maxK);
  const list = new Uint32Array(maxK);
  const trainMark = new Int32Array(itemCount).fill(-1);
  const heldMark = new Int32Array(itemCount).fill(-1);
  const { positives, itemTags, itemPopularity } = train;
  const novelty = Float64Array.from(itemPopularity, (p) => itemNovelty(p, train.userCount));

  const sums = ks.map(() => ({ recall: 0, ndcg: 0, precision: 0, hitRate: 0, mrr: 0, novelty: 0, diversity: 0 }));
  const diversityLists = ks.map(() => 0);
  const noveltyLists = ks.map(() => 0);
  const seen = ks.map(() => new Uint8Array(itemCount));
  const distinct = ks.map(() => 0);

  const totalUsers = heldOut.users.length;
  const batchUsers = Math.max(1, Math.min(MAX_BATCH_USERS, Math.floor((options.maxBatchScores ?? DEFAULT_MAX_BATCH_SCORES) / Math.max(1, itemCount))));
  for (let b = 0; b < totalUsers; b += batchUsers) {
    const batch = heldOut.users.slice(b, Math.min(totalUsers, b + batchUsers));
    const scores = scorer.scoreUsers(batch);
    if (scores.length !== batch.length * itemCount) {
      throw new RangeError(`scoreUsers returned ${scores.length} scores for ${batch.length} users × ${itemCount} items`);
    }
    for (let r = 0; r < batch.length; r++) {
      const u = batch[r]!;
      const row = b + r;
      for (let p = positives.start[u]!; p < positives.start[u + 1]!; p++) trainMark[positives.index[p]!] = u;
      const heldFrom = heldOut.start[row]!;
      const heldCount = heldOut.start[row + 1]! - heldFrom;
      for (let p = heldFrom; p < heldFrom + heldCount; p++) heldMark[heldOut.items[p]!] = u;

      // Training positives are never ranked; items scored −∞ are not recommended at all (a list may be short).
      selector.reset();
      const offset = r * itemCount;
      for (let item = 0; item < itemCount; item++) {
        const score = scores[offset + item]!;
        if (trainMark[item] !== u && score !== Number.NEGATIVE_INFINITY) selector.offer(score, item);
      }
      const length = selector.drain(list);
      let hits = 0;
      let dcg = 0;
      let firstHit = 0;
      let noveltySum = 0;
      let rank = 0;
      for (let ki = 0; ki < ks.length; ki++) {
        const k = ks[ki]!;
        const upTo = Math.min(k, length);
        for (; rank < upTo; rank++) {
          const item = list[rank]!;
          noveltySum += novelty[item]!;
          if (heldMark[item] === u) {
            hits++;
            dcg += discounts.discount[rank]!;
            if (firstHit === 0) firstHit = rank + 1;
          }
        }
        const seenAtK = seen[ki]!;
        for (let q = 0; q < upTo; q++) {
          if (!seenAtK[list[q]!]) {
            seenAtK[list[q]!] = 1;
            distinct[ki]!++;
          }
        }
        const s = sums[ki]!;
        s.recall += hits / heldCount;
        s.precision += hits / k;
        s.ndcg += dcg / discounts.idealDcg[Math.min(heldCount, k)]!;
        s.hitRate += hits > 0 ? 1 : 0;
        s.mrr += firstHit > 0 ? 1 / firstHit : 0;
        if (upTo > 0) {
          s.novelty += noveltySum / upTo;
          noveltyLists[ki]!++;
        }
        const diversity = intraListDiversity(list.subarray(0, upTo), k, itemTags);
        if (diversity !== undefined) {
          s.diversity += diversity;
          diversityLists[ki]!++;
        }
      }
    }
    options.onProgress?.(Math.min(totalUsers, b + batchUsers), totalUsers);
  }

  const byK: Record<number, MetricValues> = {};
  const listsUsed: Record<number, number> = {};
  ks.forEach((k, ki) => {
    const s = sums[ki]!;
    const n = Math.max(1, totalUsers);
    byK[k] = {
      recall: s.recall / n,
      ndcg: s.ndcg / n,
      precision: s.precision / n,
      hitRate: s.hitRate / n,
      mrr: s.mrr / n,
      coverage: itemCount === 0 ? 0 : distinct[ki]! / itemCount,
      diversity: diversityLists[ki]! > 0 ? s.diversity / diversityLists[ki]! : null,
      novelty: noveltyLists[ki]! > 0 ? s.novelty / noveltyLists[ki]! : 0,
    };
    listsUsed[k] = diversityLists[ki]!;
  });
  return { users: totalUsers, ks, byK, diversityLists: listsUsed, seconds: (performance.now() - started) / 1000 };
}
