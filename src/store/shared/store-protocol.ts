import { ConflictError, EngineError, type FieldIssue, NotFoundError, StorageFullError, StoreError, ValidationError } from '../../../base/errors.ts';
import type { NodeKind } from '../../../graph/model.ts';
import type { StoreChange } from '../graph-store.ts';

/**
 * The messages between a `StoreHost` (the process that owns the store) and the `SharedStore`s of the
 * engines that use it (one per worker). Messages on one link arrive in the order they were sent; the
 * protocol relies on that and on nothing else, so any ordered message channel carries it (a cluster
 * worker's IPC channel, a worker thread's MessagePort).
 */
export interface MessageLink {
  post(message: StoreMessage): void;
  /** Sets the one handler of the messages from the other end. */
  receive(handler: (message: StoreMessage) => void): void;
}

export type StoreMethod =
  'appendInteractions' | 'upsertItems' | 'deleteItem' | 'getItem' | 'listItems' | 'interactionsOf' | 'eraseSubject' | 'counts' | 'readSnapshot';

/** Rows of a snapshot, in columns (a message per chunk). */
export type SnapshotChunk =
  | { readonly part: 'begin'; readonly expected: { nodes: number; interactions: number; itemTags: number } }
  | { readonly part: 'nodes'; readonly keys: Int32Array; readonly kinds: readonly NodeKind[]; readonly ids: readonly string[] }
  | { readonly part: 'itemTags'; readonly items: Int32Array; readonly tags: Int32Array; readonly ts: Float64Array }
  /** `values`: NaN for none. */
  | {
      readonly part: 'interactions';
      readonly subjects: Int32Array;
      readonly items: Int32Array;
      readonly types: Uint8Array;
      readonly values: Float64Array;
      readonly ts: Float64Array;
    };

export type StoreMessage =
  /** Client → host: a store call. */
  | { readonly t: 'call'; readonly id: number; readonly method: StoreMethod; readonly args: readonly unknown[] }
  /** Client → host: every change up to `seq` is in the client's projection. */
  | { readonly t: 'seen'; readonly seq: number }
  /** Host → client: a call's answer. */
  | { readonly t: 'result'; readonly id: number; readonly value: unknown }
  | { readonly t: 'failure'; readonly id: number; readonly error: SerializedError }
  /** Host → client: part of the snapshot a `readSnapshot` call asked for (before its result). */
  | { readonly t: 'snapshot'; readonly id: number; readonly chunk: SnapshotChunk }
  /** Host → client: a change another client wrote. */
  | { readonly t: 'change'; readonly seq: number; readonly change: StoreChange };

/** An error as it crosses the link: enough to rebuild the typed error on the other side. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly retriable?: boolean;
  readonly issues?: readonly FieldIssue[];
  readonly what?: string;
  readonly id?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields: SerializedError = { name: error.name, message: error.message };
  if (error instanceof EngineError) {
    return {
      ...fields,
      code: error.code,
      retriable: error.retriable,
      ...(error instanceof ValidationError ? { issues: error.issues } : {}),
      ...(error instanceof NotFoundError ? { what: error.what, id: error.id } : {}),
    };
  }
  return fields;
}

/** The typed error a serialized one stood for; anything else the store threw is a StoreError. */
export function deserializeError(error: SerializedError): Error {
  switch (error.code) {
    case 'validation_failed':
      return new ValidationError(error.issues ?? [], error.message);
    case 'not_found':
      return new NotFoundError(error.what ?? 'record', error.id ?? '');
    case 'conflict':
      return new ConflictError(error.message);
    case 'storage_full':
      return new StorageFullError(error.message);
    case 'store_failure':
      return new StoreError(error.message, { retriable: error.retriable ?? false });
    default:
      return new StoreError(`${error.name}: ${error.message}`);
  }
}
