import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { InputFileError } from '../../base/errors.ts';
import { COMMA_SEPARATED, readHeader, requireColumns } from './delimited-file.ts';
import { checkEventCsvFile, readEventCsv } from './event-csv.ts';
import { readJsonLines } from './jsonl.ts';
import {
  LASTFM_HETREC_COLUMNS,
  LASTFM_HETREC_FILE_NAMES,
  lastfmHetrecFileOptions,
  type LastfmHetrecFiles,
  type LastfmHetrecRole,
  readLastfmHetrec,
} from './lastfm-hetrec.ts';
import { type DataFile, isLoaderFormat, LOADER_FORMATS, type LoaderFormat, type LoadRecord, ReadProgress } from './load-record.ts';
import { MOVIELENS_COLUMNS, type MovieLensFiles, type MovieLensRole, readMovieLens } from './movielens.ts';
import { type MovieLens100kFiles, readMovieLens100k } from './movielens-100k.ts';

/**
 * The one way in: given a file or folder (and optionally its format), finds the files to read, checks what
 * can be checked up front (the path exists, headers name the right columns), and streams their records.
 */

export interface Loader {
  readonly format: LoaderFormat;
  /** In the order they are read. */
  readonly files: readonly DataFile[];
  readonly totalBytes: number;
  /** Bytes read so far by the latest `records()` pass, for a progress bar; reaches `totalBytes` at the end. */
  readonly bytesRead: number;
  /** Items before events (catalogue files first); a bad row is an `error` record and the pass goes on. */
  records(): AsyncIterable<LoadRecord>;
}

type Plan =
  | { format: 'movielens'; files: MovieLensFiles }
  | { format: 'movielens-100k'; files: MovieLens100kFiles }
  | { format: 'lastfm-hetrec'; files: LastfmHetrecFiles }
  | { format: 'csv' | 'jsonl'; files: string[] };

const JSONL_EXTENSIONS = ['.jsonl', '.ndjson'];
const MOVIELENS_FILE_NAMES: Record<MovieLensRole, string> = {
  movies: 'movies.csv',
  tags: 'tags.csv',
  ratings: 'ratings.csv',
};

export async function openLoader(inputPath: string, format?: string): Promise<Loader> {
  if (format !== undefined && !isLoaderFormat(format)) {
    throw new InputFileError(`unknown format '${format}'; expected one of ${LOADER_FORMATS.join(', ')}`);
  }
  const kind = await pathKind(inputPath);
  const plan = kind === 'folder' ? await planFolder(inputPath, format) : await planFile(inputPath, format);
  await checkHeaders(plan);
  const files = await Promise.all(planFiles(plan).map(async (file): Promise<DataFile> => ({ path: file, bytes: (await stat(file)).size })));
  let progress = new ReadProgress();
  return {
    format: plan.format,
    files,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    get bytesRead() {
      return progress.bytes;
    },
    records() {
      progress = new ReadProgress();
      return readPlan(plan, progress);
    },
  };
}

async function pathKind(inputPath: string): Promise<'file' | 'folder'> {
  try {
    const info = await stat(inputPath);
    if (info.isDirectory()) return 'folder';
    if (info.isFile()) return 'file';
    throw new InputFileError(`${inputPath} is neither a file nor a folder`);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputFileError(`${inputPath}: no such file or folder`);
    }
    throw new InputFileError(`cannot read ${inputPath}: ${(error as Error).message}`);
  }
}

