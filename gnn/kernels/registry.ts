import * as tf from '@tensorflow/tfjs';

import { cpuKernels } from './cpu.ts';
import { registerLeanGradients } from './gradients.ts';
import { wasmKernels } from './wasm.ts';
import { wasmHotPathKernels } from './wasm-hot-paths.ts';

/**
 * Swaps our fused kernels into the tfjs kernel registry for one backend, and back. The registry is
 * process-global and keyed by (kernel, backend); the stock kernel we replace is kept so that it can be
 * restored (tests compare the two).
 */

/** Per backend, our kernels; a function because the wasm ones wrap stock kernels that exist only once wasm is loaded. */
const FUSED: ReadonlyMap<string, () => readonly tf.KernelConfig[]> = new Map([
  ['cpu', () => cpuKernels],
  ['wasm', () => [...wasmKernels, ...wasmHotPathKernels()]],
]);

/** Stock kernels we replaced, by `kernel/backend`; null where the backend had none (wasm segment sum). */
const replaced = new Map<string, tf.KernelConfig | null>();

const key = (kernelName: string, backendName: string): string => `${kernelName}/${backendName}`;

function registered(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return tf.getKernel(kernelName, backendName);
}

/** Names of the kernels we have for a backend (none for backends such as `tensorflow`). */
export function fusedKernelNames(backendName: string): string[] {
  return (FUSED.get(backendName)?.() ?? []).map((k) => k.kernelName);
}

/**
 * Registers our kernels for `backendName` in place of the stock ones. Idempotent: a kernel already in
 * place is left alone. Returns the names of the kernels now fused for that backend.
 */
export function registerFusedKernels(backendName: string): string[] {
  registerLeanGradients();
  for (const config of FUSED.get(backendName)?.() ?? []) {
    const current = registered(config.kernelName, backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    const k = key(config.kernelName, backendName);
    if (!replaced.has(k)) replaced.set(k, current ?? null);
    // Unregister first: registering over an existing kernel works too but logs a warning.
    if (current) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
  }
  return fusedKernelNames(backendName);
}

/** Puts the stock kernels back for `backendName` (none where tfjs has none). Idempotent. */
export function restoreStockKernels(backendName: string): void {
  for (const config of FUSED.get(backendName)?.() ?? []) {
    const current = registered(config.kernelName, backendName);
    if (current?.kernelFunc !== config.kernelFunc) continue;
    tf.unregisterKernel(config.kernelName, backendName);
    const stock = replaced.get(key(config.kernelName, backendName));
    if (stock) tf.registerKernel(stock);
  }
}

/** Whether our kernel, not the stock one, currently serves `kernelName` on `backendName`. */
export function isFused(kernelName: string, backendName: string): boolean {
  const ours = FUSED.get(backendName)?.().find((k) => k.kernelName === kernelName);
  return ours !== undefined && registered(kernelName, backendName)?.kernelFunc === ours.kernelFunc;
}
