/**
 * Loads a data file or folder into the engine's data directory: catalogue items first, then events, in
 * batches. Bad rows do not stop the load; they are reported as `file:line: message` and counted.
 *
 *   npm run load -- <file or folder> [--format movielens|movielens-100k|lastfm-hetrec|csv|jsonl] [--data-dir DIR]
 *
 * Exit codes: 0 when the load ran (even with rejected rows), 1 when it failed part-way, 2 for bad arguments,
 * an unusable input or configuration, 128 + the signal's number when interrupted (what was loaded stays).
 */
import { constants } from 'node:os';

import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';

import { ConfigError, InputFileError, ValidationError } from '../base/errors.ts';
import type { CatalogueItem } from '../src/catalogue/catalogue-item.ts';
import { type EngineConfig, loadConfig } from '../src/config.ts';
import { type GraphStats, InterestEngine } from '../src/engine.ts';
import type { InteractionEventInput } from '../src/events/interaction-event.ts';
import { describeLoadError, type Loader, LOADER_FORMATS, type LoaderFormat, openLoader } from '../src/loaders/index.ts';
import { describeIssues } from '../src/loaders/row-values.ts';
import { describeFailure, formatBytes, formatCount, parseOrExit } from './cli.ts';

const BATCH_SIZE = 1_000;
const MAX_PRINTED_REJECTIONS = 20;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

interface LoadArguments {
  readonly input: string;
  readonly format?: LoaderFormat;
  readonly dataDir?: string;
}

/** Where a record came from, so a rejection found later (by the engine) still names its row. */
interface Sourced<T> {
  readonly file: string;
  readonly line: number;
  readonly value: T;
}

interface LoadTally {
  records: number;
  itemsUpserted: number;
  eventsAccepted: number;
  eventsDuplicate: number;
  eventsRejected: number;
  /** Rows the loader could not read at all. */
  unreadable: number;
  /** Rows read but refused by the engine's validation (items and events). */
  refused: number;
}

/** Keeps the first rejections for printing and counts the rest. */
class RejectionReport {
  private readonly printed: string[] = [];
  count = 0;

  add(file: string, line: number, message: string): void {
    this.count++;
    if (this.printed.length < MAX_PRINTED_REJECTIONS) this.printed.push(describeLoadError({ file, line, message }));
  }

  write(stream: NodeJS.WritableStream): void {
    for (const line of this.printed) stream.write(`${line}\n`);
    const more = this.count - this.printed.length;
    if (more > 0) stream.write(`… and ${formatCount(more)} more rejected row${more === 1 ? '' : 's'}\n`);
  }
}

