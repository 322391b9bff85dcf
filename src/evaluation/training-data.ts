import type { InteractionColumns, ItemTagSets } from './interaction-log.ts';
import { type PositiveRule, PositiveTest } from './positive-rule.ts';

/**
 * What a model may learn from: the training interactions (every type, so a model can use views and dislikes
 * too), and the derived positive user–item matrix most recommenders train on.
 */

/** A sparse 0/1 matrix in CSR form: row r holds `cols[start[r] .. start[r + 1])`, ascending, distinct. */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly start: Uint32Array;
  readonly index: Uint32Array;
}

export interface TrainingData {
  readonly userCount: number;
  readonly itemCount: number;
  /** External ids by dense index (the same indexes as the full log, so scores line up with it). */
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** The training log: every interaction a model may see, in the order read. */
  readonly interactions: InteractionColumns;
  readonly rule: PositiveRule;
  /** Users × items: each user's distinct positive items. The evaluator never ranks these for that user. */
  readonly positives: SparseRows;
  /** Distinct (user, item) positive pairs: `positives.index.length`. */
  readonly positiveCount: number;
  /** Per item, how many users have it as a positive. */
  readonly itemPopularity: Uint32Array;
  readonly itemTags: ItemTagSets;
}

export interface CatalogueShape {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly itemTags: ItemTagSets;
  /** See `InteractionLog.derivedTagMinUsers`. */
  readonly derivedTagMinUsers?: Uint32Array;
}

export function trainingDataFrom(shape: CatalogueShape, interactions: InteractionColumns, rule: PositiveRule): TrainingData {
  const userCount = shape.userIds.length;
  const itemCount = shape.itemIds.length;
  const test = new PositiveTest(rule);
  const positive = new Uint8Array(interactions.length);
  for (let n = 0; n < interactions.length; n++) {
    positive[n] = test.isPositive(interactions.type[n]!, interactions.value[n]!) ? 1 : 0;
  }
  const positives = distinctPairs(interactions, positive, userCount, itemCount);
  const itemPopularity = new Uint32Array(itemCount);
  for (const item of positives.index) itemPopularity[item]!++;
  return {
    userCount,
    itemCount,
    userIds: shape.userIds,
    itemIds: shape.itemIds,
    interactions,
    rule,
    positives,
    positiveCount: positives.index.length,
    itemPopularity,
    itemTags: itemTagsFrom(shape, interactions),
  };
}

/**
 * The catalogue's item tags, except that an item whose tags were counted from the events' tags gets them
 * re-counted from these interactions alone: a tag held-out users gave must not describe the item in training.
 */
export function itemTagsFrom(shape: CatalogueShape, interactions: InteractionColumns): ItemTagSets {
  const minUsers = shape.derivedTagMinUsers;
  if (minUsers === undefined) return shape.itemTags;
  const itemCount = shape.itemIds.length;
  // item → tag → distinct users who gave it in these interactions.
  const givers = new Map<number, Map<number, Set<number>>>();
  const given = interactions.eventTags;
  if (given !== undefined) {
    for (let n = 0; n < interactions.length; n++) {
      const item = interactions.item[n]!;
      if (minUsers[item] === 0) continue;
      for (let t = given.start[n]!; t < given.start[n + 1]!; t++) {
        let byTag = givers.get(item);
        if (byTag === undefined) givers.set(item, (byTag = new Map<number, Set<number>>()));
        let users = byTag.get(given.tags[t]!);
        if (users === undefined) byTag.set(given.tags[t]!, (users = new Set()));
        users.add(interactions.user[n]!);
      }
    }
  }
  const { start: catalogueStart, tags: catalogueTags, names } = shape.itemTags;
  const start = new Uint32Array(itemCount + 1);
  const lists: Uint32Array[] = [];
  for (let i = 0; i < itemCount; i++) {
    let list: Uint32Array;
    if (minUsers[i] === 0) list = catalogueTags.subarray(catalogueStart[i], catalogueStart[i + 1]);
    else {
      const kept: number[] = [];
      for (const [tag, users] of givers.get(i) ?? []) if (users.size >= minUsers[i]!) kept.push(tag);
      list = Uint32Array.from(kept).sort();
    }
    lists.push(list);
    start[i + 1] = start[i]! + list.length;
  }
  const tags = new Uint32Array(start[itemCount]!);
  for (let i = 0; i < itemCount; i++) tags.set(lists[i]!, start[i]);
  return { start, tags, names };
}

