import * as tf from '@tensorflow/tfjs';

import {
  checkRowNormalize,
  checkRowNormalizeGrad,
  normalizeRows,
  normalizeRowsGradient,
  ROW_NORMALIZE,
  ROW_NORMALIZE_GRAD,
  type RowNormalizeAttrs,
} from './row-normalize.ts';
import { accumulateSegments, type NumericArray, segmentSumShape } from './segment-sum.ts';
import { checkSampledSoftmax, SAMPLED_SOFTMAX_CROSS_ENTROPY, sampledSoftmaxRows } from './softmax-cross-entropy.ts';
import { checkSparseMatMul, SPARSE_MAT_MUL, type SparseMatMulAttrs, sparseMatMulInto } from './sparse-matmul.ts';

/**
 * Kernels for the tfjs `cpu` backend (MathBackendCPU). Tensor values live in ordinary typed arrays in the
 * backend's data store; we read them in place and hand the output array to `makeTensorInfo`, which owns it
 * from then on.
 */

/** The part of MathBackendCPU these kernels use (the package is not a direct dependency). */
interface CpuBackend {
  readonly data: { get(dataId: tf.DataId): { values?: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

function asCpuBackend(backend: unknown): CpuBackend {
  const b = backend as Partial<CpuBackend> | null;
  if (b == null || typeof b.makeTensorInfo !== 'function' || b.data == null || typeof b.data.get !== 'function') {
    throw new Error('fused cpu kernel called with a backend that is not the tfjs cpu backend');
  }
  return b as CpuBackend;
}

export function valuesOf(backend: CpuBackend, t: tf.TensorInfo): tf.backend_util.BackendValues {
  const values = backend.data.get(t.dataId).values;
  if (values == null) throw new Error(`cpu backend holds no values for a ${t.dtype} tensor`);
  return values;
}

export function asInt32(values: tf.backend_util.BackendValues): Int32Array {
  if (values instanceof Int32Array) return values;
  if (values instanceof Float32Array || values instanceof Uint8Array) return Int32Array.from(values);
  throw new Error('expected numeric tensor values');
}

export function allocate(dtype: tf.DataType, size: number): NumericArray {
  if (dtype === 'float32') return new Float32Array(size);
  if (dtype === 'int32') return new Int32Array(size);
  throw new Error(`UnsortedSegmentSum: dtype ${dtype} is not supported (float32 or int32)`);
}

function asNumeric(values: tf.backend_util.BackendValues, dtype: tf.DataType): NumericArray {
  if (dtype === 'float32' && values instanceof Float32Array) return values;
  if (dtype === 'int32' && values instanceof Int32Array) return values;
  if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array) {
    return dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  }
  throw new Error(`expected numeric values for a ${dtype} tensor`);
}

const unsortedSegmentSumCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = asCpuBackend(backend);
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const shape = segmentSumShape(x.shape, segmentIds.shape, numSegments);
  const out = allocate(x.dtype, tf.util.sizeFromShape(shape));
  accumulateSegments(asNumeric(valuesOf(cpu, x), x.dtype), asInt32(valuesOf(cpu, segmentIds)), numSegments, out);
  return cpu.makeTensorInfo(shape, x.dtype, out);
};

const sampledSoftmaxCrossEntropyCpu: tf.KernelFunc = ({ inputs, backend }) => {
  const cpu = asCpuBackend(backend);
  const { scores, target, offset, excludedStart, excludedColumn } = inputs as Record<
    'scores' | 'target' | 'offset' | 'excludedStart' | 'excludedColumn',
    tf.TensorInfo
  >;
  const [rows, columns] = checkSampledSoftmax(scores, target, offset, excludedStart, excludedColumn);
  const read = (t: tf.TensorInfo) => asNumeric(valuesOf(cpu, t), t.dtype);
  const out = { loss: new Float32Array(rows), dScores: new Float32Array(rows * columns), dTarget: new Float32Array(rows), dOffset: new Float32Array(columns) };
  sampledSoftmaxRows(
    {
      scores: read(scores) as Float32Array,
      target: read(target) as Float32Array,
      offset: read(offset) as Float32Array,
      excludedStart: read(excludedStart) as Int32Array,
      excludedColumn: read(excludedColumn) as Int32Array,
    },
    out,
  );
  return [
    cpu.makeTensorInfo([rows], 'float32', out.loss),
    cpu.makeTensorInfo([rows, columns], 'float32', out.dScores),
    cpu.makeTensorInfo([rows], 'float32', out.dTarget),
    cpu.makeTensorInfo([columns], 'float32', out.dOffset),
  ];
};

const sparseMatMulCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = asCpuBackend(backend);
  const { rows, columns, values, dense } = inputs as { rows: tf.TensorInfo; columns: tf.TensorInfo; values: tf.TensorInfo; dense: tf.TensorInfo };
  const { numRows } = attrs as unknown as SparseMatMulAttrs;
  const shape = checkSparseMatMul(rows, columns, values, dense, numRows);
  const out = new Float32Array(shape[0]! * shape[1]!);
  const read = (t: tf.TensorInfo) => asNumeric(valuesOf(cpu, t), t.dtype);
  sparseMatMulInto(
    read(rows) as Int32Array,
    read(columns) as Int32Array,
    read(values) as Float32Array,
    read(dense) as Float32Array,
    dense.shape[0]!,
    numRows,
    out,
  );
  return cpu.makeTensorInfo(shape, 'float32', out);
};

const rowNormalizeCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = asCpuBackend(backend);
  const { x } = inputs as { x: tf.TensorInfo };
  const { scale } = attrs as unknown as RowNormalizeAttrs;
  const { rows, width } = checkRowNormalize(x, scale);
  const y = new Float32Array(rows * width);
  const r = new Float32Array(rows);
  normalizeRows(asNumeric(valuesOf(cpu, x), 'float32') as Float32Array, width, scale, y, r);
  return [cpu.makeTensorInfo([rows, width], 'float32', y), cpu.makeTensorInfo([rows], 'float32', r)];
};

const rowNormalizeGradCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = asCpuBackend(backend);
  const { dy, y, r } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; r: tf.TensorInfo };
  const { scale } = attrs as unknown as RowNormalizeAttrs;
  const { rows, width } = checkRowNormalizeGrad(dy, y, r, scale);
  const dx = new Float32Array(rows * width);
  const read = (t: tf.TensorInfo) => asNumeric(valuesOf(cpu, t), 'float32') as Float32Array;
  normalizeRowsGradient(read(dy), read(y), read(r), width, scale, dx);
  return cpu.makeTensorInfo([rows, width], 'float32', dx);
};

export const cpuKernels: readonly tf.KernelConfig[] = [
  { kernelName: tf.UnsortedSegmentSum, backendName: 'cpu', kernelFunc: unsortedSegmentSumCpu },
  { kernelName: SAMPLED_SOFTMAX_CROSS_ENTROPY, backendName: 'cpu', kernelFunc: sampledSoftmaxCrossEntropyCpu },
  { kernelName: SPARSE_MAT_MUL, backendName: 'cpu', kernelFunc: sparseMatMulCpu },
  { kernelName: ROW_NORMALIZE, backendName: 'cpu', kernelFunc: rowNormalizeCpu },
  { kernelName: ROW_NORMALIZE_GRAD, backendName: 'cpu', kernelFunc: rowNormalizeGradCpu },
];
