import { badInput, shapeError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Shape, type Tensor, expectShape, formatShape } from '../tensor.js';
import { type Activation, activationCode } from './activation.js';
import { type Pair, expectLength, output, pair, positiveInt } from './args.js';

/**
 * Floats in one im2col / col2im tile: 256 KB, so a tile and the GEMM block
 * that reads it stay in L2 while the next one is gathered.
 */
const TILE_FLOATS = 65536;

/** Rows of `rowFloats` floats per tile: a multiple of 4 (GEMM's row block), at least 4. */
function tileRows(rowFloats: number): number {
  return Math.max(4, Math.floor(TILE_FLOATS / Math.max(1, rowFloats) / 4) * 4);
}

/** Runs a kernel with `floats` of scratch, freed as soon as it returns. */
function withScratch(rt: Runtime, floats: number, run: (scratch: number) => void): void {
  rt.scope(() => run(floats > 0 ? rt.scratch(floats) : 0));
}

/** A convolution's geometry and epilogue, PyTorch's arguments in channels-last form. */
export interface SpatialOptions {
  /** Default 1. */
  stride?: Pair;
  /**
   * Zeros on each side, or 'same' for TensorFlow's SAME rule: output ⌈size / stride⌉, the padding
   * that needs split with the odd one after (so 3×3 stride 2 on an even size pads 0 before, 1 after).
   */
  padding?: Pair | 'same';
  dilation?: Pair;
  /** [output channels], added before the activation. */
  bias?: Tensor;
  activation?: Activation;
  /** Where to write the output; allocated when absent. */
  out?: Tensor;
}

/** PyTorch's output size of a convolution along one axis. */
function convOutSize(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/**
 * Stride, dilation, the padding before each axis (the kernels bound-check both sides, so padding
 * after is whatever the output size implies) and the output size.
 */
function geometry(where: string, options: SpatialOptions, H: number, W: number, KH: number, KW: number) {
  const stride = pair(where, 'stride', options.stride, 1, 1);
  const dilation = pair(where, 'dilation', options.dilation, 1, 1);
  if (options.padding === 'same') {
    const axis = (size: number, k: number, s: number, d: number) => {
      const out = Math.ceil(size / s);
      return { out, before: Math.floor(Math.max((out - 1) * s + d * (k - 1) + 1 - size, 0) / 2) };
    };
    const h = axis(H, KH, stride[0], dilation[0]);
    const w = axis(W, KW, stride[1], dilation[1]);
    return { stride, dilation, padding: [h.before, w.before] as [number, number], OH: h.out, OW: w.out };
  }
  const padding = pair(where, 'padding', options.padding, 0, 0);
  return {
    stride, dilation, padding,
    OH: convOutSize(H, KH, stride[0], padding[0], dilation[0]),
    OW: convOutSize(W, KW, stride[1], padding[1], dilation[1]),
  };
}

function expectOutputSize(where: string, OH: number, OW: number, x: Tensor): void {
  if (OH < 1 || OW < 1) {
    throw shapeError(`${where}: input ${formatShape(x.shape)} is too small for this kernel, stride and padding (output would be ${OH}×${OW})`);
  }
}

// ---- conv2d ----

/** A conv2d weight in the kernel's layout: `groups` GEMM-packed blocks of [KH·KW·C/groups, OC/groups]. */
export interface PackedConv2d {
  readonly ptr: number;
  readonly outChannels: number;
  readonly inChannels: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly groups: number;
}

/**
 * Packs a PyTorch conv2d weight [OC, C/groups, KH, KW] (OIHW): per group, B
 * row (kh·KW + kw)·Cg + c, column oc — the order im2col gathers a patch in.
 */
export function packConv2dWeight(rt: Runtime, weight: Float32Array, shape: Shape, groups = 1): PackedConv2d {
  const where = 'packConv2dWeight';
  if (shape.length !== 4) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, expected [OC, C/groups, KH, KW]`);
  expectLength(where, 'weight', weight, shape);
  const [OC, Cg, KH, KW] = shape as [number, number, number, number];
  positiveInt(where, 'groups', groups);
  if (OC < 1 || Cg < 1 || KH < 1 || KW < 1) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, every size must be ≥ 1`);
  if (OC % groups !== 0) throw shapeError(`${where}: ${OC} output channels do not divide into ${groups} groups`);
  const OCg = OC / groups;
  const Kg = KH * KW * Cg;
  const block = rt.kernels.f32_gemm_packed_size(Kg, OCg);
  const ptr = rt.scratch(groups * block);
  rt.scope(() => {
    // [OC, Cg, KH, KW] → [OC, KH, KW, Cg]: each row is one output channel's Bᵀ row.
    const t = rt.tensor([OC, Kg]);
    const d = t.data;
    for (let o = 0; o < OC; o++) {
      for (let c = 0; c < Cg; c++) {
        for (let k = 0; k < KH * KW; k++) d[o * Kg + k * Cg + c] = weight[(o * Cg + c) * KH * KW + k]!;
      }
    }
    for (let g = 0; g < groups; g++) {
      rt.kernels.f32_gemm_pack_b(Kg, OCg, t.ptr + g * OCg * Kg * 4, Kg, 1, ptr + g * block * 4);
    }
  });
  return { ptr, outChannels: OC, inChannels: Cg * groups, kernelH: KH, kernelW: KW, groups };
}

