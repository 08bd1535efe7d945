/**
 * Image classifiers as batch models: the networks (mobilenet.ts,
 * densenet.ts) plus the preprocessing their config.json describes, so that
 * an item is an image of any size as decoded from a file and the engine
 * does the rest: grey conversion or inversion when the model wants it, the
 * resize to the model's input size, and normalisation by mean and std —
 * fused into one batch-norm pass over the whole batch.
 *
 * Resizing: an axis that shrinks is averaged over the source pixels each
 * output pixel covers (adaptive average pooling, like an "area" resize, so
 * a large photo does not alias); an image that grows on both axes is
 * resized by the bilinear kernel (F.interpolate, align_corners=False).
 *
 * config.json "input": { "size": [H, W], "channels": 1 | 3, "mean": [...],
 * "std": [...], "invert": false } with mean and std on the 0…1 scale.
 */
import { badInput, modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import { upsampleBilinear } from '../runtime/ops/pool.js';
import { batchNorm } from '../runtime/ops/norm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';

/** Decoded pixels, row-major, interleaved channels (RGB or grey), 0…255. */
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export interface ImageInput {
  size: [number, number];
  channels: 1 | 3;
  mean: number[];
  std: number[];
  /** Light-on-dark training data (e.g. digits): dark-on-light pictures are inverted first. */
  invert: boolean;
}

/** The most pixels an input image may have: larger ones are refused before any allocation. */
export const MAX_IMAGE_PIXELS = 100_000_000;

export function parseImageInput(file: string, c: unknown): ImageInput {
  const input = (c ?? {}) as Record<string, unknown>;
  const size = input.size ?? [224, 224];
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0 && v <= 4096)) {
    throw modelFormat(file, `"input.size" must be [height, width] in pixels, got ${JSON.stringify(input.size)}`);
  }
  const channels = input.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw modelFormat(file, `"input.channels" must be 1 or 3, got ${JSON.stringify(channels)}`);
  const imagenet = channels === 3 ? { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } : { mean: [0.5], std: [0.5] };
  const mean = input.mean ?? imagenet.mean;
  const std = input.std ?? imagenet.std;
  for (const [key, v] of [['mean', mean], ['std', std]] as const) {
    if (!Array.isArray(v) || v.length !== channels || !v.every((x) => Number.isFinite(x) && (key === 'mean' || x > 0))) {
      throw modelFormat(file, `"input.${key}" must list ${channels} numbers${key === 'std' ? ' > 0' : ''}, got ${JSON.stringify(v)}`);
    }
  }
  return { size: size as [number, number], channels, mean: mean as number[], std: std as number[], invert: input.invert === true };
}

export function checkImage(item: unknown, where: string): asserts item is Image {
  const im = item as Image;
  if (typeof im !== 'object' || im === null || !(im.data instanceof Uint8Array)) throw badInput(`${where}: expected a decoded image {width, height, channels, data}`);
  if (!Number.isSafeInteger(im.width) || !Number.isSafeInteger(im.height) || im.width < 1 || im.height < 1 || im.width * im.height > MAX_IMAGE_PIXELS) {
    throw badInput(`${where}: image size ${im.width}×${im.height} is not between 1×1 and ${MAX_IMAGE_PIXELS} pixels`);
  }
  if (im.channels !== 1 && im.channels !== 3 && im.channels !== 4) throw badInput(`${where}: ${im.channels} channels; expected 1, 3 or 4`);
  if (im.data.length !== im.width * im.height * im.channels) {
    throw badInput(`${where}: ${im.data.length} bytes for ${im.width}×${im.height}×${im.channels}`);
  }
}

/** The image's pixels as floats 0…255 with the model's channels (grey by ITU-R 601 luma, as PIL's "L"), inverted if asked. */
function pixelsFor(im: Image, input: ImageInput): Float32Array {
  const n = im.width * im.height;
  const out = new Float32Array(n * input.channels);
  for (let p = 0; p < n; p++) {
    const s = p * im.channels;
    const [r, g, b] = im.channels >= 3 ? [im.data[s]!, im.data[s + 1]!, im.data[s + 2]!] : [im.data[s]!, im.data[s]!, im.data[s]!];
    if (input.channels === 1) out[p] = (r * 299 + g * 587 + b * 114) / 1000;
    else out.set([r, g, b], p * 3);
  }
  if (input.invert) for (let i = 0; i < out.length; i++) out[i] = 255 - out[i]!;
  return out;
}

