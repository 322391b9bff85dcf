import { type CatalogueItem, checkCatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import { identifierProblem } from '../identifier.ts';
import { type DelimitedFileOptions, readTableRows, requireColumns, type TableRow } from './delimited-file.ts';
import type { LoadRecord, ReadProgress } from './load-record.ts';
import { describeIssues, numericId, RowError } from './row-values.ts';

/**
 * The Last.fm HetRec 2011 release (hetrec2011-lastfm-2k): tab-separated files with a header row.
 *
 * - A user tagging an artist is a `like` of that artist, dated by the tagging. A user who tags one artist
 *   several times (several tags, or the same tag again later) liked it once: the pair is one event, dated by
 *   its earliest tagging (ties in time: the row read first), so a later tag is not a second positive.
 * - An artist's item tags are the tags (`keyword:<tag>`, as MovieLens users' tags) that at least
 *   `MIN_TAGGERS` distinct users gave it, most-given first. Here the tags are written by the very taggings
 *   that are the interactions: a tag only one user gave an artist is that user's own label ("seen live"),
 *   and on an item it would hand a model the held-out tagging itself.
 * - Artists become items titled by their names, only those someone tagged (artists.dat also lists artists
 *   only listened to, which would be catalogue entries without a single interaction).
 *
 * Dates are day, month and year columns (almost all on the 1st: the release is month-level), read as UTC
 * midnight. user_artists.dat (listening counts, undated: a snapshot taken when the release was built) and
 * user_friends.dat are not read; see the README for why.
 */

export const LASTFM_HETREC_COLUMNS = {
  taggings: ['userID', 'artistID', 'tagID', 'day', 'month', 'year'],
  tags: ['tagID', 'tagValue'],
  artists: ['id', 'name', 'url', 'pictureURL'],
} as const;

export type LastfmHetrecRole = keyof typeof LASTFM_HETREC_COLUMNS;

export const LASTFM_HETREC_FILE_NAMES: Record<LastfmHetrecRole, string> = {
  taggings: 'user_taggedartists.dat',
  tags: 'tags.dat',
  artists: 'artists.dat',
};

/** The taggings are required; without tags.dat items have no tags, without artists.dat there are no items. */
export type LastfmHetrecFiles = { readonly taggings: string } & Partial<Record<'tags' | 'artists', string>>;

/** A tag at least this many users gave an artist describes it; fewer is one user's own label. */
export const MIN_TAGGERS = 2;
const KEYWORD_PREFIX = 'keyword:';
/** How the item tags were derived from the events, so an evaluation can derive them from its training split alone. */
const DERIVED_TAGS = { minSubjects: MIN_TAGGERS } as const;
const MAX_ITEM_TAGS = 1000;

// tags.dat is ISO-8859-1 (e.g. "tropic\xe1lia"); the others are UTF-8 (artists.dat holds names in every script).
const TAGS_FILE: DelimitedFileOptions = { delimiter: '\t', quoted: false, encoding: 'latin1' };
const UTF8_FILE: DelimitedFileOptions = { delimiter: '\t', quoted: false, encoding: 'utf8' };

export function lastfmHetrecFileOptions(role: LastfmHetrecRole): DelimitedFileOptions {
  return role === 'tags' ? TAGS_FILE : UTF8_FILE;
}

/** The earliest tagging of one (user, artist) pair, and the tags the user gave the artist. */
interface FirstTagging {
  readonly userId: string;
  readonly artistId: string;
  ts: number;
  line: number;
  readonly tags: Set<string>;
}

export async function* readLastfmHetrec(files: LastfmHetrecFiles, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  const tagNames = new Map<string, string>();
  if (files.tags !== undefined) yield* readTagNames(files.tags, tagNames, progress);

  const pairs = new Map<string, FirstTagging>();
  // artist → tag → the users who gave it.
  const taggers = new Map<string, Map<string, Set<string>>>();
  const file = files.taggings;
  for await (const row of rows(file, 'taggings', progress)) {
    if (row.error !== undefined) {
      yield { kind: 'error', file, line: row.line, message: row.error };
      continue;
    }
    try {
      const [rawUser, rawArtist, rawTag, day, month, year] = row.values as [string, string, string, string, string, string];
      const userId = numericId('userID', rawUser);
      const artistId = numericId('artistID', rawArtist);
      const tagId = numericId('tagID', rawTag);
      const ts = utcDate(day, month, year);
      const key = `${userId}\t${artistId}`;
      const first = pairs.get(key);
      let pair = first;
      if (pair === undefined) pairs.set(key, (pair = { userId, artistId, ts, line: row.line, tags: new Set() }));
      else if (ts < pair.ts) {
        pair.ts = ts;
        pair.line = row.line;
      }
      // A tag id tags.dat does not name still marks a tagging; it just cannot describe the artist.
      const tag = tagNames.get(tagId);
      if (tag !== undefined) {
        pair.tags.add(tag);
        let byTag = taggers.get(artistId);
        if (byTag === undefined) taggers.set(artistId, (byTag = new Map<string, Set<string>>()));
        let users = byTag.get(tag);
        if (users === undefined) byTag.set(tag, (users = new Set()));
        users.add(userId);
      }
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      yield { kind: 'error', file, line: row.line, message: error.message };
    }
  }

  if (files.artists !== undefined) {
    const tagged = new Set<string>();
    for (const pair of pairs.values()) tagged.add(pair.artistId);
    const artistsFile = files.artists;
    for await (const row of rows(artistsFile, 'artists', progress)) {
      if (row.error !== undefined) {
        yield { kind: 'error', file: artistsFile, line: row.line, message: row.error };
        continue;
      }
      try {
        const id = numericId('id', row.values[0]!);
        if (!tagged.has(id)) continue;
        yield {
          kind: 'item',
          file: artistsFile,
          line: row.line,
          item: artistItem(id, row.values[1]!, taggers.get(id)),
          derivedTags: DERIVED_TAGS,
        };
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        yield { kind: 'error', file: artistsFile, line: row.line, message: error.message };
      }
    }
  }

  // In file order of the rows that dated them, so equal dates keep the order the release lists them in.
  const ordered = [...pairs.values()].sort((a, b) => a.line - b.line);
  for (const pair of ordered) yield { kind: 'event', file, line: pair.line, event: taggingEvent(pair) };
}

function rows(file: string, role: LastfmHetrecRole, progress: ReadProgress): AsyncGenerator<TableRow> {
  return readTableRows(file, lastfmHetrecFileOptions(role), progress, requireColumns(file, LASTFM_HETREC_COLUMNS[role]));
}

/** Fills `names` (tag id → `keyword:<tag>`); yields the rows whose tag cannot be an item tag. */
async function* readTagNames(file: string, names: Map<string, string>, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  for await (const row of rows(file, 'tags', progress)) {
    if (row.error !== undefined) {
      yield { kind: 'error', file, line: row.line, message: row.error };
      continue;
    }
    try {
      const [rawId, value] = row.values as [string, string];
      const id = numericId('tagID', rawId);
      const text = value.trim().toLowerCase();
      if (text === '') throw new RowError('tagValue is empty');
      const tag = KEYWORD_PREFIX + text;
      const problem = identifierProblem(tag);
      if (problem !== null) throw new RowError(`tagValue as the tag '${KEYWORD_PREFIX}…' ${problem}`);
      names.set(id, tag);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      yield { kind: 'error', file, line: row.line, message: error.message };
    }
  }
}

/** UTC midnight of the row's date; a date that does not exist, or one before 1970, refuses the row. */
function utcDate(rawDay: string, rawMonth: string, rawYear: string): number {
  const day = wholeNumber('day', rawDay);
  const month = wholeNumber('month', rawMonth);
  const year = wholeNumber('year', rawYear);
  const ts = Date.UTC(year, month - 1, day);
  const date = new Date(ts);
  const written = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  // Date.UTC rolls 31 February over into March and reads years below 100 as 19xx: compare what came back.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new RowError(`date ${written} does not exist`);
  }
  // The release has a few taggings dated 1956–1957, years before Last.fm; events cannot carry them anyway.
  if (ts < 0) throw new RowError(`date ${written} is before 1970`);
  return ts;
}