export type Conv2dOptions = SpatialOptions;

/** act(conv2d(x) + bias) for x [N, H, W, C] (PyTorch's F.conv2d, channels-last): [N, OH, OW, OC]. */
export function conv2d(rt: Runtime, x: Tensor, w: PackedConv2d, options: Conv2dOptions = {}): Tensor {
  const where = 'conv2d';
  expectShape(where, 'x', x, [-1, -1, -1, w.inChannels]);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const { stride, padding, dilation, OH, OW } = geometry(where, options, H, W, w.kernelH, w.kernelW);
  expectOutputSize(where, OH, OW, x);
  if (options.bias) expectShape(where, 'bias', options.bias, [w.outChannels]);
  const act = activationCode(options.activation);
  const y = output(rt, where, [N, OH, OW, w.outChannels], options.out);
  const pointwise = w.kernelH === 1 && w.kernelW === 1 && stride[0] === 1 && stride[1] === 1 &&
    padding[0] === 0 && padding[1] === 0;
  const patch = w.kernelH * w.kernelW * (C / w.groups);
  const tile = Math.min(tileRows(patch), N * OH * OW);
  withScratch(rt, pointwise ? 0 : tile * patch, (scratch) =>
    rt.kernels.f32_conv2d_nhwc(
      N, H, W, C, x.ptr, OH, OW, w.outChannels, w.kernelH, w.kernelW, stride[0], stride[1],
      padding[0], padding[1], dilation[0], dilation[1], w.groups, w.ptr, options.bias?.ptr ?? 0, act, y.ptr,
      scratch, tile,
    ));
  return y;
}

// ---- depthwise conv2d ----

/** A depthwise weight in the kernel's layout [KH, KW, C]. */
export interface DepthwiseWeight {
  readonly ptr: number;
  readonly channels: number;
  readonly kernelH: number;
  readonly kernelW: number;
}

