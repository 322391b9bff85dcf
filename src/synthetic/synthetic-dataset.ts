import { type FieldIssue, ValidationError } from '../../base/errors.ts';
import { INTERACTION_TYPES, type InteractionType, NodeKindCode } from '../../graph/model.ts';
import { AliasTable, SeededRandom, ZipfSampler } from '../../graph/random.ts';
import type { CatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import { CurrentInterest, InterestMixtures } from './interest-mixtures.ts';
import { GLOBAL_TAGS, slugOf, TAG_WORDS, tagWord, TITLE_ADJECTIVES, TITLE_NOUNS, topicName } from './vocabulary.ts';

/**
 * A deterministic synthetic interest graph with planted structure, for tests and benchmarks from a thousand
 * to ten million interactions.
 *
 * What is planted, and so what a model should be able to recover:
 * - items belong to one topic each and carry mostly that topic's tags (plus, sometimes, a global tag);
 * - each user likes a few topics (a Dirichlet mixture over `interestsPerUser` topics, plus a little background
 *   interest in everything), and over the time axis the mixture moves from mixture A to
 *   B = (1 − drift)·A + drift·A′, where A′ is a second, independent draw;
 * - item popularity within a topic and user activity follow Zipf laws;
 * - positive interactions (views … likes) follow the user's current mixture, ratings rise with how much the
 *   user likes the item's topic, and negative ones (dislike, dismiss) fall mostly on topics the user does not like;
 * - anonymous sessions are short bursts in time around one topic.
 *
 * Interactions are kept in columns (typed arrays) so ten million of them cost ~220 MB and a few seconds;
 * `eventsAt` turns a range into `InteractionEventInput` objects only when asked.
 */

export interface SyntheticDatasetOptions {
  /** Same seed and options give byte-identical output. Default 1. */
  readonly seed?: number;
  /** Number of interactions. Default 10 000. */
  readonly edges?: number;
  /** Default: edges / 50 (at least 20), so about 50 interactions per user. */
  readonly users?: number;
  /** Default: edges / 100 (at least 10 per topic). */
  readonly items?: number;
  /** Default 20. */
  readonly topics?: number;
  /** Tags per topic. Default 6. */
  readonly tagsPerTopic?: number;
  /** Anonymous sessions. Default: about 8 interactions per session at `sessionShare`. */
  readonly sessions?: number;
  /** Share of interactions made by sessions rather than users. Default 0.03 (0 when `sessions` is 0). */
  readonly sessionShare?: number;
  /** Epoch ms of the first interaction. Default 2024-01-01T00:00:00Z. */
  readonly startTime?: number;
  /** Epoch ms; every timestamp is before it. Default 2025-01-01T00:00:00Z, or a year after `startTime`. */
  readonly endTime?: number;
  /**
   * Epoch ms of the latest timestamp, instead of `endTime`: the window (from `startTime`, default a year
   * long) ends here and every timestamp moves by the same few seconds so that the latest is exactly `endAt`.
   * Data generated with `endAt = Date.now()` looks live: its newest events are "now", so the first real
   * event does not move the decay clock past all of it. Everything but the timestamps is the same for any
   * `endAt`.
   */
  readonly endAt?: number;
  /** Topics a user mostly likes. Default 3 (at most `topics`). */
  readonly interestsPerUser?: number;
  /** 0..1: how far a user's interest mixture moves between `startTime` and `endTime`. Default 0.3. */
  readonly drift?: number;
  /** 0..1: share of interactions that arrive late, with a timestamp before an earlier-arrived one. Default 0.01. */
  readonly outOfOrder?: number;
  /** Zipf exponent of item popularity within a topic. Default 1. */
  readonly itemPopularityExponent?: number;
  /** Zipf exponent of user activity. Default 0.7 (activity counts then fall off as k^−2.4). */
  readonly userActivityExponent?: number;
  /** Share of users' interactions that are dislikes or dismissals. Default 0.05. */
  readonly negativeShare?: number;
  /** Share of a user's interest spread evenly over all topics (exploration). Default 0.05. */
  readonly backgroundInterest?: number;
}

/** The options with their defaults; `endAt` is folded into the window (`endTime` is then `endAt` + 1). */
export type ResolvedSyntheticOptions = { readonly [K in Exclude<keyof SyntheticDatasetOptions, 'endAt'>]-?: number };

export interface SyntheticTopic {
  readonly index: number;
  readonly name: string;
  readonly slug: string;
  /** Tag ids, `<slug>:<word>`. */
  readonly tags: readonly string[];
  /** Relative popularity: how often users pick this topic as an interest, and its share of the items. */
  readonly popularity: number;
}

/** Interactions in arrival order, one entry per column; index i of each array is interaction i. */
export interface SyntheticInteractions {
  readonly length: number;
  /** `NodeKindCode.user` or `NodeKindCode.session`: which list `subject` indexes. */
  readonly subjectKind: Uint8Array;
  readonly subject: Uint32Array;
  readonly item: Uint32Array;
  /** Index into `INTERACTION_TYPES` (equal to the edge type code). */
  readonly type: Uint8Array;
  /** Stars for ratings (0.5..5 in half steps); NaN for every other type. */
  readonly value: Float32Array;
  /** Epoch ms, integral. Non-decreasing except for the late (`outOfOrder`) ones. */
  readonly ts: Float64Array;
}

export interface UserInterests {
  /** Probability of each topic at `startTime` (sums to 1). */
  readonly start: Float64Array;
  /** At `endTime`. */
  readonly end: Float64Array;
}

const DEFAULT_START = Date.UTC(2024, 0, 1);
const DEFAULT_END = Date.UTC(2025, 0, 1);

export function resolveSyntheticOptions(options: SyntheticDatasetOptions = {}): ResolvedSyntheticOptions {
  const issues: FieldIssue[] = [];
  const integer = (name: keyof SyntheticDatasetOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = options[name];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
      issues.push({ path: name, message: `must be an integer from ${min} to ${max}, got ${v}` });
    }
  };
  const fraction = (name: keyof SyntheticDatasetOptions) => {
    const v = options[name];
    if (v !== undefined && !(v >= 0 && v <= 1)) issues.push({ path: name, message: `must be between 0 and 1, got ${v}` });
  };
  const positive = (name: keyof SyntheticDatasetOptions) => {
    const v = options[name];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) {
      issues.push({ path: name, message: `must be a finite non-negative number, got ${v}` });
    }
  };
  integer('seed', 0, 0xffffffff);
  integer('edges', 0, 0xffffffff);
  integer('users', 1, 0xffffffff);
  integer('items', 1, 0xffffffff);
  integer('topics', 1, 0xffffffff);
  integer('tagsPerTopic', 1, 1000);
  integer('sessions', 0, 0xffffffff);
  integer('interestsPerUser', 1);
  integer('startTime', 0);
  integer('endTime', 0);
  integer('endAt', 0);
  if (options.endAt !== undefined && options.endTime !== undefined) issues.push({ path: 'endAt', message: 'cannot be combined with endTime' });
  for (const name of ['sessionShare', 'drift', 'outOfOrder', 'negativeShare', 'backgroundInterest'] as const) fraction(name);
  for (const name of ['itemPopularityExponent', 'userActivityExponent'] as const) positive(name);
  if (issues.length > 0) throw new ValidationError(issues);

  const edges = options.edges ?? 10_000;
  const topics = options.topics ?? 20;
  const sessions = options.sessions ?? Math.max(1, Math.round((edges * (options.sessionShare ?? 0.03)) / 8));
  const resolved: ResolvedSyntheticOptions = {
    seed: options.seed ?? 1,
    edges,
    users: options.users ?? Math.max(20, Math.round(edges / 50)),
    items: options.items ?? Math.max(10 * topics, Math.round(edges / 100)),
    topics,
    tagsPerTopic: options.tagsPerTopic ?? 6,
    sessions,
    sessionShare: sessions === 0 ? 0 : (options.sessionShare ?? 0.03),
    ...windowOf(options),
    interestsPerUser: options.interestsPerUser ?? Math.min(3, topics),
    drift: options.drift ?? 0.3,
    outOfOrder: options.outOfOrder ?? 0.01,
    itemPopularityExponent: options.itemPopularityExponent ?? 1,
    userActivityExponent: options.userActivityExponent ?? 0.7,
    negativeShare: options.negativeShare ?? 0.05,
    backgroundInterest: options.backgroundInterest ?? 0.05,
  };
  if (resolved.items < resolved.topics) {
    issues.push({ path: 'items', message: `must be at least topics (${resolved.topics}) so every topic has an item` });
  }
  if (resolved.interestsPerUser > resolved.topics) {
    issues.push({ path: 'interestsPerUser', message: `must be at most topics (${resolved.topics})` });
  }
  if (resolved.endTime <= resolved.startTime) {
    issues.push(
      options.endAt === undefined
        ? { path: 'endTime', message: 'must be later than the start time' }
        : { path: 'endAt', message: 'must not be before the start time' },
    );
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return resolved;
}

