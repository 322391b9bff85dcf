import type { Worker } from 'node:worker_threads';

import * as tf from '@tensorflow/tfjs';

import { startModuleWorker } from '../../base/worker-thread.ts';
import type { BackendPreference } from '../backend.ts';
import type { GatHyperparameters } from '../interest-gat.ts';
import type { ItemTagPairs } from '../item-encoder.ts';
import type { ItemRowGradients } from './gat-optimizer.ts';
import type { LossScale, LossWeights, TrainingBatch } from './training-batch.ts';

/**
 * Worker threads that compute the gradients of shards of each training batch, for data-parallel training
 * on the JavaScript backends (each runs on one core). Each worker holds a replica of the model and an
 * optimiser of its own. Shard 0 is the main thread's, shard w the w-th worker's; every thread sends its
 * shard's gradients to all the others (the main thread relays between workers), and each adds them up in
 * shard order (`addShardGradients`) and takes the optimiser step with the sum. The same arithmetic on the
 * same numbers gives the same bits, so the replicas stay equal to the main model; `verifyReplicas` checks
 * it. (Summing on the main thread and sending the sum back made every worker wait for the sum: 7 ms of
 * each 100 ms step on MovieLens latest-small.)
 */
export interface PeerSetup {
  readonly backend: BackendPreference;
  readonly hyper: GatHyperparameters;
  readonly items: number;
  readonly tags: number;
  readonly itemTags: ItemTagPairs;
  readonly weights: LossWeights;
  readonly learningRate: number;
  /** Parameter values in `params.list()` order. */
  readonly params: Float32Array[];
}

export type PeerRequest =
  /** Compute shard `index` (of `shards`) of the next batch and answer with its gradients. */
  | { readonly kind: 'shard'; readonly shard: TrainingBatch; readonly scale: LossScale; readonly index: number; readonly shards: number }
  /** Another shard's gradients: with every shard's, take the optimiser step. */
  | { readonly kind: 'shard-gradients'; readonly index: number; readonly gradients: Array<Float32Array | null>; readonly items: ItemRowGradients }
  | { readonly kind: 'checksums' };

export interface ShardGradients {
  readonly loss: number;
  /** The dense parameters', in `denseParameters` order; null where the loss does not depend on one. */
  readonly gradients: Array<Float32Array | null>;
  /** The item-table rows the shard read, and their gradients. */
  readonly items: ItemRowGradients;
}

