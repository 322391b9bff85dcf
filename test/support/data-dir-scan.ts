import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Trace {
  readonly file: string;
  readonly needle: string;
  readonly encoding: 'utf8' | 'utf16le' | 'utf16be';
}

/**
 * Every occurrence of any needle in the raw bytes of every file under `dir` (recursively), in UTF-8 and in
 * both UTF-16 byte orders (SQLite stores text as UTF-16 in databases created with that encoding).
 */
export function tracesIn(dir: string, needles: readonly string[]): Trace[] {
  const patterns = needles.flatMap((needle) => [
    { needle, encoding: 'utf8' as const, bytes: Buffer.from(needle, 'utf8') },
    { needle, encoding: 'utf16le' as const, bytes: Buffer.from(needle, 'utf16le') },
    { needle, encoding: 'utf16be' as const, bytes: Buffer.from(needle, 'utf16le').swap16() },
  ]);
  const traces: Trace[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const content = readFileSync(file);
    for (const p of patterns) if (content.includes(p.bytes)) traces.push({ file: path.relative(dir, file), needle: p.needle, encoding: p.encoding });
  }
  return traces;
}

/** Every file under `dir`, relative, for messages. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}
