/**
 * Convolutional layers loaded from PyTorch state dicts: the weights packed
 * once into the kernels' layouts, batch norms that follow a convolution
 * folded into it, and every layer a plain object of numbers and addresses
 * (so a worker can attach to the same weights in a shared memory).
 *
 * Names follow the state dict: `conv(file, 'features.0.0', { bn: 'features.0.1' })`
 * reads `features.0.0.weight` (and `.bias` if present) and folds the batch
 * norm `features.0.1.{weight,bias,running_mean,running_var}` into it.
 */
import { modelFormat, shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import type { Activation } from '../runtime/ops/activation.js';
import type { Pair } from '../runtime/ops/args.js';
import {
  type DepthwiseWeight, type PackedConv2d, type PackedConvTranspose2d, conv2d, convTranspose2d, depthwiseBandGeometry, depthwiseConv2d,
  depthwiseConv2dBand, packConv2dWeight, packConvTranspose2dWeight, packDepthwiseWeight,
} from '../runtime/ops/conv.js';
import { gemm } from '../runtime/ops/gemm.js';
import { type BatchNormStats, batchNorm, batchNormLeading, foldBatchNorm, foldBatchNormIntoConv } from '../runtime/ops/norm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { type Vector, vector, vectorTensor } from './linear.js';

export interface ConvGeometry {
  stride?: Pair;
  padding?: Pair | 'same';
  dilation?: Pair;
  groups?: number;
  activation?: Activation;
}

/** A convolution (full, grouped or depthwise) with its bias and activation. */
export interface Conv2dLayer {
  kind: 'conv' | 'depthwise';
  weight: PackedConv2d | DepthwiseWeight;
  bias: Vector;
  outChannels: number;
  stride: Pair;
  padding: Pair | 'same';
  dilation: Pair;
  activation: Activation;
}

/** A batch norm as scale and shift per channel. */
export interface BatchNormLayer {
  scale: Vector;
  shift: Vector;
}

export interface ConvTranspose2dLayer {
  weight: PackedConvTranspose2d;
  bias: Vector;
  stride: Pair;
  padding: Pair;
  outputPadding: Pair;
  activation: Activation;
}

/** A tensor's shape from the file, checked to have `rank` dimensions. */
function shapeOf(file: SafeTensorsFile, name: string, rank: number): number[] {
  const shape = file.get(name).shape;
  if (shape.length !== rank) throw modelFormat(file.file, `${name} has shape [${shape.join(', ')}], expected ${rank} dimensions`);
  return shape;
}

/** A BatchNorm2d's running statistics and affine parameters, `prefix.{weight,bias,running_mean,running_var}`. */
export function batchNormStats(file: SafeTensorsFile, prefix: string, channels: number, eps = 1e-5): BatchNormStats {
  const v = (name: string) => file.floats(`${prefix}.${name}`, [channels], `${channels} channels`);
  return { weight: v('weight'), bias: v('bias'), runningMean: v('running_mean'), runningVar: v('running_var'), eps };
}

/**
 * A Conv2d `name` (weight [OC, C/groups, KH, KW], optional bias) with the
 * batch norm `bn` folded in. groups = C = OC runs on the depthwise kernel.
 */
export function loadConv2d(rt: Runtime, file: SafeTensorsFile, name: string, g: ConvGeometry & { bn?: string; bnEps?: number } = {}): Conv2dLayer {
  const [OC, Cg, KH, KW] = shapeOf(file, `${name}.weight`, 4) as [number, number, number, number];
  const groups = g.groups ?? 1;
  let weight = file.floats(`${name}.weight`, [OC, Cg, KH, KW], 'its own shape');
  let bias = file.tensors.has(`${name}.bias`) ? file.floats(`${name}.bias`, [OC], `${name}.weight`) : new Float32Array(OC);
  if (g.bn) ({ weight, bias } = foldBatchNormIntoConv(weight, bias, OC, batchNormStats(file, g.bn, OC, g.bnEps)));
  const depthwise = groups > 1 && Cg === 1 && groups === OC;
  return {
    kind: depthwise ? 'depthwise' : 'conv',
    weight: depthwise ? packDepthwiseWeight(rt, weight, [OC, 1, KH, KW]) : packConv2dWeight(rt, weight, [OC, Cg, KH, KW], groups),
    bias: vector(rt, bias),
    outChannels: OC,
    stride: g.stride ?? 1,
    padding: g.padding ?? 0,
    dilation: g.dilation ?? 1,
    activation: g.activation ?? 'none',
  };
}

/** x [N, H, W, C] → [N, OH, OW, OC]. */
export function runConv2d(rt: Runtime, x: Tensor, layer: Conv2dLayer, out?: Tensor): Tensor {
  const options = {
    stride: layer.stride, padding: layer.padding, dilation: layer.dilation,
    bias: vectorTensor(rt, layer.bias), activation: layer.activation, out,
  };
  return layer.kind === 'depthwise'
    ? depthwiseConv2d(rt, x, layer.weight as DepthwiseWeight, options)
    : conv2d(rt, x, layer.weight as PackedConv2d, options);
}

/** Bytes of depthwise output a band of runSeparable holds: in L2 beside the rows it reads. */
const SEPARABLE_BAND_BYTES = 128 * 1024;

/**
 * A depthwise conv and the 1×1 conv after it (MobileNet V1's blocks), band by band: a few output
 * rows of the depthwise conv at a time into a buffer of about 128 KB, and the 1×1 over them
 * straight into `out`, so the depthwise output (16 MB at 256² × 64) never goes to memory whole.
 * The same numbers as runConv2d twice, row for row.
 */
export function runSeparable(rt: Runtime, x: Tensor, depthwise: Conv2dLayer, pointwise: Conv2dLayer, out?: Tensor): Tensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const dw = depthwise.weight as DepthwiseWeight;
  const pw = pointwise.weight as PackedConv2d;
  if (depthwise.kind !== 'depthwise' || pointwise.kind !== 'conv' || pw.kernelH !== 1 || pw.kernelW !== 1 || pw.groups !== 1 || pw.inChannels !== C) {
    throw shapeError(`runSeparable: needs a depthwise conv over ${C} channels then a 1×1 conv from them`);
  }
  const options = { stride: depthwise.stride, padding: depthwise.padding, dilation: depthwise.dilation, bias: vectorTensor(rt, depthwise.bias), activation: depthwise.activation };
  const { OH, OW, rows } = depthwiseBandGeometry(dw, options, H, W);
  const y = out ?? rt.empty([N, OH, OW, pw.outChannels]);
  const bandRows = Math.max(1, Math.floor(SEPARABLE_BAND_BYTES / (OW * C * 4)));
  rt.scope(() => {
    const buffer = rt.empty([bandRows * OW * C]);
    const bias = vectorTensor(rt, pointwise.bias);
    for (let n = 0; n < N; n++) {
      for (let oh0 = 0; oh0 < OH; oh0 += bandRows) {
        const oh1 = Math.min(OH, oh0 + bandRows);
        const [lo, hi] = rows(oh0, oh1);
        const band = new Tensor(rt.heap, buffer.ptr, [1, oh1 - oh0, OW, C]);
        depthwiseConv2dBand(rt, new Tensor(rt.heap, x.ptr + (n * H + lo) * W * C * 4, [1, hi - lo, W, C]), dw,
          { height: H, firstRow: lo, rowStart: oh0, rowEnd: oh1, out: band }, options);
        gemm(rt, band.reshape([(oh1 - oh0) * OW, C]), { ptr: pw.ptr, K: C, N: pw.outChannels }, {
          bias, activation: pointwise.activation,
          out: new Tensor(rt.heap, y.ptr + (n * OH + oh0) * OW * pw.outChannels * 4, [(oh1 - oh0) * OW, pw.outChannels]),
        });
      }
    }
  });
  return y;
}