/** Adaptive average pooling of [H, W, C] floats to [OH, OW, C] (OH ≤ H, OW ≤ W): PyTorch's bins. */
function areaResize(x: Float32Array, H: number, W: number, C: number, OH: number, OW: number): Float32Array {
  const out = new Float32Array(OH * OW * C);
  for (let oy = 0; oy < OH; oy++) {
    const y0 = Math.floor((oy * H) / OH), y1 = Math.ceil(((oy + 1) * H) / OH);
    for (let ox = 0; ox < OW; ox++) {
      const x0 = Math.floor((ox * W) / OW), x1 = Math.ceil(((ox + 1) * W) / OW);
      const o = (oy * OW + ox) * C;
      for (let y = y0; y < y1; y++) {
        for (let xx = x0; xx < x1; xx++) for (let c = 0; c < C; c++) out[o + c]! += x[(y * W + xx) * C + c]!;
      }
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < C; c++) out[o + c]! /= count;
    }
  }
  return out;
}

/** The batch [N, H, W, C] the network takes: each image resized, all normalised in one pass. */
export function prepareImages(rt: Runtime, images: readonly Image[], input: ImageInput): Tensor {
  const [H, W] = input.size;
  const C = input.channels;
  const batch = rt.tensor([images.length, H, W, C]);
  images.forEach((im, i) => {
    const slot = new Tensor(rt.heap, batch.ptr + i * H * W * C * 4, [1, H, W, C]);
    let pixels = pixelsFor(im, input);
    let [h, w] = [im.height, im.width];
    if (h > H || w > W) {
      // shrink the axes that are too large by averaging; any axis still short grows bilinearly below
      const [th, tw] = [Math.min(h, H), Math.min(w, W)];
      pixels = areaResize(pixels, h, w, C, th, tw);
      [h, w] = [th, tw];
    }
    if (h === H && w === W) slot.write(pixels);
    else rt.scope(() => upsampleBilinear(rt, rt.tensor([1, h, w, C], pixels), { size: [H, W], out: slot }));
  });
  // (v/255 − mean)/std = v · 1/(255·std) − mean/std
  const scale = rt.tensor([C], input.std.map((s) => 1 / (255 * s)));
  const shift = rt.tensor([C], input.mean.map((m, c) => -m / input.std[c]!));
  return batchNorm(rt, batch, { scale, shift }, 'none', batch);
}

/** A classifier network: its weights (plain data and addresses), loaded once and attached by workers. */
export interface ClassifierNetwork<Weights> {
  name: string;
  load(rt: Runtime, model: ModelDir): Weights;
  forward(rt: Runtime, weights: Weights, x: Tensor): Tensor;
}

export interface ClassifierLayout<Weights> extends ModelLayout {
  input: ImageInput;
  labels: string[];
  weights: Weights;
}

/** Logits per image, in the order given. */
export class ImageClassifier<Weights> implements BatchModel<Image> {
  readonly architecture: string;
  readonly shardsPerWorker = 2;
  constructor(
    private readonly rt: Runtime,
    private readonly network: ClassifierNetwork<Weights>,
    readonly layout: ClassifierLayout<Weights>,
  ) {
    this.architecture = network.name;
  }

  check(item: unknown, where: string): asserts item is Image {
    checkImage(item, where);
  }

  /** Every image costs the same: it is resized to the input size first. */
  cost(): number {
    return 1;
  }

  units(): number {
    return 1;
  }

  run(items: readonly Image[], step: (units?: number) => void): Float32Array[] {
    const { rt } = this;
    return rt.scope(() => {
      const x = prepareImages(rt, items, this.layout.input);
      step();
      const logits = this.network.forward(rt, this.layout.weights, x); // [N, classes]
      const classes = logits.shape[1]!;
      const all = logits.data;
      return items.map((_, i) => all.slice(i * classes, (i + 1) * classes));
    });
  }
}

/** The Architecture of a classifier network: config.json "input" and "labels" besides the network's own keys. */
export function classifierArchitecture<Weights>(network: ClassifierNetwork<Weights>): Architecture {
  return {
    name: network.name,
    load(rt: Runtime, model: ModelDir): BatchModel {
      const file = `${model.dir}/config.json`;
      const input = parseImageInput(file, model.config.input);
      const weights = network.load(rt, model);
      const classes = (model.config.num_classes ?? 0) as number;
      const labels = model.config.labels ?? Array.from({ length: classes }, (_, i) => String(i));
      if (!Array.isArray(labels) || labels.length !== classes || !labels.every((l) => typeof l === 'string')) {
        throw modelFormat(file, `"labels" must list ${classes} strings (one per class)`);
      }
      return new ImageClassifier(rt, network, { architecture: network.name, input, labels: labels as string[], weights });
    },
    attach(rt: Runtime, layout: ModelLayout): BatchModel {
      return new ImageClassifier(rt, network, layout as ClassifierLayout<Weights>);
    },
  };
}
