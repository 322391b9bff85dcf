import { type CatalogueItem, checkCatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import { COMMA_SEPARATED, readTableRows, requireColumns, type TableRow } from './delimited-file.ts';
import type { LoadRecord, ReadProgress } from './load-record.ts';
import { decimalNumber, describeIssues, epochSecondsAsMs, numericId, RowError, yearInTitle } from './row-values.ts';

/**
 * MovieLens "latest" releases (ml-latest-small, ml-latest, ml-32m): movies.csv, tags.csv and ratings.csv.
 * Movies become catalogue items, their genres and users' free-text tags become item tags, and ratings become
 * rating events. Yields every item before any event so that events land on described items.
 */

export const MOVIELENS_COLUMNS = {
  movies: ['movieId', 'title', 'genres'],
  tags: ['userId', 'movieId', 'tag', 'timestamp'],
  ratings: ['userId', 'movieId', 'rating', 'timestamp'],
} as const;

export type MovieLensRole = keyof typeof MOVIELENS_COLUMNS;

/** Which of the three files to read; any may be missing (e.g. ratings.csv handed over on its own). */
export type MovieLensFiles = Partial<Record<MovieLensRole, string>>;

const NO_GENRES = '(no genres listed)';
const MAX_ITEM_TAGS = 1000;
const MAX_TAG_LENGTH = 256;
const KEYWORD_PREFIX = 'keyword:';

export async function* readMovieLens(files: MovieLensFiles, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  if (files.movies !== undefined) {
    // User tags only describe movies, so they are read only when there are movies to attach them to.
    const keywords = new Map<string, Map<string, number>>();
    if (files.tags !== undefined) yield* readKeywords(files.tags, keywords, progress);
    const file = files.movies;
    for await (const row of movieLensRows(file, 'movies', progress)) {
      if (row.error !== undefined) {
        yield { kind: 'error', file, line: row.line, message: row.error };
        continue;
      }
      try {
        yield { kind: 'item', file, line: row.line, item: movieItem(row.values, keywords) };
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        yield { kind: 'error', file, line: row.line, message: error.message };
      }
    }
  }
  if (files.ratings !== undefined) {
    const file = files.ratings;
    for await (const row of movieLensRows(file, 'ratings', progress)) {
      if (row.error !== undefined) {
        yield { kind: 'error', file, line: row.line, message: row.error };
        continue;
      }
      try {
        yield { kind: 'event', file, line: row.line, event: ratingEvent(row.values) };
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        yield { kind: 'error', file, line: row.line, message: error.message };
      }
    }
  }
}

function movieLensRows(file: string, role: MovieLensRole, progress: ReadProgress): AsyncGenerator<TableRow> {
  return readTableRows(file, COMMA_SEPARATED, progress, requireColumns(file, MOVIELENS_COLUMNS[role]));
}

/** Collects each movie's distinct keywords with how many times users applied them; yields the bad rows. */
async function* readKeywords(file: string, keywords: Map<string, Map<string, number>>, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  for await (const row of movieLensRows(file, 'tags', progress)) {
    if (row.error !== undefined) {
      yield { kind: 'error', file, line: row.line, message: row.error };
      continue;
    }
    try {
      const [userId, movieId, text] = row.values as [string, string, string, string];
      numericId('userId', userId);
      numericId('movieId', movieId);
      const tag = KEYWORD_PREFIX + text.trim().toLowerCase();
      if (tag === KEYWORD_PREFIX) throw new RowError('tag is empty');
      if (tag.length > MAX_TAG_LENGTH) {
        throw new RowError(`tag is longer than ${MAX_TAG_LENGTH - KEYWORD_PREFIX.length} characters`);
      }
      let counts = keywords.get(movieId);
      if (counts === undefined) keywords.set(movieId, (counts = new Map<string, number>()));
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      yield { kind: 'error', file, line: row.line, message: error.message };
    }
  }
}

function movieItem(values: string[], keywords: ReadonlyMap<string, ReadonlyMap<string, number>>): CatalogueItem {
  const [rawId, rawTitle, genres] = values as [string, string, string];
  const id = numericId('movieId', rawId);
  const title = rawTitle.trim();
  if (title === '') throw new RowError('title is empty');
  const tags = genres
    .split('|')
    .map((g) => g.trim())
    .filter((g) => g !== '' && g !== NO_GENRES)
    .map((g) => `genre:${g}`);
  tags.push(...topKeywords(keywords.get(id), MAX_ITEM_TAGS - tags.length));
  const year = yearInTitle(title);
  const checked = checkCatalogueItem({ id, title, tags, ...(year !== undefined ? { attributes: { year } } : {}) });
  if (!checked.ok) throw new RowError(describeIssues(checked.issues));
  return checked.item;
}

/**
 * A movie's keywords in the order users first applied them; in the full datasets a few movies carry more
 * distinct tags than an item may hold, and then the most applied ones are kept.
 */
function topKeywords(counts: ReadonlyMap<string, number> | undefined, room: number): string[] {
  if (counts === undefined) return [];
  const tags = [...counts.keys()];
  if (tags.length <= room) return tags;
  return tags.sort((a, b) => counts.get(b)! - counts.get(a)!).slice(0, Math.max(0, room));
}

function ratingEvent(values: string[]): InteractionEventInput {
  const [rawUser, rawMovie, rawRating, rawTimestamp] = values as [string, string, string, string];
  const userId = numericId('userId', rawUser);
  const itemId = numericId('movieId', rawMovie);
  const value = decimalNumber('rating', rawRating);
  const timestamp = epochSecondsAsMs('timestamp', rawTimestamp);
  return { id: `ml:${userId}:${itemId}:${rawTimestamp}`, type: 'rating', userId, itemId, value, timestamp };
}
