/**
 * U-Net (Ronneberger et al., 2015) for semantic segmentation, from the state
 * dict of tools/unet_torch.py, which defines the network in PyTorch:
 *
 *   encoder   level i = 0 … depth−1: conv block → c_i = base·2^i, 2×2 max pool
 *   bottleneck  one 3×3 conv per `bottleneck_dilations` entry (dilated: a
 *               wider receptive field at the coarsest level without pooling
 *               further), → c_depth
 *   decoder   level i = depth−1 … 0: upsample ×2 to c_i, join level i's
 *             encoder output (the skip), conv block → c_i
 *   classifier  1×1 conv c_0 → classes: logits per pixel
 *
 * A conv block is 3×3 conv (padding = dilation) → BN → ReLU, twice; every
 * batch norm is folded into its convolution at load time and the ReLU rides
 * on the conv kernel, so a block is two kernel calls.
 *
 * Upsampling, `upsample`:
 *   "transposed"  ConvTranspose2d 2×2 stride 2, c_{i+1} → c_i.
 *   "unpool"      a 1×1 conv c_{i+1} → c_i, then max unpooling with level i's
 *                 pooling indices (SegNet): each value goes back to where its
 *                 maximum came from, zeros elsewhere; the block's 3×3 convs
 *                 fill the sparse map in.
 * Joining, `skip`:
 *   "concat"  [upsampled, skip] → 2·c_i channels (U-Net).
 *   "add"     upsampled + skip, element-wise (FCN). The upsampling already
 *             gives the skip's c_i channels, so no 1×1 conv is needed to
 *             match them.
 *
 * Sizes: H and W must be divisible by 2^depth, so that every upsampled map
 * meets its skip at the same size. Other sizes are rejected (E_SHAPE), not
 * padded: padding would change what the border pixels see, and the caller
 * knows best how to pad or crop its images.
 */
