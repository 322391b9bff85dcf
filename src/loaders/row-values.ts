import type { FieldIssue } from '../../base/errors.ts';

/**
 * Readers for the values in a data row. Each names the column and the value when it refuses one, so the
 * message is enough to fix the row: "rating 'abc' is not a number".
 */

/** Why a row was refused; the loaders turn it into an error record and go on with the next row. */
export class RowError extends Error {}

const DIGITS = /^\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** MovieLens ids are whole numbers; anything else means the row is not what it claims to be. */
export function numericId(column: string, raw: string): string {
  if (raw === '') throw new RowError(`${column} is empty`);
  if (!DIGITS.test(raw)) throw new RowError(`${column} '${raw}' is not a numeric id`);
  return raw;
}

export function decimalNumber(column: string, raw: string): number {
  if (raw === '') throw new RowError(`${column} is empty`);
  // Number() alone would read '' as 0 and accept hex; only plain decimals are data.
  if (!DECIMAL.test(raw)) throw new RowError(`${column} '${raw}' is not a number`);
  return Number(raw);
}

/** Epoch seconds (MovieLens) to the epoch milliseconds events carry. */
export function epochSecondsAsMs(column: string, raw: string): number {
  if (raw === '') throw new RowError(`${column} is empty`);
  if (!DIGITS.test(raw)) throw new RowError(`${column} '${raw}' is not a whole number of seconds`);
  return Number(raw) * 1000;
}

export function columnCountIssue(found: number, columns: readonly string[]): string {
  return `expected ${columns.length} columns (${columns.join(', ')}), found ${found}`;
}

export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/** The year in a title such as "Heat (1995)", which both MovieLens releases use. */
export function yearInTitle(title: string): number | undefined {
  const match = /\((\d{4})\)$/.exec(title);
  return match ? Number(match[1]) : undefined;
}
