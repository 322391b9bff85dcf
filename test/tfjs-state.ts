import * as tf from '@tensorflow/tfjs';

import { isFused, registerFusedKernels, restoreStockKernels } from '../gnn/kernels/registry.ts';

/**
 * tfjs keeps its active backend, its kernel registry and its flags per process, and mocha runs every test
 * file in one process: a test that switches backends or kernels captures this state first and puts it back.
 *
 * With no backend chosen yet, capturing chooses the one tfjs would on its own (`tf.ready()`), before the test
 * loads any other backend: that is the backend the next file's first op would have got.
 */
export interface TfjsState {
  restore(): Promise<void>;
}

export async function captureTfjsState(): Promise<TfjsState> {
  if (tf.getBackend() == null) await tf.ready();
  const backend = tf.getBackend();
  // selectBackend turns on production mode (quiet tfjs); a file that never asked for it gets it back off.
  const prod = tf.env().getBool('PROD');
  // Which backends have our kernels in place; wasm only counts once its package has registered it.
  const fused = new Map<string, boolean>();
  for (const name of ['cpu', 'wasm']) {
    if (tf.findBackendFactory(name) != null) fused.set(name, isFused(tf.UnsortedSegmentSum, name));
  }
  return {
    async restore() {
      for (const [name, wasFused] of fused) {
        if (wasFused) registerFusedKernels(name);
        else restoreStockKernels(name);
      }
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      tf.env().set('PROD', prod);
    },
  };
}
