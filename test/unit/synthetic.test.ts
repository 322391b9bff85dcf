import assert from 'node:assert/strict';

import { ValidationError } from '../../base/errors.ts';
import { INTERACTION_TYPES, NodeKindCode } from '../../graph/model.ts';
import { AliasTable, SeededRandom, ZipfSampler } from '../../graph/random.ts';
import { checkCatalogueItem } from '../../src/catalogue/catalogue-item.ts';
import { checkInteractionEvent } from '../../src/events/interaction-event.ts';
import { generateSyntheticDataset, type SyntheticDataset, type SyntheticDatasetOptions } from '../../src/synthetic/synthetic-dataset.ts';

const code = (type: (typeof INTERACTION_TYPES)[number]) => INTERACTION_TYPES.indexOf(type);
const POSITIVE = new Set((['view', 'click', 'add_to_cart', 'purchase', 'like'] as const).map(code));
const NEGATIVE = new Set([code('dislike'), code('dismiss')]);

function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function columnsOf(d: SyntheticDataset): Buffer[] {
  const c = d.interactions;
  return [c.subjectKind, c.subject, c.item, c.type, c.value, c.ts].map(bytesOf);
}

/** Per user, topic counts of positive interactions whose time fraction lies in [from, to). */
function topicHistograms(d: SyntheticDataset, from: number, to: number): Float64Array[] {
  const c = d.interactions;
  const histograms = Array.from({ length: d.options.users }, () => new Float64Array(d.options.topics));
  for (let i = 0; i < c.length; i++) {
    if (c.subjectKind[i] !== NodeKindCode.user || !POSITIVE.has(c.type[i]!)) continue;
    const when = d.timeFraction(c.ts[i]!);
    if (when >= from && when < to) histograms[c.subject[i]!]![d.itemTopic[c.item[i]!]!]!++;
  }
  return histograms;
}

/** Mean over users of the L1 distance between two normalised topic histograms. */
function meanL1(a: Float64Array[], b: Float64Array[]): number {
  let total = 0;
  for (let u = 0; u < a.length; u++) {
    const sa = a[u]!.reduce((s, x) => s + x, 0);
    const sb = b[u]!.reduce((s, x) => s + x, 0);
    let l1 = 0;
    for (let t = 0; t < a[u]!.length; t++) l1 += Math.abs(a[u]![t]! / sa - b[u]![t]! / sb);
    total += l1;
  }
  return total / a.length;
}

