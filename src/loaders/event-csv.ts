import { InputFileError } from '../../base/errors.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import { COMMA_SEPARATED, readHeader, readTableRows } from './delimited-file.ts';
import type { LoadRecord, ReadProgress } from './load-record.ts';
import { decimalNumber, RowError } from './row-values.ts';

/**
 * A CSV file of interaction events whose header names its columns, in any order, among the event fields.
 * An empty cell leaves the field out; numbers are converted, and a timestamp that is not all digits is kept as
 * text for the engine to read as an ISO 8601 date-time.
 */

export const EVENT_CSV_COLUMNS = ['id', 'type', 'userId', 'sessionId', 'itemId', 'value', 'timestamp'] as const;
type EventColumn = (typeof EVENT_CSV_COLUMNS)[number];

/** Refuses a header the engine could not accept a single row of, before any row is read. */
export function checkEventCsvHeader(file: string, header: readonly string[]): EventColumn[] {
  if (header.length === 0) throw new InputFileError(`${file} is empty; expected a header row naming its columns`);
  const known = EVENT_CSV_COLUMNS as readonly string[];
  const unknown = header.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new InputFileError(
      `${file}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `'${c}'`).join(', ')}; ` +
        `the columns of an event file are ${EVENT_CSV_COLUMNS.join(', ')}`,
    );
  }
  const repeated = header.filter((name, i) => header.indexOf(name) !== i);
  if (repeated.length > 0) throw new InputFileError(`${file}: column ${repeated[0]} appears more than once`);
  const missing = ['id', 'type', 'itemId'].filter((name) => !header.includes(name));
  if (missing.length > 0) {
    throw new InputFileError(`${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  if (!header.includes('userId') && !header.includes('sessionId')) {
    throw new InputFileError(`${file}: needs a userId or a sessionId column`);
  }
  return header as EventColumn[];
}

export async function checkEventCsvFile(file: string): Promise<void> {
  checkEventCsvHeader(file, await readHeader(file, COMMA_SEPARATED));
}

export async function* readEventCsv(file: string, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  let columns: EventColumn[] = [];
  const chooseColumns = (header: string[]) => (columns = checkEventCsvHeader(file, header));
  for await (const row of readTableRows(file, COMMA_SEPARATED, progress, chooseColumns)) {
    if (row.error !== undefined) {
      yield { kind: 'error', file, line: row.line, message: row.error };
      continue;
    }
    try {
      yield { kind: 'event', file, line: row.line, event: csvEvent(columns, row.values) };
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      yield { kind: 'error', file, line: row.line, message: error.message };
    }
  }
}

function csvEvent(columns: readonly EventColumn[], values: readonly string[]): InteractionEventInput {
  const event: Record<string, string | number> = {};
  columns.forEach((column, i) => {
    const raw = values[i]!;
    if (raw === '') return;
    if (column === 'value') event.value = decimalNumber('value', raw);
    else if (column === 'timestamp') event.timestamp = /^\d+$/.test(raw) ? Number(raw) : raw;
    else event[column] = raw;
  });
  // Raw on purpose: the engine validates events and names the bad fields.
  return event as unknown as InteractionEventInput;
}