/** Converts PyTorch's depthwise weight [C, 1, KH, KW] (groups = C) to [KH, KW, C]. */
export function packDepthwiseWeight(rt: Runtime, weight: Float32Array, shape: Shape): DepthwiseWeight {
  const where = 'packDepthwiseWeight';
  if (shape.length !== 4 || shape[1] !== 1) {
    throw shapeError(`${where}: weight has shape ${formatShape(shape)}, expected [C, 1, KH, KW] (one filter per channel)`);
  }
  expectLength(where, 'weight', weight, shape);
  const [C, , KH, KW] = shape as [number, number, number, number];
  if (C < 1 || KH < 1 || KW < 1) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, every size must be ≥ 1`);
  const t = rt.tensor([KH, KW, C]);
  const d = t.data;
  for (let c = 0; c < C; c++) {
    for (let k = 0; k < KH * KW; k++) d[k * C + c] = weight[c * KH * KW + k]!;
  }
  return { ptr: t.ptr, channels: C, kernelH: KH, kernelW: KW };
}

export type DepthwiseConv2dOptions = SpatialOptions;

/** Depthwise conv2d (F.conv2d with groups = C): x [N, H, W, C] → [N, OH, OW, C]. */
export function depthwiseConv2d(rt: Runtime, x: Tensor, w: DepthwiseWeight, options: DepthwiseConv2dOptions = {}): Tensor {
  const where = 'depthwiseConv2d';
  expectShape(where, 'x', x, [-1, -1, -1, w.channels]);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const { stride, padding, dilation, OH, OW } = geometry(where, options, H, W, w.kernelH, w.kernelW);
  expectOutputSize(where, OH, OW, x);
  if (options.bias) expectShape(where, 'bias', options.bias, [C]);
  const act = activationCode(options.activation);
  const y = output(rt, where, [N, OH, OW, C], options.out);
  rt.kernels.f32_dwconv2d_nhwc(
    N, H, W, C, x.ptr, OH, OW, w.kernelH, w.kernelW, stride[0], stride[1], padding[0], padding[1],
    dilation[0], dilation[1], w.ptr, options.bias?.ptr ?? 0, act, y.ptr,
  );
  return y;
}

/** The image rows [first, end) that output rows [rowStart, rowEnd) of a convolution read. */
function bandRows(stride: [number, number], padding: [number, number], dilation: [number, number], KH: number, height: number, rowStart: number, rowEnd: number): [number, number] {
  return [Math.max(0, rowStart * stride[0] - padding[0]), Math.min(height, (rowEnd - 1) * stride[0] - padding[0] + (KH - 1) * dilation[0] + 1)];
}
/**
 * The output size [OH, OW] of depthwiseConv2d over an image of H × W, and for output rows
 * [rowStart, rowEnd) the image rows [first, end) a band must hold (depthwiseConv2dBand).
 */
export function depthwiseBandGeometry(w: DepthwiseWeight, options: DepthwiseConv2dOptions, H: number, W: number) {
  const { stride, padding, dilation, OH, OW } = geometry('depthwiseConv2dBand', options, H, W, w.kernelH, w.kernelW);
  return { OH, OW, rows: (rowStart: number, rowEnd: number) => bandRows(stride, padding, dilation, w.kernelH, H, rowStart, rowEnd) };
}

/** Which output rows a band computes, and which input rows it holds. */
export interface DepthwiseBand {
  /** The whole image's height (the band's own tensor holds only some of its rows). */
  height: number;
  /** The image row the band's first row is. */
  firstRow: number;
  /** Output rows [rowStart, rowEnd) of the whole convolution. */
  rowStart: number;
  rowEnd: number;
  /** [1, rowEnd − rowStart, OW, C] */
  out: Tensor;
}

/**
 * Output rows [rowStart, rowEnd) of depthwiseConv2d over one image of
 * `height` rows, from `x` [1, rows, W, C] holding only image rows
 * [firstRow, firstRow + rows): every row those outputs read, and no more.
 * It lets a network compute an image band by band while the band's
 * activations are still in cache (MobileNet's inverted residuals), with the
 * same arithmetic as the whole convolution: the rows outside the band are
 * exactly the image's padding.
 */
export function depthwiseConv2dBand(rt: Runtime, x: Tensor, w: DepthwiseWeight, band: DepthwiseBand, options: DepthwiseConv2dOptions = {}): Tensor {
  const where = 'depthwiseConv2dBand';
  expectShape(where, 'x', x, [1, -1, -1, w.channels]);
  const [, rows, W, C] = x.shape as [number, number, number, number];
  const { height, firstRow, rowStart, rowEnd } = band;
  const { stride, padding, dilation, OH, OW } = geometry(where, options, height, W, w.kernelH, w.kernelW);
  const need = bandRows(stride, padding, dilation, w.kernelH, height, rowStart, rowEnd);
  if (!(rowStart >= 0 && rowEnd <= OH && rowStart < rowEnd) || firstRow !== need[0] || firstRow + rows !== need[1]) {
    throw shapeError(`${where}: output rows [${rowStart}, ${rowEnd}) of ${OH} need image rows [${need[0]}, ${need[1]}), ` +
      `the band holds [${firstRow}, ${firstRow + rows})`);
  }
  if (options.bias) expectShape(where, 'bias', options.bias, [C]);
  expectShape(where, 'out', band.out, [1, rowEnd - rowStart, OW, C]);
  // With the band's first row as row 0, output row r of the band reads rows r·s − pad′: pad′ shifts by the band's offset.
  const padTop = padding[0] + firstRow - rowStart * stride[0];
  rt.kernels.f32_dwconv2d_nhwc(
    1, rows, W, C, x.ptr, rowEnd - rowStart, OW, w.kernelH, w.kernelW, stride[0], stride[1], padTop, padding[1],
    dilation[0], dilation[1], w.ptr, options.bias?.ptr ?? 0, activationCode(options.activation), band.out.ptr,
  );
  return band.out;
}

// ---- transposed conv2d ----

/** A transposed-conv weight packed as B [C, KH·KW·OC], column (kh·KW + kw)·OC + oc. */
export interface PackedConvTranspose2d {
  readonly ptr: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelH: number;
  readonly kernelW: number;
}

/** Packs PyTorch's ConvTranspose2d weight [C_in, OC, KH, KW]; only groups = 1 is supported. */
export function packConvTranspose2dWeight(rt: Runtime, weight: Float32Array, shape: Shape, groups = 1): PackedConvTranspose2d {
  const where = 'packConvTranspose2dWeight';
  if (groups !== 1) throw badInput(`${where}: groups = ${groups} is not supported (transposed convolution takes groups = 1 only)`);
  if (shape.length !== 4) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, expected [C_in, OC, KH, KW]`);
  expectLength(where, 'weight', weight, shape);
  const [C, OC, KH, KW] = shape as [number, number, number, number];
  if (C < 1 || OC < 1 || KH < 1 || KW < 1) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, every size must be ≥ 1`);
  const cols = KH * KW * OC;
  const ptr = rt.scratch(rt.kernels.f32_gemm_packed_size(C, cols));
  rt.scope(() => {
    // [C, OC, KH, KW] → [C, KH, KW, OC]
    const t = rt.tensor([C, cols]);
    const d = t.data;
    for (let c = 0; c < C; c++) {
      for (let o = 0; o < OC; o++) {
        for (let k = 0; k < KH * KW; k++) d[c * cols + k * OC + o] = weight[(c * OC + o) * KH * KW + k]!;
      }
    }
    rt.kernels.f32_gemm_pack_b(C, cols, t.ptr, cols, 0, ptr);
  });
  return { ptr, inChannels: C, outChannels: OC, kernelH: KH, kernelW: KW };
}

/** A transposed convolution's geometry: SpatialOptions with numeric padding, and PyTorch's output_padding. */
export interface ConvTranspose2dOptions extends Omit<SpatialOptions, 'padding'> {
  /** As PyTorch's padding: rows and columns taken off each side of the full output (default 0). */
  padding?: Pair;
  /** Added to one side of the output (PyTorch's output_padding); smaller than the stride or the dilation. */
  outputPadding?: Pair;
}

/**
 * F.conv_transpose2d channels-last: x [N, H, W, C] → [N, OH, OW, OC] with
 * OH = (H − 1)·stride − 2·padding + dilation·(KH − 1) + outputPadding + 1.
 */
export function convTranspose2d(rt: Runtime, x: Tensor, w: PackedConvTranspose2d, options: ConvTranspose2dOptions = {}): Tensor {
  const where = 'convTranspose2d';
  expectShape(where, 'x', x, [-1, -1, -1, w.inChannels]);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const stride = pair(where, 'stride', options.stride, 1, 1);
  const padding = pair(where, 'padding', options.padding, 0, 0);
  const dilation = pair(where, 'dilation', options.dilation, 1, 1);
  const outputPadding = pair(where, 'outputPadding', options.outputPadding, 0, 0);
  for (const i of [0, 1]) {
    if (outputPadding[i]! >= Math.max(stride[i]!, dilation[i]!)) {
      throw badInput(`${where}: outputPadding ${outputPadding[i]} must be smaller than the stride (${stride[i]}) or the dilation (${dilation[i]})`);
    }
  }
  const OH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (w.kernelH - 1) + outputPadding[0] + 1;
  const OW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (w.kernelW - 1) + outputPadding[1] + 1;
  expectOutputSize(where, OH, OW, x);
  if (options.bias) expectShape(where, 'bias', options.bias, [w.outChannels]);
  const act = activationCode(options.activation);
  const y = output(rt, where, [N, OH, OW, w.outChannels], options.out);
  const cols = w.kernelH * w.kernelW * w.outChannels;
  const tile = Math.min(tileRows(cols), N * H * W);
  withScratch(rt, tile * cols, (scratch) =>
    rt.kernels.f32_conv_transpose2d_nhwc(
      N, H, W, C, x.ptr, OH, OW, w.outChannels, w.kernelH, w.kernelW, stride[0], stride[1],
      padding[0], padding[1], dilation[0], dilation[1], w.ptr, options.bias?.ptr ?? 0, act, y.ptr, scratch, tile,
    ));
  return y;
}

// ---- causal conv1d ----

/** A causal conv1d weight packed as B [K·C, OC], row k·C + c. */
export interface PackedCausalConv1d {
  readonly ptr: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
}

/** Packs PyTorch's Conv1d weight [OC, C, K]. */
export function packCausalConv1dWeight(rt: Runtime, weight: Float32Array, shape: Shape): PackedCausalConv1d {
  const where = 'packCausalConv1dWeight';
  if (shape.length !== 3) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, expected [OC, C, K]`);
  expectLength(where, 'weight', weight, shape);
  const [OC, C, K] = shape as [number, number, number];
  if (OC < 1 || C < 1 || K < 1) throw shapeError(`${where}: weight has shape ${formatShape(shape)}, every size must be ≥ 1`);
  const depth = K * C;
  const ptr = rt.scratch(rt.kernels.f32_gemm_packed_size(depth, OC));
  rt.scope(() => {
    // [OC, C, K] → [OC, K, C]: each row is one output channel's Bᵀ row.
    const t = rt.tensor([OC, depth]);
    const d = t.data;
    for (let o = 0; o < OC; o++) {
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < K; k++) d[o * depth + k * C + c] = weight[(o * C + c) * K + k]!;
      }
    }
    rt.kernels.f32_gemm_pack_b(depth, OC, t.ptr, depth, 1, ptr);
  });
  return { ptr, inChannels: C, outChannels: OC, kernelSize: K };
}

