import assert from 'node:assert/strict';

import { coLikedItems, withCoLikedFeatures } from '../../gnn/co-liked-items.ts';
import { buildTimelines } from '../../gnn/interaction-timelines.ts';

/** Timelines from (subject, item, positive) rows, one time step each. */
function timelinesOf(subjects: number, rows: ReadonlyArray<readonly [subject: number, item: number, positive: 0 | 1]>) {
  return buildTimelines(subjects, {
    length: rows.length,
    subject: rows.map((r) => r[0]),
    item: rows.map((r) => r[1]),
    typeCode: rows.map(() => 0),
    weight: rows.map(() => 1),
    ts: rows.map((_, n) => n),
    positive: rows.map((r) => r[2]),
  });
}

describe('GAT co-liked items', () => {
  it("lists each item's most co-liked items by cosine with shrinkage, from positives only", () => {
    // Items a=0, b=1, c=2, d=3. s0 and s1 like a and b; s2 likes b and c; s3 only viewed a and d.
    const timelines = timelinesOf(4, [
      [0, 0, 1],
      [0, 1, 1],
      [1, 0, 1],
      [1, 1, 1],
      [1, 1, 1],
      [2, 1, 1],
      [2, 2, 1],
      [3, 0, 0],
      [3, 3, 0],
    ]);
    const lists = coLikedItems(timelines, 4, 1);
    const of = (i: number) => [...lists.neighbour.subarray(lists.start[i], lists.start[i + 1])];
    // a–b: 2 / (√(2·3) + 10); b–c: 1 / (√(3·1) + 10): b's best is a. d was never liked: no neighbours.
    assert.deepEqual([of(0), of(1), of(2), of(3)], [[1], [0], [1], []]);
    const two = coLikedItems(timelines, 4, 2);
    assert.deepEqual([...two.neighbour.subarray(two.start[1], two.start[2])], [0, 2], 'best first');
  });

  it('counts a spread of the likers of an item liked by very many, scaled to the whole', () => {
    // 2,000 subjects like item 0; every fourth also likes item 1, every tenth item 2.
    const rows: Array<[number, number, 0 | 1]> = [];
    for (let s = 0; s < 2_000; s++) {
      rows.push([s, 0, 1]);
      if (s % 4 === 0) rows.push([s, 1, 1]);
      if (s % 10 === 0) rows.push([s, 2, 1]);
    }
    const lists = coLikedItems(timelinesOf(2_000, rows), 3, 2);
    assert.deepEqual([...lists.neighbour.subarray(lists.start[0], lists.start[1])], [1, 2]);
  });

  it("gives each liked item a feature row of its own and its neighbours', after the real tags", () => {
    const lists = { start: Int32Array.of(0, 1, 2, 3, 3), neighbour: Int32Array.of(1, 0, 1) };
    const pairs = withCoLikedFeatures({ item: Int32Array.of(0), tag: Int32Array.of(0) }, lists, 2);
    const tagsOf = (item: number) => [...pairs.tag].filter((_, p) => pairs.item[p] === item).sort((x, y) => x - y);
    assert.deepEqual(tagsOf(0), [0, 2, 3]);
    assert.deepEqual(tagsOf(1), [2, 3]);
    assert.deepEqual(tagsOf(2), [3, 4]);
    assert.deepEqual(tagsOf(3), [], 'never liked: nothing to share');
  });
});