/** The time window: `endAt` closes it just after that moment; a start without an end keeps the default length. */
function windowOf(options: SyntheticDatasetOptions): { startTime: number; endTime: number } {
  const length = DEFAULT_END - DEFAULT_START;
  if (options.endAt !== undefined) {
    const endTime = options.endAt + 1;
    return { startTime: options.startTime ?? Math.max(0, endTime - length), endTime };
  }
  const startTime = options.startTime ?? DEFAULT_START;
  return { startTime, endTime: options.endTime ?? startTime + length };
}

// Type codes, by their index in INTERACTION_TYPES.
const VIEW = INTERACTION_TYPES.indexOf('view');
const CLICK = INTERACTION_TYPES.indexOf('click');
const ADD_TO_CART = INTERACTION_TYPES.indexOf('add_to_cart');
const PURCHASE = INTERACTION_TYPES.indexOf('purchase');
const RATING = INTERACTION_TYPES.indexOf('rating');
const LIKE = INTERACTION_TYPES.indexOf('like');
const DISLIKE = INTERACTION_TYPES.indexOf('dislike');
const DISMISS = INTERACTION_TYPES.indexOf('dismiss');

/** Anonymous visitors browse: almost only views and clicks, no ratings. */
const SESSION_TYPE_MIX: ReadonlyArray<readonly [code: number, weight: number]> = [
  [VIEW, 70],
  [CLICK, 21],
  [ADD_TO_CART, 4],
  [PURCHASE, 2],
  [LIKE, 1],
  [DISMISS, 2],
];
const SESSION_FOCUS = 0.85;
/** Spread (standard deviation, in sessions) around the session due at an interaction's time: keeps sessions short. */
const SESSION_SPREAD = 1.5;
const ITEM_TAGS_MIN = 2;
const ITEM_TAGS_MAX = 4;
const GLOBAL_TAG_CHANCE = 0.15;
/** Share of negatives that still fall on a liked topic: people dismiss things they like too. */
const NEGATIVE_NOISE = 0.1;
/** A topic below this weight in the user's focused mixture counts as not liked when placing negatives. */
const NOT_LIKED_WEIGHT = 0.05;
const DISMISS_SHARE_OF_NEGATIVES = 0.65;
/** Late events arrive this long (mean, beyond two inter-arrival gaps) after they happened. */
const LATE_MEAN_MS = 60 * 60 * 1000;
const TOPIC_POPULARITY_EXPONENT = 0.5;
/** Interactions generated per block (see the passes in the loop); small enough that a block's users stay in cache. */
const BLOCK = 512;

