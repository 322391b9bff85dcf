import { CypherStatements, STATEMENT_FILES, type StatementName } from '../../src/store/neo4j/cypher-statements.ts';
import type { Neo4jDriver, Neo4jRecord, Neo4jSession, Neo4jTransaction } from '../../src/store/neo4j/neo4j-session.ts';

/**
 * A stand-in for neo4j-driver at the adapter's interface: it records every session, statement (by its
 * file name), parameters and commit, and answers from a script. No server, no Cypher execution.
 */
export interface RecordedRun {
  readonly statement: StatementName;
  readonly parameters: Record<string, unknown>;
  readonly transaction: number;
}

export interface RecordedTransaction {
  readonly id: number;
  readonly mode: 'READ' | 'WRITE';
  readonly database: string | undefined;
  outcome: 'open' | 'committed' | 'rolled back';
}

/** Answers a statement with rows, or throws to simulate a failure. */
export type Script = (statement: StatementName, parameters: Record<string, unknown>, transaction: number) => Array<Record<string, unknown>> | undefined;

export class FakeNeo4jDriver implements Neo4jDriver {
  readonly runs: RecordedRun[] = [];
  readonly transactions: RecordedTransaction[] = [];
  /** Makes the commit of transaction N (0-based) throw this error. */
  readonly commitFailures = new Map<number, Error>();
  closed = false;
  private readonly byText = new Map<string, StatementName>();

  constructor(private readonly script: Script = () => []) {
    const statements = new CypherStatements();
    for (const name of STATEMENT_FILES) for (const text of statements.all(name)) this.byText.set(text, name);
  }

  session(config: { database?: string; defaultAccessMode: 'READ' | 'WRITE' }): Neo4jSession {
    // The session's methods are plain functions (as the driver's are) that read this fake's records.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const driver = this;
    return {
      beginTransaction(): Neo4jTransaction {
        const record: RecordedTransaction = { id: driver.transactions.length, mode: config.defaultAccessMode, database: config.database, outcome: 'open' };
        driver.transactions.push(record);
        return {
          run(query, parameters = {}) {
            const statement = driver.byText.get(query);
            if (!statement) throw new Error(`not a statement from cypher/: ${query.slice(0, 60)}`);
            driver.runs.push({ statement, parameters, transaction: record.id });
            try {
              const rows = driver.script(statement, parameters, record.id) ?? [];
              return Promise.resolve({ records: rows.map(recordOf) });
            } catch (error) {
              return Promise.reject(error instanceof Error ? error : new Error(String(error)));
            }
          },
          async commit() {
            const failure = driver.commitFailures.get(record.id);
            if (failure) throw failure;
            record.outcome = 'committed';
          },
          async rollback() {
            record.outcome = 'rolled back';
          },
        };
      },
      async close() {},
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  runsOf(statement: StatementName): RecordedRun[] {
    return this.runs.filter((r) => r.statement === statement);
  }
}

function recordOf(row: Record<string, unknown>): Neo4jRecord {
  return {
    get(key: string) {
      if (!(key in row)) throw new Error(`the fake record has no field ${key}`);
      return row[key];
    },
  };
}
