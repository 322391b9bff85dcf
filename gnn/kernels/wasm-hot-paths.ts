import * as tf from '@tensorflow/tfjs';

import { asWasmBackend } from './wasm.ts';

/**
 * The stock wasm kernels that dominate GAT training time, replaced (measured on the 2-core machine, tfjs 4.22):
 *
 * - `GatherV2` along axis 0 copies whole rows here; the stock kernel computes an index per element and
 *   took 64 ms to gather 25K rows of 64 floats, against about 1 ms as row copies.
 * - `BatchMatMul` with a transposed operand: XNNPACK's path for it is ten times slower than for plain
 *   operands ([256×64]·[9742×64]ᵀ: 151 ms against 17 ms), and every matMul gradient transposes one
 *   operand. We transpose explicitly (one cheap pass) and run the stock plain product.
 * - `Identity` copies the tensor; tfjs runs it for every tensor it saves for the backward pass (about
 *   6 ms of a 256-row training step). Tensors are immutable, so ours shares the data and counts the
 *   reference, as the stock wasm `Reshape` and the cpu backend's `Identity` do. `Cast` to the tensor's own
 *   dtype, which every Multiply gradient runs on its other operand, shares it the same way.
 *
 * Anything outside these fast paths goes to the stock kernel, so results are the stock results.
 */

function stockKernel(name: string): tf.KernelConfig {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no ${name} kernel to build on (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return config;
}

/** Ours, wrapping the stock kernel; the stock setup (binding the C++ entry point) runs for ours too. */
function wrap(name: string, build: (stock: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  const stock = stockKernel(name);
  const kernelFunc = build(stock.kernelFunc);
  return { kernelName: name, backendName: 'wasm', kernelFunc, ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
}

function gatherRows(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
    const normalisedAxis = axis < 0 ? axis + x.shape.length : axis;
    if (normalisedAxis !== 0 || (batchDims ?? 0) !== 0 || x.shape.length === 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
      return stock(args);
    }
    const wasm = asWasmBackend(backend);
    const rows = x.shape[0]!;
    const inner = tf.util.sizeFromShape(x.shape.slice(1));
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views only after the malloc above: a malloc may grow (and detach) the wasm memory.
    const source = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const target = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
    const ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i]!;
      if (row < 0 || row >= rows) {
        wasm.disposeData(out.dataId);
        throw new Error(`GatherV2: index ${row} is not in [0, ${rows})`);
      }
      if (inner === 1) target[i] = source[row]!;
      else target.set(source.subarray(row * inner, (row + 1) * inner), i * inner);
    }
    return out;
  };
}

function matMulWithoutTransposes(stock: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    if (!transposeA && !transposeB) return stock(args);
    const wasm = asWasmBackend(backend);
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return transpose({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
    };
    const aPlain = transposeA ? swapLast(a) : a;
    const bPlain = transposeB ? swapLast(b) : b;
    try {
      return stock({ inputs: { a: aPlain, b: bPlain }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (aPlain !== a) wasm.disposeData(aPlain.dataId);
      if (bPlain !== b) wasm.disposeData(bPlain.dataId);
    }
  };
}

const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

function castSharingSameType(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    return (args.attrs as unknown as tf.CastAttrs).dtype === x.dtype ? sharedIdentity(args) : stock(args);
  };
}

let configs: tf.KernelConfig[] | undefined;

/**
 * Built on first use from the stock kernels, the same objects afterwards; none until the wasm package has
 * registered its kernels (there is nothing to wrap before that).
 */
export function wasmHotPathKernels(): readonly tf.KernelConfig[] {
  if (configs) return configs;
  if ([tf.GatherV2, tf.Identity, tf.BatchMatMul, tf.Transpose, tf.Cast].some((name) => !tf.getKernel(name, 'wasm'))) return [];
  const transpose = stockKernel(tf.Transpose).kernelFunc;
  configs = [
    wrap(tf.GatherV2, gatherRows),
    wrap(tf.BatchMatMul, (stock) => matMulWithoutTransposes(stock, transpose)),
    { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: sharedIdentity },
    wrap(tf.Cast, castSharingSameType),
  ];
  return configs;
}
