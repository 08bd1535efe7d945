/**
 * Semantic segmentation as a batch model: U-Net (unet.ts) behind the
 * preprocessing its config.json describes (image-input.ts). An item is an
 * image of any size; it is resized to the model's input size, and the
 * output is the most likely class of every pixel at that size, row-major,
 * which `upscaleLabels` maps back onto the original image.
 *
 * config.json: the U-Net's keys (unet.ts) plus "input" and "labels" (one
 * name per class, background first).
 */
import { modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import type { Runtime } from '../runtime/runtime.js';
import { ImageBatchModel, type ImageInput, type ImageItem, parseImageInput, prepareImages } from './image-input.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { type UNetWeights, loadUNet, parseUNetConfig, unetForward } from './unet.js';

export interface ImageSegmenterLayout extends ModelLayout {
  input: ImageInput;
  labels: string[];
  weights: UNetWeights;
}

/** The index of the largest of each row of `classes` values (the first on ties, as torch.argmax). */
export function argmaxRows(logits: Float32Array, classes: number): Uint8Array {
  const out = new Uint8Array(logits.length / classes);
  for (let p = 0; p < out.length; p++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[p * classes + k]! > logits[p * classes + best]!) best = k;
    out[p] = best;
  }
  return out;
}

/** Labels at the model's size [h, w] to the image's [H, W] by nearest neighbour (F.interpolate's 'nearest' rule). */
export function upscaleLabels(labels: ArrayLike<number>, h: number, w: number, H: number, W: number): Uint8Array {
  const out = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / H));
    for (let x = 0; x < W; x++) out[y * W + x] = labels[sy * w + Math.min(w - 1, Math.floor((x * w) / W))]!;
  }
  return out;
}

export class ImageSegmenter extends ImageBatchModel implements BatchModel<ImageItem> {
  readonly architecture = 'unet';
  constructor(
    private readonly rt: Runtime,
    readonly layout: ImageSegmenterLayout,
  ) {
    super();
  }

  /** Per image: the class of each pixel at the input size, as floats (they travel back as one buffer). */
  run(items: readonly ImageItem[], step: (units?: number) => void): Float32Array[] {
    const { rt, layout } = this;
    return rt.scope(() => {
      const x = prepareImages(rt, items, layout.input); // (N, H, W, C)
      step();
      const logits = unetForward(rt, layout.weights, x); // (N, H, W, classes)
      const classes = logits.shape[3]!;
      const labels = argmaxRows(logits.data, classes);
      const pixels = labels.length / items.length;
      return items.map((_, i) => Float32Array.from(labels.subarray(i * pixels, (i + 1) * pixels)));
    });
  }
}

export const unet: Architecture = {
  name: 'unet',
  load(rt: Runtime, model: ModelDir): BatchModel {
    const file = `${model.dir}/config.json`;
    const config = parseUNetConfig(file, model.config);
    const input = parseImageInput(file, model.config.input);
    const labels = model.config.labels ?? Array.from({ length: config.classes }, (_, i) => String(i));
    if (!Array.isArray(labels) || labels.length !== config.classes || !labels.every((l) => typeof l === 'string')) {
      throw modelFormat(file, `"labels" must list ${config.classes} strings (one per class)`);
    }
    const palette = model.config.palette;
    const isColour = (c: unknown) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
    if (palette !== undefined && !(Array.isArray(palette) && palette.length === config.classes && palette.every(isColour))) {
      throw modelFormat(file, `"palette" must list ${config.classes} colours (one [r, g, b] of 0–255 per class), got ${JSON.stringify(palette).slice(0, 80)}`);
    }
    return new ImageSegmenter(rt, { architecture: 'unet', input, labels: labels as string[], weights: loadUNet(rt, model.weights, config) });
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new ImageSegmenter(rt, layout as ImageSegmenterLayout);
  },
};
