/**
 * What a vision model's config.json "input" asks of an image, done in the
 * engine: grey conversion or inversion when the model wants it, the resize
 * to the model's input size, and normalisation by mean and std — fused into
 * one batch-norm pass over the whole batch. So a model's item is an image
 * of any size as decoded from a file.
 *
 * Resizing: an axis that shrinks is averaged over the source pixels each
 * output pixel covers (adaptive average pooling, like an "area" resize, so
 * a large photo does not alias); an image that grows on both axes is
 * resized by the bilinear kernel (F.interpolate, align_corners=False).
 *
 * config.json "input": { "size": [H, W], "channels": 1 | 3, "mean": [...],
 * "std": [...], "invert": false } with mean and std on the 0…1 scale.
 *
 * "fit_ink": true (one channel) is for pictures of a single glyph, such as a
 * digit: the ink is found against the paper, whatever their colours, and its
 * bounding box is scaled to fill the input, centred (see fitInk).
 *
 * An item may also be a PNG or JPEG file's bytes (an EncodedImage): a pool's
 * worker decodes it, so the calling thread only reads the file's header.
 */
import { badInput, modelFormat } from '../errors.js';
import { type Image, MAX_IMAGE_PIXELS, decodeImage, imageHeader } from '../io/image.js';
import { upsampleBilinear } from '../runtime/ops/pool.js';
import { batchNorm } from '../runtime/ops/norm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';

export interface ImageInput {
  size: [number, number];
  channels: 1 | 3;
  mean: number[];
  std: number[];
  /** Light-on-dark training data (e.g. digits): dark-on-light pictures are inverted first. */
  invert: boolean;
  /** Find the ink and fit its bounding box to the input (see fitInk); one channel, ink high. */
  fitInk: boolean;
}

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
  const fitInk = input.fit_ink === true;
  if (fitInk && (channels !== 1 || input.invert === true)) throw modelFormat(file, '"input.fit_ink" makes one channel, ink high: "channels" must be 1 and "invert" unset');
  return { size: size as [number, number], channels, mean: mean as number[], std: std as number[], invert: input.invert === true, fitInk };
}

/**
 * A PNG or JPEG file's bytes as an item, decoded where the model runs (a
 * pool's worker). `name` is what its errors call it ("image 3"); `width` and
 * `height` are its header's, read by the caller (imageHeader).
 */
export interface EncodedImage {
  encoded: Uint8Array;
  name: string;
  width: number;
  height: number;
}

/** What an image model takes per item: decoded pixels, or a file's bytes. */
export type ImageItem = Image | EncodedImage;

const isEncoded = (item: ImageItem): item is EncodedImage => (item as EncodedImage).encoded !== undefined;

