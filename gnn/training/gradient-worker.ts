import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { createLogger } from '../../src/logger.ts';
import { initialiseBackend } from '../backend.ts';
import { InterestGAT } from '../interest-gat.ts';
import { batchGradients } from './training-batch.ts';
import { parameterChecksums, type PeerReply, type PeerRequest, type PeerSetup } from './training-peers.ts';

/** A data-parallel training worker (see training-peers.ts): a model replica and its optimiser. */

const port = parentPort!;
const setup = workerData as PeerSetup;
const reply = (message: PeerReply): void => port.postMessage(message);
const failed = (error: unknown): void => reply({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });

try {
  await initialiseBackend(setup.backend, createLogger('warn', 'training-worker'));
  const model = new InterestGAT(setup.hyper, setup.items, setup.tags);
  const variables = model.params.list();
  variables.forEach((v, i) => v.assign(tf.tensor(setup.params[i]!, v.shape, 'float32')));
  const optimizer = tf.train.adam(setup.learningRate);

  port.on('message', (request: PeerRequest) => {
    try {
      if (request.kind === 'shard') {
        const { loss, gradients } = batchGradients(model, setup.itemTags, setup.items, request.shard, request.scale, setup.weights);
        const result = { loss: loss.dataSync()[0]!, gradients: gradients.map((g) => (g ? (g.dataSync() as Float32Array) : null)) };
        loss.dispose();
        for (const g of gradients) g?.dispose();
        reply({ kind: 'gradients', result });
      } else if (request.kind === 'step') {
        tf.tidy(() => {
          const named = variables.flatMap((v, i) => {
            const values = request.gradients[i];
            return values ? [{ name: v.name, tensor: tf.tensor(values, v.shape, 'float32') }] : [];
          });
          optimizer.applyGradients(named);
        });
      } else {
        reply({ kind: 'checksums', values: parameterChecksums(variables) });
      }
    } catch (error) {
      failed(error);
    }
  });
  reply({ kind: 'ready' });
} catch (error) {
  failed(error);
}