export type PeerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'gradients'; readonly result: ShardGradients }
  | { readonly kind: 'checksums'; readonly values: number[] }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Gradients of a batch's dense parameters from its shards' (each in `variables` order, null where the
 * shard's loss does not depend on the parameter), added in shard order so that every thread gets the same bits.
 */
export function addShardGradients(
  variables: readonly tf.Variable[],
  shards: ReadonlyArray<ReadonlyArray<tf.Tensor | Float32Array | null>>,
): Array<tf.Tensor | null> {
  return variables.map((v, i) => {
    const parts = shards.flatMap((shard) => (shard[i] ? [shard[i]] : []));
    if (parts.length === 0) return null;
    return tf.tidy(() => {
      const [first, ...rest] = parts.map((part) => (part instanceof Float32Array ? tf.tensor(part, v.shape, 'float32') : part));
      // Always a new tensor, even from one part (a shard with no rows sends none): callers dispose their shards'.
      return rest.reduce((sum, part) => tf.add(sum, part), first!.clone());
    });
  });
}

/** One number per parameter tensor, for comparing replicas: the sum of its values in double precision. */
export function parameterChecksums(variables: readonly tf.Variable[]): number[] {
  return variables.map((v) => {
    let sum = 0;
    for (const x of v.dataSync()) sum += x;
    return sum;
  });
}

type Answer = Exclude<PeerReply, { kind: 'error' }>;

interface Pending {
  resolve(reply: Answer): void;
  reject(error: Error): void;
}

export class TrainingPeers {
  private readonly pending: Array<Pending | null>;
  /** A failure that arrived while nothing waited (a failed optimiser step): reported by the next request. */
  private failure: Error | null = null;

  private constructor(private readonly workers: Worker[]) {
    this.pending = workers.map(() => null);
    workers.forEach((worker, w) => {
      const fail = (error: Error): void => {
        const waiting = this.take(w);
        if (waiting) waiting.reject(error);
        else this.failure ??= error;
      };
      worker.on('message', (reply: PeerReply) => {
        if (reply.kind === 'error') fail(new Error(`training worker ${w + 1}: ${reply.message}`));
        else this.take(w)?.resolve(reply);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`training worker ${w + 1} exited with code ${code}`)));
    });
  }

  /** Starts `count` workers and waits until each has built its replica. */
  static async start(count: number, setup: PeerSetup): Promise<TrainingPeers> {
    const moduleUrl = new URL(`./gradient-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    const peers = new TrainingPeers(Array.from({ length: count }, () => startModuleWorker(moduleUrl, setup)));
    try {
      await Promise.all(peers.workers.map((_, w) => peers.expect(w)));
    } catch (error) {
      await peers.close();
      throw error;
    }
    return peers;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Sends `shards[w]` (shard w + 1 of the batch) to worker w; resolves with each worker's gradients. A
   * worker's gradients are passed on to the other workers as they come.
   */
  async gradients(shards: readonly TrainingBatch[], scale: LossScale): Promise<ShardGradients[]> {
    if (shards.length !== this.workers.length) throw new RangeError(`${shards.length} shards for ${this.workers.length} training workers`);
    const count = shards.length + 1;
    const replies = this.workers.map(async (worker, w) => {
      const reply = this.expect(w);
      this.send(worker, { kind: 'shard', shard: shards[w]!, scale, index: w + 1, shards: count });
      const answer = await reply;
      if (answer.kind !== 'gradients') throw new Error(`training worker answered ${answer.kind} to a shard`);
      this.share(w + 1, answer.result.gradients, answer.result.items, w);
      return answer.result;
    });
    return Promise.all(replies);
  }

  /** Sends shard `index`'s gradients to every worker (but the one that computed them). */
  share(index: number, gradients: Array<Float32Array | null>, items: ItemRowGradients, from = -1): void {
    this.workers.forEach((worker, w) => {
      if (w !== from) this.send(worker, { kind: 'shard-gradients', index, gradients, items });
    });
  }

  /** Throws when a worker's parameters differ from `own` (the main model's checksums). */
  async verifyReplicas(own: readonly number[]): Promise<void> {
    const replies = this.workers.map((worker, w) => {
      const reply = this.expect(w);
      this.send(worker, { kind: 'checksums' });
      return reply;
    });
    (await Promise.all(replies)).forEach((reply, w) => {
      if (reply.kind !== 'checksums') throw new Error(`training worker answered ${reply.kind} to checksums`);
      const differs = reply.values.findIndex((value, i) => value !== own[i]);
      if (differs >= 0)
        throw new Error(`training worker ${w + 1}'s parameter ${differs} differs from the main model's (${reply.values[differs]} against ${own[differs]})`);
    });
  }

  async close(): Promise<void> {
    this.pending.fill(null);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private send(worker: Worker, request: PeerRequest): void {
    worker.postMessage(request);
  }

  private expect(w: number): Promise<Answer> {
    const failure = this.failure;
    if (failure) return Promise.reject(failure);
    if (this.pending[w]) return Promise.reject(new Error(`training worker ${w + 1} is still busy`));
    return new Promise((resolve, reject) => {
      this.pending[w] = { resolve, reject };
    });
  }

  private take(w: number): Pending | null {
    const waiting = this.pending[w] ?? null;
    this.pending[w] = null;
    return waiting;
  }
}