async function planFolder(folder: string, format: LoaderFormat | undefined): Promise<Plan> {
  const names = new Set(
    (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => entry.name),
  );
  const at = (name: string) => (names.has(name) ? path.join(folder, name) : undefined);

  const isMovieLens = names.has(MOVIELENS_FILE_NAMES.movies) || names.has(MOVIELENS_FILE_NAMES.ratings);
  const isMovieLens100k = names.has('u.data') || names.has('u.item');
  const isLastfmHetrec = names.has(LASTFM_HETREC_FILE_NAMES.taggings) && names.has(LASTFM_HETREC_FILE_NAMES.artists);
  const chosen = format ?? (isMovieLens ? 'movielens' : isMovieLens100k ? 'movielens-100k' : isLastfmHetrec ? 'lastfm-hetrec' : undefined);

  switch (chosen) {
    case 'movielens':
      if (!isMovieLens) throw new InputFileError(`${folder} holds no MovieLens movies.csv or ratings.csv`);
      return {
        format: 'movielens',
        files: dropUndefined({
          movies: at(MOVIELENS_FILE_NAMES.movies),
          // Tags only describe movies; without movies.csv there is nothing to attach them to.
          tags: names.has(MOVIELENS_FILE_NAMES.movies) ? at(MOVIELENS_FILE_NAMES.tags) : undefined,
          ratings: at(MOVIELENS_FILE_NAMES.ratings),
        }),
      };
    case 'movielens-100k':
      if (!isMovieLens100k) throw new InputFileError(`${folder} holds no MovieLens 100K u.data or u.item`);
      return {
        format: 'movielens-100k',
        files: dropUndefined({
          data: at('u.data'),
          item: at('u.item'),
          // Genre names only matter for the movies' genre flags.
          genre: names.has('u.item') ? at('u.genre') : undefined,
        }),
      };
    case 'lastfm-hetrec': {
      const taggings = at(LASTFM_HETREC_FILE_NAMES.taggings);
      if (taggings === undefined) {
        throw new InputFileError(`${folder} holds no Last.fm HetRec ${LASTFM_HETREC_FILE_NAMES.taggings}`);
      }
      return {
        format: 'lastfm-hetrec',
        files: dropUndefined({
          taggings,
          tags: at(LASTFM_HETREC_FILE_NAMES.tags),
          artists: at(LASTFM_HETREC_FILE_NAMES.artists),
        }),
      };
    }
    case 'csv':
    case 'jsonl': {
      const files = dataFilesIn(folder, [...names], chosen);
      if (files.length === 0) {
        throw new InputFileError(`${folder} holds no ${chosen === 'csv' ? '.csv' : '.jsonl or .ndjson'} files`);
      }
      return { format: chosen, files };
    }
    case undefined: {
      const jsonl = dataFilesIn(folder, [...names], 'jsonl');
      const csv = dataFilesIn(folder, [...names], 'csv');
      if (jsonl.length > 0 && csv.length > 0) {
        throw new InputFileError(`${folder} holds both .csv and .jsonl files; pass a format to say which to load`);
      }
      if (jsonl.length > 0) return { format: 'jsonl', files: jsonl };
      if (csv.length > 0) return { format: 'csv', files: csv };
      throw new InputFileError(
        `${folder} holds no data this loader recognises: MovieLens (movies.csv, ratings.csv), ` +
          'MovieLens 100K (u.data, u.item), Last.fm HetRec (user_taggedartists.dat, artists.dat), ' +
          'or .jsonl, .ndjson or .csv files',
      );
    }
  }
}

