import { badInput, shapeError } from '../../errors.js';
import type { Heap } from '../memory.js';
import type { Runtime } from '../runtime.js';
import { type Shape, type Tensor, checkedSize, expectShape, formatShape, sizeOf } from '../tensor.js';
import { type Pair, output, pair } from './args.js';


/**
 * i32 values in linear memory with a shape: max pooling's argmax indices
 * (h·W + w within each image plane, as PyTorch's return_indices) and max
 * unpooling's input. Like Tensor, `data` is a fresh view every time.
 */
export class IndexTensor {
  /** Elements: the product of the shape. */
  readonly size: number;
  constructor(
    /** The heap the values live in. */
    readonly heap: Heap,
    /** Byte address of the first value. */
    readonly ptr: number,
    /** Dimensions, outermost first. */
    readonly shape: Shape,
  ) {
    this.size = checkedSize(shape, 'index tensor');
  }

  /** The values, as a fresh view: do not keep it across an allocation. */
  get data(): Int32Array {
    return this.heap.i32(this.ptr, this.size);
  }

  /** A copy in ordinary JS memory, safe to keep. */
  toArray(): Int32Array {
    return this.data.slice();
  }
}

/** A new index tensor in `rt`'s heap, zero-filled or holding `values`. */
export function indexTensor(rt: Runtime, shape: Shape, values?: ArrayLike<number>): IndexTensor {
  const t = new IndexTensor(rt.heap, rt.heap.alloc(sizeOf(shape) * 4), shape);
  if (values && values.length !== t.size) {
    throw shapeError(`cannot write ${values.length} indices into an index tensor of shape ${formatShape(shape)}`);
  }
  if (values) t.data.set(values);
  else t.data.fill(0);
  return t;
}


/**
 * PyTorch's pooling_output_shape: floor((in + 2p − d·(k − 1) − 1) / s) + 1,
 * or with ceilMode the ceiling, minus one if the last window would start
 * past the input and its left padding.
 */
