import { badInput, shapeError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Tensor, expectShape, formatShape } from '../tensor.js';
import { type Activation, activationCode } from './activation.js';
import { output } from './args.js';

/** A BatchNorm layer's parameters as a checkpoint stores them ([C] each). */
export interface BatchNormStats {
  /** γ; absent for affine=False. */
  weight?: Float32Array;
  /** β; absent for affine=False. */
  bias?: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  /** Default 1e-5, PyTorch's. */
  eps?: number;
}

/** Inference batch norm as y = x · scale + shift per channel. */
export interface FoldedBatchNorm {
  scale: Float32Array;
  shift: Float32Array;
}

// γ/√(var + ε) per channel in f64, after checking the arrays agree on C.
function bnFactors(where: string, bn: BatchNormStats): Float64Array {
  const C = bn.runningMean.length;
  const arrays: Array<[string, Float32Array | undefined]> = [
    ['runningVar', bn.runningVar], ['weight', bn.weight], ['bias', bn.bias],
  ];
  for (const [name, a] of arrays) {
    if (a && a.length !== C) throw shapeError(`${where}: ${name} has ${a.length} values, expected ${C} (as runningMean)`);
  }
  const eps = bn.eps ?? 1e-5;
  if (!(eps >= 0 && Number.isFinite(eps))) throw badInput(`${where}: eps must be a finite number ≥ 0, got ${eps}`);
  return Float64Array.from(bn.runningVar, (v, c) => (bn.weight?.[c] ?? 1) / Math.sqrt(v + eps));
}

/**
 * Folds a batch norm in eval mode into scale = γ/√(var + ε) and
 * shift = β − mean · scale (computed in f64, rounded once to f32).
 */
export function foldBatchNorm(bn: BatchNormStats): FoldedBatchNorm {
  const s = bnFactors('foldBatchNorm', bn);
  return {
    scale: Float32Array.from(s),
    shift: Float32Array.from(s, (sc, c) => (bn.bias?.[c] ?? 0) - bn.runningMean[c]! * sc),
  };
}

/**
 * Folds a batch norm that follows a convolution (or Linear) into its weight
 * and bias: W'[oc] = W[oc] · scale[oc], b' = (b − mean) · scale + β. The
 * weight is in PyTorch's layout with output channels first (OIHW, [out, in]),
 * as the conv and GEMM packers take it — not ConvTranspose2d's [in, out, …];
 * `bias` absent means zero.
 */
export function foldBatchNormIntoConv(
  weight: Float32Array, bias: Float32Array | undefined, outChannels: number, bn: BatchNormStats,
): { weight: Float32Array; bias: Float32Array } {
  const where = 'foldBatchNormIntoConv';
  if (!Number.isSafeInteger(outChannels) || outChannels < 1 || weight.length % outChannels !== 0) {
    throw shapeError(`${where}: weight has ${weight.length} values, not a whole number for each of ${outChannels} output channels`);
  }
  if (bn.runningMean.length !== outChannels) {
    throw shapeError(`${where}: runningMean has ${bn.runningMean.length} values, expected ${outChannels} (output channels)`);
  }
  if (bias && bias.length !== outChannels) throw shapeError(`${where}: bias has ${bias.length} values, expected ${outChannels}`);
  const s = bnFactors(where, bn);
  const per = weight.length / outChannels;
  return {
    weight: Float32Array.from(weight, (v, i) => v * s[Math.floor(i / per)]!),
    bias: Float32Array.from(s, (sc, o) => ((bias?.[o] ?? 0) - bn.runningMean[o]!) * sc + (bn.bias?.[o] ?? 0)),
  };
}


function lastDim(where: string, x: Tensor): number {
  if (x.shape.length < 1) throw shapeError(`${where}: x has shape ${formatShape(x.shape)}, expected at least one dimension`);
  return x.shape[x.shape.length - 1] as number;
}

/**
 * Inference batch norm of channels-last x [..., C] with the folded
 * parameters (scale and shift [C] in the heap, from foldBatchNorm), fused
 * with an activation: act(x · scale + shift). `out` may be `x` itself.
 */
