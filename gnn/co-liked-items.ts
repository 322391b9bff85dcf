import type { InteractionTimelines } from './interaction-timelines.ts';
import type { ItemTagPairs } from './item-encoder.ts';

/**
 * Each item's most co-liked items: the items whose "co-liked" feature rows it shares in the item encoder,
 * so that an item seen a few times, which learns little of its own embedding row, leans on what its
 * neighbours' rows learnt. The neighbours are ItemKNN's, cosine with shrinkage over the positive
 * interactions:
 *
 *   sim(i, j) = |L_i ∩ L_j| / (√(|L_i| · |L_j|) + 10)          L_i: the subjects with a positive on i
 *
 * counted from at most `LIKERS_PER_ITEM` of an item's likers (an even spread), so the cost grows with the
 * interactions rather than with the square of the largest audiences.
 *
 * As features, item i carries a feature row of its own (tag-table row T + i, after the T real tags) and
 * those of its neighbours (T + j); the encoder averages them with the item's tags. Lists are ordered by
 * similarity, best first (ties: the lower row), found when a model is trained and saved with it.
 */
export interface CoLikedItems {
  /** Item row r's neighbours are `neighbour[start[r] .. start[r + 1])`. */
  readonly start: Int32Array;
  readonly neighbour: Int32Array;
}

const SHRINKAGE = 10;
const LIKERS_PER_ITEM = 500;

export function coLikedItems(timelines: InteractionTimelines, items: number, k: number): CoLikedItems {
  // Each subject's distinct positive items, and each item's likers (both as CSR).
  const subjects = timelines.subjects;
  const itemStart = new Int32Array(subjects + 1);
  const seen = new Int32Array(items).fill(-1);
  const liked: number[] = [];
  for (let s = 0; s < subjects; s++) {
    for (let p = timelines.start[s]!; p < timelines.start[s + 1]!; p++) {
      const item = timelines.item[p]!;
      if (!timelines.positive[p] || item < 0 || item >= items || seen[item] === s) continue;
      seen[item] = s;
      liked.push(item);
    }
    itemStart[s + 1] = liked.length;
  }
  const likerStart = new Int32Array(items + 1);
  for (const item of liked) likerStart[item + 1]!++;
  for (let i = 0; i < items; i++) likerStart[i + 1]! += likerStart[i]!;
  const likers = new Int32Array(liked.length);
  const fill = likerStart.slice(0, items);
  for (let s = 0; s < subjects; s++) for (let p = itemStart[s]!; p < itemStart[s + 1]!; p++) likers[fill[liked[p]!]!++] = s;

  const together = new Float64Array(items);
  const touched = new Int32Array(items);
  const heap = new TopK(k);
  const start = new Int32Array(items + 1);
  const neighbour: number[] = [];
  for (let i = 0; i < items; i++) {
    const from = likerStart[i]!;
    const count = likerStart[i + 1]! - from;
    const taken = Math.min(count, LIKERS_PER_ITEM);
    // Counted from a spread of the likers, scaled back up to an estimate of the full count.
    const scale = count / Math.max(1, taken);
    let touchedCount = 0;
    for (let t = 0; t < taken; t++) {
      const s = likers[from + Math.floor((t * count) / taken)]!;
      for (let p = itemStart[s]!; p < itemStart[s + 1]!; p++) {
        const j = liked[p]!;
        if (j === i) continue;
        if (together[j] === 0) touched[touchedCount++] = j;
        together[j]! += scale;
      }
    }
    heap.reset();
    for (let t = 0; t < touchedCount; t++) {
      const j = touched[t]!;
      heap.offer(together[j]! / (Math.sqrt(count * (likerStart[j + 1]! - likerStart[j]!)) + SHRINKAGE), j);
      together[j] = 0;
    }
    for (const j of heap.drain()) neighbour.push(j);
    start[i + 1] = neighbour.length;
  }
  return { start, neighbour: Int32Array.from(neighbour) };
}

/**
 * The encoder's item–feature pairs: the real tags' (rows below `tagCount`), then each item's own co-liked row
 * and its neighbours' (rows `tagCount + j`). An item nobody liked has no row of its own.
 */
export function withCoLikedFeatures(tags: ItemTagPairs, coLiked: CoLikedItems, tagCount: number): ItemTagPairs {
  const items = coLiked.start.length - 1;
  const item: number[] = Array.from(tags.item);
  const tag: number[] = Array.from(tags.tag);
  for (let i = 0; i < items; i++) {
    forEachCoLikedRow(coLiked, i, tagCount, (row) => {
      item.push(i);
      tag.push(row);
    });
  }
  return { item: Int32Array.from(item), tag: Int32Array.from(tag) };
}

/** The co-liked feature rows of item row `item`: its own and its neighbours' (none for an item nobody liked). */
export function forEachCoLikedRow(coLiked: CoLikedItems, item: number, tagCount: number, visit: (tagRow: number) => void): void {
  const from = coLiked.start[item]!;
  const to = coLiked.start[item + 1]!;
  if (from === to) return;
  visit(tagCount + item);
  for (let p = from; p < to; p++) visit(tagCount + coLiked.neighbour[p]!);
}

/** The k best (score, row) offers: a min-heap on score (ties: the higher row goes first, so lower rows stay). */
class TopK {
  private readonly score: Float64Array;
  private readonly row: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.score = new Float64Array(Math.max(1, k));
    this.row = new Int32Array(Math.max(1, k));
  }

  reset(): void {
    this.size = 0;
  }

  offer(score: number, row: number): void {
    if (this.k <= 0) return;
    if (this.size < this.k) {
      let at = this.size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.worse(score, row, this.score[parent]!, this.row[parent]!)) break;
        this.score[at] = this.score[parent]!;
        this.row[at] = this.row[parent]!;
        at = parent;
      }
      this.score[at] = score;
      this.row[at] = row;
    } else if (this.worse(this.score[0]!, this.row[0]!, score, row)) {
      this.siftDown(score, row);
    }
  }

  /** The rows held, best first. */
  drain(): number[] {
    const out: Array<[number, number]> = [];
    for (let n = 0; n < this.size; n++) out.push([this.score[n]!, this.row[n]!]);
    this.size = 0;
    return out.sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, row]) => row);
  }

  /** a ranks below b. */
  private worse(scoreA: number, rowA: number, scoreB: number, rowB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && rowA > rowB);
  }

  private siftDown(score: number, row: number): void {
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.worse(this.score[right]!, this.row[right]!, this.score[left]!, this.row[left]!) ? right : left;
      if (!this.worse(this.score[child]!, this.row[child]!, score, row)) break;
      this.score[at] = this.score[child]!;
      this.row[at] = this.row[child]!;
      at = child;
    }
    this.score[at] = score;
    this.row[at] = row;
  }
}
