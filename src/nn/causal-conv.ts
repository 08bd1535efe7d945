/**
 * The dilated causal convolution (WaveNet's, PyTorch's Conv1d [OC, C, K]
 * with (K − 1)·dilation zeros on the left): y[t] = bias + Σ_k W_k ·
 * x[t − (K − 1 − k)·dilation].
 *
 * Two ways to run one layer, each with its own packing of the weight:
 *  - `causalConv`: over a whole sequence (or a time tile with the rows before
 *    it as history), one im2col GEMM of depth K·C per tile;
 *  - `causalConvStep`: one time step for a batch of streams, K GEMMs of one
 *    tap each. The taps before t come from a `CausalConvQueue`, a ring of the
 *    layer's last (K − 1)·dilation inputs, so a step costs K taps, not the
 *    receptive field. The ring starts zeroed, which is exactly the zero
 *    padding the whole-sequence form sees before t = 0.
 *
 * The two sum in a different order (all taps at once, or tap by tap), so they
 * agree to rounding, not bit for bit. Addresses are computed here, not in the
 * models that call it.
 */
import { badInput, shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type PackedCausalConv1d, causalConv1d, causalConv1dGated, packCausalConv1dWeight } from '../runtime/ops/conv.js';
import { type PackedMatrix, packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import { type Tensor, formatShape } from '../runtime/tensor.js';
import { type Vector, vector, vectorTensor } from './linear.js';

/** A causal Conv1d, C → OC with K taps `dilation` samples apart: plain data, so a worker can attach to it. */
export interface CausalConv {
  /** For `causalConv`: packed [K·C, OC], row k·C + c. */
  weight: PackedCausalConv1d;
  /** For `causalConvStep`: the same weight a tap at a time, K packed [C, OC]; tap k reads x[t − (K − 1 − k)·dilation]. */
  taps: PackedMatrix[];
  bias: Vector; // (OC)
  dilation: number;
  kernelSize: number;
  inChannels: number;
  outChannels: number;
}

/** A layer from PyTorch's Conv1d weight [OC, C, K] (and bias [OC], zeros when absent). */
export function causalConvLayer(
  rt: Runtime, weight: Float32Array, shape: readonly [number, number, number], options: { dilation: number; bias?: Float32Array },
): CausalConv {
  const [OC, C, K] = shape;
  const { dilation } = options;
  if (!Number.isSafeInteger(dilation) || dilation < 1) throw shapeError(`causalConvLayer: dilation must be an integer ≥ 1, got ${dilation}`);
  const bias = options.bias ?? new Float32Array(OC);
  if (bias.length !== OC) throw shapeError(`causalConvLayer: bias has ${bias.length} values, expected ${OC}`);
  const packed = packCausalConv1dWeight(rt, weight, shape);
  const taps = Array.from({ length: K }, (_, k) => {
    const tap = new Float32Array(OC * C); // [OC, C] of tap k
    for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) tap[o * C + c] = weight[(o * C + c) * K + k]!;
    return packMatrixValues(rt, tap, [OC, C], { transposed: true });
  });
  return { weight: packed, taps, bias: vector(rt, bias), dilation, kernelSize: K, inChannels: C, outChannels: OC };
}

/** The Conv1d `name` of a state dict: `name.weight` [OC, C, K] as `shape` says, `name.bias` [OC] if present. */
export function loadCausalConv(
  rt: Runtime, file: SafeTensorsFile, name: string, options: { dilation: number; shape: readonly [number, number, number] },
): CausalConv {
  const { shape, dilation } = options;
  const weight = file.floats(`${name}.weight`, shape);
  const bias = file.tensors.has(`${name}.bias`) ? file.floats(`${name}.bias`, [shape[0]], `${name}.weight`) : undefined;
  return causalConvLayer(rt, weight, shape, bias ? { dilation, bias } : { dilation });
}

// ---------------------------------------------------------------------------
// Whole sequence
// ---------------------------------------------------------------------------

export interface CausalConvOptions {
  /**
   * Leading rows of x that are context, not output: a sequence computed in
   * time tiles passes each tile with the (K − 1)·dilation rows before it.
   */
  history?: number;
  /** (OC) in place of the layer's own bias: e.g. with a conditioning embedding added. */
  bias?: Tensor;
  /** WaveNet's gated unit in the same kernel call: tanh(y[…, :OC/2]) ⊙ σ(y[…, OC/2:]), output (…, OC/2). */
  gated?: boolean;
  /** Where to write the output; allocated when absent. */
  out?: Tensor;
}

