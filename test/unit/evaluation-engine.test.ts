import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { INTERACTION_TYPES } from '../../graph/model.ts';
import { TopKSelector } from '../../graph/top-k.ts';
import { loadConfig } from '../../src/config.ts';
import { type BlendSettings, blendSuggestion, searchBlend, SOURCE_NAMES, withShare } from '../../src/evaluation/engine-weights.ts';
import { type EvaluationData, prepareEvaluation, validationSplitOf } from '../../src/evaluation/evaluation-data.ts';
import type { ModelRun } from '../../src/evaluation/evaluation-report.ts';
import { renderMarkdown } from '../../src/evaluation/evaluation-report.ts';
import { evaluateRanking, type MetricValues } from '../../src/evaluation/evaluator.ts';
import { InteractionLogBuilder, readInteractionLog } from '../../src/evaluation/interaction-log.ts';
import { type LazyEngineModel } from '../../src/evaluation/lazy-engine-model.ts';
import { createModel } from '../../src/evaluation/models.ts';
import { positiveRuleFor } from '../../src/evaluation/positive-rule.ts';
import { RandomModel } from '../../src/evaluation/random-model.ts';
import type { FitContext } from '../../src/evaluation/recommender-model.ts';
import { trainingDataFrom } from '../../src/evaluation/training-data.ts';
import { openLoader } from '../../src/loaders/index.ts';

/**
 * `engine` and `engine-tuned`: the served Recommender (a real engine on disk, its GAT trained by the
 * embedding service) scored by the evaluation protocol, on the MovieLens-format fixture (36 users, 36
 * items of a few genres, which become item tags).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'evaluation');

async function fixtureData(): Promise<EvaluationData> {
  const { log } = await readInteractionLog(await openLoader(FIXTURE));
  return prepareEvaluation(log, { protocol: 'temporal', seed: 1 });
}

function contextFor(data: EvaluationData, lines: string[] = []): FitContext {
  return { seed: 1, k: 20, maxK: 20, validation: validationSplitOf(data, 20), log: (line) => lines.push(line) };
}

/** The engines' temporary folders left behind. */
function engineFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('evaluate-engine-'));
}

describe('evaluation: engine (the served Recommender)', function () {
  this.timeout(120_000);
  let data: EvaluationData;
  let engine: LazyEngineModel;
  let foldersBefore: string[];

  before(async () => {
    foldersBefore = engineFolders();
    data = await fixtureData();
    engine = createModel('engine', { budget: 'quick' }) as LazyEngineModel;
    await engine.fit(data.train, contextFor(data));
  });
  after(async () => {
    await engine?.close();
  });

  it('beats random on the fixture, with every test user given a full list', async () => {
    const random = new RandomModel();
    await random.fit(data.train, contextFor(data));
    const ndcg = (model: typeof random | typeof engine) => evaluateRanking(model, data.train, data.test, { ks: [20] }).byK[20]!.ndcg;
    const engineNdcg = ndcg(engine);
    const randomNdcg = ndcg(random);
    assert.ok(engineNdcg > 1.5 * randomNdcg, `engine NDCG@20 ${engineNdcg.toFixed(4)} vs random ${randomNdcg.toFixed(4)}`);
    for (const user of data.test.users) {
      const trainPositives = data.train.positives.start[user + 1]! - data.train.positives.start[user]!;
      assert.equal(engine.listFor(user).items.length, Math.min(20, data.train.itemCount - trainPositives), `user ${data.train.userIds[user]}`);
    }
  });

  it('scores exactly the list the Recommender serves: the evaluator ranks its items in its order, and no others', () => {
    const users = data.test.users;
    const scores = engine.scoreUsers(users);
    const items = data.train.itemCount;
    const { start, index } = data.train.positives;
    const selector = new TopKSelector(20);
    const top = new Uint32Array(20);
    let withTags = 0;
    let withEmbedding = 0;
    users.forEach((user, r) => {
      const served = engine.listFor(user).items;
      // What the evaluator keeps: training positives skipped, −∞ never listed.
      const training = new Set(Array.from(index.subarray(start[user], start[user + 1])));
      selector.reset();
      for (let i = 0; i < items; i++) {
        const score = scores[r * items + i]!;
        if (!training.has(i) && score !== -Infinity) selector.offer(score, i);
      }
      const ranked = Array.from(top.subarray(0, selector.drain(top)), (i) => data.train.itemIds[i]);
      assert.deepEqual(
        ranked,
        served.map((item) => item.itemId),
        `user ${data.train.userIds[user]}`,
      );
      const listed = scores.subarray(r * items, (r + 1) * items).filter((s) => s !== -Infinity);
      assert.equal(listed.length, served.length, 'every other item is −∞');
      for (const item of served) assert.ok(!training.has(data.train.itemIds.indexOf(item.itemId)), 'no training positive is served');
      if (served.some((item) => item.sources.tags > 0)) withTags++;
      if (served.some((item) => item.sources.embedding > 0)) withEmbedding++;
    });
    // The blend is the served one: the genres (item tags) and the trained GAT both contribute.
    assert.equal(withTags, users.length);
    assert.equal(withEmbedding, users.length);
    assert.equal(engine.settings().gat, 'succeeded');
  });

  it('reports the default blend and removes its temporary folder when closed', async () => {
    const { weights, diversity } = loadConfig({ env: {} }).recommend;
    const settings = engine.settings();
    for (const name of SOURCE_NAMES) assert.equal(settings[name], weights[name]);
    assert.equal(settings.diversity, diversity);
    assert.equal(settings.listLength, 20);
    assert.equal(engineFolders().length, foldersBefore.length + 1);
    await engine.close();
    assert.deepEqual(engineFolders(), foldersBefore);
    assert.equal(engine.settings().gat, 'succeeded', 'settings stay readable after close');
  });
});

