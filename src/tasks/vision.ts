/**
 * The vision models for a Node program: a face detector, image classifiers
 * and segmenters, each opened from a model directory and run in this thread
 * (`workers: 0`, the default) or across a worker pool. Images are decoded
 * pixels or the bytes of a PNG or JPEG file (decoded in the pool's workers,
 * or in this thread when there is no pool).
 *
 * Every call takes one image or an array of them. One image in gives its
 * result, and the promise rejects if that image cannot be used; an array in
 * gives a {@link VisionResult}: a result per image, in order, `undefined`
 * where an image failed, with the failures listed apart (each a HibikiError
 * naming the image) while the others complete. Every call takes an
 * AbortSignal; a cancelled call rejects with an `AbortError` (code E_ABORTED).
 *
 *   const detector = await Detector.open();            // models/face-detector
 *   const faces = await detector.detect(readFileSync('photo.jpg'));
 *   const { results, failures } = await detector.detect([first, second]);
 *   await detector.close();
 */
import { HibikiError, badInput } from '../errors.js';
import { type Image, decodeImage, imageHeader } from '../io/image.js';
import { rleArea, rleEncode, rleToBbox, rleToString } from '../metrics/mask-rle.js';
import type { ItemFailure, Progress } from '../pool/job.js';
import type { Pool } from '../pool/pool.js';
import { unpackDetections } from '../models/face-detector.js';
import { type ImageItem, checkImage, parseImageInput } from '../models/image-input.js';
import { upscaleLabels } from '../models/image-segmenter.js';
import { DEFAULT_MODELS } from './defaults.js';
import { type OpenOptions, type Runner, closeRunner, kindOf, onlyResult, openRunner, poolOf } from './runner.js';

export { DEFAULT_MODELS } from './defaults.js';
export type { OpenOptions } from './runner.js';

/** What every vision call takes besides its own options. */
export interface CallOptions {
  /** Cancels the call: it rejects with an `AbortError` (code E_ABORTED) whose `cause` is the signal's reason. */
  signal?: AbortSignal;
  /** Called as images finish, for progress bars. */
  onProgress?: (progress: Progress) => void;
}

/** One image: decoded pixels, or the bytes of a PNG or JPEG file (a Buffer is fine). */
export type ImageInput = Image | Uint8Array;

/** What a vision call given an array of images gives back. */
export interface VisionResult<T> {
  /** Per input image, in order: its result, or undefined where it failed (see `failures`). */
  results: Array<T | undefined>;
  /** The images that failed, by index, each with its error. */
  failures: ItemFailure[];
}

/** An image's size in pixels: what turning a model's output into a result needs of the image. */
type ImageSize = { width: number; height: number };

const EXPECTED_IMAGE = 'an image (decoded pixels {width, height, channels, data} or PNG/JPEG bytes)';

/** What every vision class shares: the model directory, its config, the runner, and the per-image plumbing. */
abstract class VisionModel {
  protected constructor(
    /** The model directory. */
    readonly dir: string,
    /** The model's config.json. */
    readonly config: Record<string, unknown>,
    private readonly runner: Runner,
  ) {}

  /**
   * One image or an array of them through the model: an array gives a
   * VisionResult, one image its result (or its error thrown), anything else
   * E_BAD_INPUT naming what `call` expects.
   */
  protected async runImages<Extra extends object, T>(
    call: string, input: unknown, extra: Extra, options: CallOptions, convert: (out: Float32Array, size: ImageSize) => T,
  ): Promise<T | VisionResult<T>> {
    if (Array.isArray(input)) return this.runBatch(input, (index) => `image ${index + 1}`, extra, options, convert); // numbered from 1
    if (typeof input !== 'object' || input === null) throw badInput(`${call} expects ${EXPECTED_IMAGE} or an array of images, got ${kindOf(input)}`);
    const { results, failures } = await this.runBatch([input], () => 'image', extra, options, convert);
    return onlyResult(results, failures);
  }

  /**
   * Checks every image here, so each error names its image, and runs the
   * rest. File bytes are decoded where the model runs: on a pool, in the
   * workers (here only the header is read: format and size), so decoding
   * spreads over the cores instead of queueing on this thread.
   */
  private async runBatch<Extra extends object, T>(
    images: readonly unknown[], name: (index: number) => string, extra: Extra, options: CallOptions, convert: (out: Float32Array, size: ImageSize) => T,
  ): Promise<VisionResult<T>> {
    const failures: ItemFailure[] = [];
    const accepted: Array<{ index: number; size: ImageSize; item: ImageItem }> = [];
    const onPool = this.pool !== undefined;
    images.forEach((item, index) => {
      const where = name(index);
      try {
        if (item instanceof Uint8Array) {
          if (onPool) {
            const { width, height } = imageHeader(item, where);
            const encoded = { encoded: item, name: where, width, height }; // its own size, too
            accepted.push({ index, size: encoded, item: encoded });
          } else {
            const image = decodeImage(item, where);
            accepted.push({ index, size: image, item: image });
          }
        } else {
          if (typeof item !== 'object' || item === null || 'encoded' in item) throw badInput(`${where}: expected ${EXPECTED_IMAGE}, got ${kindOf(item)}`);
          checkImage(item, where);
          accepted.push({ index, size: item as Image, item: item as Image });
        }
      } catch (e) {
        failures.push({ index, error: e instanceof HibikiError ? e : badInput(`${where}: ${(e as Error).message}`) });
      }
    });
    const plain = Object.keys(extra).length === 0; // (classify and segment: the items as they are)
    const run = await this.runner.run(accepted.map((d) => (plain ? d.item : { ...d.item, ...extra })), options);
    const results: Array<T | undefined> = images.map(() => undefined);
    accepted.forEach((d, k) => {
      const out = run.outputs[k];
      if (out) results[d.index] = convert(out, d.size);
    });
    for (const f of run.failures) failures.push({ index: accepted[f.index]!.index, error: f.error });
    failures.sort((a, b) => a.index - b.index);
    return { results, failures };
  }

