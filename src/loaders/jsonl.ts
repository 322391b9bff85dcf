import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { InputFileError } from '../../base/errors.ts';
import { checkCatalogueItem } from '../catalogue/catalogue-item.ts';
import type { InteractionEventInput } from '../events/interaction-event.ts';
import type { LoadRecord, ReadProgress } from './load-record.ts';
import { describeIssues } from './row-values.ts';

/**
 * JSON Lines: one JSON object per line, either an interaction event or `{"item": {…}}` for a catalogue
 * record. Blank lines are skipped. Items are validated here; events are passed on raw for the engine.
 */

export async function* readJsonLines(file: string, progress: ReadProgress): AsyncGenerator<LoadRecord> {
  const input = createReadStream(file);
  input.on('data', (chunk) => {
    progress.bytes += chunk.length;
  });
  let failure: Error | undefined;
  input.on('error', (error) => {
    failure = new InputFileError(`cannot read ${file}: ${error.message}`);
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      yield recordOf(file, line, text);
    }
  } catch (error) {
    throw failure ?? error;
  } finally {
    lines.close();
    input.destroy();
  }
  if (failure) throw failure;
}

function recordOf(file: string, line: number, text: string): LoadRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'error', file, line, message: `not valid JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { kind: 'error', file, line, message: `expected a JSON object (an event or {"item": …}), found ${found}` };
  }
  if (!Object.hasOwn(value, 'item')) return { kind: 'event', file, line, event: value as InteractionEventInput };

  const others = Object.keys(value).filter((key) => key !== 'item');
  if (others.length > 0) {
    return {
      kind: 'error',
      file,
      line,
      message: `a catalogue line holds only "item"; found also ${others.map((k) => `"${k}"`).join(', ')}`,
    };
  }
  const checked = checkCatalogueItem((value as { item: unknown }).item, 'item');
  if (!checked.ok) return { kind: 'error', file, line, message: `invalid item: ${describeIssues(checked.issues)}` };
  return { kind: 'item', file, line, item: checked.item };
}