describe("evaluation: engine, served as of each user's own time", function () {
  this.timeout(120_000);

  it("weighs a user's history as of their latest interaction, not as of the end of the training period", async () => {
    // "early" liked three items in 2020; everyone else was active three years later (12 half-lives of 90 days).
    const builder = new InteractionLogBuilder();
    const like = INTERACTION_TYPES.indexOf('like');
    const day = 86_400_000;
    const early = Date.UTC(2020, 0, 1);
    const late = early + 3 * 365 * day;
    for (const [n, item] of ['a1', 'a2', 'a3'].entries()) builder.add(builder.userOf('early'), builder.itemOf(item), like, NaN, early + n * day);
    for (let u = 0; u < 6; u++) {
      for (const [n, item] of ['a1', 'a2', 'a3', 'a4', `b${u}`].entries())
        builder.add(builder.userOf(`u${u}`), builder.itemOf(item), like, NaN, late + (u * 5 + n) * day);
    }
    const log = builder.build();
    const train = trainingDataFrom(log, log.interactions, positiveRuleFor(log.interactions));
    const engine = createModel('engine', { budget: 'quick' }) as LazyEngineModel;
    try {
      await engine.fit(train, { seed: 1, k: 5, maxK: 5, validation: undefined, log: () => {} });
      const served = engine.listFor(log.userIds.indexOf('early')).items;
      const a4 = served.find((item) => item.itemId === 'a4');
      assert.ok(a4, `a4, liked by everyone who liked early's items, is served: ${served.map((i) => i.itemId).join(' ')}`);
      // As of 2023 early's likes would weigh 2^-12 of a like, and the walk term would be below 0.001.
      assert.ok(a4.sources.walk > 0.05, `walk term ${a4.sources.walk}`);
    } finally {
      await engine.close();
    }
  });
});

describe('evaluation: engine-tuned', function () {
  this.timeout(120_000);

  it('tunes the blend on the validation split and reports the weights it serves', async () => {
    const data = await fixtureData();
    const lines: string[] = [];
    const model = createModel('engine-tuned', { budget: 'quick' });
    try {
      await model.fit(data.train, contextFor(data, lines));
      const settings = model.settings();
      const sum = SOURCE_NAMES.reduce((total, name) => total + (settings[name] as number), 0);
      assert.ok(Math.abs(sum - 1) < 0.003, `weights add up to 1: ${sum}`);
      assert.equal(typeof settings.diversity, 'number');
      assert.ok((settings.validationNdcg as number) >= (settings.defaultsValidationNdcg as number));
      const tried = lines.filter((line) => line.endsWith('on the validation split'));
      assert.equal(tried.length, settings.evaluated);
      assert.match(
        tried[0]!,
        /^engine-tuned: embedding=0\.450 walk=0\.300 tags=0\.150 trending=0\.100 diversity=0\.200: validation NDCG 0\.\d{4} \(best so far\)/,
      );
      assert.ok(lines.some((line) => line.startsWith('engine-tuned: tuned embedding=')));
      assert.ok(evaluateRanking(model, data.train, data.test, { ks: [20] }).byK[20]!.ndcg > 0);
    } finally {
      await model.close?.();
    }
  });
});