export function poolOutputSize(inSize: number, kernel: number, pad: number, stride: number, dilation: number, ceilMode: boolean): number {
  let out = Math.floor((inSize + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

export interface Pool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize, as in PyTorch. */
  stride?: Pair;
  /** Implicit padding on both sides (−∞ for max, 0 for average); at most half the kernel. */
  padding?: Pair;
  /** Output size rounded up instead of down (PyTorch's ceil_mode). */
  ceilMode?: boolean;
  out?: Tensor;
}

/** Max pooling's geometry: Pool2dOptions and PyTorch's dilation. */
export interface MaxPool2dOptions extends Pool2dOptions {
  /** Default 1. */
  dilation?: Pair;
}

/** Average pooling's geometry and divisor. */
export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide by the window size including padding (PyTorch's default, true) or by the pixels inside only. */
  countIncludePad?: boolean;
}

/** The resolved geometry of a 2-D pooling, in the kernels' argument order. */
interface PoolGeometry {
  N: number; H: number; W: number; C: number; OH: number; OW: number;
  KH: number; KW: number; strideH: number; strideW: number; padH: number; padW: number;
  dilationH: number; dilationW: number;
}

function poolGeometry(where: string, x: Tensor, options: MaxPool2dOptions): PoolGeometry {
  expectShape(where, 'x', x, [-1, -1, -1, -1]);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW] = pair(where, 'kernelSize', options.kernelSize, [0, 0], 1);
  const [strideH, strideW] = pair(where, 'stride', options.stride, [KH, KW], 1);
  const [padH, padW] = pair(where, 'padding', options.padding, [0, 0], 0);
  const [dilationH, dilationW] = pair(where, 'dilation', options.dilation, [1, 1], 1);
  if (padH > KH / 2 || padW > KW / 2) {
    throw badInput(`${where}: padding [${padH}, ${padW}] must be at most half the kernel size [${KH}, ${KW}]`);
  }
  const ceil = options.ceilMode ?? false;
  const OH = poolOutputSize(H, KH, padH, strideH, dilationH, ceil);
  const OW = poolOutputSize(W, KW, padW, strideW, dilationW, ceil);
  if (OH <= 0 || OW <= 0) {
    throw shapeError(`${where}: x has shape ${formatShape(x.shape)}, too small for the window (the output would be ${OH}×${OW})`);
  }
  return { N, H, W, C, OH, OW, KH, KW, strideH, strideW, padH, padW, dilationH, dilationW };
}


function maxPool(rt: Runtime, where: string, x: Tensor, options: MaxPool2dOptions, withIndices: boolean) {
  const g = poolGeometry(where, x, options);
  const shape = [g.N, g.OH, g.OW, g.C];
  const y = output(rt, where, shape, options.out);
  const indices = withIndices ? indexTensor(rt, shape) : undefined;
  rt.kernels.f32_maxpool2d_nhwc(
    g.N, g.H, g.W, g.C, x.ptr, g.OH, g.OW, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
    g.dilationH, g.dilationW, y.ptr, indices?.ptr ?? 0,
  );
  return { y, indices };
}

/** PyTorch's MaxPool2d over x [N, H, W, C]: [N, OH, OW, C]. NaN propagates; ties keep the first maximum. */
export function maxPool2d(rt: Runtime, x: Tensor, options: MaxPool2dOptions): Tensor {
  return maxPool(rt, 'maxPool2d', x, options, false).y;
}

/** maxPool2d with return_indices: the maxima and where each came from (h·W + w of its image plane). */
export function maxPool2dWithIndices(rt: Runtime, x: Tensor, options: MaxPool2dOptions): { y: Tensor; indices: IndexTensor } {
  const { y, indices } = maxPool(rt, 'maxPool2dWithIndices', x, options, true);
  return { y, indices: indices as IndexTensor };
}

/** PyTorch's AvgPool2d over x [N, H, W, C]: [N, OH, OW, C]. */
export function avgPool2d(rt: Runtime, x: Tensor, options: AvgPool2dOptions): Tensor {
  const g = poolGeometry('avgPool2d', x, { ...options, dilation: 1 });
  const y = output(rt, 'avgPool2d', [g.N, g.OH, g.OW, g.C], options.out);
  rt.kernels.f32_avgpool2d_nhwc(
    g.N, g.H, g.W, g.C, x.ptr, g.OH, g.OW, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
    (options.countIncludePad ?? true) ? 1 : 0, y.ptr,
  );
  return y;
}

/** The mean over all pixels: x [N, H, W, C] or [N, T, C] → [N, C] (adaptive_avg_pool2d(x, 1), flattened). */
export function globalAvgPool(rt: Runtime, x: Tensor, out?: Tensor): Tensor {
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw shapeError(`globalAvgPool: x has shape ${formatShape(x.shape)}, expected [N, H, W, C] or [N, T, C]`);
  }
  const N = x.shape[0] as number;
  const C = x.shape[x.shape.length - 1] as number;
  const HW = N * C === 0 ? 0 : x.size / (N * C);
  if (HW === 0) throw badInput(`globalAvgPool: x has shape ${formatShape(x.shape)}, with no pixels to average`);
  const y = output(rt, 'globalAvgPool', [N, C], out);
  rt.kernels.f32_global_avgpool_nhwc(N, HW, C, x.ptr, y.ptr);
  return y;
}

/** Max unpooling's geometry, PyTorch's MaxUnpool2d arguments. */
export interface MaxUnpool2dOptions {
  /** The window of the max pooling being undone. */
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  /** Default 0. */
  padding?: Pair;
  /** [OH, OW]; by default (H − 1)·stride − 2·padding + kernel, as PyTorch. */
  outputSize?: readonly [number, number];
  out?: Tensor;
}

/**
 * PyTorch's F.max_unpool2d: x [N, H, W, C] scattered by `indices` (same shape,
 * from maxPool2dWithIndices) into zeros [N, OH, OW, C].
 */
export function maxUnpool2d(rt: Runtime, x: Tensor, indices: IndexTensor, options: MaxUnpool2dOptions): Tensor {
  const where = 'maxUnpool2d';
  expectShape(where, 'x', x, [-1, -1, -1, -1]);
  expectShape(where, 'indices', indices, x.shape);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW] = pair(where, 'kernelSize', options.kernelSize, [0, 0], 1);
  const [strideH, strideW] = pair(where, 'stride', options.stride, [KH, KW], 1);
  const [padH, padW] = pair(where, 'padding', options.padding, [0, 0], 0);
  const defaultH = (H - 1) * strideH - 2 * padH + KH;
  const defaultW = (W - 1) * strideW - 2 * padW + KW;
  const [OH, OW] = options.outputSize ?? [defaultH, defaultW];
  // PyTorch accepts an output size within one stride of the default, exclusive.
  if (!(Math.abs(OH - defaultH) < strideH && Math.abs(OW - defaultW) < strideW && OH > 0 && OW > 0)) {
    throw badInput(
      `${where}: outputSize [${OH}, ${OW}] must lie within one stride [${strideH}, ${strideW}] of [${defaultH}, ${defaultW}] and be positive`,
    );
  }
  const y = output(rt, where, [N, OH, OW, C], options.out);
  // The kernel checks every index before it writes anything.
  const bad = rt.kernels.f32_maxunpool2d_nhwc(N, H, W, C, x.ptr, indices.ptr, OH, OW, y.ptr);
  if (bad >= 0) {
    throw badInput(`${where}: indices[${bad}] = ${indices.data[bad]} is outside the ${OH}×${OW} output plane`);
  }
  return y;
}

