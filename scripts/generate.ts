/**
 * Writes a synthetic dataset (see src/synthetic/synthetic-dataset.ts) as JSON lines:
 *   DIR/items.jsonl   one `{"item": {...catalogue item...}}` per line
 *   DIR/events.jsonl  one interaction event per line, in arrival order
 *
 *   npm run generate -- --edges 1000000 --seed 7 --out data/synthetic-1m
 *
 * The timeline is a year that ends now (the newest event is stamped with the time of the run), so loaded
 * data looks live: the first real event does not move the decay clock past all of it. `--end-at` fixes that
 * moment (then the same options give byte-identical files); `--start`/`--end` give the window explicitly.
 *
 * Exit codes: 0 done, 1 the files could not be written, 2 bad options.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Command, CommanderError, InvalidArgumentError } from 'commander';

import { ValidationError } from '../base/errors.ts';
import { INTERACTION_TYPES, NodeKindCode } from '../graph/model.ts';
import { generateSyntheticDataset, type SyntheticDataset, type SyntheticDatasetOptions } from '../src/synthetic/synthetic-dataset.ts';

const EXIT_WRITE_FAILED = 1;
const EXIT_BAD_OPTIONS = 2;
/** Events per write: big enough that stream overhead vanishes, small enough to stay a few MB. */
const EVENTS_PER_CHUNK = 20_000;

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError('must be a non-negative integer.');
  }
  return n;
}

function positiveInteger(value: string): number {
  const n = nonNegativeInteger(value);
  if (n === 0) throw new InvalidArgumentError('must be at least 1.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1.');
  return n;
}

/** Epoch milliseconds or an ISO 8601 date. */
function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError('must be epoch milliseconds or an ISO 8601 date such as 2024-01-01.');
  }
  return n;
}

/** `instant`, or `now`. */
function instantOrNow(value: string): number {
  return value === 'now' ? Date.now() : instant(value);
}

interface CliOptions {
  readonly out: string;
  readonly edges?: number;
  readonly users?: number;
  readonly items?: number;
  readonly topics?: number;
  readonly tagsPerTopic?: number;
  readonly sessions?: number;
  readonly sessionShare?: number;
  readonly seed?: number;
  readonly interestsPerUser?: number;
  readonly drift?: number;
  readonly outOfOrder?: number;
  readonly start?: number;
  readonly end?: number;
  readonly endAt?: number;
}

const program = new Command()
  .name('generate')
  .description('Write a deterministic synthetic interest-graph dataset (items.jsonl, events.jsonl).')
  .requiredOption('--out <dir>', 'directory to write items.jsonl and events.jsonl into (created if missing)')
  .option('--edges <n>', 'number of interactions (default 10000)', nonNegativeInteger)
  .option('--users <n>', 'number of users (default edges / 50)', positiveInteger)
  .option('--items <n>', 'number of items (default edges / 100, at least 10 per topic)', positiveInteger)
  .option('--topics <n>', 'number of topics (default 20)', positiveInteger)
  .option('--tags-per-topic <n>', 'tags per topic (default 6)', positiveInteger)
  .option('--sessions <n>', 'anonymous sessions (default about 8 interactions each)', nonNegativeInteger)
  .option('--session-share <f>', 'share of interactions made by sessions, 0..1 (default 0.03)', fraction)
  .option('--seed <n>', 'seed; same seed and options give identical files (default 1)', nonNegativeInteger)
  .option('--interests-per-user <n>', 'topics each user mostly likes (default 3)', positiveInteger)
  .option('--drift <f>', 'how far interests move from start to end, 0..1 (default 0.3)', fraction)
  .option('--out-of-order <f>', 'share of events that arrive late, 0..1 (default 0.01)', fraction)
  .option('--start <time>', 'first timestamp, epoch ms or ISO date (default 2024-01-01)', instant)
  .option('--end <time>', 'timestamps stay before this, epoch ms or ISO date (default: see --end-at)', instant)
  .option('--end-at <time>', 'the newest timestamp, epoch ms, ISO date or now (default now, unless --start or --end is given)', instantOrNow)
  .exitOverride();

