import { SeededRandom } from '../../graph/random.ts';
import { EvaluationDataError } from './evaluation-error.ts';
import type { InteractionColumns } from './interaction-log.ts';
import { type PositiveRule, PositiveTest } from './positive-rule.ts';
import { groupByUser } from './training-data.ts';

/**
 * Holds out part of each user's positive items as the test set.
 *
 * A user's positives are the distinct items with at least one positive interaction, each stamped with its
 * earliest positive interaction (ties in time keep log order: a stable sort; `prepareEvaluation` first puts
 * equal times in a seeded random order, see `orderTiesAtRandom`).
 *
 * - `temporal` (leave-last-out per user): the last `round(testShare · n)` positives in time, at least 1, are
 *   the test set. Other users' interactions are not cut in time: this is a per-user split, not a global one.
 * - `random`: as many positives, drawn at random (seeded) from the user's positives.
 *
 * In both, users with fewer than 2 positives are not evaluated (all their interactions stay in training),
 * and the training log is the whole log minus the positive interactions of the held-out (user, item)
 * pairs. With `temporal` there is one more cut against leaking the future: an evaluated user's non-positive
 * interactions (views, low ratings, dislikes …) stamped after that user's first held-out positive are dropped
 * too. Positive interactions on training items are kept whenever they happened. The `random` split has no
 * notion of "after", so it makes no such cut.
 *
 * The validation split (for tuning and early stopping only) applies the same function to the training log.
 */

export const SPLIT_PROTOCOLS = ['temporal', 'random'] as const;
export type SplitProtocol = (typeof SPLIT_PROTOCOLS)[number];
export const DEFAULT_TEST_SHARE = 0.2;

export function isSplitProtocol(value: string): value is SplitProtocol {
  return (SPLIT_PROTOCOLS as readonly string[]).includes(value);
}

export interface SplitOptions {
  readonly protocol: SplitProtocol;
  readonly seed: number;
  /** Share of each user's positives held out. Default 0.2. */
  readonly testShare?: number;
}

/** The held-out positives of the evaluated users, as rows parallel to `users`. */
export interface HeldOut {
  /** Evaluated users, ascending. */
  readonly users: Uint32Array;
  /** Row r (user `users[r]`) holds `items[start[r] .. start[r + 1])`, ascending. */
  readonly start: Uint32Array;
  readonly items: Uint32Array;
}

export interface InteractionSplit {
  readonly train: InteractionColumns;
  readonly heldOut: HeldOut;
  /** Users with some interaction but fewer than 2 positives: not evaluated. */
  readonly usersLeftOut: number;
  /** Positive interactions of held-out pairs, removed from training. */
  readonly removedHeldOut: number;
  /** `temporal` only: evaluated users' non-positive interactions after their first held-out positive. */
  readonly removedLater: number;
}

/** How many of a user's `positives` are held out: `round(share · n)`, at least 1, none below 2 positives. */
export function heldOutCount(positives: number, testShare = DEFAULT_TEST_SHARE): number {
  if (positives < 2) return 0;
  return Math.min(positives - 1, Math.max(1, Math.round(testShare * positives)));
}