/** The distinct (user, item) pairs among the selected interactions, as users × items rows. */
function distinctPairs(interactions: InteractionColumns, selected: Uint8Array, userCount: number, itemCount: number): SparseRows {
  const order = groupByUser(interactions, selected, userCount);
  const start = new Uint32Array(userCount + 1);
  const lastUser = new Int32Array(itemCount).fill(-1);
  const found: number[] = [];
  const rows: Uint32Array[] = [];
  for (let u = 0; u < userCount; u++) {
    found.length = 0;
    for (let p = order.start[u]!; p < order.start[u + 1]!; p++) {
      const item = interactions.item[order.index[p]!]!;
      if (lastUser[item] !== u) {
        lastUser[item] = u;
        found.push(item);
      }
    }
    const row = Uint32Array.from(found).sort();
    rows.push(row);
    start[u + 1] = start[u]! + row.length;
  }
  const index = new Uint32Array(start[userCount]!);
  for (let u = 0; u < userCount; u++) index.set(rows[u]!, start[u]);
  return { rows: userCount, cols: itemCount, start, index };
}

/**
 * Each user's distinct positive items in the order they became positive: row u lists u's positives sorted by
 * their earliest positive interaction (equal times keep log order), the order the temporal split uses. A user
 * with a positive interaction that carries no timestamp keeps log order throughout, since those cannot be
 * placed in time. Sequential models read this; rows are not ascending, unlike `SparseRows`.
 */
export function positiveSequences(data: TrainingData): SparseRows {
  const log = data.interactions;
  const test = new PositiveTest(data.rule);
  const selected = new Uint8Array(log.length);
  for (let n = 0; n < log.length; n++) selected[n] = test.isPositive(log.type[n]!, log.value[n]!) ? 1 : 0;
  const byUser = groupByUser(log, selected, data.userCount);
  const start = new Uint32Array(data.userCount + 1);
  const index = new Uint32Array(data.positiveCount);
  // Per-item scratch, stamped with the user being processed so nothing needs clearing between users.
  const stamp = new Int32Array(data.itemCount).fill(-1);
  const slot = new Uint32Array(data.itemCount);
  const items: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < data.userCount; u++) {
    items.length = times.length = 0;
    let timed = true;
    for (let p = byUser.start[u]!; p < byUser.start[u + 1]!; p++) {
      const n = byUser.index[p]!;
      const item = log.item[n]!;
      const ts = log.ts[n]!;
      if (Number.isNaN(ts)) timed = false;
      if (stamp[item] !== u) {
        stamp[item] = u;
        slot[item] = items.length;
        items.push(item);
        times.push(ts);
      } else if (ts < times[slot[item]!]!) times[slot[item]!] = ts;
    }
    // Slots are in log order of first appearance, and the sort is stable: equal times keep log order.
    const order = Array.from(items.keys());
    if (timed) order.sort((x, y) => times[x]! - times[y]!);
    for (let q = 0; q < order.length; q++) index[start[u]! + q] = items[order[q]!]!;
    start[u + 1] = start[u]! + items.length;
  }
  return { rows: data.userCount, cols: data.itemCount, start, index };
}

/** Indexes of the selected interactions grouped by user, each group in log order (a stable counting sort). */
export function groupByUser(interactions: InteractionColumns, selected: Uint8Array | undefined, userCount: number): SparseRows {
  const start = new Uint32Array(userCount + 1);
  for (let n = 0; n < interactions.length; n++) if (selected === undefined || selected[n]) start[interactions.user[n]! + 1]!++;
  for (let u = 0; u < userCount; u++) start[u + 1]! += start[u]!;
  const next = start.slice(0, userCount);
  const index = new Uint32Array(start[userCount]!);
  for (let n = 0; n < interactions.length; n++) {
    if (selected === undefined || selected[n]) index[next[interactions.user[n]!]!++] = n;
  }
  return { rows: userCount, cols: interactions.length, start, index };
}

/** The transpose of a 0/1 matrix: items × users from users × items. Rows stay ascending. */
export function transposeRows(m: SparseRows): SparseRows {
  const start = new Uint32Array(m.cols + 1);
  for (const c of m.index) start[c + 1]!++;
  for (let c = 0; c < m.cols; c++) start[c + 1]! += start[c]!;
  const next = start.slice(0, m.cols);
  const index = new Uint32Array(m.index.length);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.start[r]!; p < m.start[r + 1]!; p++) index[next[m.index[p]!]!++] = r;
  }
  return { rows: m.cols, cols: m.rows, start, index };
}

/** Whether row r holds column c (binary search; rows are ascending). */
export function rowHas(m: SparseRows, r: number, c: number): boolean {
  let lo = m.start[r]!;
  let hi = m.start[r + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = m.index[mid]!;
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
