import assert from 'node:assert/strict';

import { INTERACTION_TYPES } from '../../graph/model.ts';
import { SeededRandom } from '../../graph/random.ts';
import { BprModel, BprTrainer } from '../../src/evaluation/bpr-model.ts';
import { type EvaluationData, prepareEvaluation, validationSplitOf } from '../../src/evaluation/evaluation-data.ts';
import { UnknownModelError } from '../../src/evaluation/evaluation-error.ts';
import { evaluateRanking } from '../../src/evaluation/evaluator.ts';
import { interactionLogFromSynthetic } from '../../src/evaluation/interaction-log.ts';
import { layerMean, type LightGcnSettings, LightGcnTrainer, normalisedAdjacency, propagate } from '../../src/evaluation/lightgcn-model.ts';
import { createModel, MODEL_FACTORIES, modelNames, parseModelList } from '../../src/evaluation/models.ts';
import { positiveRuleFor } from '../../src/evaluation/positive-rule.ts';
import { RandomModel } from '../../src/evaluation/random-model.ts';
import type { FitContext, RecommenderModel } from '../../src/evaluation/recommender-model.ts';
import { type TrainingData, trainingDataFrom } from '../../src/evaluation/training-data.ts';
import { gridOf, tuneEpochTrainer, tuneInStages } from '../../src/evaluation/tuning.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/** A small training set: `users` users each positive on a few of `items` items, drawn from `seed`. */
function tinyTrainingData(users: number, items: number, perUser: number, seed: number): TrainingData {
  const random = new SeededRandom(seed);
  const rows: Array<[number, number]> = [];
  for (let u = 0; u < users; u++) for (const i of random.distinct(items, perUser)) rows.push([u, i]);
  const rating = INTERACTION_TYPES.indexOf('rating');
  const interactions = {
    length: rows.length,
    user: Uint32Array.from(rows, (r) => r[0]),
    item: Uint32Array.from(rows, (r) => r[1]),
    type: new Uint8Array(rows.length).fill(rating),
    value: new Float32Array(rows.length).fill(5),
    ts: Float64Array.from(rows, (_, n) => n),
  };
  const shape = {
    userIds: Array.from({ length: users }, (_, u) => `u${u}`),
    itemIds: Array.from({ length: items }, (_, i) => `i${i}`),
    itemTags: { start: new Uint32Array(items + 1), tags: new Uint32Array(0), names: [] },
  };
  return trainingDataFrom(shape, interactions, positiveRuleFor(interactions));
}

function contextFor(data: EvaluationData, seed = 1, k = 20): FitContext {
  return { seed, k, validation: validationSplitOf(data, k), log: () => {} };
}

describe('evaluation: LightGCN arithmetic', () => {
  const train = tinyTrainingData(6, 9, 3, 7);
  const graph = normalisedAdjacency(train);

  it('normalises the adjacency symmetrically: weight(a, b) = weight(b, a) = 1 / sqrt(deg a · deg b)', () => {
    const weightOf = new Map<string, number>();
    for (let r = 0; r < graph.nodes; r++) {
      for (let p = graph.start[r]!; p < graph.start[r + 1]!; p++) weightOf.set(`${r}-${graph.index[p]}`, graph.weight[p]!);
    }
    assert.equal(weightOf.size, 2 * train.positiveCount);
    const degree = (node: number) => graph.start[node + 1]! - graph.start[node]!;
    for (const [key, w] of weightOf) {
      const [a, b] = key.split('-').map(Number) as [number, number];
      assert.equal(weightOf.get(`${b}-${a}`), w);
      assert.ok(Math.abs(w - 1 / Math.sqrt(degree(a) * degree(b))) < 1e-6);
    }
  });

  it('propagation is its own transpose, so the backward pass can reuse it', () => {
    const dims = 3;
    const random = new SeededRandom(3);
    const size = graph.nodes * dims;
    const x = Float32Array.from({ length: size }, () => random.normal());
    const y = Float32Array.from({ length: size }, () => random.normal());
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, n) => s + v * b[n]!, 0);
    const ax = new Float32Array(size);
    const ay = new Float32Array(size);
    propagate(graph, x, ax, dims);
    propagate(graph, y, ay, dims);
    assert.ok(Math.abs(dot(ax, y) - dot(x, ay)) < 1e-4);
    const scratch = new Float32Array(size);
    layerMean(graph, 3, x, ax, scratch, dims);
    layerMean(graph, 3, y, ay, scratch, dims);
    assert.ok(Math.abs(dot(ax, y) - dot(x, ay)) < 1e-4);
    // With no layers the mean is the input itself.
    layerMean(graph, 0, x, ax, scratch, dims);
    assert.deepEqual(ax, x);
  });

  it('computes the gradient of its loss with respect to E⁰ (checked by finite differences)', () => {
    const settings: LightGcnSettings = { dims: 4, layers: 2, learningRate: 0.01, regularisation: 0.1 };
    const trainer = new LightGcnTrainer(train, settings, 5, 8);
    const users = [0, 1, 2, 5];
    const positives = users.map((u) => train.positives.index[train.positives.start[u]!]!);
    const negatives = [8, 7, 6, 0].map((i, n) => (positives[n] === i ? (i + 1) % 9 : i));
    const { gradient } = trainer.lossAndGradient(users, positives, negatives);
    const analytic = Float64Array.from(gradient);
    const lossAt = () => trainer.lossAndGradient(users, positives, negatives).loss;
    const h = 1e-2;
    let checked = 0;
    for (let n = 0; n < trainer.ego.length; n += 2) {
      const saved = trainer.ego[n]!;
      trainer.ego[n] = saved + h;
      trainer.invalidate();
      const up = lossAt();
      trainer.ego[n] = saved - h;
      trainer.invalidate();
      const down = lossAt();
      trainer.ego[n] = saved;
      trainer.invalidate();
      const numeric = (up - down) / (2 * h);
      assert.ok(Math.abs(numeric - analytic[n]!) < 1e-3 + 1e-2 * Math.abs(numeric), `∂loss/∂E⁰[${n}]: ${analytic[n]} vs ${numeric}`);
      checked++;
    }
    assert.ok(checked > 20);
  });
});