/** The output size of an upsampling, given directly or as a scale factor. */
export interface UpsampleOptions {
  /** The output [OH, OW] (or one size for both). Give size or scaleFactor, not both. */
  size?: Pair;
  /** OH = floor(H · factor), and the source index is computed with 1/factor, as PyTorch (recompute_scale_factor unset). */
  scaleFactor?: number | readonly [number, number];
  /** Where to write [N, OH, OW, C]; allocated when absent. */
  out?: Tensor;
}

/** Bilinear upsampling's options: UpsampleOptions and align_corners. */
export interface BilinearOptions extends UpsampleOptions {
  /** PyTorch's align_corners (default false). */
  alignCorners?: boolean;
}

interface UpsampleGeometry {
  N: number; H: number; W: number; C: number; OH: number; OW: number;
  /** scale_factor as given, or undefined when a size was. */
  factorH: number | undefined;
  factorW: number | undefined;
}

function upsampleGeometry(where: string, x: Tensor, options: UpsampleOptions): UpsampleGeometry {
  expectShape(where, 'x', x, [-1, -1, -1, -1]);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw badInput(`${where}: give exactly one of size and scaleFactor`);
  }
  if (H === 0 || W === 0) throw badInput(`${where}: x has shape ${formatShape(x.shape)}, with no pixels to resample`);
  if (options.size !== undefined) {
    const [OH, OW] = pair(where, 'size', options.size, [0, 0], 1);
    return { N, H, W, C, OH, OW, factorH: undefined, factorW: undefined };
  }
  const f = options.scaleFactor as number | readonly [number, number];
  const [factorH, factorW] = typeof f === 'number' ? [f, f] : f;
  for (const v of [factorH, factorW]) {
    if (!Number.isFinite(v) || v <= 0) throw badInput(`${where}: scaleFactor must be positive and finite, got ${String(f)}`);
  }
  // PyTorch: static_cast<int64_t>(in · scale_factor), in double.
  const OH = Math.floor(H * factorH);
  const OW = Math.floor(W * factorW);
  if (OH === 0 || OW === 0) throw badInput(`${where}: scaleFactor ${String(f)} leaves no output pixels from ${H}×${W}`);
  return { N, H, W, C, OH, OW, factorH, factorW };
}

/** PyTorch's compute_scales_value<float>: 1/scale_factor when given, else in/out, in f32. */
function resampleScale(inSize: number, outSize: number, factor: number | undefined): number {
  return Math.fround(factor !== undefined ? 1 / factor : inSize / outSize);
}

/** F.interpolate(mode='nearest') of x [N, H, W, C]: [N, OH, OW, C]. */
export function upsampleNearest(rt: Runtime, x: Tensor, options: UpsampleOptions): Tensor {
  const g = upsampleGeometry('upsampleNearest', x, options);
  const y = output(rt, 'upsampleNearest', [g.N, g.OH, g.OW, g.C], options.out);
  rt.kernels.f32_upsample_nearest_nhwc(
    g.N, g.H, g.W, g.C, x.ptr, g.OH, g.OW,
    resampleScale(g.H, g.OH, g.factorH), resampleScale(g.W, g.OW, g.factorW), y.ptr,
  );
  return y;
}

/** PyTorch's area_pixel_compute_scale<float>: with alignCorners (in − 1)/(out − 1) (0 for one output), else resampleScale. */
function linearScale(inSize: number, outSize: number, factor: number | undefined, alignCorners: boolean): number {
  if (!alignCorners) return resampleScale(inSize, outSize, factor);
  return outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0;
}

/** F.interpolate(mode='bilinear') of x [N, H, W, C]: [N, OH, OW, C]. */
export function upsampleBilinear(rt: Runtime, x: Tensor, options: BilinearOptions): Tensor {
  const g = upsampleGeometry('upsampleBilinear', x, options);
  const align = options.alignCorners ?? false;
  const y = output(rt, 'upsampleBilinear', [g.N, g.OH, g.OW, g.C], options.out);
  rt.kernels.f32_upsample_bilinear_nhwc(
    g.N, g.H, g.W, g.C, x.ptr, g.OH, g.OW,
    linearScale(g.H, g.OH, g.factorH, align), linearScale(g.W, g.OW, g.factorW, align), align ? 1 : 0, y.ptr,
  );
  return y;
}
