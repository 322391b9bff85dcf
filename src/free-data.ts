import { z } from 'zod';

/**
 * Free JSON that callers send with their data: an event's `context`, a catalogue item's `attributes`, a
 * recommendation request's attribute filters. Limits that keep it storable and addressable:
 * - at most 32 levels deep (deeper values overflow the stack of recursive JSON writers: the store's);
 * - at most 64 KiB as JSON (a context is a note kept with each event, not a document store);
 * - no key named `__proto__`, `constructor` or `prototype` at any depth: zod and object spreads drop
 *   `__proto__` silently, and a lookup of the other two finds the object's prototype, not data.
 */
export const FREE_DATA_MAX_DEPTH = 32;
export const FREE_DATA_MAX_BYTES = 64 * 1024;
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

type IssuePath = (string | number)[];

/** The first problems found in `value`, with paths relative to it; empty when it is acceptable. */
export function freeDataIssues(
  value: unknown,
  limits = { depth: FREE_DATA_MAX_DEPTH, bytes: FREE_DATA_MAX_BYTES },
): Array<{ path: IssuePath; message: string }> {
  const issues: Array<{ path: IssuePath; message: string }> = [];
  // Recursion is bounded by the depth limit: it stops one level below it.
  const visit = (node: unknown, depth: number, path: IssuePath): void => {
    if (node === null || typeof node !== 'object' || issues.length >= 10) return;
    if (depth > limits.depth) {
      issues.push({ path: [], message: `must not nest more than ${limits.depth} levels deep` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((child, index) => visit(child, depth + 1, [...path, index]));
      return;
    }
    for (const key of Object.keys(node)) {
      if (RESERVED_KEYS.has(key)) issues.push({ path: [...path, key], message: `"${key}" is a reserved name and cannot be a key` });
      else visit((node as Record<string, unknown>)[key], depth + 1, [...path, key]);
    }
  };
  visit(value, 1, []);
  if (issues.length === 0 && value !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    if (bytes > limits.bytes) issues.push({ path: [], message: `must be at most ${limits.bytes} bytes as JSON (it is ${bytes})` });
  }
  return issues;
}

/**
 * A JSON object with string keys and `value` values, checked against the limits above before zod reads
 * it (zod's record would drop a `__proto__` key before any check could see it).
 */
export function freeRecord<V extends z.ZodType>(value: V, key: z.ZodType<string> = z.string()) {
  return z.preprocess(
    (raw, ctx) => {
      for (const issue of freeDataIssues(raw)) ctx.issues.push({ code: 'custom', input: raw, ...issue });
      return raw;
    },
    z.record(key, value),
  );
}