describe('synthetic dataset', () => {
  const small: SyntheticDatasetOptions = { seed: 7, edges: 5_000, users: 60, items: 150, topics: 8, sessions: 20 };

  describe('determinism', () => {
    it('gives byte-identical columns, catalogue and events for the same seed and options', () => {
      const a = generateSyntheticDataset(small);
      const b = generateSyntheticDataset(small);
      assert.deepEqual(columnsOf(a), columnsOf(b));
      assert.equal(JSON.stringify(a.catalogue()), JSON.stringify(b.catalogue()));
      assert.equal(JSON.stringify(a.eventsAt(0, a.interactions.length)), JSON.stringify(b.eventsAt(0, b.interactions.length)));
    });

    it('differs for a different seed', () => {
      const a = generateSyntheticDataset(small);
      const b = generateSyntheticDataset({ ...small, seed: 8 });
      assert.notDeepEqual(bytesOf(a.interactions.subject), bytesOf(b.interactions.subject));
      assert.notDeepEqual(bytesOf(a.interactions.item), bytesOf(b.interactions.item));
      assert.notEqual(JSON.stringify(a.catalogue()), JSON.stringify(b.catalogue()));
    });

    it('keeps the start mixtures whatever the drift', () => {
      const a = generateSyntheticDataset({ ...small, drift: 0 });
      const b = generateSyntheticDataset({ ...small, drift: 0.9 });
      for (let u = 0; u < small.users!; u++) assert.deepEqual(a.interestsOf(u).start, b.interestsOf(u).start);
    });
  });

  describe('counts and catalogue', () => {
    const d = generateSyntheticDataset({ ...small, tagsPerTopic: 5 });
    const c = d.interactions;

    it('has as many interactions, users, items, sessions and topics as asked', () => {
      assert.equal(c.length, 5_000);
      for (const column of [c.subjectKind, c.subject, c.item, c.type, c.value, c.ts]) assert.equal(column.length, 5_000);
      assert.equal(d.catalogue().length, 150);
      assert.equal(d.topics.length, 8);
      for (const topic of d.topics) assert.equal(new Set(topic.tags).size, 5);
      for (let i = 0; i < c.length; i++) {
        const limit = c.subjectKind[i] === NodeKindCode.session ? 20 : 60;
        assert.ok(c.subjectKind[i] === NodeKindCode.user || c.subjectKind[i] === NodeKindCode.session);
        assert.ok(c.subject[i]! < limit);
        assert.ok(c.item[i]! < 150);
        assert.ok(c.type[i]! < INTERACTION_TYPES.length);
      }
      const bySessions = c.subjectKind.filter((k) => k === NodeKindCode.session).length / c.length;
      assert.ok(bySessions > 0.015 && bySessions < 0.05, `session share ${bySessions}`);
    });

    it('gives every topic items, and each item 2-4 tags of its own topic plus at most one global tag', () => {
      for (let t = 0; t < d.topics.length; t++) assert.ok(d.itemsOfTopic(t).length > 0);
      const ids = new Set<string>();
      for (const [i, item] of d.catalogue().entries()) {
        assert.ok(checkCatalogueItem(item).ok);
        ids.add(item.id);
        const topic = d.topics[d.itemTopic[i]!]!;
        assert.equal(item.attributes?.topic, topic.name);
        assert.match(item.title, new RegExp(`^${topic.name} #\\d+: The \\w+ \\w+$`));
        const own = item.tags.filter((tag) => topic.tags.includes(tag));
        const global = item.tags.filter((tag) => d.globalTags.includes(tag));
        assert.ok(own.length >= 2 && own.length <= 4, `${item.id} has ${own.length} topic tags`);
        assert.ok(global.length <= 1);
        assert.equal(own.length + global.length, item.tags.length);
      }
      assert.equal(ids.size, 150);
    });
  });

  describe('planted structure', () => {
    it('gives the top 10% of items a large share of interactions (power law)', () => {
      const d = generateSyntheticDataset({ seed: 3, edges: 20_000, users: 200, items: 1_000, topics: 10 });
      const counts = new Array<number>(1_000).fill(0);
      for (const item of d.interactions.item) counts[item]!++;
      counts.sort((a, b) => b - a);
      const top = counts.slice(0, 100).reduce((s, x) => s + x, 0) / d.interactions.length;
      assert.ok(top > 0.4, `top 10% of items have ${top}`);

      const perUser = new Array<number>(200).fill(0);
      for (let i = 0; i < d.interactions.length; i++) {
        if (d.interactions.subjectKind[i] === NodeKindCode.user) perUser[d.interactions.subject[i]!]!++;
      }
      perUser.sort((a, b) => b - a);
      const topUsers = perUser.slice(0, 20).reduce((s, x) => s + x, 0) / perUser.reduce((s, x) => s + x, 0);
      assert.ok(topUsers > 0.25, `top 10% of users have ${topUsers}`);
    });

    it("puts positives mostly in the user's favourite topics and negatives mostly outside", () => {
      const d = generateSyntheticDataset({ seed: 5, edges: 20_000, users: 100, topics: 12, drift: 0 });
      const favourites = Array.from({ length: 100 }, (_, u) => new Set(d.favouriteTopics(u)));
      const c = d.interactions;
      const tally = { positive: 0, positiveIn: 0, negative: 0, negativeIn: 0 };
      const stars = { in: [] as number[], out: [] as number[] };
      for (let i = 0; i < c.length; i++) {
        if (c.subjectKind[i] !== NodeKindCode.user) continue;
        const liked = favourites[c.subject[i]!]!.has(d.itemTopic[c.item[i]!]!);
        if (POSITIVE.has(c.type[i]!)) {
          tally.positive++;
          if (liked) tally.positiveIn++;
        } else if (NEGATIVE.has(c.type[i]!)) {
          tally.negative++;
          if (liked) tally.negativeIn++;
        } else (liked ? stars.in : stars.out).push(c.value[i]!);
      }
      assert.ok(tally.positiveIn / tally.positive > 0.85, `positives in favourites: ${tally.positiveIn / tally.positive}`);
      assert.ok(tally.negativeIn / tally.negative < 0.25, `negatives in favourites: ${tally.negativeIn / tally.negative}`);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      assert.ok(stars.out.length > 0);
      assert.ok(mean(stars.in) > mean(stars.out) + 1, `ratings ${mean(stars.in)} in favourites, ${mean(stars.out)} elsewhere`);
    });

    it('moves interests over time when drift > 0, and not when drift = 0', () => {
      const base = { seed: 11, edges: 40_000, users: 100, topics: 12, sessions: 0, userActivityExponent: 0 };
      const shift = (drift: number) => {
        const d = generateSyntheticDataset({ ...base, drift });
        const [first, middle, last] = [0, 1 / 3, 2 / 3].map((from) => topicHistograms(d, from, from + 1 / 3));
        return { d, firstToLast: meanL1(first!, last!), firstToMiddle: meanL1(first!, middle!) };
      };
      const still = shift(0);
      const drifting = shift(0.8);
      // With no drift the first and last thirds differ only by sampling noise, as much as first and middle do.
      assert.ok(Math.abs(still.firstToLast - still.firstToMiddle) < 0.08, JSON.stringify(still.firstToLast));
      assert.ok(drifting.firstToLast > drifting.firstToMiddle + 0.2, `${drifting.firstToLast} vs ${drifting.firstToMiddle}`);
      assert.ok(drifting.firstToLast > still.firstToLast + 0.4, `${drifting.firstToLast} vs ${still.firstToLast}`);

      for (let u = 0; u < 100; u++) {
        const truth = still.d.interestsOf(u);
        assert.deepEqual(truth.start, truth.end);
        assert.ok(Math.abs(truth.start.reduce((s, x) => s + x, 0) - 1) < 1e-6);
      }
      const moved = drifting.d.interestsOf(0);
      assert.notDeepEqual(moved.start, moved.end);
    });
  });

  describe('values and time', () => {
    it('rates in half stars from 0.5 to 5 and leaves other values NaN', () => {
      const d = generateSyntheticDataset({ ...small, edges: 10_000 });
      let ratings = 0;
      for (let i = 0; i < d.interactions.length; i++) {
        const v = d.interactions.value[i]!;
        if (d.interactions.type[i] === code('rating')) {
          ratings++;
          assert.ok(v >= 0.5 && v <= 5 && Number.isInteger(v * 2), `rating ${v}`);
        } else assert.ok(Number.isNaN(v));
      }
      assert.ok(ratings > 100);
    });

    it('sends roughly the configured share of events out of order, all inside the time window', () => {
      const lateShare = (outOfOrder: number) => {
        const d = generateSyntheticDataset({ ...small, edges: 20_000, outOfOrder });
        let late = 0;
        let latest = -Infinity;
        for (const ts of d.interactions.ts) {
          assert.ok(ts >= d.options.startTime && ts < d.options.endTime && Number.isInteger(ts));
          if (ts < latest) late++;
          latest = Math.max(latest, ts);
        }
        return late / d.interactions.length;
      };
      assert.equal(lateShare(0), 0);
      const share = lateShare(0.05);
      assert.ok(share > 0.04 && share < 0.06, `late share ${share}`);
    });

    it('ends exactly at endAt, a year long, and only the timestamps depend on it', () => {
      const latestOf = (d: SyntheticDataset) => d.interactions.ts.reduce((a, b) => Math.max(a, b), -Infinity);
      const endAt = Date.UTC(2026, 10, 23, 9, 30, 15, 123);
      const a = generateSyntheticDataset({ ...small, endAt });
      const b = generateSyntheticDataset({ ...small, endAt: endAt + 86_400_000 + 7 });
      assert.equal(latestOf(a), endAt);
      assert.equal(latestOf(b), endAt + 86_400_000 + 7);
      assert.equal(a.options.endTime, endAt + 1);
      assert.equal(a.options.endTime - a.options.startTime, Date.UTC(2025, 0, 1) - Date.UTC(2024, 0, 1));
      for (const ts of a.interactions.ts) assert.ok(ts >= a.options.startTime && ts <= endAt && Number.isInteger(ts));
      // Same seed and options, another end: the same interactions, every one moved by the difference.
      const [, ...rest] = columnsOf(a);
      assert.deepEqual(rest.slice(0, 4), columnsOf(b).slice(1, 5));
      assert.deepEqual(bytesOf(a.interactions.subjectKind), bytesOf(b.interactions.subjectKind));
      a.interactions.ts.forEach((ts, i) => assert.equal(b.interactions.ts[i]! - ts, 86_400_000 + 7));
      // And a fixed endAt is as reproducible as the default window.
      assert.deepEqual(columnsOf(generateSyntheticDataset({ ...small, endAt })), columnsOf(a));
      const fromStart = generateSyntheticDataset({ ...small, startTime: endAt - 1_000_000, endAt });
      assert.equal(latestOf(fromStart), endAt);
      assert.ok(fromStart.interactions.ts.every((ts) => ts >= endAt - 1_000_000));
    });
  });

  describe('events', () => {
    it('turns every interaction into an event that passes validation', () => {
      const d = generateSyntheticDataset(small);
      const c = d.interactions;
      const now = d.options.endTime + 1;
      const events = d.eventsAt(0, c.length);
      assert.equal(events.length, c.length);
      for (const [i, event] of events.entries()) {
        const result = checkInteractionEvent(event, { now, maxClockSkewMs: 0 });
        assert.ok(result.ok, JSON.stringify(result));
        const interaction = result.interaction;
        assert.equal(interaction.eventId, `syn-7-${i}`);
        assert.equal(interaction.subjectKind, c.subjectKind[i] === NodeKindCode.session ? 'session' : 'user');
        assert.equal(interaction.type, INTERACTION_TYPES[c.type[i]!]);
        assert.equal(interaction.ts, c.ts[i]);
        assert.equal('value' in event, interaction.type === 'rating');
      }
      assert.deepEqual(d.eventsAt(10, 13), events.slice(10, 13));
      assert.deepEqual(d.eventsAt(c.length - 2, c.length + 5), events.slice(-2));
    });
  });

  describe('options', () => {
    it('rejects options it cannot honour with a ValidationError', () => {
      assert.throws(() => generateSyntheticDataset({ edges: -1 }), ValidationError);
      assert.throws(() => generateSyntheticDataset({ edges: 1.5 }), ValidationError);
      assert.throws(() => generateSyntheticDataset({ drift: 2 }), ValidationError);
      assert.throws(() => generateSyntheticDataset({ topics: 10, items: 5 }), ValidationError);
      assert.throws(() => generateSyntheticDataset({ topics: 2, interestsPerUser: 3 }), ValidationError);
      assert.throws(() => generateSyntheticDataset({ startTime: 10, endTime: 10 }), ValidationError);
      const issuesOf = (options: SyntheticDatasetOptions) => {
        try {
          generateSyntheticDataset(options);
        } catch (error) {
          if (error instanceof ValidationError) return error.issues.map((i) => i.path);
          throw error;
        }
        return [];
      };
      assert.deepEqual(issuesOf({ endAt: Date.UTC(2026, 0, 1), endTime: Date.UTC(2026, 0, 1) }), ['endAt']);
      assert.deepEqual(issuesOf({ startTime: 1_000, endAt: 999 }), ['endAt']);
      assert.deepEqual(issuesOf({ endAt: 1.5 }), ['endAt']);
    });

    it('works at the edges: no interactions, one topic, no sessions', () => {
      assert.equal(generateSyntheticDataset({ edges: 0 }).interactions.length, 0);
      const d = generateSyntheticDataset({ edges: 500, topics: 1, items: 3, users: 2, sessions: 0, tagsPerTopic: 1 });
      assert.equal(d.interactions.length, 500);
      assert.ok(d.interactions.subjectKind.every((k) => k === NodeKindCode.user));
      for (const item of d.catalogue()) assert.ok(item.tags.length >= 1);
    });
  });
});

