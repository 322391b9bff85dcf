import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

import { type CsvError, type Info, parse, type Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

import { InputFileError } from '../../base/errors.ts';
import type { ReadProgress } from './load-record.ts';
import { columnCountIssue } from './row-values.ts';

/** Reads CSV-like files (comma, tab or pipe separated) a row at a time, with each row's line number. */

export interface DelimitedFileOptions {
  readonly delimiter: string;
  /** false where quotes are ordinary characters (the MovieLens 100K files are not quoted). */
  readonly quoted: boolean;
  readonly encoding: 'utf8' | 'latin1';
}

export const COMMA_SEPARATED: DelimitedFileOptions = { delimiter: ',', quoted: true, encoding: 'utf8' };

/** A parsed row, or why the row at `line` could not be parsed. `line` is 1-based and counts every line. */
export type DelimitedRow = { readonly line: number; readonly fields: string[]; readonly error?: undefined } | { readonly line: number; readonly error: string };

export async function* readDelimitedRows(file: string, options: DelimitedFileOptions, progress: ReadProgress): AsyncGenerator<DelimitedRow> {
  const reached = { bytes: 0 };
  let from: PartStart | undefined = { byte: 0, line: 1 };
  while (from !== undefined) from = yield* readPart(file, options, from, progress, reached);
}

/** Where a parser starts reading: a byte offset at the start of a line, and that line's number. */
interface PartStart {
  readonly byte: number;
  readonly line: number;
}

/** Longer rows mean an unbalanced quote has swallowed the lines after it; none of the formats comes close. */
const MAX_ROW_BYTES = 1024 * 1024;

/**
 * Parses from `from` until the end of the file, or until a row cannot be parsed; then returns where to parse
 * again: the line after the bad row. csv-parse cannot find its way back after an unbalanced quote (it reads on
 * as one quoted value), so a fresh parser takes over there and only the bad row is lost.
 */
async function* readPart(
  file: string,
  options: DelimitedFileOptions,
  from: PartStart,
  progress: ReadProgress,
  reached: { bytes: number },
): AsyncGenerator<DelimitedRow, PartStart | undefined> {
  let failure: { error: CsvError; afterRecords: number } | undefined;
  const parser: Parser = parse({
    delimiter: options.delimiter,
    quote: options.quoted ? '"' : false,
    encoding: options.encoding,
    bom: from.byte === 0,
    info: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW_BYTES,
    // Column counts are checked by the format readers so that a short row becomes an error record, not a
    // failed load. Relaxed quotes let a stray quote inside a value through (it is kept as text); csv-parse's
    // `trim` option would turn those back into errors, so values are trimmed below instead.
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      // Records parsed before the error may still be waiting to be read; they are good.
      if (error && failure === undefined) failure = { error, afterRecords: parser.info.records };
    },
  });
  const input = createReadStream(file, { start: from.byte });
  input.on('data', () => {
    // Bytes read again after a bad row count once.
    const at = from.byte + input.bytesRead;
    if (at > reached.bytes) {
      progress.bytes += at - reached.bytes;
      reached.bytes = at;
    }
  });
  input.on('error', (error) => parser.destroy(new InputFileError(`cannot read ${file}: ${error.message}`)));
  input.pipe(parser);

  // The end of the last good row: the bad row, if any, is the first non-empty line after it.
  let lastEnd = { byte: from.byte, line: from.line - 1 };
  let consumed = 0;
  try {
    for await (const { info, record } of parser as AsyncIterable<{ info: Info; record: string[] }>) {
      if (failure !== undefined && consumed >= failure.afterRecords) break;
      consumed++;
      const endLine = from.line - 1 + info.lines;
      // info.lines is the line the row ends on; a quoted newline would put it past the line the row starts on.
      let newlines = 0;
      for (const field of record) newlines += countNewlines(field);
      if (newlines > 0) {
        // None of the formats has multi-line values, so an unbalanced quote has merged rows.
        const bad = await badRowAfter(file, lastEnd);
        const error = `a quoted value runs from line ${bad.line} to line ${endLine}; is a quote unbalanced?`;
        yield { line: bad.line, error };
        return bad.next;
      }
      yield { line: endLine, fields: record.map((field) => field.trim()) };
      lastEnd = { byte: from.byte + info.bytes, line: endLine };
    }
    if (failure === undefined) return undefined;
    const bad = await badRowAfter(file, lastEnd);
    yield { line: bad.line, error: describeParseFailure(failure.error) };
    return bad.next;
  } finally {
    input.destroy();
    parser.destroy();
  }
}

