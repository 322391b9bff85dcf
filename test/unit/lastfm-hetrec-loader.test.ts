import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { InputFileError } from '../../base/errors.ts';
import { prepareEvaluation } from '../../src/evaluation/evaluation-data.ts';
import { readInteractionLog } from '../../src/evaluation/interaction-log.ts';
import { type LoadRecord, openLoader } from '../../src/loaders/index.ts';

const FOLDER = fileURLToPath(new URL('../fixtures/lastfm-hetrec/', import.meta.url));
const FILES = ['artists.dat', 'tags.dat', 'user_taggedartists.dat'];

async function load(inputPath: string, format?: string): Promise<LoadRecord[]> {
  const records: LoadRecord[] = [];
  for await (const record of (await openLoader(inputPath, format)).records()) records.push(record);
  return records;
}

const items = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'item' ? [r.item] : []));
const events = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'event' ? [r] : []));
const errors = (records: LoadRecord[]) => records.flatMap((r) => (r.kind === 'error' ? [[path.basename(r.file), r.line, r.message]] : []));
const utc = (date: string) => Date.parse(`${date}T00:00:00Z`);

async function rejectsWithInputFileError(promise: Promise<unknown>, ...mentions: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputFileError, `expected an InputFileError, got ${String(error)}`);
    for (const text of mentions) assert.ok(error.message.includes(text), `'${error.message}' should mention '${text}'`);
    return true;
  });
}