describe('evaluation: BPR and LightGCN baselines', () => {
  // Planted topics: each user mostly likes 2 of 8 topics, so a personalised model can find the user's topics.
  let data: EvaluationData;
  before(() => {
    const dataset = generateSyntheticDataset({ seed: 11, edges: 24_000, users: 400, items: 240, topics: 8, interestsPerUser: 2, drift: 0 });
    data = prepareEvaluation(interactionLogFromSynthetic(dataset), { protocol: 'temporal', seed: 1 });
  });

  async function ndcgOf(model: RecommenderModel): Promise<number> {
    await model.fit(data.train, contextFor(data));
    return evaluateRanking(model, data.train, data.test, { ks: [20] }).byK[20]!.ndcg;
  }

  it('beat popular and random on planted-topic data (and so does item kNN)', async function () {
    this.timeout(30_000);
    const popular = await ndcgOf(createModel('popular'));
    const random = await ndcgOf(new RandomModel());
    const scores: Record<string, number> = {};
    for (const name of ['itemknn', 'bpr', 'lightgcn']) scores[name] = await ndcgOf(createModel(name, { budget: 'quick' }));
    assert.ok(popular > random, `popular ${popular} vs random ${random}`);
    assert.ok(Object.keys(scores).length === 3);
    for (const [name, ndcg] of Object.entries(scores)) {
      assert.ok(ndcg > 1.5 * popular, `${name} NDCG@20 ${ndcg.toFixed(4)} should clearly beat popular ${popular.toFixed(4)}`);
    }
  });

  it('are deterministic for a seed, and the seed matters', async () => {
    const users = data.test.users.subarray(0, 5);
    const scores = async (model: RecommenderModel, seed: number) => {
      await model.fit(data.train, contextFor(data, seed));
      return model.scoreUsers(users);
    };
    for (const name of ['bpr', 'lightgcn']) {
      const quick = () => createModel(name, { budget: 'quick' });
      assert.deepEqual(await scores(quick(), 4), await scores(quick(), 4), name);
      assert.notDeepEqual(await scores(quick(), 4), await scores(quick(), 5), name);
    }
  });

  it('report the settings tuning chose, with the epochs early stopping picked', async () => {
    const model = new BprModel(
      { start: { dims: 8, learningRate: 0.05, regularisation: 0.01 }, stages: [{ dims: [8, 16] }, { learningRate: [0.05, 0.1] }] },
      { maxEpochs: 20, evalEvery: 5, patience: 2 },
    );
    const lines: string[] = [];
    await model.fit(data.train, { ...contextFor(data), log: (line) => lines.push(line) });
    const settings = model.settings();
    assert.ok([8, 16].includes(settings.dims as number));
    assert.ok((settings.epochs as number) % 5 === 0 && (settings.epochs as number) <= 20);
    assert.equal(typeof settings.validationNdcg, 'number');
    assert.equal(settings.learningRate === 0.05 || settings.learningRate === 0.1, true);
    // Stage 2 varies the learning rate at the best dims; the point with rate 0.05 was trained in stage 1.
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^bpr \[stage 1\/2, 1\/2\] dims=8 .*validation NDCG@20 0\.\d{4} at epoch \d+/);
    assert.equal(lines.filter((line) => line.endsWith('trained in an earlier stage')).length, 1);
  });

  it('widen the BPR margin of training positives as SGD epochs run', () => {
    const train = data.train;
    const trainer = new BprTrainer(train, { dims: 16, learningRate: 0.05, regularisation: 0.01 }, 1);
    const meanMargin = () => {
      // Mean of x̂(u, i) − x̂(u, j) over fixed pairs: positives against a fixed far item.
      const users = data.test.users.subarray(0, 50);
      const scores = trainer.scoreUsers(users);
      let sum = 0;
      let n = 0;
      users.forEach((u, r) => {
        for (let p = train.positives.start[u]!; p < train.positives.start[u + 1]!; p++) {
          sum += scores[r * train.itemCount + train.positives.index[p]!]! - scores[r * train.itemCount]!;
          n++;
        }
      });
      return sum / n;
    };
    const before = meanMargin();
    for (let e = 0; e < 5; e++) trainer.trainEpoch();
    assert.ok(meanMargin() > before + 0.5);
  });
});

