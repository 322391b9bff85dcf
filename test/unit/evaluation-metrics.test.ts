import assert from 'node:assert/strict';

import { INTERACTION_TYPES } from '../../graph/model.ts';
import { TopKSelector } from '../../graph/top-k.ts';
import { evaluateRanking } from '../../src/evaluation/evaluator.ts';
import type { ItemTagSets } from '../../src/evaluation/interaction-log.ts';
import {
  catalogueCoverage,
  hitRateAt,
  intraListDiversity,
  itemNovelty,
  jaccardDistance,
  listNovelty,
  ndcgAt,
  precisionAt,
  recallAt,
  reciprocalRankAt,
} from '../../src/evaluation/metrics.ts';
import { positiveRuleFor } from '../../src/evaluation/positive-rule.ts';
import type { HeldOut } from '../../src/evaluation/split.ts';
import { trainingDataFrom } from '../../src/evaluation/training-data.ts';

const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} should be ${expected}`);

/** Tags as CSR from per-item lists. */
function tagSets(lists: number[][]): ItemTagSets {
  const start = new Uint32Array(lists.length + 1);
  lists.forEach((list, i) => (start[i + 1] = start[i]! + list.length));
  return { start, tags: Uint32Array.from(lists.flat()), names: [] };
}

describe('evaluation: metrics on a hand-computed example', () => {
  // Ranks 1..5; ranks 2 and 4 are hits; the user has 3 held-out positives.
  const relevant = [0, 1, 0, 1, 0];

  it('recall, precision, hit rate and reciprocal rank', () => {
    close(recallAt(relevant, 3, 5), 2 / 3);
    close(recallAt(relevant, 3, 3), 1 / 3);
    close(precisionAt(relevant, 5), 2 / 5);
    // A list shorter than K still divides by K.
    close(precisionAt(relevant, 10), 2 / 10);
    assert.equal(hitRateAt(relevant, 1), 0);
    assert.equal(hitRateAt(relevant, 2), 1);
    close(reciprocalRankAt(relevant, 5), 1 / 2);
    assert.equal(reciprocalRankAt(relevant, 1), 0);
  });

  it('NDCG with binary relevance against the ideal list of min(|held out|, K) hits', () => {
    // DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677; ideal = 1 + 1/log2(3) + 1/log2(4) = 2.130930; 1.061607 / 2.130930 = 0.498189.
    close(ndcgAt(relevant, 3, 5), (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3) + 0.5), 'NDCG@5');
    assert.ok(Math.abs(ndcgAt(relevant, 3, 5) - 0.498189) < 1e-6);
    // At K = 2 the ideal list holds 2 hits: 0.630930 / 1.630930.
    close(ndcgAt(relevant, 3, 2), 1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 'NDCG@2');
    assert.equal(ndcgAt([1, 1, 1], 3, 3), 1);
  });

  it('diversity (mean pairwise Jaccard distance of tags), novelty and coverage', () => {
    close(jaccardDistance([0, 1], [1, 2]), 2 / 3);
    assert.equal(jaccardDistance([], []), 0);
    const tags = tagSets([[0, 1], [1, 2], [0, 1], []]);
    // Pairs (0,1) 2/3, (0,2) 0, (1,2) 2/3.
    close(intraListDiversity([0, 1, 2], 3, tags)!, 4 / 9);
    // A list holding an untagged item is skipped rather than counted as maximally diverse.
    assert.equal(intraListDiversity([0, 3], 2, tags), undefined);
    assert.equal(intraListDiversity([0], 1, tags), undefined);
    // 10 users; popularity 5 → 1 bit, 1 → log2(10) bits, 0 counts as 1.
    close(itemNovelty(5, 10), 1);
    close(listNovelty([0, 1, 2], 3, [5, 1, 0], 10)!, (1 + 2 * Math.log2(10)) / 3);
    close(
      catalogueCoverage(
        [
          [0, 1],
          [1, 2],
        ],
        2,
        8,
      ),
      3 / 8,
    );
    close(
      catalogueCoverage(
        [
          [0, 1],
          [1, 2],
        ],
        1,
        8,
      ),
      2 / 8,
    );
  });
});

describe('evaluation: ranking', () => {
  it('averages the per-user metrics over the evaluated users, skipping training positives', () => {
    // Two users, five items. User 0 trained on item 0; user 1 on item 4.
    const rating = INTERACTION_TYPES.indexOf('rating');
    const interactions = {
      length: 2,
      user: Uint32Array.of(0, 1),
      item: Uint32Array.of(0, 4),
      type: Uint8Array.of(rating, rating),
      value: Float32Array.of(5, 5),
      ts: Float64Array.of(1, 2),
    };
    const shape = { userIds: ['u0', 'u1'], itemIds: ['a', 'b', 'c', 'd', 'e'], itemTags: tagSets([[0], [0], [1], [1], [0]]) };
    const train = trainingDataFrom(shape, interactions, positiveRuleFor(interactions));
    // User 0 holds out {1, 3}; user 1 holds out {2}.
    const heldOut: HeldOut = { users: Uint32Array.of(0, 1), start: Uint32Array.of(0, 2, 3), items: Uint32Array.of(1, 3, 2) };
    // Everyone gets the same scores: 0 > 1 > 2 > 3 > 4. User 0's list (0 skipped) is 1, 2, 3, 4: hits at
    // ranks 1 and 3. User 1's list (4 skipped) is 0, 1, 2, 3: a hit at rank 3.
    const scores = Float32Array.of(5, 4, 3, 2, 1);
    const scorer = {
      scoreUsers: (users: Uint32Array) => {
        const out = new Float32Array(users.length * 5);
        for (let r = 0; r < users.length; r++) out.set(scores, r * 5);
        return out;
      },
    };
    const result = evaluateRanking(scorer, train, heldOut, { ks: [2, 3] });
    assert.equal(result.users, 2);
    const at2 = result.byK[2]!;
    close(at2.recall, (1 / 2 + 0) / 2, 'Recall@2');
    close(at2.precision, (1 / 2 + 0) / 2, 'Precision@2');
    close(at2.hitRate, 1 / 2, 'HitRate@2');
    close(at2.mrr, 1 / 2, 'MRR@2');
    close(at2.ndcg, (1 / (1 + 1 / Math.log2(3)) + 0) / 2, 'NDCG@2');
    // Lists at K=2: {1, 2} and {0, 1}: 3 of 5 items.
    close(at2.coverage, 3 / 5, 'Coverage@2');
    const at3 = result.byK[3]!;
    close(at3.recall, (1 + 1) / 2, 'Recall@3');
    close(at3.mrr, (1 + 1 / 3) / 2, 'MRR@3');
    close(at3.ndcg, ((1 + 0.5) / (1 + 1 / Math.log2(3)) + 0.5 / 1) / 2, 'NDCG@3');
    // Tags: 1 → {0}, 2 → {1}, 3 → {1}: user 0's top 3 has distances 1, 1, 0; user 1's (0, 1, 2) has 0, 1, 1.
    close(at3.diversity!, 2 / 3, 'Diversity@3');
    // Popularity: items 0 and 4 once each, the rest never (counted as once): every item is −log2(1/2) = 1 bit.
    close(at3.novelty, 1, 'Novelty@3');
  });

  it('never lists items scored −∞: a model that lists fewer than K items is not filled up', () => {
    // One user, five items, trained on item 0, holding out item 1. The model lists only item 3 (item 1, the
    // hit, scored −∞ like the rest); filling the list by index would have brought item 1 in at rank 2.
    const rating = INTERACTION_TYPES.indexOf('rating');
    const interactions = {
      length: 1,
      user: Uint32Array.of(0),
      item: Uint32Array.of(0),
      type: Uint8Array.of(rating),
      value: Float32Array.of(5),
      ts: Float64Array.of(1),
    };
    const shape = { userIds: ['u0'], itemIds: ['a', 'b', 'c', 'd', 'e'], itemTags: tagSets([[0], [0], [1], [1], [0]]) };
    const train = trainingDataFrom(shape, interactions, positiveRuleFor(interactions));
    const heldOut: HeldOut = { users: Uint32Array.of(0), start: Uint32Array.of(0, 1), items: Uint32Array.of(1) };
    const scorer = { scoreUsers: () => Float32Array.of(-Infinity, -Infinity, -Infinity, 1, -Infinity) };
    const at3 = evaluateRanking(scorer, train, heldOut, { ks: [3] }).byK[3]!;
    assert.equal(at3.recall, 0);
    assert.equal(at3.hitRate, 0);
    close(at3.precision, 0, 'Precision@3');
    close(at3.coverage, 1 / 5, 'Coverage@3: only item 3 was listed');
    // A one-item list has no pairs to measure diversity on.
    assert.equal(at3.diversity, null);
  });

  it('selects the top K with ties going to the lower index and NaN ranked last', () => {
    const selector = new TopKSelector(3);
    const out = new Uint32Array(3);
    const n = selector.select(Float32Array.of(1, NaN, 3, 3, 2), 0, 5, out);
    assert.equal(n, 3);
    assert.deepEqual([...out], [2, 3, 4]);
  });

  it('says whether an offer would be kept, as offering it would decide', () => {
    const selector = new TopKSelector(2);
    assert.equal(selector.wouldKeep(-Infinity, 9), true, 'room left: anything is kept');
    selector.offer(1, 5);
    selector.offer(3, 2);
    assert.equal(selector.wouldKeep(0.5, 0), false, 'below the worst kept');
    assert.equal(selector.wouldKeep(NaN, 0), false, 'NaN ranks last');
    assert.equal(selector.wouldKeep(1, 4), true, 'a tie with the worst kept, at a lower index');
    assert.equal(selector.wouldKeep(1, 6), false, 'a tie at a higher index');
    assert.equal(selector.wouldKeep(2, 7), true);
  });
});
