import assert from 'node:assert/strict';
import { INTERACTION_TYPES } from '../../graph/model.ts';
import { cooccurrenceTagPairs } from '../../src/evaluation/gat-model.ts';
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
});
