import assert from 'node:assert/strict';

import { INTERACTION_TYPES, type InteractionType } from '../../graph/model.ts';
import { prepareEvaluation } from '../../src/evaluation/evaluation-data.ts';
import { EvaluationDataError } from '../../src/evaluation/evaluation-error.ts';
import { evaluateRanking } from '../../src/evaluation/evaluator.ts';
import { type InteractionLog, InteractionLogBuilder } from '../../src/evaluation/interaction-log.ts';
import { positiveRuleFor } from '../../src/evaluation/positive-rule.ts';
import type { HeldOut } from '../../src/evaluation/split.ts';
import { heldOutCount, orderTiesAtRandom, splitInteractions } from '../../src/evaluation/split.ts';
import { type TrainingData, trainingDataFrom } from '../../src/evaluation/training-data.ts';

type Row = readonly [user: string, item: string, type: InteractionType, value: number, ts: number];

function logOf(rows: readonly Row[]): InteractionLog {
  const builder = new InteractionLogBuilder();
  for (const [user, item, type, value, ts] of rows) {
    builder.add(builder.userOf(user), builder.itemOf(item), INTERACTION_TYPES.indexOf(type), value, ts);
  }
  return builder.build();
}

/** `count` rating rows of 4+ stars for `user` on items `<prefix>1..`, stamped `ts0`, `ts0 + 1`, … */
function positives(user: string, prefix: string, count: number, ts0: number): Row[] {
  return Array.from({ length: count }, (_, n) => [user, `${prefix}${n + 1}`, 'rating', 4 + (n % 3) / 2, ts0 + n] as const);
}

/** Held-out item ids by user id. */
function heldOutByUser(log: InteractionLog, heldOut: HeldOut): Map<string, string[]> {
  const out = new Map<string, string[]>();
  heldOut.users.forEach((u, r) => {
    const items = [...heldOut.items.subarray(heldOut.start[r], heldOut.start[r + 1])].map((i) => log.itemIds[i]!);
    out.set(log.userIds[u]!, items.sort());
  });
  return out;
}

