import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '../../../base/errors.ts';

/**
 * Every statement the Neo4j adapter runs, read from the project's `cypher/` folder: the files are the one
 * source of the queries (linted offline by `npm run lint:cypher`), and no query is built from strings.
 */
export const STATEMENT_FILES = [
  'schema/constraints',
  'schema/vector-index-dimensions',
  'schema/drop-vector-indexes',
  'schema/vector-indexes',
  'events/reserve-sequence',
  'events/existing-event-ids',
  'events/append-user-interactions',
  'events/append-session-interactions',
  'catalogue/upsert-items',
  'catalogue/delete-item',
  'catalogue/get-item',
  'catalogue/list-items',
  'subjects/user-interactions',
  'subjects/session-interactions',
  'subjects/erase-user',
  'subjects/erase-session',
  'load/counts',
  'load/user-ids',
  'load/session-ids',
  'load/item-ids',
  'load/tag-ids',
  'load/item-tags',
  'load/interactions',
  'write-back/model',
  'write-back/user-embeddings',
  'write-back/item-embeddings',
  'write-back/communities',
  'write-back/prune-communities',
  'write-back/item-communities',
  'write-back/user-communities',
] as const;
export type StatementName = (typeof STATEMENT_FILES)[number];

export const CYPHER_DIR = fileURLToPath(new URL('../../../cypher/', import.meta.url));

export class CypherStatements {
  private readonly texts = new Map<StatementName, readonly string[]>();

  constructor(dir = CYPHER_DIR) {
    for (const name of STATEMENT_FILES) {
      const file = path.join(dir, `${name}.cypher`);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError([{ path: 'cypher', message: `cannot read ${file}: ${(error as Error).message}` }]);
      }
      this.texts.set(name, splitStatements(text));
    }
  }

  /** The file's one statement. */
  one(name: StatementName): string {
    const statements = this.all(name);
    if (statements.length !== 1) throw new Error(`${name}.cypher holds ${statements.length} statements, expected one`);
    return statements[0]!;
  }

  /** The file's statements in order (schema files hold several). */
  all(name: StatementName): readonly string[] {
    return this.texts.get(name)!;
  }
}

/**
 * Splits a file into statements at semicolons that end a line (the convention of our files; a semicolon
 * inside a string or in the middle of a line does not split). Comment-only pieces are dropped.
 */
export function splitStatements(text: string): string[] {
  return text
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('//')));
}