describe('evaluation: the blend search', () => {
  const start: BlendSettings = { weights: { embedding: 0.45, walk: 0.3, tags: 0.15, trending: 0.1 }, diversity: 0.2 };

  it('gives one source a share and the others the rest in their proportions', () => {
    assert.deepEqual(withShare(start.weights, 'tags', 0.5), { embedding: 0.265, walk: 0.176, tags: 0.5, trending: 0.059 });
    assert.deepEqual(withShare(start.weights, 'walk', 0), { embedding: 0.643, walk: 0, tags: 0.214, trending: 0.143 });
    assert.equal(withShare({ embedding: 1, walk: 0, tags: 0, trending: 0 }, 'embedding', 0.5), null);
  });

  it('climbs one coordinate at a time to the best point and scores no point twice', () => {
    // Best: walk alone at 0.6 of the weight with tags, no diversity.
    const score = (b: BlendSettings) => -((b.weights.walk - 0.6) ** 2) - b.weights.embedding - b.weights.trending - b.diversity;
    const seen = new Set<string>();
    const result = searchBlend(
      start,
      { shares: [0, 0.3, 0.6], diversity: [0, 0.2], rounds: 3 },
      (b) => {
        const key = JSON.stringify(b);
        assert.ok(!seen.has(key), `scored twice: ${key}`);
        seen.add(key);
        return score(b);
      },
      () => {},
    );
    assert.deepEqual(result.best, { weights: { embedding: 0, walk: 0.6, tags: 0.4, trending: 0 }, diversity: 0 });
    assert.equal(result.startScore, score(start));
    assert.equal(result.evaluated, seen.size);
  });
});

describe('evaluation: the report on the tuned blend', () => {
  const metrics = (ndcg: number): MetricValues => ({ recall: ndcg * 1.2, ndcg, precision: 0, hitRate: 0, mrr: 0, coverage: 0, diversity: null, novelty: 0 });
  const run = (name: string, ndcg: number, blend: BlendSettings): ModelRun => ({
    name,
    settings: { ...blend.weights, diversity: blend.diversity, listLength: 20 },
    byK: { 20: metrics(ndcg) },
    diversityLists: { 20: 0 },
    fitSeconds: 1,
    evaluateSeconds: 1,
  });
  const defaults: BlendSettings = { weights: { embedding: 0.45, walk: 0.3, tags: 0.15, trending: 0.1 }, diversity: 0.2 };
  const tuned: BlendSettings = { weights: { embedding: 0.6, walk: 0.25, tags: 0.1, trending: 0.05 }, diversity: 0.1 };

  it('offers a CONFIG_FILE that serves the tuned blend when it beats the defaults on the test split', () => {
    const lines = blendSuggestion([run('engine', 0.1, defaults), run('engine-tuned', 0.12, tuned)], 20);
    const at = lines.indexOf('```json');
    assert.ok(at > 0, lines.join('\n'));
    assert.match(lines.join('\n'), /NDCG@20 0\.1200, Recall@20 0\.1440, against NDCG@20 0\.1000/);
    const dir = mkdtempSync(path.join(tmpdir(), 'blend-config-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, lines[at + 1]!);
      const served = loadConfig({ env: { CONFIG_FILE: file } }).recommend;
      assert.deepEqual(served.weights, tuned.weights);
      assert.equal(served.diversity, tuned.diversity);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says the defaults hold when the tuned blend does not beat them, and prints nothing without engine-tuned', () => {
    const lines = blendSuggestion([run('engine', 0.12, defaults), run('engine-tuned', 0.12, tuned)], 20);
    assert.ok(!lines.includes('```json'));
    assert.match(lines.join('\n'), /The defaults \(embedding=0\.450 .*\) hold/);
    assert.deepEqual(blendSuggestion([run('engine', 0.12, defaults)], 20), []);
    assert.match(blendSuggestion([run('engine-tuned', 0.12, tuned)], 20).join('\n'), /Run `engine` beside it/);
  });

  it('is part of the markdown report', () => {
    const report = {
      dataset: 'd',
      format: 'csv',
      split: 'temporal' as const,
      seed: 1,
      k: 20,
      ks: [20],
      testShare: 0.2,
      positives: 'p',
      stats: {
        users: 1,
        items: 1,
        interactions: 1,
        positivePairs: 1,
        evaluatedUsers: 1,
        usersLeftOut: 0,
        trainInteractions: 1,
        trainPositives: 1,
        testPositives: 1,
        removedLater: 0,
        validationUsers: 1,
        validationPositives: 1,
      },
      models: [run('engine', 0.1, defaults), run('engine-tuned', 0.12, tuned)],
    };
    assert.match(
      renderMarkdown(report),
      /### The served blend, tuned \(engine-tuned\)[\s\S]*"recommend":\{"weights":\{"embedding":0\.6,"walk":0\.25,"tags":0\.1,"trending":0\.05\},"diversity":0\.1\}/,
    );
  });
});