/** Floats of normalised input a tile of runNormConv1x1 holds (256 KB). */
const NORM_TILE_FLOATS = 65536;

/**
 * conv1x1(relu(batchnorm(x))) over the first `norm`-many channels of x (DenseNet's pre-activation
 * layers and transitions), a tile of pixels at a time: the normalised features, a copy as large as a
 * dense block's whole concatenation, stay in cache between the norm and the GEMM instead of making
 * a round trip to memory for every layer. The same numbers as runBatchNorm then runConv2d.
 */
export function runNormConv1x1(rt: Runtime, x: Tensor, norm: BatchNormLayer, conv: Conv2dLayer, out?: Tensor): Tensor {
  const [N, H, W, Cx] = x.shape as [number, number, number, number];
  const C = norm.scale.length;
  const w = conv.weight as PackedConv2d;
  if (conv.kind !== 'conv' || w.kernelH !== 1 || w.kernelW !== 1 || w.groups !== 1 || w.inChannels !== C || C > Cx) {
    throw shapeError(`runNormConv1x1: needs a 1×1 conv from the ${C} normalised channels (x has ${Cx})`);
  }
  const P = N * H * W;
  const y = out ?? rt.empty([N, H, W, w.outChannels]);
  const tile = Math.max(4, Math.floor(NORM_TILE_FLOATS / C / 4) * 4);
  rt.scope(() => {
    const normalised = rt.empty([Math.min(tile, P) * C]);
    const bias = vectorTensor(rt, conv.bias);
    for (let p0 = 0; p0 < P; p0 += tile) {
      const n = Math.min(tile, P - p0);
      const a = runBatchNorm(rt, new Tensor(rt.heap, x.ptr + p0 * Cx * 4, [n, Cx]), norm, 'relu', new Tensor(rt.heap, normalised.ptr, [n, C]));
      gemm(rt, a, { ptr: w.ptr, K: C, N: w.outChannels }, {
        bias, activation: conv.activation, out: new Tensor(rt.heap, y.ptr + p0 * w.outChannels * 4, [n, w.outChannels]),
      });
    }
  });
  return y;
}