/** Maps a generator option back to the flag the user typed, for error messages. */
const FLAG_OF: Record<string, string> = {
  startTime: '--start',
  endTime: '--end',
  endAt: '--end-at',
};
function flagOf(option: string): string {
  return FLAG_OF[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

async function main(): Promise<number> {
  try {
    program.parse();
  } catch (error) {
    // Commander has already printed the message naming the option.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_BAD_OPTIONS;
    throw error;
  }
  const cli = program.opts<CliOptions>();
  const options: SyntheticDatasetOptions = {
    edges: cli.edges,
    users: cli.users,
    items: cli.items,
    topics: cli.topics,
    tagsPerTopic: cli.tagsPerTopic,
    sessions: cli.sessions,
    sessionShare: cli.sessionShare,
    seed: cli.seed,
    interestsPerUser: cli.interestsPerUser,
    drift: cli.drift,
    outOfOrder: cli.outOfOrder,
    startTime: cli.start,
    endTime: cli.end,
    // Ends now unless a window was asked for: the old fixed default (2024) decays to nothing once live events arrive.
    endAt: cli.endAt ?? (cli.start === undefined && cli.end === undefined ? Date.now() : undefined),
  };

  const started = performance.now();
  let dataset: SyntheticDataset;
  try {
    dataset = generateSyntheticDataset(options);
  } catch (error) {
    if (error instanceof ValidationError) {
      for (const issue of error.issues) console.error(`error: option '${flagOf(issue.path)}' ${issue.message}`);
      return EXIT_BAD_OPTIONS;
    }
    throw error;
  }
  const generatedMs = performance.now() - started;

  const itemsPath = join(cli.out, 'items.jsonl');
  const eventsPath = join(cli.out, 'events.jsonl');
  try {
    await mkdir(cli.out, { recursive: true });
    await pipeline(Readable.from(itemLines(dataset)), createWriteStream(itemsPath));
    await pipeline(Readable.from(eventLines(dataset)), createWriteStream(eventsPath));
  } catch (error) {
    console.error(`error: cannot write to ${cli.out}: ${(error as Error).message}`);
    return EXIT_WRITE_FAILED;
  }

  const totalMs = performance.now() - started;
  const itemsBytes = (await stat(itemsPath)).size;
  const eventsBytes = (await stat(eventsPath)).size;
  printSummary(dataset, { itemsPath, eventsPath, generatedMs, totalMs, itemsBytes, eventsBytes });
  return 0;
}

function* itemLines(dataset: SyntheticDataset): Generator<string> {
  const perChunk = 5_000;
  for (let start = 0; start < dataset.options.items; start += perChunk) {
    let chunk = '';
    const end = Math.min(dataset.options.items, start + perChunk);
    for (let i = start; i < end; i++) chunk += `${JSON.stringify({ item: dataset.catalogueItem(i) })}\n`;
    yield chunk;
  }
}

function* eventLines(dataset: SyntheticDataset): Generator<string> {
  for (let start = 0; start < dataset.interactions.length; start += EVENTS_PER_CHUNK) {
    let chunk = '';
    for (const event of dataset.eventsAt(start, start + EVENTS_PER_CHUNK)) chunk += `${JSON.stringify(event)}\n`;
    yield chunk;
  }
}

interface WriteFigures {
  readonly itemsPath: string;
  readonly eventsPath: string;
  readonly generatedMs: number;
  readonly totalMs: number;
  readonly itemsBytes: number;
  readonly eventsBytes: number;
}

function printSummary(dataset: SyntheticDataset, figures: WriteFigures): void {
  const o = dataset.options;
  const c = dataset.interactions;
  const typeCounts = new Array<number>(INTERACTION_TYPES.length).fill(0);
  let bySessions = 0;
  let late = 0;
  let latest = -Infinity;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < c.length; i++) {
    typeCounts[c.type[i]!]!++;
    if (c.subjectKind[i] === NodeKindCode.session) bySessions++;
    const ts = c.ts[i]!;
    if (ts < latest) late++;
    latest = Math.max(latest, ts);
    first = Math.min(first, ts);
    last = Math.max(last, ts);
  }
  const count = (n: number) => n.toLocaleString('en-US');
  const share = (n: number) => `${((100 * n) / Math.max(1, c.length)).toFixed(1)}%`;
  const size = (bytes: number) =>
    bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  const types = INTERACTION_TYPES.map((t, i) => `${t} ${share(typeCounts[i]!)}`).join(', ');
  const span = c.length > 0 ? `${new Date(first).toISOString()} to ${new Date(last).toISOString()}` : 'none';

  console.log(`wrote ${count(c.length)} events and ${count(o.items)} items in ${(figures.totalMs / 1000).toFixed(1)} s`);
  console.log(`  generation   ${(figures.generatedMs / 1000).toFixed(2)} s (seed ${o.seed})`);
  console.log(`  ${figures.eventsPath}  ${size(figures.eventsBytes)}`);
  console.log(`  ${figures.itemsPath}  ${size(figures.itemsBytes)}`);
  console.log(`  users ${count(o.users)}, sessions ${count(o.sessions)} (${share(bySessions)} of events), topics ${o.topics} x ${o.tagsPerTopic} tags`);
  console.log(`  interests ${o.interestsPerUser} topics per user, drift ${o.drift}`);
  console.log(`  types: ${types}`);
  console.log(`  time: ${span}, ${share(late)} out of order`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