export function generateSyntheticDataset(options: SyntheticDatasetOptions = {}): SyntheticDataset {
  const o = resolveSyntheticOptions(options);
  const random = new SeededRandom(o.seed);

  // Topics: popularity by a shuffled Zipf rank so that the first name in the word list is not always the biggest.
  const topicRank = random.shuffle(Array.from({ length: o.topics }, (_, i) => i));
  const topicZipf = new ZipfSampler(o.topics, TOPIC_POPULARITY_EXPONENT);
  const topicPopularity = Float64Array.from(topicRank, (rank) => topicZipf.probability(rank));
  const topicByPopularity = new AliasTable(topicPopularity);

  const wordPool = Math.max(TAG_WORDS.length, o.tagsPerTopic);
  const topics: SyntheticTopic[] = [];
  for (let t = 0; t < o.topics; t++) {
    const name = topicName(t);
    const slug = slugOf(name);
    const words = random.shuffle(Array.from({ length: wordPool }, (_, i) => i)).slice(0, o.tagsPerTopic);
    topics.push({ index: t, name, slug, tags: words.map((w) => `${slug}:${tagWord(w)}`), popularity: topicPopularity[t]! });
  }
  const tagNames = [...topics.flatMap((t) => t.tags), ...GLOBAL_TAGS];
  const firstGlobalTag = o.topics * o.tagsPerTopic;

  // Items: topic sizes follow topic popularity (every topic gets at least one), then ids are shuffled so an
  // item's id says nothing about its topic.
  const topicSize = apportion(topicPopularity, o.items);
  const itemTopic = new Uint32Array(o.items);
  for (let t = 0, next = 0; t < o.topics; t++) itemTopic.fill(t, next, (next += topicSize[t]!));
  random.shuffle(itemTopic);

  const topicItemStart = new Uint32Array(o.topics + 1);
  for (let t = 0; t < o.topics; t++) topicItemStart[t + 1] = topicItemStart[t]! + topicSize[t]!;
  const topicItems = new Uint32Array(o.items);
  const itemOrdinal = new Uint32Array(o.items);
  const filled = new Uint32Array(o.topics);
  for (let i = 0; i < o.items; i++) {
    const t = itemTopic[i]!;
    itemOrdinal[i] = filled[t]! + 1;
    topicItems[topicItemStart[t]! + filled[t]!++] = i;
  }
  // Popularity rank within a topic is a second shuffle, independent of the ordinal in the title.
  const itemRankInTopic: ZipfSampler[] = [];
  for (let t = 0; t < o.topics; t++) {
    random.shuffle(topicItems.subarray(topicItemStart[t], topicItemStart[t + 1]));
    itemRankInTopic.push(new ZipfSampler(topicSize[t]!, o.itemPopularityExponent));
  }

  const titleAdjective = new Uint8Array(o.items);
  const titleNoun = new Uint8Array(o.items);
  const tagsPerItemMax = Math.min(ITEM_TAGS_MAX, o.tagsPerTopic);
  const tagsPerItemMin = Math.min(ITEM_TAGS_MIN, tagsPerItemMax);
  const itemTagStart = new Uint32Array(o.items + 1);
  const itemTags = new Uint32Array(o.items * (tagsPerItemMax + 1));
  let tagCount = 0;
  for (let i = 0; i < o.items; i++) {
    titleAdjective[i] = random.int(TITLE_ADJECTIVES.length);
    titleNoun[i] = random.int(TITLE_NOUNS.length);
    const count = tagsPerItemMin + random.int(tagsPerItemMax - tagsPerItemMin + 1);
    const topicTagBase = itemTopic[i]! * o.tagsPerTopic;
    for (const tag of random.distinct(o.tagsPerTopic, count)) itemTags[tagCount++] = topicTagBase + tag;
    if (random.chance(GLOBAL_TAG_CHANCE)) itemTags[tagCount++] = firstGlobalTag + random.int(GLOBAL_TAGS.length);
    itemTagStart[i + 1] = tagCount;
  }

  // Users: Zipf activity over a shuffled rank, and interest slots holding mixture A and its drift target.
  const userOfRank = random.shuffle(Uint32Array.from({ length: o.users }, (_, i) => i));
  const userZipf = new ZipfSampler(o.users, o.userActivityExponent);
  const userActivity = new Float64Array(o.users);
  for (let rank = 0; rank < o.users; rank++) userActivity[userOfRank[rank]!] = userZipf.probability(rank);

  const interests = InterestMixtures.draw(random, o.users, o.interestsPerUser, o.drift, topicByPopularity);

  const sessionTopic = new Uint32Array(o.sessions);
  for (let s = 0; s < o.sessions; s++) sessionTopic[s] = topicByPopularity.sample(random);

  // Interactions, in arrival order.
  const n = o.edges;
  const subjectKind = new Uint8Array(n);
  const subject = new Uint32Array(n);
  const item = new Uint32Array(n);
  const type = new Uint8Array(n);
  const value = new Float32Array(n).fill(NaN);
  const ts = new Float64Array(n);
  const span = o.endTime - o.startTime;
  const gap = span / Math.max(1, n);
  const sessionWeightTotal = SESSION_TYPE_MIX.reduce((sum, [, w]) => sum + w, 0);
  const focus = 1 - o.backgroundInterest;
  const background = o.backgroundInterest / o.topics;

  const current = new CurrentInterest(interests.slots);
  let touched = 0;
  for (let blockStart = 0; blockStart < n; blockStart += BLOCK) {
    const blockEnd = Math.min(n, blockStart + BLOCK);

    // Pass 1: when, and who acts.
    for (let i = blockStart; i < blockEnd; i++) {
      // Stratified arrival times: non-decreasing, one per slot of the time axis.
      let t = Math.floor(o.startTime + (i + random.float()) * gap);
      if (i > 0 && random.chance(o.outOfOrder)) {
        // Two gaps back is always before the previous arrival, so a late event is out of order, not just slow.
        t = Math.max(o.startTime, Math.floor(t - 2 * gap - 1 - random.exponential(LATE_MEAN_MS)));
      }
      ts[i] = t;
      if (o.sessionShare > 0 && random.chance(o.sessionShare)) {
        const when = (t - o.startTime) / span;
        subjectKind[i] = NodeKindCode.session;
        subject[i] = clampIndex(Math.floor(when * o.sessions + random.normal(0, SESSION_SPREAD)), o.sessions);
      } else {
        subjectKind[i] = NodeKindCode.user;
        subject[i] = userOfRank[userZipf.sample(random)]!;
      }
    }

    // Pass 2: touch each acting user's interests, so that the block's cache misses overlap instead of
    // queueing one by one in pass 3.
    for (let i = blockStart; i < blockEnd; i++) {
      if (subjectKind[i] === NodeKindCode.user) touched += interests.touch(subject[i]!);
    }

    // Pass 3: what they do.
    for (let i = blockStart; i < blockEnd; i++) {
      const when = (ts[i]! - o.startTime) / span;
      if (subjectKind[i] === NodeKindCode.session) {
        const s = subject[i]!;
        const topic = random.chance(SESSION_FOCUS) ? sessionTopic[s]! : topicByPopularity.sample(random);
        item[i] = topicItems[topicItemStart[topic]! + itemRankInTopic[topic]!.sample(random)]!;
        type[i] = pickWeighted(random, SESSION_TYPE_MIX, sessionWeightTotal);
        continue;
      }
      interests.readInto(current, subject[i]!, when);

      if (random.chance(o.negativeShare)) {
        let topic: number;
        if (random.chance(NEGATIVE_NOISE)) topic = current.draw(random);
        else {
          // Rejection: a few tries for a topic the user does not like now; tiny topic counts may not have one.
          topic = random.int(o.topics);
          for (let tries = 0; tries < 8 && current.weightOf(topic) >= NOT_LIKED_WEIGHT; tries++) {
            topic = random.int(o.topics);
          }
        }
        item[i] = topicItems[topicItemStart[topic]! + itemRankInTopic[topic]!.sample(random)]!;
        type[i] = random.chance(DISMISS_SHARE_OF_NEGATIVES) ? DISMISS : DISLIKE;
        continue;
      }

      const topic = random.chance(o.backgroundInterest) ? random.int(o.topics) : current.draw(random);
      item[i] = topicItems[topicItemStart[topic]! + itemRankInTopic[topic]!.sample(random)]!;
      // Affinity in [0, 1]: this topic's interest relative to the user's favourite topic right now.
      const affinity = (focus * current.weightOf(topic) + background) / (focus * current.strongest + background);

      const wView = 60;
      const wClick = 20;
      const wCart = 2 + 4 * affinity;
      const wPurchase = 1 + 3 * affinity;
      const wRating = 5;
      const wLike = 1 + 6 * affinity;
      let r = random.float() * (wView + wClick + wCart + wPurchase + wRating + wLike);
      let code: number;
      if ((r -= wView) < 0) code = VIEW;
      else if ((r -= wClick) < 0) code = CLICK;
      else if ((r -= wCart) < 0) code = ADD_TO_CART;
      else if ((r -= wPurchase) < 0) code = PURCHASE;
      else if (r < wRating) code = RATING;
      else code = LIKE;
      type[i] = code;
      if (code === RATING) {
        const stars = Math.round(2 * (1.25 + 3.5 * affinity + random.normal(0, 0.6))) / 2;
        value[i] = Math.min(5, Math.max(0.5, stars));
      }
    }
  }

  if (Number.isNaN(touched)) throw new Error('unreachable; uses the sum so the touching pass is not optimised away');
  if (options.endAt !== undefined && n > 0) {
    // Stratified times fall somewhere in the last slot: move them all so the latest is exactly `endAt`. The
    // shift is the same whatever `endAt` is (times relative to the start do not depend on it), and stays in
    // the window: every time was at most `endAt` and moves later.
    let latest = ts[0]!;
    for (let i = 1; i < n; i++) if (ts[i]! > latest) latest = ts[i]!;
    const shift = options.endAt - latest;
    for (let i = 0; i < n; i++) ts[i]! += shift;
  }

  return new SyntheticDataset({
    options: o,
    topics,
    tagNames,
    itemTopic,
    topicItemStart,
    topicItems,
    itemOrdinal,
    titleAdjective,
    titleNoun,
    itemTagStart,
    itemTagList: itemTags.slice(0, tagCount),
    userActivity,
    interests,
    sessionTopic,
    interactions: { length: n, subjectKind, subject, item, type, value, ts },
  });
}

