/**
 * Typed errors with stable codes. Callers (HTTP layer, CLI) map codes to statuses and exit codes in one
 * place; tests assert the class, not the message.
 */

export interface FieldIssue {
  /** Where the problem is, e.g. `events[3].value` or `timestamp`. */
  readonly path: string;
  readonly message: string;
}

export abstract class EngineError extends Error {
  abstract readonly code: string;
  /** True when retrying the same call may succeed (transient I/O, busy store). */
  readonly retriable: boolean = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that does not satisfy a schema: names each field and what is wrong with it. */
export class ValidationError extends EngineError {
  readonly code = 'validation_failed';
  constructor(
    readonly issues: readonly FieldIssue[],
    summary?: string,
  ) {
    super(summary ?? issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
  }
}

export class NotFoundError extends EngineError {
  readonly code = 'not_found';
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} not found: ${id}`);
  }
}

/** A request that the current state does not allow, e.g. a training run while one is in progress. */
export class ConflictError extends EngineError {
  readonly code = 'conflict';
}

/** Configuration that cannot be used: raised at start-up, before anything is opened. */
export class ConfigError extends EngineError {
  readonly code = 'invalid_config';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** The store failed to read or write; `retriable` says whether the same call may succeed later. */
export class StoreError extends EngineError {
  readonly code = 'store_failure';
  override readonly retriable: boolean;
  constructor(message: string, options?: ErrorOptions & { retriable?: boolean }) {
    super(message, options);
    this.retriable = options?.retriable ?? false;
  }
}

/**
 * The disk holding the data (or the store's size cap) is full: nothing of the write was kept. Not
 * `retriable`: repeating the call succeeds only once space is freed, so clients are not told to retry at once.
 */
export class StorageFullError extends EngineError {
  readonly code = 'storage_full';
}

/** A data file that cannot be read at all (missing, unknown format); bad rows are reported instead. */
export class InputFileError extends EngineError {
  readonly code = 'input_file';
}

/**
 * A saved model written by an older version of the engine, whose model computes differently (format 1:
 * dot-product scoring, before cosine scoring). It cannot be used; the engine trains a new one instead.
 */
export class OutdatedCheckpointError extends EngineError {
  readonly code = 'checkpoint_outdated';
  constructor(
    readonly path: string,
    readonly format: number,
    readonly current: number,
  ) {
    super(`${path}: model format ${format} was written by an older version of the engine (this one reads format ${current}); train a new model`);
  }
}

/** A saved model that cannot be read back: missing parts, wrong sizes, or a shape the code no longer has. */
export class CheckpointError extends EngineError {
  readonly code = 'checkpoint_unreadable';
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options);
  }
}

/**
 * The graph holds nothing the GNN can learn from: no positive interaction follows an earlier one of the
 * same subject (views alone, or each subject's only positive being its first interaction). Training is
 * skipped; recommendations come from the other sources until such interactions arrive.
 */
export class InsufficientTrainingDataError extends EngineError {
  readonly code = 'training_data_insufficient';
}