describe('evaluation: the model registry', () => {
  it('registers popular, itemknn, bpr and lightgcn, each named as its entry', () => {
    assert.deepEqual(modelNames().slice(0, 4), ['popular', 'itemknn', 'bpr', 'lightgcn']);
    for (const name of Object.keys(MODEL_FACTORIES)) {
      assert.equal(createModel(name).name, name);
      assert.equal(createModel(name, { budget: 'quick' }).name, name);
    }
  });

  it('parses --models lists and names what is unknown', () => {
    assert.deepEqual(parseModelList('bpr, popular,bpr'), ['bpr', 'popular']);
    assert.throws(
      () => parseModelList('popular,gnn'),
      (error: unknown) => {
        assert.ok(error instanceof UnknownModelError);
        assert.equal(error.model, 'gnn');
        assert.match(error.message, /available: popular, itemknn, bpr, lightgcn/);
        return true;
      },
    );
    assert.throws(() => createModel('nope'), UnknownModelError);
  });
});

describe('evaluation: tuning', () => {
  /** A stand-in model whose validation score is a known function of its settings and epochs trained. */
  type Point = { a: number; b: number };
  const score = (p: Point, epoch: number) => -((p.a - 2) ** 2) - (p.b - 3) ** 2 - (epoch - 4 * p.a) ** 2 / 100;
  const fakeValidation = {
    train: undefined as unknown as TrainingData,
    heldOut: { users: new Uint32Array(0), start: Uint32Array.of(0), items: new Uint32Array(0) },
    evaluate: (scorer: { value(): number }) => ({
      ndcg: scorer.value(),
      recall: 0,
      precision: 0,
      hitRate: 0,
      mrr: 0,
      coverage: 0,
      diversity: null,
      novelty: 0,
    }),
  };
  const created: Point[] = [];
  const create = (point: Point) => {
    created.push(point);
    let epoch = 0;
    return { trainEpoch: () => void epoch++, value: () => score(point, epoch), scoreUsers: () => new Float32Array(0) };
  };
  const stopping = { maxEpochs: 50, evalEvery: 2, patience: 2 };
  const quiet = { k: 20, log: () => {} };

  beforeEach(() => (created.length = 0));

  it('keeps the best point of a grid and the epoch early stopping found best for it', () => {
    const points = gridOf({ a: [1, 2, 3], b: [3, 4] });
    const tuned = tuneEpochTrainer('fake', points, create, stopping, fakeValidation as never, quiet);
    assert.deepEqual(tuned.point, { a: 2, b: 3 });
    assert.equal(tuned.epochs, 8);
    assert.equal(created.length, 6);
  });

  it('searches stage by stage from the best point so far, training no point twice', () => {
    const tuned = tuneInStages('fake', { a: 1, b: 1 }, [{ a: [1, 2, 3] }, { b: [1, 3, 5] }], create, stopping, fakeValidation as never, quiet);
    assert.deepEqual(tuned.point, { a: 2, b: 3 });
    assert.equal(tuned.epochs, 8);
    // Stage 1 trains a = 1, 2, 3 at b = 1; stage 2 trains b = 3 and 5 at a = 2 (b = 1 was trained).
    assert.deepEqual(created, [
      { a: 1, b: 1 },
      { a: 2, b: 1 },
      { a: 3, b: 1 },
      { a: 2, b: 3 },
      { a: 2, b: 5 },
    ]);
  });
});
