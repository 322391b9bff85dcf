import assert from 'node:assert/strict';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { cooccurrenceTagPairs, tieBreak } from '../../src/evaluation/gat-model.ts';
import { InteractionLogBuilder } from '../../src/evaluation/interaction-log.ts';
import { positiveRuleFor } from '../../src/evaluation/positive-rule.ts';
import { trainingDataFrom } from '../../src/evaluation/training-data.ts';

const LIKE = INTERACTION_TYPES.indexOf('like');

describe('GAT evaluation inputs', () => {
  it('gives each liked item a tag of its own and its co-liked items’ tags, next to its real tags', () => {
    const builder = new InteractionLogBuilder();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => builder.describeItem(id, id === 'a' ? ['keyword:rock'] : []));
    const likes: Array<[string, number[]]> = [
      ['u1', [a!, b!]],
      ['u2', [a!, b!]],
      ['u3', [b!, c!]],
    ];
    for (const [user, items] of likes) for (const item of items) builder.add(builder.userOf(user), item, LIKE, NaN, 0);
    const log = builder.build();
    const train = trainingDataFrom(log, log.interactions, positiveRuleFor(log.interactions));
    const pairs = cooccurrenceTagPairs(train, 1);
    const base = log.itemTags.names.length;
    const tagsOf = (item: number) => [...pairs.tag].filter((_, p) => pairs.item[p] === item).sort((x, y) => x - y);
    // a: rock, itself, and b (its one neighbour); b: itself and a (two shared likers beat c's one); c: itself and b.
    assert.deepEqual(tagsOf(a!), [0, base + a!, base + b!]);
    assert.deepEqual(tagsOf(b!), [base + a!, base + b!]);
    assert.deepEqual(tagsOf(c!), [base + b!, base + c!]);
    // d was never liked: nothing to share.
    assert.deepEqual(tagsOf(d!), []);
  });

  it('orders interactions of equal time by a seeded shuffle, not by item index, and never across distinct times', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    for (const seed of [1, 2]) {
      const offsets = items.map((item) => tieBreak(7, item, seed));
      for (const o of offsets) assert.ok(o >= 0 && o < 0.5, `${o} in [0, 0.5)`);
      assert.deepEqual(offsets, items.map((item) => tieBreak(7, item, seed)), 'the same for the same seed');
      const order = [...items].sort((a, b) => offsets[a]! - offsets[b]!);
      // Far from the listed order: about half the pairs inverted, as for a random permutation.
      let inversions = 0;
      for (let a = 0; a < order.length; a++) for (let b = a + 1; b < order.length; b++) if (order[a]! > order[b]!) inversions++;
      const pairs = (items.length * (items.length - 1)) / 2;
      assert.ok(inversions > pairs * 0.4 && inversions < pairs * 0.6, `${inversions} of ${pairs} pairs inverted`);
    }
    assert.notDeepEqual(items.map((item) => tieBreak(7, item, 1)), items.map((item) => tieBreak(7, item, 2)), 'another seed, another order');
  });
});