export function loadBatchNorm(rt: Runtime, file: SafeTensorsFile, prefix: string, channels: number, eps = 1e-5): BatchNormLayer {
  const folded = foldBatchNorm(batchNormStats(file, prefix, channels, eps));
  return { scale: vector(rt, folded.scale), shift: vector(rt, folded.shift) };
}

/** act(batchnorm(x)) over the first `layer`-many channels of x [..., C_x] (all of them by default). */
export function runBatchNorm(rt: Runtime, x: Tensor, layer: BatchNormLayer, act: Activation = 'none', out?: Tensor): Tensor {
  const folded = { scale: vectorTensor(rt, layer.scale), shift: vectorTensor(rt, layer.shift) };
  const C = layer.scale.length;
  return x.shape.at(-1) === C ? batchNorm(rt, x, folded, act, out) : batchNormLeading(rt, x, C, folded, act, out);
}

/** A ConvTranspose2d `name` (weight [C, OC, KH, KW], optional bias). */
export function loadConvTranspose2d(
  rt: Runtime, file: SafeTensorsFile, name: string, g: { stride?: Pair; padding?: Pair; outputPadding?: Pair; activation?: Activation } = {},
): ConvTranspose2dLayer {
  const [C, OC, KH, KW] = shapeOf(file, `${name}.weight`, 4) as [number, number, number, number];
  const weight = file.floats(`${name}.weight`, [C, OC, KH, KW], 'its own shape');
  const bias = file.tensors.has(`${name}.bias`) ? file.floats(`${name}.bias`, [OC], `${name}.weight`) : new Float32Array(OC);
  return {
    weight: packConvTranspose2dWeight(rt, weight, [C, OC, KH, KW]),
    bias: vector(rt, bias),
    stride: g.stride ?? 1,
    padding: g.padding ?? 0,
    outputPadding: g.outputPadding ?? 0,
    activation: g.activation ?? 'none',
  };
}

export function runConvTranspose2d(rt: Runtime, x: Tensor, layer: ConvTranspose2dLayer): Tensor {
  return convTranspose2d(rt, x, layer.weight, {
    stride: layer.stride, padding: layer.padding, outputPadding: layer.outputPadding,
    bias: vectorTensor(rt, layer.bias), activation: layer.activation,
  });
}