function wholeNumber(column: string, raw: string): number {
  if (raw === '') throw new RowError(`${column} is empty`);
  if (!/^\d+$/.test(raw)) throw new RowError(`${column} '${raw}' is not a whole number`);
  return Number(raw);
}

function artistItem(id: string, rawName: string, byTag: ReadonlyMap<string, ReadonlySet<string>> | undefined): CatalogueItem {
  const title = rawName.trim();
  if (title === '') throw new RowError('name is empty');
  const checked = checkCatalogueItem({ id, title, tags: describingTags(byTag) });
  if (!checked.ok) throw new RowError(describeIssues(checked.issues));
  return checked.item;
}

/** The tags enough users gave, most-given first (ties: the order first given); at most an item's limit. */
function describingTags(byTag: ReadonlyMap<string, ReadonlySet<string>> | undefined): string[] {
  if (byTag === undefined) return [];
  return [...byTag]
    .filter(([, users]) => users.size >= MIN_TAGGERS)
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, MAX_ITEM_TAGS)
    .map(([tag]) => tag);
}

function taggingEvent(pair: FirstTagging): InteractionEventInput {
  return {
    id: `lastfm:${pair.userId}:${pair.artistId}`,
    type: 'like',
    userId: pair.userId,
    itemId: pair.artistId,
    timestamp: pair.ts,
    // The user's own tags on the artist: what the item tags are counted from (see DERIVED_TAGS).
    ...(pair.tags.size > 0 ? { context: { tags: [...pair.tags] } } : {}),
  };
}