function parseArguments(argv: readonly string[]): LoadArguments {
  const program = new Command('load')
    .description('Load a data file or folder into the interest graph.')
    .argument('<path>', 'a file or folder: MovieLens (latest or 100K), an event CSV, or JSON Lines')
    .addOption(new Option('--format <format>', 'the input format; detected when left out').choices(LOADER_FORMATS))
    .option('--data-dir <dir>', 'the data directory to load into (overrides DATA_DIR)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  parseOrExit(program, argv, EXIT_USAGE);
  const options = program.opts<{ format?: LoaderFormat; dataDir?: string }>();
  return { input: program.args[0]!, format: options.format, dataDir: options.dataDir };
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  let loader: Loader;
  let config: EngineConfig;
  try {
    loader = await openLoader(args.input, args.format);
    config = loadConfig({ overrides: { dataDir: args.dataDir } });
  } catch (error) {
    if (error instanceof InputFileError || error instanceof ConfigError) {
      process.stderr.write(`load: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  const started = performance.now();
  const engine = await InterestEngine.open(config);
  const rejections = new RejectionReport();
  const tally: LoadTally = {
    records: 0,
    itemsUpserted: 0,
    eventsAccepted: 0,
    eventsDuplicate: 0,
    eventsRejected: 0,
    unreadable: 0,
    refused: 0,
  };
  const bar = new cliProgress.SingleBar(
    {
      format: 'loading |{bar}| {percentage}% | {read} of {size} | {records} records | {duration_formatted}',
      noTTYOutput: true,
      notTTYSchedule: 5_000,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const size = formatBytes(loader.totalBytes);
  const showProgress = () => bar.update(loader.bytesRead, { read: formatBytes(loader.bytesRead), size, records: formatCount(tally.records) });

  // Ctrl-C finishes the batch in hand and closes the store properly; a second one is not waited for.
  let interruptedBy: NodeJS.Signals | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  let failure: unknown;
  let stats: GraphStats | undefined;
  bar.start(Math.max(1, loader.totalBytes), 0, { read: formatBytes(0), size, records: '0' });
  try {
    const stopRequested = () => interruptedBy !== undefined;
    await loadInto(engine, loader, tally, rejections, showProgress, stopRequested, batchSizeFor(config));
    showProgress();
  } catch (error) {
    failure = error;
  } finally {
    bar.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    stats = engine.stats();
    try {
      await engine.close();
    } catch (error) {
      failure ??= error;
    }
  }

  rejections.write(process.stderr);
  const seconds = (performance.now() - started) / 1000;
  const partly = interruptedBy !== undefined || failure !== undefined;
  process.stdout.write(summary(args.input, loader, config.dataDir, tally, stats, seconds, partly));
  if (failure !== undefined) {
    process.stderr.write(`load: failed: ${describeFailure(failure)}\n`);
    return EXIT_FAILED;
  }
  if (interruptedBy !== undefined) {
    process.stderr.write(`load: stopped by ${interruptedBy}; what was loaded before stays loaded\n`);
    return 128 + constants.signals[interruptedBy];
  }
  return 0;
}

/** Streams the loader's records into the engine, a batch of one kind at a time, in the order they come. */
async function loadInto(
  engine: InterestEngine,
  loader: Loader,
  tally: LoadTally,
  rejections: RejectionReport,
  showProgress: () => void,
  stopRequested: () => boolean,
  batchSize: number,
): Promise<void> {
  let items: Array<Sourced<CatalogueItem>> = [];
  let events: Array<Sourced<InteractionEventInput>> = [];

  const flushItems = async () => {
    if (items.length === 0) return;
    const batch = items;
    items = [];
    await upsertItems(engine, batch, tally, rejections);
    showProgress();
  };
  const flushEvents = async () => {
    if (events.length === 0) return;
    const batch = events;
    events = [];
    const receipt = await engine.ingestEvents(
      batch.map((row) => row.value),
      { partial: true },
    );
    tally.eventsAccepted += receipt.accepted;
    tally.eventsDuplicate += receipt.duplicates;
    tally.eventsRejected += receipt.rejected.length;
    tally.refused += receipt.rejected.length;
    for (const rejected of receipt.rejected) {
      const row = batch[rejected.index]!;
      rejections.add(row.file, row.line, describeIssues(rejected.issues));
    }
    showProgress();
  };

  for await (const record of loader.records()) {
    if (stopRequested()) break;
    tally.records++;
    switch (record.kind) {
      case 'item':
        // Events already read were about items described before them; keep that order.
        await flushEvents();
        items.push({ file: record.file, line: record.line, value: record.item });
        if (items.length >= batchSize) await flushItems();
        break;
      case 'event':
        await flushItems();
        events.push({ file: record.file, line: record.line, value: record.event });
        if (events.length >= batchSize) await flushEvents();
        break;
      case 'error':
        tally.unreadable++;
        rejections.add(record.file, record.line, record.message);
        break;
    }
  }
  await flushItems();
  await flushEvents();
}

/** Upserts a batch; the engine refuses a batch with any bad item, so then each item is tried on its own. */
async function upsertItems(engine: InterestEngine, batch: Array<Sourced<CatalogueItem>>, tally: LoadTally, rejections: RejectionReport): Promise<void> {
  try {
    await engine.upsertItems(batch.map((row) => row.value));
    tally.itemsUpserted += batch.length;
    return;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
  }
  for (const row of batch) {
    try {
      await engine.upsertItems([row.value]);
      tally.itemsUpserted++;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      tally.refused++;
      rejections.add(row.file, row.line, error.message);
    }
  }
}

function batchSizeFor(config: EngineConfig): number {
  return Math.min(BATCH_SIZE, config.ingest.maxBatchSize);
}

function summary(input: string, loader: Loader, dataDir: string, tally: LoadTally, stats: GraphStats, seconds: number, partial: boolean): string {
  const n = formatCount;
  const rejected = tally.unreadable + tally.refused;
  const files = `${loader.files.length} file${loader.files.length === 1 ? '' : 's'}`;
  const what = `${input} (${loader.format}, ${files}, ${formatBytes(loader.totalBytes)})`;
  return [
    `${partial ? 'Partly loaded' : 'Loaded'} ${what} into ${dataDir}`,
    `  records read     ${n(tally.records)}`,
    `  items upserted   ${n(tally.itemsUpserted)}`,
    `  events           ${n(tally.eventsAccepted)} accepted, ${n(tally.eventsDuplicate)} duplicates, ` + `${n(tally.eventsRejected)} rejected`,
    `  rows rejected    ${n(rejected)} (${n(tally.unreadable)} unreadable, ${n(tally.refused)} refused by validation)`,
    `  graph            ${n(stats.users)} users, ${n(stats.sessions)} sessions, ${n(stats.items)} items, ` +
      `${n(stats.tags)} tags, ${n(stats.interactions)} interactions`,
    `  elapsed          ${seconds.toFixed(1)} s`,
    '',
  ].join('\n');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`load: ${describeFailure(error)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