interface SyntheticDatasetParts {
  readonly options: ResolvedSyntheticOptions;
  readonly topics: readonly SyntheticTopic[];
  readonly tagNames: readonly string[];
  readonly itemTopic: Uint32Array;
  readonly topicItemStart: Uint32Array;
  /** Items grouped by topic, each group from most to least popular. */
  readonly topicItems: Uint32Array;
  readonly itemOrdinal: Uint32Array;
  readonly titleAdjective: Uint8Array;
  readonly titleNoun: Uint8Array;
  readonly itemTagStart: Uint32Array;
  readonly itemTagList: Uint32Array;
  readonly userActivity: Float64Array;
  readonly interests: InterestMixtures;
  readonly sessionTopic: Uint32Array;
  readonly interactions: SyntheticInteractions;
}

export class SyntheticDataset {
  readonly options: ResolvedSyntheticOptions;
  readonly interactions: SyntheticInteractions;
  /** Ground truth: the topics with their names and tags. */
  readonly topics: readonly SyntheticTopic[];
  readonly globalTags: readonly string[] = GLOBAL_TAGS;
  /** Ground truth: each item's topic index. */
  readonly itemTopic: Uint32Array;
  /** Ground truth: each session's topic index. */
  readonly sessionTopic: Uint32Array;
  /** Ground truth: each user's share of the user interactions (sums to 1). */
  readonly userActivity: Float64Array;
  private readonly parts: SyntheticDatasetParts;

