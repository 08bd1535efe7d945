/**
 * Linear layers (PyTorch's nn.Linear, and 1×1 convolutions over rows): the
 * weight packed once for the GEMM, the bias a vector in linear memory, and
 * every option named. Layers are plain objects of numbers and addresses, so
 * a worker attaches to the same weights in a shared memory. Beside them, the
 * row copies and table lookups a decoding loop does into preallocated rows.
 */
import { modelFormat, shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type Activation, activationCode } from '../runtime/ops/activation.js';
import { gemm, packMatrixValues } from '../runtime/ops/gemm.js';
import { type LinearWeight, i8LinearScratch, int8Linear, isInt8, quantizeMatrixValues } from '../runtime/ops/quant.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor, expectShape, formatShape } from '../runtime/tensor.js';

/** A [C] vector in linear memory. */
export interface Vector {
  ptr: number;
  length: number;
}

export function vector(rt: Runtime, values: Float32Array): Vector {
  const t = rt.tensor([values.length], values);
  return { ptr: t.ptr, length: values.length };
}

export const vectorTensor = (rt: Runtime, v: Vector) => new Tensor(rt.heap, v.ptr, [v.length]);

/**
 * y = x·Wᵀ + b for x [rows, inFeatures]: W packed for the GEMM, or quantised
 * to int8 per output channel (K = inFeatures, N = outFeatures either way).
 */
export interface Linear {
  weight: LinearWeight;
  bias?: Vector;
}

/** How a loader stores a Linear's weight: float32 (the default), or int8 (dynamic quantisation, ops/quant.ts). */
export interface LinearLoadOptions {
  int8?: boolean;
}

export const inFeatures = (layer: Linear) => layer.weight.K;
export const outFeatures = (layer: Linear) => layer.weight.N;

export interface LinearOptions {
  activation?: Activation;
  /** y = act(y + x·Wᵀ + b): add to what `out` holds (a residual connection). */
  accumulate?: boolean;
  /** Where to write [rows, out]; allocated when absent (then accumulate is refused). */
  out?: Tensor;
}

/** A weight [out, in] (or a 1×1 Conv1d's [out, in, 1]) as values, its shape checked. */
function linearWeightValues(file: SafeTensorsFile, name: string, outIn?: readonly [number, number]): [Float32Array, [number, number]] {
  const shape = file.get(name).shape;
  const [out, inp] = outIn ?? (shape as [number, number]);
  const ok = (shape.length === 2 || (shape.length === 3 && shape[2] === 1)) && shape[0] === out && shape[1] === inp;
  if (!ok) throw modelFormat(file.file, `${name} has shape [${shape.join(', ')}], expected [${out}, ${inp}]`);
  return [file.floats(name, shape), [out, inp]];
}

/** A weight [out, in] as values, stored as `options` ask: packed float32 or int8 rows. */
export function storeLinearWeight(rt: Runtime, values: Float32Array, shape: readonly [number, number], options: LinearLoadOptions = {}): LinearWeight {
  return options.int8 ? quantizeMatrixValues(rt, values, shape) : packMatrixValues(rt, values, shape, { transposed: true });
}

/**
 * A Linear `name`: `name.weight` [out, in] (or a 1×1 Conv1d's [out, in, 1])
 * and `name.bias` [out] when the file has it. `shape` [out, in] checks the
 * weight against what the config says.
 */
export function loadLinear(rt: Runtime, file: SafeTensorsFile, name: string, shape?: readonly [number, number], options: LinearLoadOptions = {}): Linear {
  const weight = storeLinearWeight(rt, ...linearWeightValues(file, `${name}.weight`, shape), options);
  const bias = file.tensors.has(`${name}.bias`) ? vector(rt, file.floats(`${name}.bias`, [weight.N], `${name}.weight`)) : undefined;
  return bias ? { weight, bias } : { weight };
}

/**
 * Several Linear layers over the same input as one (attention's Q, K and V
 * projections): their weights stacked to [Σout, in] and biases to [Σout],
 * so one GEMM computes them all side by side in each output row.
 */
export function loadFusedLinear(rt: Runtime, file: SafeTensorsFile, names: readonly string[], inFeatures: number, options: LinearLoadOptions = {}): Linear {
  const outs = names.map((n) => {
    const shape = file.get(`${n}.weight`).shape;
    if (shape.length !== 2 || shape[1] !== inFeatures) throw modelFormat(file.file, `${n}.weight has shape [${shape.join(', ')}], expected [*, ${inFeatures}]`);
    return shape[0]!;
  });
  const total = outs.reduce((a, b) => a + b, 0);
  const weight = new Float32Array(total * inFeatures);
  const bias = new Float32Array(total);
  let row = 0;
  names.forEach((n, i) => {
    weight.set(file.floats(`${n}.weight`, [outs[i]!, inFeatures]), row * inFeatures);
    bias.set(file.floats(`${n}.bias`, [outs[i]!], `${n}.weight`), row);
    row += outs[i]!;
  });
  return { weight: storeLinearWeight(rt, weight, [total, inFeatures], options), bias: vector(rt, bias) };
}