describe('Last.fm HetRec loader', () => {
  const temporaryFolders: string[] = [];
  const temporaryFolder = () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'lastfm-'));
    temporaryFolders.push(folder);
    return folder;
  };
  after(() => {
    for (const folder of temporaryFolders) rmSync(folder, { recursive: true, force: true });
  });

  it('is detected from user_taggedartists.dat and artists.dat, and reads tags, taggings, artists', async () => {
    const loader = await openLoader(FOLDER);
    assert.equal(loader.format, 'lastfm-hetrec');
    assert.deepEqual(
      loader.files.map((f) => path.basename(f.path)),
      ['tags.dat', 'user_taggedartists.dat', 'artists.dat'],
    );
    const handed = await openLoader(path.join(FOLDER, 'user_taggedartists.dat'));
    assert.equal(handed.format, 'lastfm-hetrec');
    assert.equal(handed.files.length, 3, 'the tag names and artists are read from beside the taggings');
  });

  it('makes one like per (user, artist), dated by its earliest tagging, in the release’s row order, with the user’s tags', async () => {
    const records = await load(FOLDER);
    assert.deepEqual(
      events(records).map((r) => [r.line, r.event]),
      [
        // Tagged in April, then (row 3) in March, then again in May: one like, dated March.
        [
          3,
          {
            id: 'lastfm:2:51',
            type: 'like',
            userId: '2',
            itemId: '51',
            timestamp: utc('2009-03-01'),
            context: { tags: ['keyword:rock', 'keyword:tropicália'] },
          },
        ],
        [5, { id: 'lastfm:2:52', type: 'like', userId: '2', itemId: '52', timestamp: utc('2009-03-01'), context: { tags: ['keyword:tropicália'] } }],
        // Its 1956 row is refused; the pair is dated by the row that remains.
        [7, { id: 'lastfm:2:53', type: 'like', userId: '2', itemId: '53', timestamp: utc('2010-07-01'), context: { tags: ['keyword:seen live'] } }],
        [
          8,
          {
            id: 'lastfm:3:51',
            type: 'like',
            userId: '3',
            itemId: '51',
            timestamp: utc('2010-08-01'),
            context: { tags: ['keyword:tropicália', 'keyword:seen live'] },
          },
        ],
        // An artist missing from artists.dat is still a liked item.
        [11, { id: 'lastfm:3:99', type: 'like', userId: '3', itemId: '99', timestamp: utc('2010-08-01'), context: { tags: ['keyword:rock'] } }],
        [12, { id: 'lastfm:4:51', type: 'like', userId: '4', itemId: '51', timestamp: utc('2010-09-01'), context: { tags: ['keyword:rock'] } }],
        // The day column is kept where it is not the 1st.
        [15, { id: 'lastfm:4:53', type: 'like', userId: '4', itemId: '53', timestamp: utc('2011-05-05'), context: { tags: ['keyword:seen live'] } }],
        // A tag id tags.dat does not name is still a tagging.
        [16, { id: 'lastfm:4:52', type: 'like', userId: '4', itemId: '52', timestamp: utc('2011-01-01') }],
      ],
    );
    assert.deepEqual(errors(records), [
      ['tags.dat', 5, 'tagValue is empty'],
      ['user_taggedartists.dat', 6, 'date 1956-06-01 is before 1970'],
      ['user_taggedartists.dat', 10, "day 'x' is not a whole number"],
      ['user_taggedartists.dat', 14, 'date 2011-02-31 does not exist'],
    ]);
    const kinds = records.map((r) => r.kind);
    assert.ok(kinds.lastIndexOf('item') < kinds.indexOf('event'), 'items come before events');
  });

  it('titles tagged artists by name and tags them with what at least two users gave them', async () => {
    assert.deepEqual(items(await load(FOLDER)), [
      // tags.dat is latin-1: "tropic\xe1lia" is tropicália. "seen live" came from one user only here.
      { id: '51', title: 'Björk', tags: ['keyword:rock', 'keyword:tropicália'] },
      // One user's tropicália, and a refused row's rock: no tags.
      { id: '52', title: '椎名林檎', tags: [] },
      // "Seen Live", lower-cased as MovieLens keywords are.
      { id: '53', title: 'Metallica', tags: ['keyword:seen live'] },
      // Artist 60 was never tagged: no item.
    ]);
  });

  it('orders an artist’s tags by how many users gave them', async () => {
    const folder = temporaryFolder();
    for (const name of FILES) copyFileSync(path.join(FOLDER, name), path.join(folder, name));
    const rows = ['5\t53\t1\t1\t1\t2011', '6\t53\t1\t1\t1\t2011', '6\t53\t3\t1\t1\t2011', '7\t53\t3\t1\t1\t2011'];
    writeFileSync(path.join(folder, 'user_taggedartists.dat'), `userID\tartistID\ttagID\tday\tmonth\tyear\n${rows.join('\n')}\n`);
    const metallica = items(await load(folder)).find((item) => item.id === '53')!;
    // Seen live: users 6 and 7; rock: 5 and 6 (first given, but as many users): the tie keeps that order.
    assert.deepEqual(metallica.tags, ['keyword:rock', 'keyword:seen live']);
    writeFileSync(path.join(folder, 'user_taggedartists.dat'), `userID\tartistID\ttagID\tday\tmonth\tyear\n${[...rows, '8\t53\t3\t1\t1\t2011'].join('\n')}\n`);
    assert.deepEqual(items(await load(folder)).find((item) => item.id === '53')!.tags, ['keyword:seen live', 'keyword:rock']);
  });

  it('gives evaluation tagging positives, holding out one of two taggings in one month at random (seeded), not by row order', async () => {
    const { log } = await readInteractionLog(await openLoader(FOLDER));
    assert.equal(log.interactions.length, 8);
    const heldOutBySeed = (seed: number) => {
      const data = prepareEvaluation(log, { protocol: 'temporal', seed });
      assert.equal(data.stats.positivePairs, 8, 'likes are positives');
      return (userId: string) => {
        const r = [...data.test.users].indexOf(log.userIds.indexOf(userId));
        return [...data.test.items.subarray(data.test.start[r], data.test.start[r + 1])].map((i) => log.itemIds[i]);
      };
    };
    // User 3 tagged 51 and 99 both in August 2010: either may be the one held out, whatever the rows' order.
    const user3 = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const heldOut = heldOutBySeed(seed);
      assert.equal(heldOut('3').length, 1);
      user3.add(heldOut('3')[0]!);
      assert.deepEqual(heldOut('2'), ['53'], 'a latest month of its own: always held out');
    }
    assert.deepEqual([...user3].sort(), ['51', '99']);
    // Tagged items and artist 99 (no record): 51, 52, 53, 99; the untagged artist 60 is not a candidate.
    assert.deepEqual([...log.itemIds].sort(), ['51', '52', '53', '99']);
  });

  it('gives evaluation models only the item tags the training split’s taggings support', async () => {
    const { log } = await readInteractionLog(await openLoader(FOLDER));
    const tagsOf = (itemTags: typeof log.itemTags, itemId: string) => {
      const i = log.itemIds.indexOf(itemId);
      return [...itemTags.tags.subarray(itemTags.start[i], itemTags.start[i + 1])].map((t) => itemTags.names[t]).sort();
    };
    // What is served: users 2 and 4 both called Metallica "seen live".
    assert.deepEqual(tagsOf(log.itemTags, '53'), ['keyword:seen live']);
    const data = prepareEvaluation(log, { protocol: 'temporal', seed: 1 });
    // Both users' Metallica taggings are held out (their latest), so nothing in training says "seen live".
    const heldOutPairs = [...data.test.users].flatMap((u, r) =>
      [...data.test.items.subarray(data.test.start[r], data.test.start[r + 1])].map((i) => `${log.userIds[u]}:${log.itemIds[i]}`),
    );
    assert.ok(heldOutPairs.includes('2:53') && heldOutPairs.includes('4:53'), heldOutPairs.join(' '));
    assert.deepEqual(tagsOf(data.train.itemTags, '53'), []);
    // Björk's tags come from training taggings: "rock" from users 2 and 4 always; "tropicália" from users 2
    // and 3 only while user 3's tagging of Björk is in training (it ties with artist 99 for the held-out one).
    const user3HeldOutBjork = heldOutPairs.includes('3:51');
    assert.deepEqual(tagsOf(data.train.itemTags, '51'), user3HeldOutBjork ? ['keyword:rock'] : ['keyword:rock', 'keyword:tropicália']);
    assert.deepEqual(tagsOf(data.validation!.train.itemTags, '53'), []);
  });

  it('refuses a folder without taggings when asked for the format, and files without the release’s columns', async () => {
    const folder = temporaryFolder();
    copyFileSync(path.join(FOLDER, 'artists.dat'), path.join(folder, 'artists.dat'));
    await rejectsWithInputFileError(openLoader(folder, 'lastfm-hetrec'), 'user_taggedartists.dat');
    writeFileSync(path.join(folder, 'user_taggedartists.dat'), 'userID\tartistID\ttagID\ttimestamp\n2\t51\t1\t1238536800000\n');
    await rejectsWithInputFileError(openLoader(folder), 'user_taggedartists.dat', 'day, month, year');
    await rejectsWithInputFileError(openLoader(path.join(FOLDER, 'artists.dat'), 'lastfm-hetrec'), 'artists.dat');
  });

  it('counts the bytes it reads, for a progress bar', async () => {
    const loader = await openLoader(FOLDER);
    for await (const _ of loader.records());
    assert.equal(loader.bytesRead, loader.totalBytes);
  });
});