export function splitInteractions(
  interactions: InteractionColumns,
  userCount: number,
  itemCount: number,
  rule: PositiveRule,
  options: SplitOptions,
): InteractionSplit {
  const { protocol, seed } = options;
  const testShare = options.testShare ?? DEFAULT_TEST_SHARE;
  if (!(testShare > 0 && testShare < 1)) throw new RangeError(`testShare must be between 0 and 1, got ${testShare}`);
  if (protocol === 'temporal') {
    let missing = 0;
    for (let n = 0; n < interactions.length; n++) if (Number.isNaN(interactions.ts[n])) missing++;
    if (missing > 0) {
      throw new EvaluationDataError(
        `${missing} interaction${missing === 1 ? ' has' : 's have'} no timestamp, so the data cannot be split ` + 'in time; use the random split',
      );
    }
  }

  const positive = new PositiveTest(rule);
  const byUser = groupByUser(interactions, undefined, userCount);
  const random = new SeededRandom(seed);
  const keep = new Uint8Array(interactions.length).fill(1);
  const { item: itemOf, ts: tsOf, type: typeOf, value: valueOf } = interactions;

  // Per-item scratch, stamped with the user being processed so nothing needs clearing between users.
  const pairStamp = new Int32Array(itemCount).fill(-1);
  const pairSlot = new Uint32Array(itemCount);
  const heldStamp = new Int32Array(itemCount).fill(-1);
  const pairItem: number[] = [];
  const pairTs: number[] = [];
  const pairFirst: number[] = [];

  const users: number[] = [];
  const rowStart: number[] = [0];
  const heldItems: number[] = [];
  let usersLeftOut = 0;
  let removedHeldOut = 0;
  let removedLater = 0;

  for (let u = 0; u < userCount; u++) {
    const from = byUser.start[u]!;
    const to = byUser.start[u + 1]!;
    if (from === to) continue;
    pairItem.length = pairTs.length = pairFirst.length = 0;
    for (let p = from; p < to; p++) {
      const n = byUser.index[p]!;
      if (!positive.isPositive(typeOf[n]!, valueOf[n]!)) continue;
      const item = itemOf[n]!;
      if (pairStamp[item] !== u) {
        pairStamp[item] = u;
        pairSlot[item] = pairItem.length;
        pairItem.push(item);
        pairTs.push(tsOf[n]!);
        pairFirst.push(n);
      } else if (tsOf[n]! < pairTs[pairSlot[item]!]!) {
        // The earliest positive stamps the pair; equal times keep the one read first.
        pairTs[pairSlot[item]!] = tsOf[n]!;
        pairFirst[pairSlot[item]!] = n;
      }
    }
    const count = heldOutCount(pairItem.length, testShare);
    if (count === 0) {
      usersLeftOut++;
      continue;
    }

    const order = Array.from(pairItem.keys());
    let held: number[];
    let cutoff = Infinity;
    if (protocol === 'temporal') {
      order.sort((a, b) => pairTs[a]! - pairTs[b]! || pairFirst[a]! - pairFirst[b]!);
      held = order.slice(order.length - count);
      cutoff = pairTs[held[0]!]!;
    } else {
      // Pairs are in order of first appearance; a partial Fisher–Yates draws `count` of them.
      for (let i = 0; i < count; i++) {
        const j = i + random.int(order.length - i);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      held = order.slice(0, count);
    }

    const row = held.map((slot) => pairItem[slot]!).sort((a, b) => a - b);
    for (const item of row) heldStamp[item] = u;
    users.push(u);
    for (const item of row) heldItems.push(item);
    rowStart.push(heldItems.length);

    for (let p = from; p < to; p++) {
      const n = byUser.index[p]!;
      if (positive.isPositive(typeOf[n]!, valueOf[n]!)) {
        if (heldStamp[itemOf[n]!] === u) {
          keep[n] = 0;
          removedHeldOut++;
        }
      } else if (tsOf[n]! > cutoff) {
        keep[n] = 0;
        removedLater++;
      }
    }
  }

  return {
    train: selectInteractions(interactions, keep),
    heldOut: { users: Uint32Array.from(users), start: Uint32Array.from(rowStart), items: Uint32Array.from(heldItems) },
    usersLeftOut,
    removedHeldOut,
    removedLater,
  };
}

/** The interactions whose `keep` flag is set, in their original order. */
export function selectInteractions(c: InteractionColumns, keep: Uint8Array): InteractionColumns {
  const kept: number[] = [];
  for (let n = 0; n < c.length; n++) if (keep[n]) kept.push(n);
  return reorderInteractions(c, Uint32Array.from(kept));
}

/**
 * The log in time order with equal times in a seeded random order. A log lists what happened at one time in
 * whatever order its file did (Last.fm's taggings of a month by artist id, MovieLens's ratings of a second by
 * movie id), and every later step (the split, the timelines, the sequences) breaks ties by log order: left as
 * read, a model would be rewarded for learning the file's order. A log with an untimed interaction is returned
 * as it is (only the random split takes it).
 */
export function orderTiesAtRandom(c: InteractionColumns, seed: number): InteractionColumns {
  for (let n = 0; n < c.length; n++) if (Number.isNaN(c.ts[n])) return c;
  const random = new SeededRandom(seed);
  const key = new Float64Array(c.length);
  for (let n = 0; n < c.length; n++) key[n] = random.float();
  const order = Uint32Array.from({ length: c.length }, (_, n) => n).sort((a, b) => c.ts[a]! - c.ts[b]! || key[a]! - key[b]!);
  return reorderInteractions(c, order);
}

/** Interactions `order[0]`, `order[1]`, … of `c`, in that order. */
function reorderInteractions(c: InteractionColumns, order: Uint32Array): InteractionColumns {
  const length = order.length;
  const out = {
    length,
    user: new Uint32Array(length),
    item: new Uint32Array(length),
    type: new Uint8Array(length),
    value: new Float32Array(length),
    ts: new Float64Array(length),
  };
  const tagStart = c.eventTags === undefined ? undefined : new Uint32Array(length + 1);
  const tags: number[] = [];
  for (let m = 0; m < length; m++) {
    const n = order[m]!;
    out.user[m] = c.user[n]!;
    out.item[m] = c.item[n]!;
    out.type[m] = c.type[n]!;
    out.value[m] = c.value[n]!;
    out.ts[m] = c.ts[n]!;
    if (tagStart !== undefined) {
      const from = c.eventTags!.start[n]!;
      const to = c.eventTags!.start[n + 1]!;
      for (let t = from; t < to; t++) tags.push(c.eventTags!.tags[t]!);
      tagStart[m + 1] = tags.length;
    }
  }
  return tagStart === undefined ? out : { ...out, eventTags: { start: tagStart, tags: Uint32Array.from(tags) } };
}