  /** The class names of the model's config.json, by class index. */
  get labels(): string[] {
    return (this.config.labels ?? []) as string[];
  }

  /** The worker pool, when the model runs on one (for its stats and threads). */
  get pool(): Pool | undefined {
    return poolOf(this.runner);
  }

  /** Stops the workers, if any. */
  async close(): Promise<void> {
    await closeRunner(this.runner);
  }
}

/**
 * What `detect` keeps: the score and NMS thresholds and a cap on boxes; and
 * the call's signal and progress.
 */
export interface DetectOptions extends CallOptions {
  /** Keep boxes scoring above this (default: the model's). */
  score?: number;
  /** NMS IoU threshold (default: the model's). */
  iou?: number;
  /** Most boxes per image (default: the model's). */
  maxResults?: number;
}

/** An object found in an image. */
export interface DetectedObject {
  /** [x, y, width, height] in the image's pixels. */
  bbox: [number, number, number, number];
  /** Confidence, 0 to 1. */
  score: number;
  /** The class name (the model's first label: 'face' for the face detector). */
  label: string;
}

/**
 * An object detector (the face detector by default): boxes, scores and labels
 * per image.
 *
 * @example
 * const detector = await Detector.open();
 * const faces = await detector.detect(readFileSync('photo.jpg'), { score: 0.5 });
 */
export class Detector extends VisionModel {
  /**
   * Opens a detector model directory (models/face-detector by default):
   * `workers` 0 (the default) runs in this thread, more starts a worker pool.
   */
  static async open(dir: string = DEFAULT_MODELS.detector, options: OpenOptions = {}): Promise<Detector> {
    const { config, runner } = await openRunner(dir, ['ssd-mobilenet-v1-face'], 'a detector', options);
    return new Detector(dir, config, runner);
  }

  /**
   * The objects in one image, best first; the promise rejects if the image
   * cannot be used.
   *
   * @example
   * const faces = await detector.detect(readFileSync('photo.jpg'), { score: 0.5 });
   */
  detect(image: ImageInput, options?: DetectOptions): Promise<DetectedObject[]>;
  /** The objects in each image, best first: a result per image, in order, and the images that failed. */
  detect(images: readonly ImageInput[], options?: DetectOptions): Promise<VisionResult<DetectedObject[]>>;
  async detect(input: ImageInput | readonly ImageInput[], options: DetectOptions = {}): Promise<DetectedObject[] | VisionResult<DetectedObject[]>> {
    const label = this.labels[0] ?? 'face';
    const extra = { minConfidence: options.score, iouThreshold: options.iou, maxResults: options.maxResults };
    return this.runImages('detect', input, extra, options, (out) => unpackDetections(out).map((d) => ({ bbox: d.box, score: d.score, label })));
  }
}

/** How many classes `classify` gives per image; and the call's signal and progress. */
export interface ClassOptions extends CallOptions {
  /** Classes per image (default 5). */
  top?: number;
}

/** A class and its probability. */
export interface RankedClass {
  /** The class name (its index as text when the model has no labels). */
  label: string;
  /** The class index in the model's output. */
  index: number;
  /** Softmax of the logits, 0 to 1. */
  probability: number;
}

/** topK's exponentials, kept between calls: an array per image was garbage for the calling thread to collect. */
let topKScratch = new Float64Array(0);

/**
 * The `k` most probable classes by softmax over the logits, most probable
 * first (ties by class index). A scan per class kept rather than a sort of
 * every class: this runs once per image on the calling thread.
 */
export function topK(logits: Float32Array, labels: readonly string[], k: number): RankedClass[] {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  if (topKScratch.length < n) topKScratch = new Float64Array(n);
  const p = topKScratch;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp(logits[i]! - max);
  const kept: RankedClass[] = [];
  for (let j = 0; j < Math.min(k, n); j++) {
    // the most probable class not kept yet; the first such index on ties (a kept class is −1)
    let best = -1;
    for (let i = 0; i < n; i++) if (p[i]! >= 0 && (best < 0 || p[i]! > p[best]!)) best = i;
    if (best < 0) break; // (NaN logits: loading refuses non-finite weights, so only a broken model gives them)
    kept.push({ label: labels[best] ?? String(best), index: best, probability: p[best]! / sum });
    p[best] = -1;
  }
  return kept;
}

