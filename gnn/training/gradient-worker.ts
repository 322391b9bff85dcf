import { parentPort, workerData } from 'node:worker_threads';

import * as tf from '@tensorflow/tfjs';

import { createLogger } from '../../base/logger.ts';
import { initialiseBackend } from '../backend.ts';
import { InterestGAT } from '../interest-gat.ts';
import { addItemRowGradients, GatOptimizer, type ItemRowGradients } from './gat-optimizer.ts';
import { batchGradients } from './training-batch.ts';
import { addShardGradients, parameterChecksums, type PeerReply, type PeerRequest, type PeerSetup } from './training-peers.ts';

/** A data-parallel training worker (see training-peers.ts): a model replica and its optimiser (`GatOptimizer`). */

/**
 * A tensor's values in an array no tensor uses. The wasm backend's dataSync copies out of the wasm heap;
 * the cpu backend's returns the tensor's own storage, which handing over would take from the tensor.
 */
function ownedCopy(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  return tf.getBackend() === 'wasm' ? values : values.slice();
}

const port = parentPort!;
const setup = workerData as PeerSetup;
const reply = (message: PeerReply): void => port.postMessage(message);
const failed = (error: unknown): void => reply({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });

try {
  await initialiseBackend(setup.backend, createLogger('warn', 'training-worker'));
  const model = new InterestGAT(setup.hyper, setup.items, setup.tags);
  model.params.list().forEach((v, i) => v.assign(tf.tensor(setup.params[i]!, v.shape, 'float32')));
  const optimizer = new GatOptimizer(model, setup.learningRate);
  const variables = optimizer.denseVariables;

  // The current batch's gradients by shard; this worker's own are tensors, the others' arrive as arrays.
  let shards: Array<{ dense: Array<tf.Tensor | Float32Array | null>; items: ItemRowGradients } | undefined> = [];
  let received = 0;
  const stepWhenComplete = (): void => {
    if (received < shards.length) return;
    const complete = shards as Array<{ dense: Array<tf.Tensor | Float32Array | null>; items: ItemRowGradients }>;
    tf.tidy(() => {
      const dense = addShardGradients(
        variables,
        complete.map((shard) => shard.dense),
      );
      optimizer.apply({
        dense,
        items: addItemRowGradients(
          complete.map((shard) => shard.items),
          setup.hyper.dims,
        ),
      });
    });
    for (const shard of complete) for (const g of shard.dense) if (g instanceof tf.Tensor) g.dispose();
    shards = [];
    received = 0;
  };

  port.on('message', (request: PeerRequest) => {
    try {
      if (request.kind === 'shard') {
        const { loss, dense, items } = batchGradients(model, setup.itemTags, setup.items, request.shard, request.scale, setup.weights, optimizer);
        const arrays = dense.map((g) => (g ? ownedCopy(g) : null));
        const result = { loss: loss.dataSync()[0]!, gradients: arrays, items };
        loss.dispose();
        if (shards.length === 0) shards = new Array<(typeof shards)[number]>(request.shards);
        shards[request.index] = { dense: [...dense], items };
        received++;
        // The dense arrays are this thread's own: hand them over rather than copy them again (the item
        // rows are copied: this thread's step still needs them).
        port.postMessage(
          { kind: 'gradients', result } satisfies PeerReply,
          arrays.flatMap((a) => (a ? [a.buffer as ArrayBuffer] : [])),
        );
        stepWhenComplete();
      } else if (request.kind === 'shard-gradients') {
        if (shards.length === 0) throw new Error(`gradients of shard ${request.index} arrived before this worker's shard`);
        shards[request.index] = { dense: request.gradients, items: request.items };
        received++;
        stepWhenComplete();
      } else {
        optimizer.flush();
        reply({ kind: 'checksums', values: parameterChecksums(model.params.list()) });
      }
    } catch (error) {
      failed(error);
    }
  });
  reply({ kind: 'ready' });
} catch (error) {
  failed(error);
}