/** A causal 1-D convolution's dilation, context rows and epilogue. */
export interface CausalConv1dOptions {
  /** Default 1. */
  dilation?: number;
  /**
   * Leading rows of x that are context, not output: y has one row per later row, and their taps read
   * the context rows instead of zeros. A sequence computed in time tiles passes each tile with the
   * (K − 1)·dilation rows before it.
   */
  history?: number;
  /** [OC], added before the activation. */
  bias?: Tensor;
  activation?: Activation;
  /** Where to write the output; allocated when absent. */
  out?: Tensor;
}

/**
 * Dilated causal conv1d over x [N, T, C] (or [T, C]): y[t] = act(bias +
 * Σ_k W_k · x[t − (K−1−k)·dilation]), zeros before t = 0 — F.conv1d on x
 * padded on the left by (K−1)·dilation. Output [N, T, OC] (or [T, OC]).
 */
export function causalConv1d(rt: Runtime, x: Tensor, w: PackedCausalConv1d, options: CausalConv1dOptions = {}): Tensor {
  const im2col = w.kernelSize === 1 ? 0 : w.kernelSize * w.inChannels;
  return runCausalConv1d(rt, 'causalConv1d', x, w, options, activationCode(options.activation), w.outChannels, im2col);
}

/** The kernel's act code for WaveNet's gated unit (assembly/conv.ts ACT_GATED). */
export const ACT_GATED = 16;

