import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import {
  checkRowNormalize,
  checkRowNormalizeGrad,
  normalizeRows,
  normalizeRowsGradient,
  ROW_NORMALIZE,
  ROW_NORMALIZE_GRAD,
  type RowNormalizeAttrs,
} from './row-normalize.ts';
import { accumulateSegments, segmentSumShape } from './segment-sum.ts';
import { checkSampledSoftmax, SAMPLED_SOFTMAX_CROSS_ENTROPY, sampledSoftmaxRows } from './softmax-cross-entropy.ts';
import { checkSparseMatMul, SPARSE_MAT_MUL, type SparseMatMulAttrs, sparseMatMulInto } from './sparse-matmul.ts';

/**
 * Kernels for the tfjs `wasm` backend, written in JavaScript. A wasm tensor is a block of the module's
 * linear memory: `makeOutput` mallocs one and registers it with the C++ side, `typedArrayFromHeap` gives a
 * Float32Array / Int32Array view of a tensor's block without copying.
 *
 * A malloc may grow the wasm memory, which detaches every view taken before it. So each kernel allocates
 * its output first and only then takes views, and keeps no view past its return.
 */

export type WasmBackend = Pick<BackendWasm, 'makeOutput' | 'typedArrayFromHeap' | 'disposeData'>;

/** The backend a wasm kernel was called with, checked to be the tfjs wasm backend. */
export function asWasmBackend(backend: unknown): WasmBackend {
  const b = backend as Partial<WasmBackend> | null;
  if (b == null || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new Error('fused wasm kernel called with a backend that is not the tfjs wasm backend');
  }
  return b as WasmBackend;
}

const unsortedSegmentSumWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const shape = segmentSumShape(x.shape, segmentIds.shape, numSegments);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: dtype ${x.dtype} is not supported (float32 or int32)`);
  }
  if (segmentIds.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`);
  const out = wasm.makeOutput(shape, x.dtype);
  // Views only after the malloc above; malloc'd memory is not zeroed.
  const outView = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outView.fill(0);
  const xView = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
  accumulateSegments(xView, ids, numSegments, outView);
  return out;
};

const sampledSoftmaxCrossEntropyWasm: tf.KernelFunc = ({ inputs, backend }) => {
  const wasm = asWasmBackend(backend);
  const { scores, target, offset, excludedStart, excludedColumn } = inputs as Record<
    'scores' | 'target' | 'offset' | 'excludedStart' | 'excludedColumn',
    tf.TensorInfo
  >;
  const [rows, columns] = checkSampledSoftmax(scores, target, offset, excludedStart, excludedColumn);
  const outputs = [
    wasm.makeOutput([rows], 'float32'),
    wasm.makeOutput([rows, columns], 'float32'),
    wasm.makeOutput([rows], 'float32'),
    wasm.makeOutput([columns], 'float32'),
  ];
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array & Int32Array;
  try {
    sampledSoftmaxRows(
      { scores: view(scores), target: view(target), offset: view(offset), excludedStart: view(excludedStart), excludedColumn: view(excludedColumn) },
      { loss: view(outputs[0]!), dScores: view(outputs[1]!), dTarget: view(outputs[2]!), dOffset: view(outputs[3]!) },
    );
  } catch (error) {
    for (const out of outputs) wasm.disposeData(out.dataId);
    throw error;
  }
  return outputs;
};

const sparseMatMulWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { rows, columns, values, dense } = inputs as { rows: tf.TensorInfo; columns: tf.TensorInfo; values: tf.TensorInfo; dense: tf.TensorInfo };
  const { numRows } = attrs as unknown as SparseMatMulAttrs;
  const out = wasm.makeOutput(checkSparseMatMul(rows, columns, values, dense, numRows), 'float32');
  const outView = wasm.typedArrayFromHeap(out) as Float32Array;
  outView.fill(0);
  try {
    sparseMatMulInto(
      wasm.typedArrayFromHeap(rows) as Int32Array,
      wasm.typedArrayFromHeap(columns) as Int32Array,
      wasm.typedArrayFromHeap(values) as Float32Array,
      wasm.typedArrayFromHeap(dense) as Float32Array,
      dense.shape[0]!,
      numRows,
      outView,
    );
  } catch (error) {
    wasm.disposeData(out.dataId);
    throw error;
  }
  return out;
};

const rowNormalizeWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { x } = inputs as { x: tf.TensorInfo };
  const { scale } = attrs as unknown as RowNormalizeAttrs;
  const { rows, width } = checkRowNormalize(x, scale);
  const y = wasm.makeOutput([rows, width], 'float32');
  const r = wasm.makeOutput([rows], 'float32');
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  normalizeRows(view(x), width, scale, view(y), view(r));
  return [y, r];
};

const rowNormalizeGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend);
  const { dy, y, r } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; r: tf.TensorInfo };
  const { scale } = attrs as unknown as RowNormalizeAttrs;
  const { rows, width } = checkRowNormalizeGrad(dy, y, r, scale);
  const dx = wasm.makeOutput([rows, width], 'float32');
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  normalizeRowsGradient(view(dy), view(y), view(r), width, scale, view(dx));
  return dx;
};

export const wasmKernels: readonly tf.KernelConfig[] = [
  { kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm },
  { kernelName: SAMPLED_SOFTMAX_CROSS_ENTROPY, backendName: 'wasm', kernelFunc: sampledSoftmaxCrossEntropyWasm },
  { kernelName: SPARSE_MAT_MUL, backendName: 'wasm', kernelFunc: sparseMatMulWasm },
  { kernelName: ROW_NORMALIZE, backendName: 'wasm', kernelFunc: rowNormalizeWasm },
  { kernelName: ROW_NORMALIZE_GRAD, backendName: 'wasm', kernelFunc: rowNormalizeGradWasm },
];