  constructor(parts: SyntheticDatasetParts) {
    this.parts = parts;
    this.options = parts.options;
    this.interactions = parts.interactions;
    this.topics = parts.topics;
    this.itemTopic = parts.itemTopic;
    this.sessionTopic = parts.sessionTopic;
    this.userActivity = parts.userActivity;
  }

  userId(user: number): string {
    return `user-${user}`;
  }
  sessionId(session: number): string {
    return `session-${session}`;
  }
  itemId(item: number): string {
    return `item-${item}`;
  }

  /** Ground truth: the topic's items from most to least popular (Zipf rank order). */
  itemsOfTopic(topic: number): Uint32Array {
    const { topicItemStart, topicItems } = this.parts;
    this.checkIndex('topic', topic, this.options.topics);
    return topicItems.slice(topicItemStart[topic], topicItemStart[topic + 1]);
  }

  /** Where `ts` lies on the time axis: 0 at `startTime`, 1 at `endTime`; the `when` of `interestAt`. */
  timeFraction(ts: number): number {
    return (ts - this.options.startTime) / (this.options.endTime - this.options.startTime);
  }

  /** Ground truth: the user's topic mixture (background included) at a time fraction 0 (start) .. 1 (end). */
  interestAt(user: number, when: number): Float64Array {
    const o = this.options;
    this.checkIndex('user', user, o.users);
    const mixture = new Float64Array(o.topics).fill(o.backgroundInterest / o.topics);
    this.parts.interests.addTo(mixture, user, when, 1 - o.backgroundInterest);
    return mixture;
  }

