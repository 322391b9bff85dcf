/**
 * Parses Cypher files offline with Neo4j's own parser and semantic checks (@neo4j-cypher/language-support),
 * so a broken statement fails CI instead of a production start-up.
 *
 *   npm run lint:cypher [-- <files or folders>]      (default: cypher/)
 *
 * Prints `file:line:column: message` for each error and exits 1 when there is one; 2 for a path that cannot
 * be read. Undefined-parameter warnings are dropped: every statement takes its parameters from the engine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { isNotParamError, lintCypherQuery } from '@neo4j-cypher/language-support';

const ERROR = 1;

function cypherFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return cypherFiles(full);
      return entry.name.endsWith('.cypher') ? [full] : [];
    });
}

function main(argv: readonly string[]): number {
  const targets = argv.length > 0 ? argv : ['cypher'];
  let files: string[];
  try {
    files = targets.flatMap(cypherFiles);
  } catch (error) {
    process.stderr.write(`lint:cypher: ${(error as Error).message}\n`);
    return 2;
  }
  let errors = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (text.trim() === '') {
      process.stdout.write(`${file}:1:1: the file holds no statement\n`);
      errors++;
      continue;
    }
    for (const d of lintCypherQuery(text, {}).diagnostics) {
      const message = typeof d.message === 'string' ? d.message : d.message.value;
      if (d.severity !== ERROR || !isNotParamError({ ...d, message })) continue;
      process.stdout.write(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${message}\n`);
      errors++;
    }
  }
  if (files.length === 0) {
    process.stderr.write(`lint:cypher: no .cypher files in ${targets.join(', ')}\n`);
    return 2;
  }
  process.stdout.write(`lint:cypher: ${files.length} files, ${errors === 0 ? 'no errors' : `${errors} errors`}\n`);
  return errors === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