/** x [rows, in] → act(x·Wᵀ + b) [rows, out], checked; see LinearOptions. */
export function linear(rt: Runtime, layer: Linear, x: Tensor, options: LinearOptions = {}): Tensor {
  const gemmOptions = {
    bias: layer.bias && vectorTensor(rt, layer.bias), activation: options.activation, accumulate: options.accumulate, out: options.out,
  };
  if (isInt8(layer.weight)) {
    expectShape('linear', 'x', x, [-1, layer.weight.K]);
    return int8Linear(rt, x, layer.weight, { ...gemmOptions, out: options.out ?? rt.tensor([x.shape[0]!, layer.weight.N]) });
  }
  return gemm(rt, x, layer.weight, gemmOptions);
}

/**
 * The per-step form of `linear` for decoding loops: x [rows, in] into y
 * [rows, out], both preallocated by the caller's state, whose shapes were
 * checked when it was made. Allocates nothing, checks only the widths.
 * `rows` runs the first rows only (default all of x).
 */
export function linearInto(rt: Runtime, layer: Linear, x: Tensor, y: Tensor, options: { activation?: Activation; accumulate?: boolean; rows?: number } = {}): void {
  const { K, N, ptr } = layer.weight;
  if (x.size % K !== 0 || y.size % N !== 0) {
    expectShape('linearInto', 'x', x, [-1, K]);
    expectShape('linearInto', 'y', y, [-1, N]);
  }
  const rows = options.rows ?? x.size / K;
  const w = layer.weight;
  if (isInt8(w)) {
    // Allocates the quantised rows' scratch for the call: a mark and a release.
    rt.scope(() => rt.kernels.i8_linear(rows, N, K, x.ptr, K, rt.heap.alloc(i8LinearScratch(rows, w.Kp)), ptr, w.Kp, w.scales, w.sums, layer.bias?.ptr ?? 0, y.ptr, N,
      activationCode(options.activation), options.accumulate ? 1 : 0));
    return;
  }
  rt.kernels.f32_gemm_packed(rows, N, K, x.ptr, K, ptr, y.ptr, N, layer.bias?.ptr ?? 0, activationCode(options.activation), options.accumulate ? 1 : 0);
}

/**
 * y = x, both preallocated and of one size (a bias to start a sum from, rows
 * carried from one tile to the next): allocates nothing. x and y may overlap.
 */
export function copyInto(rt: Runtime, x: Tensor, y: Tensor): void {
  if (x.size !== y.size) throw copyError(x, y);
  rt.kernels.f32_copy_rows(1, x.size, x.ptr, x.size, y.ptr, y.size);
}

/**
 * Row ids[r] of `table`, a (count, width) lookup table such as an
 * nn.Embedding's weight, into row r of y (ids.length, width): the lookup
 * alone, no scale or positions. Allocates nothing; refuses an id outside the table.
 */
export function lookupInto(rt: Runtime, table: Vector, ids: ArrayLike<number>, y: Tensor): void {
  if (y.shape[0] !== ids.length) throw shapeError(`lookupInto: y ${formatShape(y.shape)} does not have one row per id (${ids.length})`);
  for (let r = 0; r < ids.length; r++) lookupRowInto(rt, table, ids[r]!, y, r);
}

/** Row `id` of `table` (count, width) into row `row` of y (rows, width). */
export function lookupRowInto(rt: Runtime, table: Vector, id: number, y: Tensor, row: number): void {
  const rows = y.shape[0]!;
  const width = y.size / rows;
  if (!(Number.isInteger(id) && id >= 0 && (id + 1) * width <= table.length && Number.isInteger(row) && row >= 0 && row < rows)) {
    throw lookupError(table, id, y, row);
  }
  rt.kernels.f32_copy_rows(1, width, table.ptr + id * width * 4, width, y.ptr + row * width * 4, width);
}

// Out of line, so that the per-step helpers above stay small enough for the JIT to inline.
function copyError(x: Tensor, y: Tensor) {
  return shapeError(`copyInto: cannot copy ${formatShape(x.shape)} into ${formatShape(y.shape)}`);
}
function lookupError(table: Vector, id: number, y: Tensor, row: number) {
  const width = y.size / (y.shape[0] || 1);
  return shapeError(`lookupRowInto: row ${id} of a table of ${table.length / width} rows of ${width} into row ${row} of ${formatShape(y.shape)}`);
}