  /** Ground truth: the user's topic mixtures at `startTime` and at `endTime`. */
  interestsOf(user: number): UserInterests {
    return { start: this.interestAt(user, 0), end: this.interestAt(user, 1) };
  }

  /** Ground truth: the `count` topics the user likes most at time fraction `when`, most liked first. */
  favouriteTopics(user: number, when = 0, count = this.options.interestsPerUser): number[] {
    const mixture = this.interestAt(user, when);
    return Array.from(mixture.keys())
      .sort((a, b) => mixture[b]! - mixture[a]! || a - b)
      .slice(0, count);
  }

  itemTags(item: number): string[] {
    const { itemTagStart, itemTagList, tagNames } = this.parts;
    this.checkIndex('item', item, this.options.items);
    const tags: string[] = [];
    for (let j = itemTagStart[item]!; j < itemTagStart[item + 1]!; j++) tags.push(tagNames[itemTagList[j]!]!);
    return tags;
  }

  catalogueItem(item: number): CatalogueItem {
    const { itemOrdinal, titleAdjective, titleNoun } = this.parts;
    this.checkIndex('item', item, this.options.items);
    const topic = this.topics[this.itemTopic[item]!]!;
    return {
      id: this.itemId(item),
      title: `${topic.name} #${itemOrdinal[item]}: The ${TITLE_ADJECTIVES[titleAdjective[item]!]} ${TITLE_NOUNS[titleNoun[item]!]}`,
      tags: this.itemTags(item),
      attributes: { topic: topic.name },
    };
  }