function describeParseFailure(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote opened on this line is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `the row runs on for more than ${MAX_ROW_BYTES / (1024 * 1024)} MiB; is a quote unbalanced?`;
    default:
      return error.message;
  }
}

/** Finds the first non-empty line after a good row's end, and where the line after it starts. */
async function badRowAfter(file: string, lastEnd: { byte: number; line: number }): Promise<{ line: number; next: PartStart | undefined }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let position = lastEnd.byte;
    let line = lastEnd.line + 1;
    let lineIsEmpty = true;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return { line, next: undefined };
      for (let i = 0; i < bytesRead; i++) {
        const byte = buffer[i]!;
        if (byte === NEWLINE) {
          if (!lineIsEmpty) return { line, next: { byte: position + i + 1, line: line + 1 } };
          line++;
        } else if (byte !== CARRIAGE_RETURN) {
          lineIsEmpty = false;
        }
      }
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * The header row of a file, read without streaming the rest, so that a file with the wrong columns is
 * refused before any of its rows (or any other file's rows) is loaded.
 */
export async function readHeader(file: string, options: DelimitedFileOptions): Promise<string[]> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      text = buffer.subarray(0, bytesRead).toString(options.encoding);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InputFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const end = text.search(/\r?\n/);
  const firstLine = (end === -1 ? text : text.slice(0, end)).replace(/^\uFEFF/, '');
  if (firstLine.trim() === '') return [];
  const rows = parseSync(firstLine, {
    delimiter: options.delimiter,
    quote: options.quoted ? '"' : false,
    relax_quotes: true,
  });
  return (rows[0] ?? []).map((name) => name.trim());
}

/** A data row with its values in the order the reader asked for, or why the row was refused. */
export type TableRow = { readonly line: number; readonly values: string[]; readonly error?: undefined } | { readonly line: number; readonly error: string };

/**
 * Rows of a file whose first row names its columns. `chooseColumns` checks the header (throwing an
 * InputFileError when the file cannot be used) and returns the columns wanted; each row's values come back in
 * that order. Rows with a different number of columns than the header become errors.
 */
export async function* readTableRows(
  file: string,
  options: DelimitedFileOptions,
  progress: ReadProgress,
  chooseColumns: (header: string[]) => readonly string[],
): AsyncGenerator<TableRow> {
  let header: string[] | undefined;
  let positions: number[] = [];
  for await (const row of readDelimitedRows(file, options, progress)) {
    if (header === undefined) {
      if (row.error !== undefined) throw new InputFileError(`${file}: the header row cannot be read: ${row.error}`);
      header = row.fields;
      const wanted = chooseColumns(header);
      positions = wanted.map((name) => header!.indexOf(name));
      continue;
    }
    if (row.error !== undefined) {
      yield row;
    } else if (row.fields.length !== header.length) {
      yield { line: row.line, error: columnCountIssue(row.fields.length, header) };
    } else {
      yield { line: row.line, values: positions.map((p) => row.fields[p]!) };
    }
  }
  if (header === undefined) throw new InputFileError(`${file} is empty; expected a header row naming its columns`);
}

/** For formats whose header is fixed: every expected column must be there, in any order; others are ignored. */
export function requireColumns(file: string, expected: readonly string[]): (header: string[]) => readonly string[] {
  return (header) => {
    if (header.length === 0) throw new InputFileError(`${file} is empty; expected a header row naming its columns`);
    const missing = expected.filter((name) => !header.includes(name));
    if (missing.length > 0) {
      const columns = `column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
      throw new InputFileError(`${file}: missing ${columns} (its header is ${header.join(',')}; expected ${expected.join(',')})`);
    }
    return expected;
  };
}
