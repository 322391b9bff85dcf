import type { ItemTagSets } from './interaction-log.ts';

/**
 * Ranking metrics of one top-K list, as plain functions. A list is item indexes best first; `relevant` says
 * whether the item at each rank is a held-out positive. Averaging over users happens in the evaluator.
 *
 * - Recall@K = hits in the top K / |held-out positives|
 * - Precision@K = hits in the top K / K (a list shorter than K still divides by K)
 * - NDCG@K = DCG / ideal DCG with binary relevance, DCG = Σ_rank rel / log2(rank + 1) (ranks from 1), the
 *   ideal list holding min(|held-out|, K) hits at the top
 * - HitRate@K = 1 when the top K holds any held-out positive
 * - MRR@K = 1 / rank of the first hit in the top K, 0 without one
 */

export function hitsAt(relevant: ArrayLike<boolean | number>, k: number): number {
  let hits = 0;
  for (let r = 0; r < Math.min(k, relevant.length); r++) if (relevant[r]) hits++;
  return hits;
}

export function recallAt(relevant: ArrayLike<boolean | number>, relevantCount: number, k: number): number {
  return relevantCount === 0 ? 0 : hitsAt(relevant, k) / relevantCount;
}

export function precisionAt(relevant: ArrayLike<boolean | number>, k: number): number {
  return hitsAt(relevant, k) / k;
}

export function hitRateAt(relevant: ArrayLike<boolean | number>, k: number): number {
  return hitsAt(relevant, k) > 0 ? 1 : 0;
}

export function reciprocalRankAt(relevant: ArrayLike<boolean | number>, k: number): number {
  for (let r = 0; r < Math.min(k, relevant.length); r++) if (relevant[r]) return 1 / (r + 1);
  return 0;
}

/** 1 / log2(rank + 1) for ranks 1..n, and its running sums (the ideal DCG of n hits). */
export class RankDiscounts {
  readonly discount: Float64Array;
  readonly idealDcg: Float64Array;
  constructor(maxK: number) {
    this.discount = new Float64Array(maxK);
    this.idealDcg = new Float64Array(maxK + 1);
    for (let r = 0; r < maxK; r++) {
      this.discount[r] = 1 / Math.log2(r + 2);
      this.idealDcg[r + 1] = this.idealDcg[r]! + this.discount[r]!;
    }
  }
}

export function ndcgAt(relevant: ArrayLike<boolean | number>, relevantCount: number, k: number): number {
  if (relevantCount === 0) return 0;
  let dcg = 0;
  for (let r = 0; r < Math.min(k, relevant.length); r++) if (relevant[r]) dcg += 1 / Math.log2(r + 2);
  let ideal = 0;
  for (let r = 0; r < Math.min(k, relevantCount); r++) ideal += 1 / Math.log2(r + 2);
  return dcg / ideal;
}

/** 1 − |A ∩ B| / |A ∪ B| of two ascending tag lists; 0 when both are empty. */
export function jaccardDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  const union = a.length + b.length - common;
  return union === 0 ? 0 : 1 - common / union;
}

/**
 * Intra-list diversity: the mean Jaccard distance between the tag sets of every pair in the top K.
 * Undefined (the list is skipped) when it has fewer than 2 items or any of its items has no tags, since a
 * missing description would read as "completely different".
 */
export function intraListDiversity(list: ArrayLike<number>, k: number, tags: ItemTagSets): number | undefined {
  const n = Math.min(k, list.length);
  if (n < 2) return undefined;
  for (let a = 0; a < n; a++) if (tags.start[list[a]!] === tags.start[list[a]! + 1]) return undefined;
  let sum = 0;
  for (let a = 0; a < n; a++) {
    const ta = tags.tags.subarray(tags.start[list[a]!], tags.start[list[a]! + 1]);
    for (let b = a + 1; b < n; b++) {
      sum += jaccardDistance(ta, tags.tags.subarray(tags.start[list[b]!], tags.start[list[b]! + 1]));
    }
  }
  return sum / ((n * (n - 1)) / 2);
}

/**
 * Self-information of an item in bits: −log2 of the share of users that have it as a training positive.
 * Items no training user has count as if one had (so a cold item is the most novel, not infinitely so).
 */
export function itemNovelty(popularity: number, userCount: number): number {
  return -Math.log2(Math.max(popularity, 1) / userCount);
}

/** Mean novelty of the top K; undefined for an empty list. */
export function listNovelty(list: ArrayLike<number>, k: number, popularity: ArrayLike<number>, userCount: number): number | undefined {
  const n = Math.min(k, list.length);
  if (n === 0) return undefined;
  let sum = 0;
  for (let r = 0; r < n; r++) sum += itemNovelty(popularity[list[r]!]!, userCount);
  return sum / n;
}

/** Catalogue coverage: the share of the catalogue's items that appear in any of the lists' top K. */
export function catalogueCoverage(lists: Iterable<ArrayLike<number>>, k: number, itemCount: number): number {
  const seen = new Uint8Array(itemCount);
  let distinct = 0;
  for (const list of lists) {
    for (let r = 0; r < Math.min(k, list.length); r++) {
      if (!seen[list[r]!]) {
        seen[list[r]!] = 1;
        distinct++;
      }
    }
  }
  return itemCount === 0 ? 0 : distinct / itemCount;
}