import { modelFormat, shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import {
  type Conv2dLayer, type ConvTranspose2dLayer, loadConv2d, loadConvTranspose2d, runConv2d, runConvTranspose2d,
} from '../nn/conv.js';
import { add, concatChannels } from '../runtime/ops/activation.js';
import { type IndexTensor, maxPool2d, maxPool2dWithIndices, maxUnpool2d } from '../runtime/ops/pool.js';
import type { Runtime } from '../runtime/runtime.js';
import { type Tensor, formatShape } from '../runtime/tensor.js';

export interface UNetConfig {
  inChannels: number;
  classes: number;
  /** c_0; level i has base·2^i channels. */
  baseChannels: number;
  /** Number of 2×2 poolings. */
  depth: number;
  upsample: 'transposed' | 'unpool';
  skip: 'concat' | 'add';
  /** One 3×3 conv per entry at the bottom; [1, 1] is the plain U-Net. */
  bottleneckDilations: number[];
}

type Upsample =
  | { kind: 'transposed'; conv: ConvTranspose2dLayer } // 2×2 stride 2, c_{i+1} → c_i
  | { kind: 'unpool'; conv: Conv2dLayer }; // 1×1 c_{i+1} → c_i, before unpooling

interface DecoderLevel {
  upsample: Upsample;
  block: Conv2dLayer[]; // 3×3, BN folded, ReLU: (2·c_i concat | c_i add) → c_i, c_i → c_i
}

export interface UNetWeights {
  config: UNetConfig;
  down: Conv2dLayer[][]; // per level i: 3×3, BN folded, ReLU: → c_i, c_i → c_i
  bottleneck: Conv2dLayer[]; // per dilation d: 3×3, dilation d, BN folded, ReLU: → c_depth
  up: DecoderLevel[]; // per level i, the mirror of down[i]
  classifier: Conv2dLayer; // 1×1 c_0 → classes
}

const positiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

function oneOf<T extends string>(file: string, c: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
  const v = c[key] ?? fallback;
  if (!allowed.includes(v as T)) throw modelFormat(file, `"${key}" must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** config.json's snake_case fields; `upsample`, `skip` and `bottleneck_dilations` default to "transposed", "concat", [1, 1]. */
export function parseUNetConfig(file: string, c: Record<string, unknown>): UNetConfig {
  for (const key of ['in_channels', 'classes', 'base_channels', 'depth']) {
    if (!positiveInt(c[key])) throw modelFormat(file, `"${key}" must be a positive integer, got ${JSON.stringify(c[key])}`);
  }
  const dilations = c.bottleneck_dilations ?? [1, 1];
  if (!Array.isArray(dilations) || dilations.length === 0 || !dilations.every(positiveInt)) {
    throw modelFormat(file, `"bottleneck_dilations" must list positive integers (one 3×3 conv each), got ${JSON.stringify(c.bottleneck_dilations)}`);
  }
  return {
    inChannels: c.in_channels as number, classes: c.classes as number, baseChannels: c.base_channels as number, depth: c.depth as number,
    upsample: oneOf(file, c, 'upsample', ['transposed', 'unpool'], 'transposed'),
    skip: oneOf(file, c, 'skip', ['concat', 'add'], 'concat'),
    bottleneckDilations: dilations as number[],
  };
}

/** A conv or transposed-conv weight checked against the shape config.json implies, so a mismatch names the tensor. */
function expectWeight(file: SafeTensorsFile, name: string, shape: number[]): void {
  file.floats(`${name}.weight`, shape, 'config.json');
}

/** `prefix.conv{j}` with `prefix.bn{j}` folded in, 3×3 with dilation d, ReLU; cin → cout, then cout → cout. */
function loadBlock(rt: Runtime, file: SafeTensorsFile, prefix: string, cin: number, cout: number, dilations: number[]): Conv2dLayer[] {
  return dilations.map((d, j) => {
    const name = `${prefix}.conv${j + 1}`;
    expectWeight(file, name, [cout, j === 0 ? cin : cout, 3, 3]);
    return loadConv2d(rt, file, name, { bn: `${prefix}.bn${j + 1}`, padding: d, dilation: d, activation: 'relu' });
  });
}

export function loadUNet(rt: Runtime, file: SafeTensorsFile, config: UNetConfig): UNetWeights {
  const { depth } = config;
  const c = Array.from({ length: depth + 1 }, (_, i) => config.baseChannels * 2 ** i); // c_i
  const down = c.slice(0, depth).map((ci, i) => loadBlock(rt, file, `down.${i}`, i === 0 ? config.inChannels : c[i - 1]!, ci, [1, 1]));
  const bottleneck = loadBlock(rt, file, 'bottleneck', c[depth - 1]!, c[depth]!, config.bottleneckDilations);
  const up = c.slice(0, depth).map((ci, i): DecoderLevel => {
    const name = `up.${i}.upconv`;
    let upsample: Upsample;
    if (config.upsample === 'transposed') {
      expectWeight(file, name, [c[i + 1]!, ci, 2, 2]);
      upsample = { kind: 'transposed', conv: loadConvTranspose2d(rt, file, name, { stride: 2 }) };
    } else {
      expectWeight(file, name, [ci, c[i + 1]!, 1, 1]);
      upsample = { kind: 'unpool', conv: loadConv2d(rt, file, name) };
    }
    return { upsample, block: loadBlock(rt, file, `up.${i}`, config.skip === 'concat' ? 2 * ci : ci, ci, [1, 1]) };
  });
  expectWeight(file, 'classifier', [config.classes, c[0]!, 1, 1]);
  return { config, down, bottleneck, up, classifier: loadConv2d(rt, file, 'classifier') };
}

const runBlock = (rt: Runtime, x: Tensor, block: Conv2dLayer[]) => block.reduce((h, conv) => runConv2d(rt, h, conv), x);

/** x [N, H, W, in_channels] (normalised as the model was trained), H and W divisible by 2^depth → logits [N, H, W, classes]. */
export function unetForward(rt: Runtime, w: UNetWeights, x: Tensor): Tensor {
  const { depth, inChannels } = w.config;
  const step = 2 ** depth;
  const [, H = 0, W = 0, C] = x.shape;
  if (x.shape.length !== 4 || C !== inChannels) {
    throw shapeError(`unetForward: x has shape ${formatShape(x.shape)}, expected [N, H, W, ${inChannels}]`);
  }
  if (H % step !== 0 || W % step !== 0 || H === 0 || W === 0) {
    throw shapeError(`unetForward: the image is ${H}×${W}; a U-Net of depth ${depth} needs H and W divisible by 2^${depth} = ${step} (pad or crop it)`);
  }
  const skips: Tensor[] = []; // per level i: [N, H/2^i, W/2^i, c_i]
  const indices: IndexTensor[] = []; // per level i, for unpooling: [N, H/2^(i+1), W/2^(i+1), c_i]
  let h = x;
  for (const block of w.down) {
    h = runBlock(rt, h, block); // [N, H/2^i, W/2^i, c_i]
    skips.push(h);
    if (w.config.upsample === 'unpool') {
      const pooled = maxPool2dWithIndices(rt, h, { kernelSize: 2 });
      indices.push(pooled.indices);
      h = pooled.y;
    } else {
      h = maxPool2d(rt, h, { kernelSize: 2 }); // [N, H/2^(i+1), W/2^(i+1), c_i]
    }
  }
  h = runBlock(rt, h, w.bottleneck); // [N, H/2^depth, W/2^depth, c_depth]
  for (let i = depth - 1; i >= 0; i--) {
    const level = w.up[i]!;
    const skip = skips[i]!;
    const u = level.upsample.kind === 'transposed'
      ? runConvTranspose2d(rt, h, level.upsample.conv) // [N, H/2^i, W/2^i, c_i]
      : maxUnpool2d(rt, runConv2d(rt, h, level.upsample.conv), indices[i]!, { kernelSize: 2 }); // the same
    const joined = w.config.skip === 'concat' ? concatChannels(rt, [u, skip]) : add(rt, u, skip, u); // [.., 2·c_i] or [.., c_i]
    h = runBlock(rt, joined, level.block); // [N, H/2^i, W/2^i, c_i]
  }
  return runConv2d(rt, h, w.classifier); // [N, H, W, classes]
}
