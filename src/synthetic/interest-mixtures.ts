import { type AliasTable, type SeededRandom } from '../../graph/random.ts';

/**
 * Each user's drifting interest over topics, the planted truth behind their interactions.
 *
 * A user likes k topics with Dirichlet weights (mixture A) and drifts towards B = (1 − drift)·A + drift·A′,
 * A′ being a second, independent draw; at time fraction `when` (0 at the start, 1 at the end) the mixture is
 * A + when·(B − A). That needs at most 2k topics per user, kept sparse so a million users stay cheap. The
 * background interest that every user has in every topic is not stored here: callers add it.
 */
export class InterestMixtures {
  readonly users: number;
  /** Slots per user: room for A's topics and A′'s. */
  readonly slots: number;
  /**
   * Per user and slot: topic, weight at the start, change by the end. Side by side and in single precision
   * (topics are exact up to 2^24) so one user is one or two cache lines: generation is bound by memory latency.
   */
  private readonly data: Float32Array;

  private constructor(users: number, slots: number) {
    this.users = users;
    this.slots = slots;
    this.data = new Float32Array(users * slots * 3);
  }

  /** Draws every user's A and A′ from `random`, with topics picked by `topicByPopularity`. */
  static draw(random: SeededRandom, users: number, interests: number, drift: number, topicByPopularity: AliasTable): InterestMixtures {
    const mixtures = new InterestMixtures(users, 2 * interests);
    const concentration = new Float64Array(interests).fill(1);
    const data = mixtures.data;
    for (let u = 0; u < users; u++) {
      const base = u * mixtures.slots * 3;
      // Both draws always happen, so the same seed gives the same start mixtures whatever the drift.
      const topicsA = distinctTopics(random, topicByPopularity, interests);
      const weightsA = random.dirichlet(concentration);
      const topicsB = distinctTopics(random, topicByPopularity, interests);
      const weightsB = random.dirichlet(concentration);
      for (let j = 0; j < interests; j++) {
        data[base + 3 * j] = topicsA[j]!;
        data[base + 3 * j + 1] = weightsA[j]!;
        data[base + 3 * j + 2] = -drift * weightsA[j]!;
      }
      let used = interests;
      for (let j = 0; j < interests; j++) {
        const shared = topicsA.indexOf(topicsB[j]!);
        const at = base + 3 * (shared >= 0 ? shared : used++);
        data[at] = topicsB[j]!;
        data[at + 2]! += drift * weightsB[j]!;
      }
    }
    return mixtures;
  }

  /**
   * Reads the two ends of the user's record and returns a meaningless number that the caller must use. Called
   * for a block of users before they are read properly, it lets the cache misses overlap: a plain loop of
   * independent loads keeps many in flight, a full `readInto` per user only one or two.
   */
  touch(user: number): number {
    const at = user * this.slots * 3;
    return this.data[at]! + this.data[at + this.slots * 3 - 1]!;
  }

  /**
   * Reads one user's mixture at `when` into `into`, for the several questions asked of it per interaction
   * (draw a topic, how much is this topic liked, which is the favourite) at the cost of one read of memory.
   */
  readInto(into: CurrentInterest, user: number, when: number): void {
    const data = this.data;
    let best = 0;
    for (let j = 0, at = user * this.slots * 3; j < this.slots; j++, at += 3) {
      const w = data[at + 1]! + when * data[at + 2]!;
      into.topic[j] = data[at]!;
      into.weight[j] = w;
      if (w > best) best = w;
    }
    into.strongest = best;
  }

  /** Adds `scale` × the user's mixture at `when` into `into` (indexed by topic). */
  addTo(into: Float64Array, user: number, when: number, scale: number): void {
    const data = this.data;
    const base = user * this.slots * 3;
    for (let j = base, end = base + this.slots * 3; j < end; j += 3) {
      into[data[j]!]! += scale * (data[j + 1]! + when * data[j + 2]!);
    }
  }
}

/** One user's mixture at one time, as read by `InterestMixtures.readInto`; reused across interactions. */
export class CurrentInterest {
  readonly topic: Uint32Array;
  readonly weight: Float64Array;
  /** The weight of the favourite topic. */
  strongest = 0;

  constructor(slots: number) {
    this.topic = new Uint32Array(slots);
    this.weight = new Float64Array(slots);
  }

  /** A topic drawn from the mixture. */
  draw(random: SeededRandom): number {
    // The weights sum to 1 at every time (a blend of two distributions), so one uniform draw picks a slot.
    let r = random.float();
    for (let j = 0; j < this.weight.length; j++) {
      const w = this.weight[j]!;
      if (w > 0 && (r -= w) < 0) return this.topic[j]!;
    }
    return this.topic[0]!; // rounding left r just above the total
  }

  /** The topic's weight; 0 for topics the user does not care about. */
  weightOf(topic: number): number {
    // Slot topics are distinct (A′'s topics that A already has share its slot); unused slots weigh 0.
    let w = 0;
    for (let j = 0; j < this.topic.length; j++) if (this.topic[j] === topic) w += this.weight[j]!;
    return w;
  }
}

function distinctTopics(random: SeededRandom, topicByPopularity: AliasTable, count: number): number[] {
  const chosen: number[] = [];
  while (chosen.length < count) {
    const t = topicByPopularity.sample(random);
    if (!chosen.includes(t)) chosen.push(t);
  }
  return chosen;
}
