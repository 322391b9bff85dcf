import assert from 'node:assert/strict';

import { INTERACTION_TYPES } from '../../graph/model.ts';
import { SeededRandom } from '../../graph/random.ts';
import { type EvaluationData, prepareEvaluation, validationSplitOf } from '../../src/evaluation/evaluation-data.ts';
import { evaluateRanking } from '../../src/evaluation/evaluator.ts';
import { InteractionLogBuilder } from '../../src/evaluation/interaction-log.ts';
import { createModel } from '../../src/evaluation/models.ts';
import type { FitContext, RecommenderModel } from '../../src/evaluation/recommender-model.ts';
import { SASREC_QUICK, SasRecModel } from '../../src/evaluation/sasrec-model.ts';
import { sequenceWindows } from '../../src/evaluation/sasrec-network.ts';
import { positiveSequences, type TrainingData, trainingDataFrom } from '../../src/evaluation/training-data.ts';

const RATING = INTERACTION_TYPES.indexOf('rating');

/**
 * A planted sequential pattern: a fixed successor for every item (one seeded cycle through the catalogue),
 * and users who, one item a day, mostly move on to the successor of their last item and now and then jump
 * to a random one. A user's positives are then a few fragments of the cycle; the held-out next items follow
 * the latest fragment, and only the order says which fragment that is. Items are about equally popular.
 */
function chainLog(users: number, items: number, length: number, jump: number, seed: number) {
  const random = new SeededRandom(seed);
  const cycle = random.shuffle(Array.from({ length: items }, (_, i) => i));
  const successor = new Uint32Array(items);
  cycle.forEach((item, n) => (successor[item] = cycle[(n + 1) % items]!));
  const builder = new InteractionLogBuilder();
  for (let i = 0; i < items; i++) builder.describeItem(`i${i}`, []);
  const day = 86_400_000;
  for (let u = 0; u < users; u++) {
    const user = builder.userOf(`u${u}`);
    const seen = new Set<number>();
    let item = random.int(items);
    for (let s = 0; s < length; s++) {
      seen.add(item);
      builder.add(user, item, RATING, 5, s * day);
      item = random.chance(jump) ? random.int(items) : successor[item]!;
      while (seen.has(item)) item = random.int(items);
    }
  }
  return builder.build();
}

function contextFor(data: EvaluationData, seed = 1, validate = true): FitContext {
  return { seed, k: 10, validation: validate ? validationSplitOf(data, 10) : undefined, log: () => {} };
}

/** The same training data with each user's timestamps shuffled among their interactions: order destroyed. */
function shuffledInTime(train: TrainingData, seed: number): TrainingData {
  const random = new SeededRandom(seed);
  const log = train.interactions;
  const ts = Float64Array.from(log.ts);
  const byUser = new Map<number, number[]>();
  for (let n = 0; n < log.length; n++) byUser.set(log.user[n]!, [...(byUser.get(log.user[n]!) ?? []), n]);
  for (const rows of byUser.values()) {
    const times = random.shuffle(rows.map((n) => log.ts[n]!));
    rows.forEach((n, q) => (ts[n] = times[q]!));
  }
  return trainingDataFrom(train, { ...log, ts }, train.rule);
}

describe('evaluation: SASRec', () => {
  let data: EvaluationData;
  before(() => {
    data = prepareEvaluation(chainLog(400, 200, 15, 0.3, 3), { protocol: 'temporal', seed: 1 });
  });

  async function ndcgOf(model: RecommenderModel, train = data.train, context = contextFor(data)): Promise<number> {
    await model.fit(train, context);
    return evaluateRanking(model, data.train, data.test, { ks: [10] }).byK[10]!.ndcg;
  }

  it('orders each user’s positives by when they became positive', () => {
    const builder = new InteractionLogBuilder();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => builder.describeItem(id, []));
    const u = builder.userOf('u');
    const v = builder.userOf('v');
    const click = INTERACTION_TYPES.indexOf('click');
    const view = INTERACTION_TYPES.indexOf('view');
    builder.add(u, c!, click, NaN, 30);
    builder.add(u, a!, click, NaN, 10);
    builder.add(u, b!, view, NaN, 5); // not a positive
    builder.add(u, b!, click, NaN, 20);
    builder.add(u, c!, click, NaN, 5); // c's earliest positive comes last in the log
    builder.add(v, b!, click, NaN, NaN); // no time: v keeps log order
    builder.add(v, a!, click, NaN, 1);
    const log = builder.build();
    const train = trainingDataFrom(log, log.interactions, { ratingThreshold: 4, viewsArePositive: false });
    const sequences = positiveSequences(train);
    assert.deepEqual([...sequences.index.subarray(sequences.start[u], sequences.start[u + 1])], [c, a, b]);
    assert.deepEqual([...sequences.index.subarray(sequences.start[v], sequences.start[v + 1])], [b, a]);
  });

  it('cuts each sequence into windows whose targets cover every positive after the first once', () => {
    const sequences = { rows: 3, cols: 20, start: Uint32Array.of(0, 7, 8, 10), index: Uint32Array.from({ length: 10 }, (_, n) => n) };
    const w = sequenceWindows(sequences, 3);
    // User 0 (7 positives, L = 3): windows [3, 7) and [0, 4): targets 4..6 and 1..3. User 1 has one positive.
    assert.deepEqual([...w.user], [0, 0, 2]);
    assert.deepEqual([...w.from], [3, 0, 8]);
    assert.deepEqual([...w.to], [7, 4, 10]);
  });

  it('learns a planted next-item chain far better than popular, and needs the order to do it', async function () {
    this.timeout(120_000);
    const popular = await ndcgOf(createModel('popular'));
    const started = performance.now();
    const sasrec = await ndcgOf(createModel('sasrec', { budget: 'quick' }));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(sasrec > 0.3, `sasrec NDCG@10 ${sasrec.toFixed(4)}`);
    assert.ok(sasrec > 4 * popular, `sasrec ${sasrec.toFixed(4)} vs popular ${popular.toFixed(4)}`);
    assert.ok(seconds < 60, `the quick budget took ${seconds.toFixed(1)} s`);
    // Trained on the same positives with their order shuffled (fixed epochs, no validation to tune on).
    const fixed = () => new SasRecModel(SASREC_QUICK.tuning, SASREC_QUICK.stopping, SASREC_QUICK.epochs);
    const ordered = await ndcgOf(fixed(), data.train, contextFor(data, 1, false));
    const shuffled = await ndcgOf(fixed(), shuffledInTime(data.train, 5), contextFor(data, 1, false));
    assert.ok(ordered > 2 * shuffled, `in order ${ordered.toFixed(4)} vs shuffled ${shuffled.toFixed(4)}`);
  });

  it('is deterministic for a seed, and the seed matters', async function () {
    this.timeout(120_000);
    const users = data.test.users.subarray(0, 5);
    const scores = async (seed: number) => {
      const model = createModel('sasrec', { budget: 'quick' });
      await model.fit(data.train, contextFor(data, seed));
      return model.scoreUsers(users);
    };
    const first = await scores(4);
    assert.deepEqual(await scores(4), first);
    assert.notDeepEqual(await scores(5), first);
  });
});