/** x (T, C) or (N, T, C), its first `history` rows context → (T − history, OC), or (…, OC/2) gated. */
export function causalConv(rt: Runtime, layer: CausalConv, x: Tensor, options: CausalConvOptions = {}): Tensor {
  const conv = { dilation: layer.dilation, history: options.history, bias: options.bias ?? vectorTensor(rt, layer.bias), out: options.out };
  return options.gated ? causalConv1dGated(rt, x, layer.weight, conv) : causalConv1d(rt, x, layer.weight, conv);
}

// ---------------------------------------------------------------------------
// One step at a time
// ---------------------------------------------------------------------------

/** A layer's past inputs for `rows` streams stepping together. */
export interface CausalConvQueue {
  /** (K − 1)·dilation: the inputs the taps before t read. */
  readonly slots: number;
  readonly rows: number;
  /** (slots · rows, C): slot t mod slots holds the rows' input at t; zeros before t = 0. */
  readonly buffer: Tensor;
}

/** An empty (zeroed) queue of `rows` streams for `layer`. */
export function causalConvQueue(rt: Runtime, layer: CausalConv, rows: number): CausalConvQueue {
  const slots = (layer.kernelSize - 1) * layer.dilation;
  return { slots, rows, buffer: rt.tensor([slots * rows, layer.inChannels]) };
}

export interface CausalConvStepOptions {
  /**
   * Add the taps to what z holds: a bias the caller wrote (the layer's own,
   * with conditioning added), so the layer's bias is not added again.
   * Without it, z = bias + Σ taps.
   */
  accumulate?: boolean;
  /** Also write WaveNet's gated unit tanh(z[:, :OC/2]) ⊙ σ(z[:, OC/2:]) here: (rows, OC/2). */
  gate?: Tensor;
}

// Out of line, so that causalConvStep's bytecode stays within what V8 inlines into a decoding loop (460 bytes).
function stepShapeError(layer: CausalConv, queue: CausalConvQueue, t: number, x: Tensor, z: Tensor, gate: Tensor | undefined) {
  const { inChannels: C, outChannels: OC } = layer;
  if (!(t >= 0)) return badInput(`causalConvStep: t must be a step ≥ 0, got ${t}`);
  return shapeError(
    `causalConvStep: for ${queue.rows} rows of ${C} → ${OC} channels, x must be ${formatShape([queue.rows, C])} (got ${formatShape(x.shape)}), ` +
    `z ${formatShape([queue.rows, OC])} (got ${formatShape(z.shape)})${gate ? `, gate ${formatShape([queue.rows, OC / 2])} (got ${formatShape(gate.shape)})` : ''}, ` +
    `and the queue (K − 1)·dilation = ${(layer.kernelSize - 1) * layer.dilation} slots (has ${queue.slots})`,
  );
}

/**
 * Step t (0, 1, 2, … in order) for the queue's streams: x (rows, C), the
 * input at t, → z (rows, OC). Taps before t are read from the queue, then x
 * takes its slot. For decoding loops: allocates nothing.
 */
export function causalConvStep(
  rt: Runtime, layer: CausalConv, queue: CausalConvQueue, t: number, x: Tensor, z: Tensor, options?: CausalConvStepOptions,
): void {
  const { slots, rows, buffer } = queue;
  const { taps, dilation, inChannels: C, outChannels: OC } = layer;
  const gate = options?.gate;
  const slotFloats = rows * C;
  if (x.size !== slotFloats || z.size !== rows * OC || slots !== (taps.length - 1) * dilation || (gate && 2 * gate.size !== z.size) || !(t >= 0)) {
    throw stepShapeError(layer, queue, t, x, z, gate);
  }
  const k = rt.kernels;
  const slotBytes = slotFloats * 4;
  // Without accumulate the first tap writes z and adds the bias; every later one adds to z.
  let accumulate = options?.accumulate ? 1 : 0;
  let bias = accumulate ? 0 : layer.bias.ptr;
  // Tap j reads the input `back` = (K − 1 − j)·dilation steps before t: a queue slot, or x itself.
  for (let j = 0, back = slots; j < taps.length; j++, back -= dilation) {
    const src = back === 0 ? x.ptr : buffer.ptr + ((t - back + slots) % slots) * slotBytes;
    k.f32_gemm_packed(rows, OC, C, src, C, taps[j]!.ptr, z.ptr, OC, bias, 0, accumulate);
    accumulate = 1;
    bias = 0;
  }
  if (slots > 0) k.f32_copy_rows(1, slotFloats, x.ptr, slotFloats, buffer.ptr + (t % slots) * slotBytes, slotFloats);
  if (gate) k.f32_gated_tanh(rows, OC / 2, z.ptr, gate.ptr);
}