/**
 * WaveNet's dilated convolution and gated unit in one kernel call: y [..., T, OC/2] =
 * tanh(z[..., :OC/2]) ⊙ σ(z[..., OC/2:]) with z = causalConv1d(x, w, {dilation, bias}). The same
 * numbers as causalConv1d then gatedTanh, without z ever leaving cache.
 */
export function causalConv1dGated(rt: Runtime, x: Tensor, w: PackedCausalConv1d, options: Omit<CausalConv1dOptions, 'activation'> = {}): Tensor {
  const where = 'causalConv1dGated';
  if (w.outChannels % 2 !== 0) throw shapeError(`${where}: ${w.outChannels} output channels; the filter and gate halves need an even number`);
  // scratch per row: the im2col row and the row of z
  return runCausalConv1d(rt, where, x, w, options, ACT_GATED, w.outChannels / 2, w.kernelSize * w.inChannels + w.outChannels);
}

/** Checks x and the options, then runs f32_causal_conv1d with `rowFloats` of scratch per row of a tile. */
function runCausalConv1d(
  rt: Runtime, where: string, x: Tensor, w: PackedCausalConv1d, options: CausalConv1dOptions, act: number, outChannels: number, rowFloats: number,
): Tensor {
  if (x.shape.length === 2) expectShape(where, 'x', x, [-1, w.inChannels]);
  else expectShape(where, 'x', x, [-1, -1, w.inChannels]);
  const [N, T] = x.shape.length === 2 ? [1, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const dilation = positiveInt(where, 'dilation', options.dilation ?? 1);
  const history = options.history ?? 0;
  if (!Number.isSafeInteger(history) || history < 0 || history >= T) {
    throw badInput(`${where}: history must be a whole number of rows from 0 to ${T - 1} (x has ${T} rows), got ${options.history}`);
  }
  if (options.bias) expectShape(where, 'bias', options.bias, [w.outChannels]);
  const outShape = x.shape.length === 2 ? [T - history, outChannels] : [N, T - history, outChannels];
  const y = output(rt, where, outShape, options.out);
  const tile = Math.min(tileRows(Math.max(rowFloats, w.kernelSize * w.inChannels)), T);
  withScratch(rt, tile * rowFloats, (scratch) =>
    rt.kernels.f32_causal_conv1d(
      N, T, w.inChannels, x.ptr, w.outChannels, w.kernelSize, dilation, w.ptr, options.bias?.ptr ?? 0, act, y.ptr,
      scratch, tile, history,
    ));
  return y;
}