export function batchNorm(
  rt: Runtime, x: Tensor, folded: { scale: Tensor; shift: Tensor }, act: Activation = 'none', out?: Tensor,
): Tensor {
  const where = 'batchNorm';
  const C = lastDim(where, x);
  expectShape(where, 'scale', folded.scale, [C]);
  expectShape(where, 'shift', folded.shift, [C]);
  const code = activationCode(act);
  const y = output(rt, where, x.shape, out);
  rt.kernels.f32_batchnorm_nhwc(C === 0 ? 0 : x.size / C, C, x.ptr, C, folded.scale.ptr, folded.shift.ptr, code, y.ptr, C);
  return y;
}

/**
 * Batch norm of the leading channels: act(x[..., :C] · scale + shift) for
 * x [..., C_x] with C ≤ C_x, into a new [..., C] (or `out`). Reads x in
 * place, so a growing concatenation need not be copied to be normalised.
 */
export function batchNormLeading(
  rt: Runtime, x: Tensor, C: number, folded: { scale: Tensor; shift: Tensor }, act: Activation = 'none', out?: Tensor,
): Tensor {
  const where = 'batchNormLeading';
  const Cx = lastDim(where, x);
  if (!Number.isSafeInteger(C) || C < 1 || C > Cx) throw badInput(`${where}: C must be from 1 to ${Cx} (x's channels), got ${C}`);
  expectShape(where, 'scale', folded.scale, [C]);
  expectShape(where, 'shift', folded.shift, [C]);
  const y = output(rt, where, [...x.shape.slice(0, -1), C], out);
  rt.kernels.f32_batchnorm_nhwc(x.size / Cx, C, x.ptr, Cx, folded.scale.ptr, folded.shift.ptr, activationCode(act), y.ptr, C);
  return y;
}

/** The affine parameters and epsilon of a layer or instance norm. */
export interface NormOptions {
  /** γ [C]; absent for no affine scale. */
  gamma?: Tensor;
  /** β [C]; absent for no affine shift. */
  beta?: Tensor;
  /** Default 1e-5, PyTorch's. */
  eps?: number;
  /** Where to write (same shape as x; may be x itself); allocated when absent. */
  out?: Tensor;
}

function affine(where: string, C: number, options: NormOptions): { gamma: number; beta: number; eps: number } {
  if (options.gamma) expectShape(where, 'gamma', options.gamma, [C]);
  if (options.beta) expectShape(where, 'beta', options.beta, [C]);
  const eps = options.eps ?? 1e-5;
  if (!(eps >= 0 && Number.isFinite(eps))) throw badInput(`${where}: eps must be a finite number ≥ 0, got ${eps}`);
  return { gamma: options.gamma?.ptr ?? 0, beta: options.beta?.ptr ?? 0, eps };
}

/** PyTorch's F.layer_norm over the last dimension of x [..., C] (biased variance). */
export function layerNorm(rt: Runtime, x: Tensor, options: NormOptions = {}): Tensor {
  const where = 'layerNorm';
  const C = lastDim(where, x);
  const { gamma, beta, eps } = affine(where, C, options);
  const y = output(rt, where, x.shape, options.out);
  rt.kernels.f32_layernorm(C === 0 ? 0 : x.size / C, C, x.ptr, gamma, beta, eps, y.ptr);
  return y;
}

/**
 * PyTorch's F.instance_norm (statistics of the input, biased variance) of
 * x [N, H, W, C] or [N, T, C]: each image and channel normalised over its pixels.
 */
export function instanceNorm(rt: Runtime, x: Tensor, options: NormOptions = {}): Tensor {
  const where = 'instanceNorm';
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw shapeError(`${where}: x has shape ${formatShape(x.shape)}, expected [N, H, W, C] or [N, T, C]`);
  }
  const N = x.shape[0] as number;
  const C = lastDim(where, x);
  const HW = x.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  if (HW === 0) throw badInput(`${where}: x has shape ${formatShape(x.shape)}, with no pixels to take statistics over`);
  const { gamma, beta, eps } = affine(where, C, options);
  const y = output(rt, where, x.shape, options.out);
  rt.kernels.f32_instancenorm_nhwc(N, HW, C, x.ptr, gamma, beta, eps, y.ptr);
  return y;
}
