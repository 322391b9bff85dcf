import type { SerializedError } from '../store/shared/store-protocol.ts';

/**
 * What the primary process and its workers say to each other besides store calls (those travel as
 * `{ store: … }`, see src/store/shared/): travels as `{ control: … }` on the same IPC channel.
 */
export type ControlMessage =
  /** Worker → primary: listening and serving (the trainer says it first, with its start-up summary; the others start after). */
  | { readonly kind: 'ready'; readonly url: string; readonly summary?: string }
  /** Trainer → primary → the other workers: a newly trained model is saved in the data directory. */
  | { readonly kind: 'model-saved'; readonly version: string }
  /** Worker → primary → trainer: a request that only the trainer can answer, from a worker that does not train. */
  | { readonly kind: 'ask'; readonly id: number; readonly question: TrainerQuestion }
  /** Trainer → primary → the asking worker. */
  | { readonly kind: 'answer'; readonly id: number; readonly result?: unknown; readonly error?: SerializedError };

/** "Train now" (POST /v1/model/training), or the training state (GET /v1/model). */
export type TrainerQuestion = { readonly kind: 'train'; readonly fineTune: boolean } | { readonly kind: 'training-state' };

/** The role a worker is started in (its environment's `WORKER_ROLE`). */
export type WorkerRole = 'trainer' | 'follower';

export function controlOf(message: unknown): ControlMessage | null {
  return message !== null && typeof message === 'object' && 'control' in message ? (message as { control: ControlMessage }).control : null;
}

export function sendControl(end: { send(message: unknown): boolean }, control: ControlMessage): void {
  end.send({ control });
}