describe('evaluation: the temporal split', () => {
  it('holds out round(20 %) of each user’s positives, at least 1, and leaves out users with fewer than 2', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 7, 8, 10, 12, 13].map((n) => heldOutCount(n)),
      [0, 1, 1, 1, 1, 1, 2, 2, 2, 3],
    );
    const rows: Row[] = [
      ...positives('ten', 't', 10, 100),
      ...positives('seven', 's', 7, 100),
      ...positives('eight', 'e', 8, 100),
      ...positives('two', 'w', 2, 100),
      ['one', 'x1', 'rating', 5, 100],
      ['one', 'x2', 'rating', 3, 101],
      ['none', 'x1', 'view', NaN, 100],
    ];
    const log = logOf(rows);
    const { heldOut, usersLeftOut, train } = splitInteractions(log.interactions, log.userIds.length, log.itemIds.length, positiveRuleFor(log.interactions), {
      protocol: 'temporal',
      seed: 1,
    });
    assert.deepEqual(
      heldOutByUser(log, heldOut),
      new Map([
        ['ten', ['t10', 't9']],
        ['seven', ['s7']],
        ['eight', ['e7', 'e8']],
        ['two', ['w2']],
      ]),
    );
    // 'one' has a single positive and 'none' only a view: not evaluated, and all they did stays in training.
    assert.equal(usersLeftOut, 2);
    const trainRows = (user: string) => [...train.user].filter((u) => log.userIds[u] === user).length;
    assert.equal(trainRows('one'), 2);
    assert.equal(trainRows('none'), 1);
    assert.equal(train.length, log.interactions.length - 6);
  });

  it('orders positives by time, whatever the log order, with ties kept in log order (a stable sort)', () => {
    const log = logOf([
      // Read out of time order: the two latest, p4 and p5, come first in the log.
      ['u', 'p4', 'rating', 5, 400],
      ['u', 'p5', 'rating', 4, 500],
      ['u', 'p1', 'rating', 4, 100],
      ['u', 'p2', 'rating', 4, 200],
      ['u', 'p3', 'rating', 4, 300],
      // Five positives with the last two at the same instant: the one read later is the later one.
      ['v', 'q1', 'rating', 4, 10],
      ['v', 'q2', 'rating', 4, 20],
      ['v', 'q3', 'rating', 4, 30],
      ['v', 'q5', 'rating', 4, 90],
      ['v', 'q4', 'rating', 4, 90],
    ]);
    const { heldOut } = splitInteractions(log.interactions, 2, log.itemIds.length, positiveRuleFor(log.interactions), {
      protocol: 'temporal',
      seed: 1,
    });
    assert.deepEqual(
      heldOutByUser(log, heldOut),
      new Map([
        ['u', ['p5']],
        ['v', ['q4']],
      ]),
    );
  });

  it('puts equal times in a seeded random order before splitting, and never moves a time past another', () => {
    // 40 positives at one instant, listed by item id, then one later: which of the tied ones is held out must
    // not follow the file's order.
    const rows: Row[] = Array.from({ length: 40 }, (_, n) => ['u', `t${String(n).padStart(2, '0')}`, 'rating', 4, 100] as const);
    rows.push(['u', 'later', 'rating', 4, 200], ['u', 'earlier', 'rating', 4, 50]);
    const log = logOf(rows);
    for (const seed of [1, 2, 3]) {
      const ordered = orderTiesAtRandom(log.interactions, seed);
      assert.deepEqual(
        [...ordered.ts],
        [...log.interactions.ts].sort((a, b) => a - b),
        'time order kept',
      );
      assert.deepEqual(orderTiesAtRandom(log.interactions, seed).item, ordered.item, 'the same for the same seed');
      const tied = [...ordered.item].filter((_, n) => ordered.ts[n] === 100);
      let inversions = 0;
      for (let a = 0; a < tied.length; a++) for (let b = a + 1; b < tied.length; b++) if (tied[a]! > tied[b]!) inversions++;
      const pairs = (tied.length * (tied.length - 1)) / 2;
      assert.ok(inversions > pairs * 0.3 && inversions < pairs * 0.7, `${inversions} of ${pairs} tied pairs inverted`);
    }
    assert.notDeepEqual(orderTiesAtRandom(log.interactions, 1).item, orderTiesAtRandom(log.interactions, 2).item);
    // 42 positives: round(0.2 · 42) = 8 held out, 'later' and 7 of the tied ones, not always t33 to t39.
    const heldOut = new Set<string>();
    for (const seed of [1, 2, 3]) {
      const held = heldOutByUser(log, prepareEvaluation(log, { protocol: 'temporal', seed }).test).get('u')!;
      assert.equal(held.length, 8);
      assert.ok(held.includes('later') && !held.includes('earlier'));
      for (const item of held) heldOut.add(item);
    }
    assert.ok(
      [...heldOut].some((item) => item < 't33'),
      `held out across seeds: ${[...heldOut].sort().join(' ')}`,
    );
  });

  it('counts ratings of 4 stars and up and the positive event types, stamps an item with its first positive', () => {
    const log = logOf([
      ['u', 'liked', 'like', NaN, 10],
      ['u', 'clicked', 'click', NaN, 20],
      ['u', 'bought', 'purchase', NaN, 30],
      ['u', 'carted', 'add_to_cart', NaN, 40],
      ['u', 'four', 'rating', 4, 50],
      // Not positive: a 3.5-star rating, a view (the data has stronger signals), a dislike.
      ['u', 'lukewarm', 'rating', 3.5, 60],
      ['u', 'viewed', 'view', NaN, 70],
      ['u', 'disliked', 'dislike', NaN, 80],
      // 'liked' again, later: its first positive (at 10) decides its place, so it is not the latest.
      ['u', 'liked', 'rating', 5, 90],
    ]);
    const rule = positiveRuleFor(log.interactions);
    assert.equal(rule.viewsArePositive, false);
    const split = splitInteractions(log.interactions, 1, log.itemIds.length, rule, { protocol: 'temporal', seed: 1 });
    // Five positives (liked, clicked, bought, carted, four): round(0.2 · 5) = 1 held out, the latest.
    assert.deepEqual(heldOutByUser(log, split.heldOut), new Map([['u', ['four']]]));
    // The 5-star rating of 'liked' at 90 stays (a training item); the non-positive interactions after the
    // first held-out positive (at 50) are dropped so the future does not leak into training.
    const kept = [...split.train.item].map((i) => log.itemIds[i]).sort();
    assert.deepEqual(kept, ['bought', 'carted', 'clicked', 'liked', 'liked']);
    assert.equal(split.removedHeldOut, 1);
    assert.equal(split.removedLater, 3);
  });

  it('makes every item that is not among the user’s training positives a candidate', () => {
    const log = logOf([
      ['u', 'a', 'rating', 5, 1],
      ['u', 'b', 'rating', 4, 2],
      ['u', 'seen', 'view', NaN, 3],
      ['u', 'c', 'rating', 4, 4],
      ['u', 'd', 'rating', 4, 5],
      ['u', 'e', 'rating', 5, 6],
      ['u', 'low', 'rating', 2, 7],
      ['w', 'other', 'rating', 5, 1],
      ['w', 'a', 'rating', 5, 2],
    ]);
    const data = prepareEvaluation(log, { protocol: 'temporal', seed: 1 });
    const u = log.userIds.indexOf('u');
    const item = (id: string) => log.itemIds.indexOf(id);
    const userRow = [...data.test.users].indexOf(u);
    assert.deepEqual([...data.test.items.subarray(data.test.start[userRow], data.test.start[userRow + 1])], [item('e')]);

    // Training positives score highest, then the viewed item, then the held-out one: the evaluator skips the
    // former, so the viewed item ranks first and the held-out item second.
    const only: HeldOut = { users: Uint32Array.of(u), start: Uint32Array.of(0, 1), items: Uint32Array.of(item('e')) };
    const scores = new Float32Array(log.itemIds.length);
    for (const id of ['a', 'b', 'c', 'd']) scores[item(id)] = 100;
    scores[item('seen')] = 50;
    scores[item('e')] = 10;
    const result = evaluateRanking({ scoreUsers: () => scores.slice() }, data.train, only, {
      ks: [1, 2, log.itemIds.length],
    });
    assert.equal(result.byK[1]!.recall, 0);
    assert.equal(result.byK[2]!.mrr, 0.5);
    // With K as large as the catalogue, the list holds exactly the items that are not training positives.
    assert.equal(result.byK[log.itemIds.length]!.coverage, (log.itemIds.length - 4) / log.itemIds.length);
  });

  it('cannot split in time without timestamps, and says so', () => {
    const log = logOf([...positives('u', 'p', 3, 0), ['u', 'late', 'rating', 4, NaN]]);
    assert.throws(() => prepareEvaluation(log, { protocol: 'temporal', seed: 1 }), EvaluationDataError);
    assert.equal(prepareEvaluation(log, { protocol: 'random', seed: 1 }).stats.evaluatedUsers, 1);
  });

  it('carves the validation split from training data by the same rule, never from the test set', () => {
    const rows: Row[] = [];
    for (let u = 0; u < 5; u++) rows.push(...positives(`u${u}`, `i${u}-`, 10, 1000 * u));
    const log = logOf(rows);
    const data = prepareEvaluation(log, { protocol: 'temporal', seed: 3 });
    const validation = data.validation!;
    assert.equal(data.stats.testPositives, 10);
    assert.equal(data.stats.validationPositives, 10);
    const test = new Set([...heldOutByUser(log, data.test).values()].flat());
    const validated = [...heldOutByUser(log, validation.heldOut).values()].flat();
    assert.ok(validated.every((id) => !test.has(id)));
    // Each user's validation items are the latest two of the eight left in training.
    assert.deepEqual(heldOutByUser(log, validation.heldOut).get('u0'), ['i0-7', 'i0-8']);
    assertNoPositive(validation.train, log, 'i0-7');
    assertNoPositive(data.train, log, 'i0-9');
  });
});

function assertNoPositive(train: TrainingData, log: InteractionLog, itemId: string): void {
  const i = log.itemIds.indexOf(itemId);
  assert.equal(train.itemPopularity[i], 0, `${itemId} should not be a training positive`);
}

describe('evaluation: training data', () => {
  it('derives distinct positive pairs and item popularity from the training log', () => {
    const log = logOf([
      ['u', 'a', 'rating', 5, 1],
      ['u', 'a', 'like', NaN, 2],
      ['u', 'b', 'rating', 2, 3],
      ['v', 'a', 'click', NaN, 4],
    ]);
    const train = trainingDataFrom(log, log.interactions, positiveRuleFor(log.interactions));
    assert.equal(train.positiveCount, 2);
    assert.deepEqual([...train.itemPopularity], [2, 0]);
  });
});
