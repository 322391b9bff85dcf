import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { InputFileError } from '../../base/errors.ts';
import { type LoadRecord, openLoader } from '../../src/loaders/index.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (...parts: string[]) => path.join(FIXTURES, ...parts);

async function load(inputPath: string, format?: string): Promise<LoadRecord[]> {
  const loader = await openLoader(inputPath, format);
  const records: LoadRecord[] = [];
  for await (const record of loader.records()) records.push(record);
  return records;
}

const items = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'item' ? [r] : []));
const events = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'event' ? [r] : []));
const errors = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'error' ? [r] : []));
const where = (records: LoadRecord[]) => records.map((r) => `${path.basename(r.file)}:${r.line}`);

/** Asserts an InputFileError whose message names `mentions` (a path, a column) so the user can act on it. */
async function rejectsWithInputFileError(promise: Promise<unknown>, ...mentions: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputFileError, `expected an InputFileError, got ${String(error)}`);
    for (const text of mentions) assert.ok(error.message.includes(text), `'${error.message}' should mention '${text}'`);
    return true;
  });
}

describe('data loaders', () => {
  const temporaryFolders: string[] = [];
  const temporaryFolder = () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'loaders-'));
    temporaryFolders.push(folder);
    return folder;
  };
  after(() => {
    for (const folder of temporaryFolders) rmSync(folder, { recursive: true, force: true });
  });

  describe('MovieLens (latest)', () => {
    const folder = fixture('movielens-latest');

    it('reads every movie, then every rating, reporting the bad row and going on', async () => {
      const records = await load(folder);
      assert.equal(items(records).length, 5);
      assert.equal(events(records).length, 19);
      assert.deepEqual(
        errors(records).map((r) => [path.basename(r.file), r.line, r.message]),
        [['ratings.csv', 10, "rating 'abc' is not a number"]],
      );
      const kinds = records.map((r) => r.kind);
      const lastItem = kinds.lastIndexOf('item');
      const firstEvent = kinds.indexOf('event');
      assert.ok(lastItem < firstEvent, 'items come before events');
      assert.deepEqual(where(events(records)).slice(0, 2), ['ratings.csv:2', 'ratings.csv:3']);
      assert.equal(events(records).at(-1)!.line, 21, 'the header is line 1');
    });

    it('maps a rating to a rating event with its timestamp in milliseconds', async () => {
      const [first] = events(await load(folder));
      assert.deepEqual(first!.event, {
        id: 'ml:1:1:964982703',
        type: 'rating',
        userId: '1',
        itemId: '1',
        value: 4,
        timestamp: 964_982_703_000,
      });
    });

    it('maps movies to items: quoted titles, genres, the year, users’ tags as keywords', async () => {
      const byId = new Map(items(await load(folder)).map((r) => [r.item.id, r.item]));
      assert.deepEqual(byId.get('1'), {
        id: '1',
        title: 'Toy Story (1995)',
        // "Pixar" and " pixar " are one keyword.
        tags: ['genre:Adventure', 'genre:Animation', 'genre:Children', 'genre:Comedy', 'genre:Fantasy', 'keyword:pixar'],
        attributes: { year: 1995 },
      });
      assert.equal(byId.get('11')!.title, 'American President, The (1995)');
      assert.deepEqual(byId.get('11')!.tags, ['genre:Comedy', 'genre:Drama', 'genre:Romance', 'keyword:politics, romance']);
      const keywords = byId.get('50')!.tags.filter((t) => t.startsWith('keyword:'));
      assert.deepEqual(keywords, ['keyword:twist ending', 'keyword:kevin spacey']);
      assert.deepEqual(byId.get('171495'), { id: '171495', title: 'Cosmos', tags: [] }, 'no genres listed, no year');
    });

    it('reads movies and tags from beside a ratings.csv it is handed', async () => {
      const loader = await openLoader(fixture('movielens-latest', 'ratings.csv'));
      assert.equal(loader.format, 'movielens');
      assert.deepEqual(
        loader.files.map((f) => path.basename(f.path)),
        ['tags.csv', 'movies.csv', 'ratings.csv'],
      );
      assert.equal(items(await load(fixture('movielens-latest', 'ratings.csv'))).length, 5);
    });

    it('reads only the ratings when ratings.csv is on its own', async () => {
      const alone = temporaryFolder();
      copyFileSync(fixture('movielens-latest', 'ratings.csv'), path.join(alone, 'ratings.csv'));
      const records = await load(path.join(alone, 'ratings.csv'));
      assert.equal(items(records).length, 0);
      assert.equal(events(records).length, 19);
    });

    it('refuses a movies.csv without the MovieLens columns before reading any row', async () => {
      const broken = temporaryFolder();
      writeFileSync(path.join(broken, 'movies.csv'), 'movieId,name,genres\n1,Heat (1995),Action\n');
      await rejectsWithInputFileError(openLoader(broken), 'movies.csv', 'title');
    });
  });

  describe('MovieLens 100K', () => {
    const folder = fixture('ml-100k');

    it('reads u.item then u.data, reporting bad rows by line', async () => {
      const records = await load(folder);
      assert.equal(items(records).length, 5);
      assert.equal(events(records).length, 9);
      assert.deepEqual(
        errors(records).map((r) => [path.basename(r.file), r.line, r.message]),
        [
          ['u.data', 6, "item id 'x' is not a numeric id"],
          ['u.data', 11, 'expected 4 columns (user id, item id, rating, timestamp), found 3'],
        ],
      );
      assert.deepEqual(events(records)[0]!.event, {
        id: 'ml100k:1:1:874965758',
        type: 'rating',
        userId: '1',
        itemId: '1',
        value: 5,
        timestamp: 874_965_758_000,
      });
      assert.equal(events(records).at(-1)!.line, 10, 'no header: the first row is line 1');
    });

    it('decodes u.item as latin1 and names genres from u.genre', async () => {
      const byId = new Map(items(await load(folder)).map((r) => [r.item.id, r.item]));
      assert.deepEqual(byId.get('4'), {
        id: '4',
        title: 'Misérables, Les (1995)',
        tags: ['genre:Drama', 'genre:Musical'],
        attributes: { year: 1995 },
      });
      assert.deepEqual(byId.get('1')!.tags, ['genre:Animation', "genre:Children's", 'genre:Comedy']);
      assert.deepEqual(byId.get('267'), { id: '267', title: 'unknown', tags: [] }, 'the unknown genre is no genre');
    });

    it('uses the standard genre names without u.genre, and the given ones with it', async () => {
      const without = temporaryFolder();
      for (const name of ['u.data', 'u.item']) copyFileSync(fixture('ml-100k', name), path.join(without, name));
      const standard = items(await load(without)).find((r) => r.item.id === '2')!;
      assert.deepEqual(standard.item.tags, ['genre:Action', 'genre:Adventure', 'genre:Thriller']);

      const renamed = [...'ABCDEFGHIJKLMNOPQRS'].map((letter, i) => `${letter}|${i}`).join('\n');
      writeFileSync(path.join(without, 'u.genre'), `${renamed}\n`);
      const custom = items(await load(without)).find((r) => r.item.id === '2')!;
      assert.deepEqual(custom.item.tags, ['genre:B', 'genre:C', 'genre:Q']);
    });

    it('accepts u.data handed over directly', async () => {
      const loader = await openLoader(fixture('ml-100k', 'u.data'));
      assert.equal(loader.format, 'movielens-100k');
      const records = await load(fixture('ml-100k', 'u.data'));
      assert.equal(items(records).length, 5);
      assert.equal(events(records).length, 9);
    });
  });

  describe('event CSV', () => {
    it('maps columns by the header, leaves empty cells out and converts numbers', async () => {
      const records = await load(fixture('events.csv'));
      assert.deepEqual(
        events(records).map((r) => [r.line, r.event]),
        [
          [2, { id: 'e1', userId: 'u1', itemId: 'item-1', type: 'view', timestamp: 1_700_000_000_000 }],
          [3, { id: 'e2', userId: 'u1', itemId: 'item-2', type: 'rating', value: 4.5, timestamp: 1_700_000_001_000 }],
          [4, { id: 'e3', sessionId: 's1', itemId: 'item-1', type: 'click', timestamp: '2024-05-01T12:00:00Z' }],
          [5, { id: 'e4,quoted', userId: 'u2', itemId: 'item-3', type: 'purchase', timestamp: 1_700_000_002_000 }],
          [8, { id: 'e7', userId: 'u3', itemId: 'item-2', type: 'like' }],
        ],
      );
      assert.deepEqual(
        errors(records).map((r) => [r.line, r.message]),
        [
          [6, "value 'abc' is not a number"],
          [7, 'expected 7 columns (id, userId, sessionId, itemId, type, value, timestamp), found 6'],
        ],
      );
    });

    it('refuses unknown columns, naming them, before reading any row', async () => {
      const opening = openLoader(fixture('unknown-columns.csv'));
      await rejectsWithInputFileError(opening, 'unknown-columns.csv', "'rating'", "'when'");
    });

    it('refuses a header without the columns every event needs', async () => {
      const file = path.join(temporaryFolder(), 'no-item.csv');
      writeFileSync(file, 'id,type,userId\ne1,view,u1\n');
      await rejectsWithInputFileError(openLoader(file), 'itemId');
    });

    it('loses only the row with an unbalanced quote', async () => {
      const records = await load(fixture('broken-quotes.csv'));
      assert.deepEqual(
        events(records).map((r) => [r.line, r.event.id]),
        [
          [2, 'q1'],
          [4, 'q3'],
          [5, 'q4'],
          [6, 'q5'],
        ],
      );
      assert.deepEqual(
        errors(records).map((r) => r.line),
        [3, 7],
      );
      assert.match(errors(records)[0]!.message, /quote/);
    });

    it('goes on after a quote that is never closed in a long file', async () => {
      const file = path.join(temporaryFolder(), 'long.csv');
      const rows = ['id,type,userId,itemId', 'l1,view,u1,i1', '"l2,view,u1,i2'];
      for (let i = 3; i <= 60_000; i++) rows.push(`l${i},view,u1,i${i}`);
      writeFileSync(file, `${rows.join('\n')}\n`);
      const records = await load(file);
      assert.deepEqual(
        errors(records).map((r) => r.line),
        [3],
      );
      assert.match(errors(records)[0]!.message, /MiB; is a quote unbalanced/);
      assert.equal(events(records).length, 59_999);
      assert.equal(events(records).at(-1)!.line, 60_001);
    });

    it('counts lines right with a byte order mark, CRLF line ends and blank lines', async () => {
      const file = path.join(temporaryFolder(), 'windows.csv');
      const lines = ['\uFEFFid,type,userId,itemId', 'w1,view,u1,i1', '', 'w2,view,u1,x,extra', 'w3,view,u1,i3'];
      writeFileSync(file, `${lines.join('\r\n')}\r\n`);
      const records = await load(file);
      assert.deepEqual(where(records), ['windows.csv:2', 'windows.csv:4', 'windows.csv:5']);
      assert.equal(records[1]!.kind, 'error');
      assert.deepEqual(events(records)[0]!.event, { id: 'w1', type: 'view', userId: 'u1', itemId: 'i1' });
    });
  });

  describe('JSON Lines', () => {
    it('reads items and events, skips blank lines and reports bad lines', async () => {
      const records = await load(fixture('events.jsonl'));
      assert.deepEqual(
        records.map((r) => [r.line, r.kind]),
        [
          [1, 'item'],
          [2, 'item'],
          [3, 'event'],
          [5, 'event'],
          [6, 'error'],
          [7, 'error'],
          [8, 'error'],
          [9, 'event'],
        ],
      );
      assert.deepEqual(items(records)[1]!.item, {
        id: 'item-2',
        title: 'Red Mug',
        tags: ['colour:red', 'kitchen'],
        attributes: { price: 9.5 },
      });
      assert.deepEqual(events(records)[1]!.event, {
        id: 'j2',
        type: 'rating',
        userId: 'u1',
        itemId: 'item-2',
        value: 4,
        timestamp: '2024-05-01T12:00:00Z',
      });
      const [json, item, array] = errors(records);
      assert.match(json!.message, /^not valid JSON/);
      assert.match(item!.message, /^invalid item: item\.title/);
      assert.match(array!.message, /found an array/);
    });

    it('reads a folder of files, the items files first', async () => {
      const loader = await openLoader(fixture('synthetic'));
      assert.equal(loader.format, 'jsonl');
      assert.deepEqual(
        loader.files.map((f) => path.basename(f.path)),
        ['items.jsonl', 'events.jsonl', 'more-events.ndjson'],
      );
      const records = await load(fixture('synthetic'));
      assert.deepEqual(
        records.map((r) => r.kind),
        ['item', 'item', 'event', 'event', 'event'],
      );
    });
  });

  describe('format detection', () => {
    it('tells the format from the folder’s files or the file’s name', async () => {
      const formats = await Promise.all(
        [
          fixture('movielens-latest'),
          fixture('movielens-latest', 'movies.csv'),
          fixture('ml-100k'),
          fixture('events.csv'),
          fixture('events.jsonl'),
          fixture('synthetic'),
        ].map(async (p) => (await openLoader(p)).format),
      );
      assert.deepEqual(formats, ['movielens', 'movielens', 'movielens-100k', 'csv', 'jsonl', 'jsonl']);
    });

    it('asks for a format when a folder holds both CSV and JSON Lines files', async () => {
      const mixed = temporaryFolder();
      copyFileSync(fixture('events.csv'), path.join(mixed, 'events.csv'));
      copyFileSync(fixture('events.jsonl'), path.join(mixed, 'events.jsonl'));
      await rejectsWithInputFileError(openLoader(mixed), mixed, 'format');
      const loader = await openLoader(mixed, 'jsonl');
      assert.deepEqual(
        loader.files.map((f) => path.basename(f.path)),
        ['events.jsonl'],
      );
    });

    it('reports a missing path, an unknown format and unrecognisable input clearly', async () => {
      const missing = path.join(temporaryFolder(), 'nowhere');
      await rejectsWithInputFileError(openLoader(missing), missing, 'no such file');
      await rejectsWithInputFileError(openLoader(fixture('events.csv'), 'xml'), "'xml'", 'movielens');
      const text = path.join(temporaryFolder(), 'notes.txt');
      writeFileSync(text, 'hello\n');
      await rejectsWithInputFileError(openLoader(text), text, 'format');
      const empty = temporaryFolder();
      await rejectsWithInputFileError(openLoader(empty), empty);
    });

    it('refuses a folder that does not hold the format asked for', async () => {
      await rejectsWithInputFileError(openLoader(fixture('ml-100k'), 'movielens'), 'movies.csv');
      await rejectsWithInputFileError(openLoader(fixture('movielens-latest'), 'movielens-100k'), 'u.data');
    });
  });

  it('counts the bytes it reads, for a progress bar', async () => {
    const loader = await openLoader(fixture('movielens-latest'));
    assert.equal(
      loader.totalBytes,
      loader.files.reduce((sum, f) => sum + f.bytes, 0),
    );
    assert.equal(loader.bytesRead, 0);
    for await (const _ of loader.records());
    assert.equal(loader.bytesRead, loader.totalBytes);
  });
});
