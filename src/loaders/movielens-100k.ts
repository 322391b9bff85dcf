import { InputFileError } from '../../base/errors.ts';
import { type CatalogueItem, checkCatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import { type DelimitedFileOptions, readDelimitedRows } from './delimited-file.ts';
import type { LoadRecord, ReadProgress } from './load-record.ts';
import { columnCountIssue, decimalNumber, describeIssues, epochSecondsAsMs, numericId, RowError, yearInTitle } from './row-values.ts';

/**
 * The MovieLens 100K release (ml-100k): u.data (ratings), u.item (movies, latin1-encoded, one 0/1 flag per
 * genre) and u.genre (the genre names, by flag position). None of its files has a header row.
 */

export interface MovieLens100kFiles {
  readonly data?: string;
  readonly item?: string;
  readonly genre?: string;
}

/** As listed in the release's u.genre; used when that file is not there. */
export const MOVIELENS_100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

/** The "unknown" flag marks a movie without genres, like "(no genres listed)" in the latest releases. */
const NO_GENRE = 'unknown';

const RATING_COLUMNS = ['user id', 'item id', 'rating', 'timestamp'];
const ITEM_COLUMNS = ['movie id', 'movie title', 'release date', 'video release date', 'IMDb URL'];

const TAB_SEPARATED: DelimitedFileOptions = { delimiter: '\t', quoted: false, encoding: 'latin1' };
const PIPE_SEPARATED: DelimitedFileOptions = { delimiter: '|', quoted: false, encoding: 'latin1' };

export async function* readMovieLens100k(files: MovieLens100kFiles, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  if (files.item !== undefined) {
    let genres: readonly string[] = MOVIELENS_100K_GENRES;
    if (files.genre !== undefined) {
      const named: string[] = [];
      yield* readGenres(files.genre, named, progress);
      genres = named;
    }
    const columns = [...ITEM_COLUMNS, ...genres];
    const file = files.item;
    for await (const row of readDelimitedRows(file, PIPE_SEPARATED, progress)) {
      if (row.error !== undefined) {
        yield { kind: 'error', file, line: row.line, message: row.error };
        continue;
      }
      try {
        if (row.fields.length !== columns.length) throw new RowError(columnCountIssue(row.fields.length, columns));
        yield { kind: 'item', file, line: row.line, item: movieItem(row.fields, genres) };
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        yield { kind: 'error', file, line: row.line, message: error.message };
      }
    }
  }
  if (files.data !== undefined) {
    const file = files.data;
    for await (const row of readDelimitedRows(file, TAB_SEPARATED, progress)) {
      if (row.error !== undefined) {
        yield { kind: 'error', file, line: row.line, message: row.error };
        continue;
      }
      try {
        if (row.fields.length !== RATING_COLUMNS.length) {
          throw new RowError(columnCountIssue(row.fields.length, RATING_COLUMNS));
        }
        yield { kind: 'event', file, line: row.line, event: ratingEvent(row.fields) };
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        yield { kind: 'error', file, line: row.line, message: error.message };
      }
    }
  }
}

/** Fills `genres` from `name|index` lines; bad lines are yielded, and gaps in the indexes refuse the file. */
async function* readGenres(file: string, genres: string[], progress: ReadProgress): AsyncGenerator<LoadRecord> {
  for await (const row of readDelimitedRows(file, PIPE_SEPARATED, progress)) {
    if (row.error !== undefined) {
      yield { kind: 'error', file, line: row.line, message: row.error };
      continue;
    }
    const [name, index] = row.fields;
    if (row.fields.length !== 2 || name === undefined || index === undefined) {
      yield { kind: 'error', file, line: row.line, message: columnCountIssue(row.fields.length, ['name', 'index']) };
    } else if (name === '') {
      yield { kind: 'error', file, line: row.line, message: 'genre name is empty' };
    } else if (!/^\d+$/.test(index)) {
      yield { kind: 'error', file, line: row.line, message: `index '${index}' is not a whole number` };
    } else {
      genres[Number(index)] = name;
    }
  }
  // A missing index would shift every later genre flag onto the wrong name.
  for (let i = 0; i < genres.length; i++) {
    if (genres[i] === undefined) {
      throw new InputFileError(`${file}: no genre has index ${i}; indexes must run 0, 1, 2, …`);
    }
  }
  if (genres.length === 0) throw new InputFileError(`${file} names no genres`);
}

function movieItem(fields: string[], genres: readonly string[]): CatalogueItem {
  const id = numericId('movie id', fields[0]!);
  const title = fields[1]!.trim();
  if (title === '') throw new RowError('movie title is empty');
  const tags: string[] = [];
  genres.forEach((genre, i) => {
    const flag = fields[ITEM_COLUMNS.length + i]!;
    if (flag !== '0' && flag !== '1') throw new RowError(`genre flag ${genre} '${flag}' is not 0 or 1`);
    if (flag === '1' && genre !== NO_GENRE) tags.push(`genre:${genre}`);
  });
  const year = yearInTitle(title);
  const checked = checkCatalogueItem({ id, title, tags, ...(year !== undefined ? { attributes: { year } } : {}) });
  if (!checked.ok) throw new RowError(describeIssues(checked.issues));
  return checked.item;
}

function ratingEvent(fields: string[]): InteractionEventInput {
  const userId = numericId('user id', fields[0]!);
  const itemId = numericId('item id', fields[1]!);
  const value = decimalNumber('rating', fields[2]!);
  const timestamp = epochSecondsAsMs('timestamp', fields[3]!);
  // Prefixed apart from the latest releases' event ids: the two number their movies differently.
  return { id: `ml100k:${userId}:${itemId}:${fields[3]}`, type: 'rating', userId, itemId, value, timestamp };
}