/** A folder's files of one format, catalogue files (`items*`) first so that events land on described items. */
function dataFilesIn(folder: string, names: string[], format: 'csv' | 'jsonl'): string[] {
  const extensions = format === 'csv' ? ['.csv'] : JSONL_EXTENSIONS;
  return names
    .filter((name) => extensions.includes(path.extname(name).toLowerCase()))
    .sort((a, b) => Number(!a.startsWith('items')) - Number(!b.startsWith('items')) || (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => path.join(folder, name));
}

async function planFile(file: string, format: LoaderFormat | undefined): Promise<Plan> {
  const name = path.basename(file);
  const extension = path.extname(name).toLowerCase();
  const folder = path.dirname(file);
  const sibling = async (siblingName: string) => {
    const candidate = path.join(folder, siblingName);
    return (await stat(candidate).catch(() => undefined))?.isFile() ? candidate : undefined;
  };

  let chosen = format;
  let movieLensRole: MovieLensRole | undefined;
  if (chosen === undefined || chosen === 'movielens') {
    if (extension === '.csv' || chosen === 'movielens') {
      movieLensRole = movieLensRoleOf(await readHeader(file, COMMA_SEPARATED));
    }
    if (movieLensRole !== undefined) chosen = 'movielens';
  }
  if (chosen === undefined) {
    if (name === 'u.data' || name === 'u.item') chosen = 'movielens-100k';
    else if (name === LASTFM_HETREC_FILE_NAMES.taggings) chosen = 'lastfm-hetrec';
    else if (JSONL_EXTENSIONS.includes(extension)) chosen = 'jsonl';
    else if (extension === '.csv') chosen = 'csv';
    else {
      throw new InputFileError(`cannot tell the format of ${file} from its name; pass one of ${LOADER_FORMATS.join(', ')}`);
    }
  }

  switch (chosen) {
    case 'movielens': {
      if (movieLensRole === undefined) {
        throw new InputFileError(
          `${file} is not a MovieLens movies.csv or ratings.csv: its header should be ` +
            `${MOVIELENS_COLUMNS.ratings.join(',')} or ${MOVIELENS_COLUMNS.movies.join(',')}`,
        );
      }
      if (movieLensRole === 'tags') {
        throw new InputFileError(`${file} holds MovieLens tags, which only describe movies: load the folder instead`);
      }
      // Handed one file of a release, read the movies and their tags from beside it too.
      const files: MovieLensFiles = { [movieLensRole]: file };
      if (files.movies === undefined) files.movies = await sibling(MOVIELENS_FILE_NAMES.movies);
      if (files.movies !== undefined) files.tags = await sibling(MOVIELENS_FILE_NAMES.tags);
      return { format: 'movielens', files: dropUndefined(files) };
    }
    case 'movielens-100k': {
      const isItemFile = name === 'u.item';
      const item = isItemFile ? file : await sibling('u.item');
      return {
        format: 'movielens-100k',
        files: dropUndefined({
          data: isItemFile ? undefined : file,
          item,
          genre: item !== undefined ? await sibling('u.genre') : undefined,
        }),
      };
    }
    case 'lastfm-hetrec':
      if (name !== LASTFM_HETREC_FILE_NAMES.taggings) {
        throw new InputFileError(`${file} is not a Last.fm HetRec ${LASTFM_HETREC_FILE_NAMES.taggings}: hand over that file or its folder`);
      }
      // Handed the taggings, read the tag names and artists from beside them too.
      return {
        format: 'lastfm-hetrec',
        files: dropUndefined({
          taggings: file,
          tags: await sibling(LASTFM_HETREC_FILE_NAMES.tags),
          artists: await sibling(LASTFM_HETREC_FILE_NAMES.artists),
        }),
      };
    case 'csv':
    case 'jsonl':
      return { format: chosen, files: [file] };
  }
}

function movieLensRoleOf(header: readonly string[]): MovieLensRole | undefined {
  const roles = Object.keys(MOVIELENS_COLUMNS) as MovieLensRole[];
  return roles.find((role) => MOVIELENS_COLUMNS[role].every((column) => header.includes(column)));
}

async function checkHeaders(plan: Plan): Promise<void> {
  if (plan.format === 'movielens') {
    for (const [role, file] of Object.entries(plan.files) as Array<[MovieLensRole, string]>) {
      requireColumns(file, MOVIELENS_COLUMNS[role])(await readHeader(file, COMMA_SEPARATED));
    }
  } else if (plan.format === 'lastfm-hetrec') {
    for (const [role, file] of Object.entries(plan.files) as Array<[LastfmHetrecRole, string]>) {
      requireColumns(file, LASTFM_HETREC_COLUMNS[role])(await readHeader(file, lastfmHetrecFileOptions(role)));
    }
  } else if (plan.format === 'csv') {
    for (const file of plan.files) await checkEventCsvFile(file);
  }
}

function planFiles(plan: Plan): string[] {
  switch (plan.format) {
    case 'movielens':
      return [plan.files.tags, plan.files.movies, plan.files.ratings].filter((f) => f !== undefined);
    case 'movielens-100k':
      return [plan.files.genre, plan.files.item, plan.files.data].filter((f) => f !== undefined);
    case 'lastfm-hetrec':
      return [plan.files.tags, plan.files.taggings, plan.files.artists].filter((f) => f !== undefined);
    case 'csv':
    case 'jsonl':
      return plan.files;
  }
}

async function* readPlan(plan: Plan, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  switch (plan.format) {
    case 'movielens':
      yield* readMovieLens(plan.files, progress);
      return;
    case 'movielens-100k':
      yield* readMovieLens100k(plan.files, progress);
      return;
    case 'lastfm-hetrec':
      yield* readLastfmHetrec(plan.files, progress);
      return;
    case 'csv':
      for (const file of plan.files) yield* readEventCsv(file, progress);
      return;
    case 'jsonl':
      for (const file of plan.files) yield* readJsonLines(file, progress);
      return;
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