describe('synthetic randomness', () => {
  it('is reproducible from the seed, including seed 0', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, () => new SeededRandom(seed).uint32());
    assert.deepEqual(draw(0), draw(0));
    const a = new SeededRandom(0);
    const b = new SeededRandom(1);
    assert.notDeepEqual([a.uint32(), a.uint32()], [b.uint32(), b.uint32()]);
  });

  it('samples an alias table in proportion to its weights', () => {
    const random = new SeededRandom(2);
    const table = new AliasTable([1, 0, 3, 6]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 50_000; i++) counts[table.sample(random)]!++;
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[0]! / 50_000 - 0.1) < 0.01);
    assert.ok(Math.abs(counts[3]! / 50_000 - 0.6) < 0.01);
  });

  it('draws Zipf ranks with the probabilities it reports', () => {
    for (const exponent of [0, 0.7, 1, 1.5]) {
      const random = new SeededRandom(4);
      const zipf = new ZipfSampler(50, exponent);
      const counts = new Array<number>(50).fill(0);
      for (let i = 0; i < 50_000; i++) counts[zipf.sample(random)]!++;
      let total = 0;
      for (let r = 0; r < 50; r++) total += zipf.probability(r);
      assert.ok(Math.abs(total - 1) < 1e-9);
      for (const r of [0, 1, 10]) {
        assert.ok(Math.abs(counts[r]! / 50_000 - zipf.probability(r)) < 0.01, `exponent ${exponent} rank ${r}`);
      }
    }
  });

  it('draws Dirichlet points on the simplex', () => {
    const random = new SeededRandom(9);
    for (const alpha of [
      [0.1, 0.1, 0.1],
      [1, 1],
      [5, 2, 1, 0.5],
    ]) {
      const p = random.dirichlet(alpha);
      assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-9);
      assert.ok(p.every((x) => x >= 0));
    }
  });
});