  /** Every item, in id order. */
  catalogue(): CatalogueItem[] {
    return Array.from({ length: this.options.items }, (_, i) => this.catalogueItem(i));
  }

  eventAt(index: number): InteractionEventInput {
    const c = this.interactions;
    this.checkIndex('interaction', index, c.length);
    const type: InteractionType = INTERACTION_TYPES[c.type[index]!]!;
    const id = `syn-${this.options.seed}-${index}`;
    const itemId = this.itemId(c.item[index]!);
    // Keys in a fixed order so serialised events are byte-identical run to run.
    const event: InteractionEventInput =
      c.subjectKind[index] === NodeKindCode.session
        ? { id, type, sessionId: this.sessionId(c.subject[index]!), itemId }
        : { id, type, userId: this.userId(c.subject[index]!), itemId };
    if (type === 'rating') event.value = c.value[index]!;
    event.timestamp = c.ts[index]!;
    return event;
  }

  /** Interactions [start, end) as event objects, in arrival order. */
  eventsAt(start: number, end: number): InteractionEventInput[] {
    const from = Math.max(0, start);
    const to = Math.min(this.interactions.length, end);
    const events: InteractionEventInput[] = [];
    for (let i = from; i < to; i++) events.push(this.eventAt(i));
    return events;
  }

  /** All interactions as events, lazily, in batches of `batchSize`: for streaming without a giant array. */
  *eventBatches(batchSize = 10_000): Generator<InteractionEventInput[]> {
    for (let i = 0; i < this.interactions.length; i += batchSize) yield this.eventsAt(i, i + batchSize);
  }

  private checkIndex(what: string, index: number, count: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`no ${what} ${index}: there are ${count}`);
    }
  }
}

/** Splits `total` into integer parts proportional to `weights`, each at least 1 (largest remainder). */
function apportion(weights: Float64Array, total: number): Uint32Array {
  const n = weights.length;
  const parts = new Uint32Array(n).fill(1);
  const spare = total - n;
  const remainders: Array<[index: number, remainder: number]> = [];
  let given = 0;
  for (let i = 0; i < n; i++) {
    const exact = weights[i]! * spare;
    parts[i]! += Math.floor(exact);
    given += Math.floor(exact);
    remainders.push([i, exact - Math.floor(exact)]);
  }
  remainders.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (let j = 0; given < spare; j++, given++) parts[remainders[j]![0]]!++;
  return parts;
}

function pickWeighted(random: SeededRandom, mix: ReadonlyArray<readonly [number, number]>, total: number): number {
  let r = random.float() * total;
  for (const [code, weight] of mix) if ((r -= weight) < 0) return code;
  return mix[mix.length - 1]![0];
}

function clampIndex(i: number, count: number): number {
  return i < 0 ? 0 : i >= count ? count - 1 : i;
}