/**
 * An image classifier (MobileNet v2 or DenseNet; the digits DenseNet by
 * default): the most probable classes per image.
 *
 * @example
 * const classifier = await Classifier.open();
 * const [best] = await classifier.classify(readFileSync('7.png'), { top: 1 });
 */
export class Classifier extends VisionModel {
  /**
   * Opens an image classifier directory (models/digits-densenet by default):
   * `workers` 0 (the default) runs in this thread, more starts a worker pool.
   */
  static async open(dir: string = DEFAULT_MODELS.classifier, options: OpenOptions = {}): Promise<Classifier> {
    const { config, runner } = await openRunner(dir, ['mobilenet_v2', 'densenet'], 'an image classifier', options);
    return new Classifier(dir, config, runner);
  }

  /**
   * The most probable classes of one image, most probable first; the promise
   * rejects if the image cannot be used.
   *
   * @example
   * const [best] = await classifier.classify(readFileSync('7.png'), { top: 1 });
   */
  classify(image: ImageInput, options?: ClassOptions): Promise<RankedClass[]>;
  /** The most probable classes of each image: a result per image, in order, and the images that failed. */
  classify(images: readonly ImageInput[], options?: ClassOptions): Promise<VisionResult<RankedClass[]>>;
  async classify(input: ImageInput | readonly ImageInput[], options: ClassOptions = {}): Promise<RankedClass[] | VisionResult<RankedClass[]>> {
    const k = options.top ?? 5;
    if (!Number.isSafeInteger(k) || k < 1) throw badInput(`top must be a positive integer, got ${k}`);
    return this.runImages('classify', input, {}, options, (out) => topK(out, this.labels, k));
  }
}

/** An image's class per pixel, at the image's own size. */
export interface SegmentationResult {
  /** The image's width in pixels. */
  width: number;
  /** The image's height in pixels. */
  height: number;
  /** The class of every pixel of the image, row-major. */
  labels: Uint8Array;
}

/**
 * A segmentation model (a U-Net; the shapes model by default): a class per
 * pixel of each image.
 *
 * @example
 * const segmenter = await Segmenter.open();
 * const { width, height, labels } = await segmenter.segment(readFileSync('shapes.png'));
 * const masks = classMasks({ width, height, labels }, segmenter.labels);
 */
export class Segmenter extends VisionModel {
  /**
   * Opens a segmentation model directory (models/shapes-unet by default):
   * `workers` 0 (the default) runs in this thread, more starts a worker pool.
   */
  static async open(dir: string = DEFAULT_MODELS.segmenter, options: OpenOptions = {}): Promise<Segmenter> {
    const { config, runner } = await openRunner(dir, ['unet'], 'a segmentation model', options);
    return new Segmenter(dir, config, runner);
  }

  /**
   * A class per pixel of one image, at the image's own size; the promise
   * rejects if the image cannot be used.
   *
   * @example
   * const { width, height, labels } = await segmenter.segment(readFileSync('shapes.png'));
   */
  segment(image: ImageInput, options?: CallOptions): Promise<SegmentationResult>;
  /** A class per pixel of each image: a result per image, in order, and the images that failed. */
  segment(images: readonly ImageInput[], options?: CallOptions): Promise<VisionResult<SegmentationResult>>;
  async segment(input: ImageInput | readonly ImageInput[], options: CallOptions = {}): Promise<SegmentationResult | VisionResult<SegmentationResult>> {
    const [h, w] = parseImageInput(`${this.dir}/config.json`, this.config.input).size;
    return this.runImages('segment', input, {}, options, (out, { width, height }) => ({
      width, height, labels: upscaleLabels(out, h, w, height, width),
    }));
  }
}

/** One class's pixels in COCO's result form: what `hibiki evaluate --iou-type segm` and pycocotools read. */
export interface ClassMask {
  /** Class index in the model's labels (background 0 included). */
  index: number;
  label: string;
  /** Pixels of this class. */
  area: number;
  /** [x, y, width, height] of the pixels. */
  bbox: [number, number, number, number];
  /** COCO compressed RLE (column-major runs, pycocotools' string form). */
  segmentation: { size: [number, number]; counts: string };
}

/** Each class present in a segmentation, background (0) left out, as a COCO RLE mask, by class index. */
export function classMasks(result: SegmentationResult, labels: readonly string[]): ClassMask[] {
  const { width, height } = result;
  const present = [...new Set(result.labels)].filter((k) => k !== 0).sort((a, b) => a - b);
  // COCO masks are column-major: transpose the labels once, then one pass per class
  const columns = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) columns[x * height + y] = result.labels[y * width + x]!;
  const mask = new Uint8Array(width * height);
  return present.map((index) => {
    for (let i = 0; i < mask.length; i++) mask[i] = columns[i] === index ? 1 : 0;
    const rle = rleEncode(mask, height, width);
    return { index, label: labels[index] ?? String(index), area: rleArea(rle), bbox: rleToBbox(rle), segmentation: { size: [height, width], counts: rleToString(rle) } };
  });
}