/** Throws E_BAD_INPUT naming `where` unless `item` is a usable image: pixels, or a file whose header says PNG or JPEG of an accepted size. */
export function checkImage(item: unknown, where: string): asserts item is ImageItem {
  if (typeof item === 'object' && item !== null && 'encoded' in item) {
    const { encoded, name, width, height } = item as EncodedImage;
    if (!(encoded instanceof Uint8Array) || typeof name !== 'string') throw badInput(`${where}: expected {encoded: PNG or JPEG bytes, name, width, height}`);
    const header = imageHeader(encoded, name);
    if (header.width !== width || header.height !== height) {
      throw badInput(`${where}: ${name} is ${header.width}×${header.height} by its header, not the ${width}×${height} given`);
    }
    return;
  }
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

/** The item's pixels: an encoded one decoded here (in the worker that runs it), errors naming it. */
export function imageOf(item: ImageItem): Image {
  return isEncoded(item) ? decodeImage(item.encoded, item.name) : item;
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

/** The ink is paper plus at least this much (of 255) in some channel; a picture with less is blank. */
const FAINTEST_INK = 24;

/**
 * A picture of one glyph → its ink map [H, W] (0 paper … 255 ink), the glyph filling it:
 *  - paper: each channel's median over the border pixels (the lower of the two middle values), on
 *    white where the picture has alpha;
 *  - distance: each pixel's largest channel difference from the paper (0–255), so dark on light,
 *    light on dark and colour on colour alike;
 *  - level: the ink's own distance, the 90th percentile (the lower value) of the distances above
 *    half the largest; ink = (distance − level/5) / (level − level/5), clipped to 0–1;
 *  - the bounding box of ink above 0 is scaled to fit H × W, aspect kept, centred, each output cell
 *    the mean ink over the source area it covers (fractions of pixels at its edges).
 * tools/digits_data.py ink_fit is the same in numpy, and made the training data.
 */
export function fitInk(im: Image, H: number, W: number): Float32Array {
  const n = im.width * im.height;
  const rgb = new Int32Array(n * 3);
  for (let p = 0; p < n; p++) {
    const s = p * im.channels;
    const alpha = im.channels === 4 ? im.data[s + 3]! / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = im.data[s + (im.channels >= 3 ? c : 0)]!;
      rgb[p * 3 + c] = alpha === 1 ? v : Math.round(alpha * v + (1 - alpha) * 255);
    }
  }
  const [w, h] = [im.width, im.height];
  // Order statistics of integers 0–255 by counting (a photo has millions of pixels: no sorting).
  const paperCounts = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  let borderPixels = 0;
  for (let y = 0; y < h; y++) {
    const edgeRow = h === 1 || w === 1 || y === 0 || y === h - 1;
    for (let x = 0; x < w; x += edgeRow ? 1 : w - 1) { // a row of the edge, or its two ends
      const p = y * w + x;
      for (let c = 0; c < 3; c++) paperCounts[c]![rgb[p * 3 + c]!]!++;
      borderPixels++;
    }
  }
  const paper = paperCounts.map((counts) => nthValue(counts, (borderPixels - 1) >> 1));
  const distance = new Int32Array(n);
  let top = 0;
  for (let p = 0; p < n; p++) {
    const d = Math.max(Math.abs(rgb[p * 3]! - paper[0]!), Math.abs(rgb[p * 3 + 1]! - paper[1]!), Math.abs(rgb[p * 3 + 2]! - paper[2]!));
    distance[p] = d;
    top = Math.max(top, d);
  }
  const strongCounts = new Uint32Array(256);
  let strong = 0;
  for (let p = 0; p < n; p++) {
    if (distance[p]! * 2 > top) {
      strongCounts[distance[p]!]!++;
      strong++;
    }
  }
  const level = strong ? nthValue(strongCounts, Math.floor(0.9 * (strong - 1))) : 0;
  const out = new Float32Array(H * W);
  if (level < FAINTEST_INK) return out;
  const floor = level / 5;
  const ink = Float64Array.from(distance, (d) => Math.min(1, Math.max(0, (d - floor) / (level - floor))));
  let [y0, y1, x0, x1] = [h, 0, w, 0];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x]! <= 0) continue;
      if (y < y0) y0 = y;
      if (y >= y1) y1 = y + 1;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
    }
  }
  const [bh, bw] = [y1 - y0, x1 - x0];
  const s = Math.min(H / bh, W / bw);
  const ay = areaWeights(H, bh, s, (H - bh * s) / 2); // (H, bh)
  const ax = areaWeights(W, bw, s, (W - bw * s) / 2); // (W, bw)
  for (let oy = 0; oy < H; oy++) {
    for (let ox = 0; ox < W; ox++) {
      let sum = 0;
      for (let py = 0; py < bh; py++) {
        const wy = ay[oy * bh + py]!;
        if (wy === 0) continue;
        for (let px = 0; px < bw; px++) sum += wy * ink[(y0 + py) * w + x0 + px]! * ax[ox * bw + px]!;
      }
      out[oy * W + ox] = sum * 255;
    }
  }
  return out;
}

/** The value at 0-based rank `rank` of the sorted values that `counts` (a histogram of 0–255) counts. */
function nthValue(counts: Uint32Array, rank: number): number {
  let seen = 0;
  for (let v = 0; v < counts.length; v++) {
    seen += counts[v]!;
    if (seen > rank) return v;
  }
  return counts.length - 1;
}

/**
 * [nOut, nIn]: output cell o covers the box's [(o − edge)/s, (o + 1 − edge)/s); its row weights each of
 * the box's pixels by the overlap, over the cell's length (outside the box there is no ink).
 */
function areaWeights(nOut: number, nIn: number, s: number, edge: number): Float64Array {
  const weights = new Float64Array(nOut * nIn);
  for (let o = 0; o < nOut; o++) {
    const [a, b] = [(o - edge) / s, (o + 1 - edge) / s];
    for (let p = Math.max(0, Math.floor(a)); p < Math.min(nIn, Math.ceil(b)); p++) {
      weights[o * nIn + p] = Math.max(0, Math.min(b, p + 1) - Math.max(a, p)) / (b - a);
    }
  }
  return weights;
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
export function prepareImages(rt: Runtime, images: readonly ImageItem[], input: ImageInput): Tensor {
  const [H, W] = input.size;
  const C = input.channels;
  const batch = rt.tensor([images.length, H, W, C]);
  images.forEach((item, i) => {
    const im = imageOf(item);
    const slot = batch.rows(i, 1); // (1, H, W, C)
    if (input.fitInk) {
      slot.write(fitInk(im, H, W));
      return;
    }
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

/**
 * What every batch model over images shares: an item is an image (pixels or a file's bytes), checked by `checkImage`,
 * and every image costs the same, since it is resized to the model's input size first.
 */
export abstract class ImageBatchModel {
  readonly shardsPerWorker = 2;

  check(item: unknown, where: string): asserts item is ImageItem {
    checkImage(item, where);
  }

  cost(): number {
    return 1;
  }

  units(): number {
    return 1;
  }
}
