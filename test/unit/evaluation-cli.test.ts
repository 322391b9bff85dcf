import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { METRIC_NAMES } from '../../src/evaluation/evaluation-report.ts';
import { modelNames } from '../../src/evaluation/models.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'evaluation', 'ratings.csv');

/** Runs `npm run evaluate -- …` as the user would (through tsx), without npm's own output. */
function evaluate(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'evaluate.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('evaluation: the evaluate CLI', () => {
  let out: string;
  before(() => {
    out = mkdtempSync(path.join(tmpdir(), 'evaluate-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('evaluates every registered model on a MovieLens ratings file and ends stdout with one JSON line', function () {
    this.timeout(60_000);
    const { code, stdout, stderr } = evaluate('--data', FIXTURE, '--seed', '3', '--out', out);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    const summary = JSON.parse(lines.at(-1)!);
    assert.deepEqual(Object.keys(summary), ['dataset', 'k', 'split', 'seed', 'models']);
    assert.equal(summary.dataset, 'evaluation/ratings.csv');
    assert.equal(summary.k, 20);
    assert.equal(summary.split, 'temporal');
    assert.equal(summary.seed, 3);
    assert.deepEqual(Object.keys(summary.models), modelNames());
    for (const [name, metrics] of Object.entries<Record<string, number | null>>(summary.models)) {
      assert.deepEqual(Object.keys(metrics), [...METRIC_NAMES], name);
      for (const metric of ['recall', 'ndcg', 'precision', 'hitRate', 'mrr', 'coverage']) {
        const value = metrics[metric]!;
        assert.ok(value >= 0 && value <= 1, `${name} ${metric} ${value}`);
      }
    }
    // The markdown report: split counts, both standard cut-offs per model, and each model's settings.
    assert.match(stdout, /\| users \| 36 \(36 evaluated/);
    for (const name of modelNames()) {
      assert.match(stdout, new RegExp(`^\\| ${name} \\| 10 \\| `, 'm'));
      assert.match(stdout, new RegExp(`^\\| ${name} \\| \\*\\*20\\*\\* \\| `, 'm'));
    }
    assert.match(stdout, /^\| bpr \| .*dims=\d+ .*epochs=\d+/m);
    assert.match(stdout, /^\| lightgcn \| .*layers=\d+/m);
    // The served engine: the default blend, the blend tuned on the validation split, and what to make of it.
    assert.match(stdout, /^\| engine \| embedding=0\.450 walk=0\.300 tags=0\.150 trending=0\.100 diversity=0\.200 listLength=20 gat=succeeded /m);
    assert.match(stdout, /^\| engine-tuned \| embedding=[\d.]+ walk=[\d.]+ tags=[\d.]+ trending=[\d.]+ diversity=[\d.]+ .*validationNdcg=/m);
    assert.match(stdout, /^### The served blend, tuned \(engine-tuned\)\n\n(The defaults .* hold|The blend tuned .* beats the defaults)/m);
    // Progress went to stderr, not stdout.
    assert.match(stderr, /lightgcn \[stage 1\/3/);

    const saved = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8'));
    assert.deepEqual(saved.models.bpr.byK['20'], summary.models.bpr);
    assert.ok(saved.models.bpr.byK['10']);
    const svg = readFileSync(path.join(out, 'evaluation.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.equal(svg.match(/<rect [^>]*><title>/g)?.length, 2 * modelNames().length);
    assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('reads MovieLens 100K u.data, picks models with --models and keeps K = 10 and 20 beside --k', function () {
    this.timeout(30_000);
    const { code, stdout, stderr } = evaluate(
      '--data',
      path.join(ROOT, 'test', 'fixtures', 'ml-100k', 'u.data'),
      '--models',
      'popular,itemknn',
      '--k',
      '5',
      '--split',
      'random',
      '--out',
      out,
    );
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1)!);
    assert.equal(summary.k, 5);
    assert.equal(summary.split, 'random');
    assert.deepEqual(Object.keys(summary.models), ['popular', 'itemknn']);
    for (const k of ['5', '10', '20']) assert.match(stdout, new RegExp(`^\\| popular \\| (\\*\\*)?${k}(\\*\\*)? \\|`, 'm'));
  });

  it('refuses bad arguments with a message naming the option and exit code 2', function () {
    this.timeout(30_000);
    const cases: Array<[string[], RegExp]> = [
      [['--data', FIXTURE, '--k', '0'], /option '--k <n>' argument '0' is invalid/],
      [['--data', FIXTURE, '--models', 'popular,gat2'], /option '--models <names>' .*unknown model 'gat2'; available: popular/],
      [['--data', FIXTURE, '--split', 'sideways'], /option '--split <protocol>' argument 'sideways' is invalid/],
      [['--k', '10'], /required option '--data <path>' not specified/],
      [['--data', path.join(out, 'missing.csv')], /missing\.csv: no such file or folder/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = evaluate(...args, '--out', path.join(out, 'unused'));
      assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${stderr}`);
      assert.match(stderr, message);
      assert.equal(stdout, '');
    }
    assert.equal(existsSync(path.join(out, 'unused')), false);
  });
});
