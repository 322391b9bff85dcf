/**
 * Offline evaluation of the registered recommenders on a data file or folder: a per-user split, each model
 * tuned on a validation split carved from the training data, then ranked for the test users.
 *
 *   npm run evaluate -- --data <file or folder> [--format movielens|movielens-100k|lastfm-hetrec|csv|jsonl] [--k 20]
 *                       [--split temporal|random] [--seed S] [--models popular,itemknn,...] [--out DIR]
 *
 * stdout: a markdown report (split counts, metrics at K = 10, 20 and --k, each model's settings and
 * timings), then as its last line one JSON object with the metrics at --k. Files in --out: evaluation.json
 * (the whole report), evaluation.svg (Recall@K and NDCG@K per model) and evaluation-summary.json (the last
 * line; `--out $DATA_DIR` makes GET /v1/model report it). Progress goes to stderr.
 *
 * Exit codes: 0 done, 1 failed, 2 bad arguments or data that cannot be evaluated as asked.
 */
import { statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import { EngineError, InputFileError } from '../base/errors.ts';
import { type EvaluationData, prepareEvaluation, validationSplitOf } from '../src/evaluation/evaluation-data.ts';
import { EvaluationDataError } from '../src/evaluation/evaluation-error.ts';
import { type EvaluationReport, type ModelRun, renderMarkdown, renderSvgChart, SUMMARY_FILE, summaryOf } from '../src/evaluation/evaluation-report.ts';
import { evaluateRanking } from '../src/evaluation/evaluator.ts';
import { type InteractionLog, readInteractionLog } from '../src/evaluation/interaction-log.ts';
import { createModel, modelNames, type ModelOptions, parseModelList } from '../src/evaluation/models.ts';
import { describePositiveRule } from '../src/evaluation/positive-rule.ts';
import { SPLIT_PROTOCOLS, type SplitProtocol } from '../src/evaluation/split.ts';
import { type Loader, LOADER_FORMATS, type LoaderFormat, openLoader } from '../src/loaders/index.ts';
import { describeFailure, formatBytes, formatCount, parseOrExit } from './cli.ts';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Always reported beside the headline K. */
const STANDARD_KS = [10, 20];
const DEFAULT_K = 20;
const DEFAULT_SEED = 1;
const DEFAULT_OUT = './evaluation-results';

interface EvaluateArguments {
  readonly data: string;
  readonly format?: LoaderFormat;
  readonly k: number;
  readonly split: SplitProtocol;
  readonly seed: number;
  readonly models: readonly string[];
  readonly out: string;
  readonly budget: ModelOptions['budget'];
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function seedValue(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
    throw new InvalidArgumentError('must be an integer from 0 to 4294967295.');
  }
  return n;
}

function modelList(value: string): string[] {
  if (value.trim() === '') throw new InvalidArgumentError(`name at least one model: ${modelNames().join(', ')}.`);
  try {
    return parseModelList(value);
  } catch (error) {
    if (error instanceof EngineError) throw new InvalidArgumentError(`${error.message}.`);
    throw error;
  }
}

function parseArguments(argv: readonly string[]): EvaluateArguments {
  const program = new Command('evaluate')
    .description('Evaluate the registered recommenders offline on a data file or folder.')
    .requiredOption('--data <path>', 'a file or folder: MovieLens (latest or 100K), an event CSV, or JSON Lines')
    .addOption(new Option('--format <format>', 'the input format; detected when left out').choices(LOADER_FORMATS))
    .option('--k <n>', 'the headline cut-off (10 and 20 are always reported too)', positiveInteger, DEFAULT_K)
    .addOption(new Option('--split <protocol>', 'how test positives are held out').choices(SPLIT_PROTOCOLS).default('temporal'))
    .option('--seed <n>', 'seed for the split and every model', seedValue, DEFAULT_SEED)
    .option('--models <names>', `comma-separated models to run (default: all of ${modelNames().join(', ')})`, modelList)
    .option('--out <dir>', 'folder for evaluation.json and evaluation.svg', DEFAULT_OUT)
    .option('--quick', 'small grids and short training, for smoke tests (numbers not comparable with a full run)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  parseOrExit(program, argv, EXIT_USAGE);
  const options = program.opts<{
    data: string;
    format?: LoaderFormat;
    k: number;
    split: SplitProtocol;
    seed: number;
    models?: string[];
    out: string;
    quick?: boolean;
  }>();
  return {
    data: options.data,
    format: options.format,
    k: options.k,
    split: options.split,
    seed: options.seed,
    models: options.models ?? modelNames(),
    out: options.out,
    budget: options.quick ? 'quick' : 'full',
  };
}

function progress(message: string): void {
  process.stderr.write(`evaluate: ${message}\n`);
}

async function readLog(args: EvaluateArguments): Promise<{ loader: Loader; log: InteractionLog }> {
  const loader = await openLoader(args.data, args.format);
  progress(`reading ${args.data} (${loader.format}, ${formatBytes(loader.totalBytes)})`);
  let lastShown = 0;
  const { log, report } = await readInteractionLog(loader, (read, total) => {
    const now = performance.now();
    if (now - lastShown < 2_000) return;
    lastShown = now;
    progress(`read ${Math.round((100 * read) / Math.max(1, total))} %`);
  });
  progress(
    `read ${formatCount(report.events)} user interactions on ${formatCount(log.itemIds.length)} items by ${formatCount(log.userIds.length)} users` +
      (report.sessionEvents > 0 ? `; ${formatCount(report.sessionEvents)} anonymous-session events left out` : '') +
      (report.duplicateEvents > 0 ? `; ${formatCount(report.duplicateEvents)} repeated event ids ignored` : ''),
  );
  if (report.rejectedRows > 0) {
    for (const line of report.rejections) process.stderr.write(`${line}\n`);
    const more = report.rejectedRows - report.rejections.length;
    if (more > 0) process.stderr.write(`… and ${formatCount(more)} more rejected rows\n`);
    progress(`${formatCount(report.rejectedRows)} rows rejected`);
  }
  return { loader, log };
}

async function runModel(name: string, data: EvaluationData, args: EvaluateArguments, ks: readonly number[]): Promise<ModelRun> {
  const model = createModel(name, { budget: args.budget });
  progress(`${name}: fitting (tuning on the validation split)`);
  const fitStarted = performance.now();
  await model.fit(data.train, {
    seed: args.seed,
    k: args.k,
    maxK: ks[ks.length - 1],
    validation: validationSplitOf(data, args.k),
    log: progress,
  });
  const fitSeconds = (performance.now() - fitStarted) / 1000;
  let ranking;
  try {
    ranking = evaluateRanking(model, data.train, data.test, { ks });
  } finally {
    await model.close?.();
  }
  const headline = ranking.byK[args.k];
  if (headline === undefined) throw new Error(`${name}: no metrics at the headline K=${args.k} (evaluated at K=${ranking.ks.join(', ')})`);
  progress(
    `${name}: Recall@${args.k} ${headline.recall.toFixed(4)} NDCG@${args.k} ${headline.ndcg.toFixed(4)} ` +
      `(fit ${fitSeconds.toFixed(1)} s, ranking ${ranking.seconds.toFixed(1)} s)`,
  );
  return {
    name,
    settings: model.settings(),
    byK: ranking.byK,
    diversityLists: ranking.diversityLists,
    fitSeconds,
    evaluateSeconds: ranking.seconds,
  };
}

/** A short name for the data: the folder's name, or a file's name with its folder's. */
function datasetName(input: string): string {
  const resolved = path.resolve(input);
  if (statSync(resolved).isDirectory()) return path.basename(resolved);
  return `${path.basename(path.dirname(resolved))}/${path.basename(resolved)}`;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const started = performance.now();
  const ks = [...new Set([...STANDARD_KS, args.k])].sort((a, b) => a - b);

  let loader: Loader;
  let data: EvaluationData;
  try {
    const read = await readLog(args);
    loader = read.loader;
    data = prepareEvaluation(read.log, { protocol: args.split, seed: args.seed });
  } catch (error) {
    if (error instanceof InputFileError || error instanceof EvaluationDataError) {
      progress(error.message);
      return EXIT_USAGE;
    }
    throw error;
  }
  const { stats } = data;
  progress(
    `${args.split} split: ${formatCount(stats.evaluatedUsers)} test users, ${formatCount(stats.trainPositives)} training and ` +
      `${formatCount(stats.testPositives)} test positive pairs; validation: ${formatCount(stats.validationUsers)} users`,
  );

  const runs: ModelRun[] = [];
  for (const name of args.models) runs.push(await runModel(name, data, args, ks));

  const report: EvaluationReport = {
    dataset: datasetName(args.data),
    format: loader.format,
    split: args.split,
    seed: args.seed,
    k: args.k,
    ks,
    testShare: data.testShare,
    positives: describePositiveRule(data.rule),
    stats,
    models: runs,
  };
  const summary = summaryOf(report);
  await mkdir(args.out, { recursive: true });
  const jsonFile = path.join(args.out, 'evaluation.json');
  const svgFile = path.join(args.out, 'evaluation.svg');
  const environment = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', budget: args.budget };
  await writeFile(jsonFile, `${JSON.stringify({ ...report, models: Object.fromEntries(runs.map((r) => [r.name, r])), environment }, null, 2)}\n`);
  await writeFile(svgFile, renderSvgChart(report));
  await writeFile(path.join(args.out, SUMMARY_FILE), `${JSON.stringify({ ...summary, evaluatedAt: new Date().toISOString() })}\n`);
  progress(`wrote ${jsonFile}, ${svgFile} and ${SUMMARY_FILE} (${((performance.now() - started) / 1000).toFixed(1)} s in all)`);

  process.stdout.write(renderMarkdown(report));
  process.stdout.write(`\n${JSON.stringify(summary)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`evaluate: failed: ${describeFailure(error)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
