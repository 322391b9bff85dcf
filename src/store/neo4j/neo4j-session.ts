import { int, isInt, isRetriableError } from 'neo4j-driver';

import { StoreError } from '../../../base/errors.ts';

/**
 * The slice of neo4j-driver the adapter uses, as interfaces: the real driver satisfies them, and unit tests
 * replace the session with a fake to check batching, retries and parameters without a server.
 */
export interface Neo4jRecord {
  get(key: string): unknown;
}
export interface Neo4jTransaction {
  run(query: string, parameters?: Record<string, unknown>): PromiseLike<{ records: Neo4jRecord[] }>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
export interface Neo4jSession {
  beginTransaction(): Neo4jTransaction;
  close(): Promise<void>;
}
export interface Neo4jDriver {
  session(config: { database?: string; defaultAccessMode: 'READ' | 'WRITE' }): Neo4jSession;
  close(): Promise<void>;
}

export interface TransactionSettings {
  readonly database: string;
  readonly maxRetries: number;
  /** Waits between attempts; tests pass one that does not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** First wait before a retry; doubles each attempt (with jitter), capped at MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * Runs units of work in explicit transactions, one session each, retrying the whole unit on transient
 * errors (deadlocks, leader switches, lost connections). Every unit the adapter runs is idempotent (event
 * ids, MERGE), so replaying one whose commit outcome was unknown is safe.
 */
export class TransactionRunner {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly driver: Neo4jDriver,
    private readonly settings: TransactionSettings,
  ) {
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  read<T>(what: string, work: (tx: Neo4jTransaction) => Promise<T>): Promise<T> {
    return this.run(what, 'READ', work);
  }

  write<T>(what: string, work: (tx: Neo4jTransaction) => Promise<T>, retryAlso?: (error: unknown) => boolean): Promise<T> {
    return this.run(what, 'WRITE', work, retryAlso);
  }

  private async run<T>(
    what: string,
    mode: 'READ' | 'WRITE',
    work: (tx: Neo4jTransaction) => Promise<T>,
    retryAlso: (error: unknown) => boolean = () => false,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = this.driver.session({ ...(this.settings.database ? { database: this.settings.database } : {}), defaultAccessMode: mode });
      try {
        const tx = session.beginTransaction();
        let result: T;
        try {
          result = await work(tx);
        } catch (error) {
          await tx.rollback().catch(() => undefined);
          throw error;
        }
        await tx.commit();
        return result;
      } catch (error) {
        const transient = isRetriableError(error) || retryAlso(error);
        if (!transient || attempt >= this.settings.maxRetries) {
          throw new StoreError(`could not ${what} in Neo4j${transient ? ` after ${attempt + 1} attempts` : ''}: ${(error as Error).message}`, {
            cause: error,
            retriable: transient,
          });
        }
        const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
        await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
      } finally {
        await session.close().catch(() => undefined);
      }
    }
  }
}

/** Integers go to Neo4j as INTEGER (a JS number would be stored as FLOAT). */
export function integer(value: number): unknown {
  return int(value);
}

/** A number read back: the driver's Integer, or a plain number when lossless integers are off. */
export function numberOf(value: unknown): number {
  if (isInt(value)) return (value as { toNumber(): number }).toNumber();
  return value as number;
}

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : numberOf(value);
}
