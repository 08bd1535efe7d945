/**
 * face-api's SSD MobileNet V1 face detector (@vladmandic/face-api 1.7.15,
 * weights converted by tools/convert_face_detector.ts), computing what
 * face-api computes, section by section as the team's description of it
 * (face-ssd-mobilenetv1.md, checked against face-api's source) numbers them:
 *
 *  §2 preprocessing: pad to a square at the top-left, TF's legacy bilinear
 *     resize to 512×512 (skipped when the square is 512), v/127.5 − 1;
 *  §3 MobileNet V1 backbone, TF SAME padding, ReLU6, batch norms folded (the
 *     depthwise ones at load time, ε = float32 0.001);
 *  §4 SSD head: 8 extra layers, 6 box predictors → 5118 anchors;
 *  §5 anchor decoding with scale factors (10, 10, 5, 5), sigmoid scores;
 *  §6 face-api's own NMS;
 *  §7 boxes mapped back to the original pixels, Math.round quirk included.
 *
 * config.json: { "architecture": "ssd-mobilenet-v1-face", "input_size": 512, "anchors": 5118,
 *   "score_threshold": 0.5, "iou_threshold": 0.5, "max_results": 100,
 *   "box_scale_factors": [10, 10, 5, 5], "batch_norm_epsilon": 0.001, "provenance": {…} }
 * model.safetensors: the TF weights by their tfjs names, U8 with
 *   `__metadata__.quantization` = JSON { name: { scale, min } }, anchors F32.
 */
import { badInput, modelFormat } from '../errors.js';
import { type Image, resizeBilinearLegacy, toRgb } from '../io/image.js';
import { type ModelDir, readModelDir } from '../io/model-dir.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type Conv2dLayer, runConv2d, runSeparable } from '../nn/conv.js';
import { vector } from '../nn/linear.js';
import { packConv2dWeight, packDepthwiseWeight } from '../runtime/ops/conv.js';
import { foldBatchNormIntoConv } from '../runtime/ops/norm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { type ImageItem, checkImage, imageOf } from './image-input.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { decodeBoxes } from './ssd.js';

// ---------------------------------------------------------------------------
// Config and weights
// ---------------------------------------------------------------------------

export const FACE_DETECTOR = 'ssd-mobilenet-v1-face';

export interface FaceDetectorConfig {
  /** The network's square input side (the anchors are laid out for it). */
  inputSize: number;
  anchors: number;
  /** Defaults for `detect`: a box is kept if its score > scoreThreshold (face-api's minConfidence). */
  scoreThreshold: number;
  iouThreshold: number;
  maxResults: number;
  /** Divisors of the encodings (ty, tx, th, tw): SSD's variances 0.1, 0.1, 0.2, 0.2. */
  boxScaleFactors: [number, number, number, number];
  batchNormEpsilon: number;
}

/** Weights in linear memory: plain data and addresses, so a worker can attach to them. */
export interface FaceDetectorWeights extends ModelLayout {
  architecture: typeof FACE_DETECTOR;
  config: FaceDetectorConfig;
  conv0: Conv2dLayer; // 3×3 stride 2, 3 → 32, ReLU6
  /** conv_1 … conv_13: 3×3 depthwise (stride s, BN folded) then 1×1, both ReLU6. */
  blocks: Array<{ depthwise: Conv2dLayer; pointwise: Conv2dLayer }>;
  /** Prediction conv_0 … conv_7 on F1: alternately 1×1 and 3×3 stride 2, ReLU6. */
  extras: Conv2dLayer[];
  /** Box predictor k on feature map Fk: 1×1 convs to 4·A box encodings and 3·A class logits. */
  predictors: Array<{ boxes: Conv2dLayer; classes: Conv2dLayer; anchorsPerCell: number }>;
  anchors: number; // [anchors, 4]: (ymin, xmin, ymax, xmax) in the 0…1 frame of the padded square
}

/** MobileNet V1 blocks conv_1 … conv_13: [depthwise stride, in channels, out channels]. */
const BLOCKS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 32, 64], [2, 64, 128], [1, 128, 128], [2, 128, 256], [1, 256, 256], [2, 256, 512],
  [1, 512, 512], [1, 512, 512], [1, 512, 512], [1, 512, 512], [1, 512, 512],
  [2, 512, 1024], [1, 1024, 1024],
];
/** The block whose output is feature map F0 (conv_11). */
const F0_BLOCK = 10;
/** SSD extra layers: [kernel, stride, in, out]; the 3×3 ones give F2 … F5. */
const EXTRAS: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 1, 1024, 256], [3, 2, 256, 512], [1, 1, 512, 128], [3, 2, 128, 256],
  [1, 1, 256, 128], [3, 2, 128, 256], [1, 1, 256, 64], [3, 2, 64, 128],
];
/** Box predictors: [feature map channels, anchors per cell]. */
const PREDICTORS: ReadonlyArray<readonly [number, number]> = [[512, 3], [1024, 6], [512, 6], [256, 6], [256, 6], [128, 6]];

const f = Math.fround;

function parseConfig(file: string, c: Record<string, unknown>): FaceDetectorConfig {
  const fail = (key: string, what: string) => modelFormat(file, `"${key}" must be ${what}, got ${JSON.stringify(c[key])}`);
  if (c.input_size !== 512) throw fail('input_size', '512 (the anchors are laid out for a 512×512 input)');
  if (!Number.isSafeInteger(c.anchors) || (c.anchors as number) < 1) throw fail('anchors', 'a positive integer');
  for (const key of ['score_threshold', 'iou_threshold']) {
    const v = c[key];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw fail(key, 'a number from 0 to below 1');
  }
  if (!Number.isSafeInteger(c.max_results) || (c.max_results as number) < 1) throw fail('max_results', 'a positive integer');
  const scales = c.box_scale_factors;
  if (!Array.isArray(scales) || scales.length !== 4 || !scales.every((v) => typeof v === 'number' && v > 0)) {
    throw fail('box_scale_factors', 'four positive numbers (y, x, h, w)');
  }
  const eps = c.batch_norm_epsilon;
  if (typeof eps !== 'number' || !(eps >= 0)) throw fail('batch_norm_epsilon', 'a number ≥ 0');
  return {
    inputSize: 512,
    anchors: c.anchors as number,
    scoreThreshold: c.score_threshold as number,
    iouThreshold: c.iou_threshold as number,
    maxResults: c.max_results as number,
    boxScaleFactors: scales as [number, number, number, number],
    // TF stored ε as a float32 (0.0010000000474974513)
    batchNormEpsilon: f(eps),
  };
}

/** __metadata__.quantization: per U8 tensor, the dtype it dequantizes to and the manifest's scale and min. */
type Quantization = Record<string, { dtype: string; scale: number; min: number }>;

/** Dequantizes the converter's U8 tensors as tfjs does: float32(q · scale + min), scale and min as doubles. */
class Weights {
  private readonly quantization: Quantization;
  constructor(readonly file: SafeTensorsFile) {
    try {
      this.quantization = JSON.parse(file.metadata.quantization ?? '{}') as Quantization;
    } catch {
      throw modelFormat(file.file, '__metadata__.quantization is not valid JSON');
    }
  }

  /** Float values of tensor `name`, which must have `shape`. */
  get(name: string, shape: readonly number[]): Float32Array {
    const t = this.file.get(name);
    if (t.shape.join() !== shape.join()) {
      throw modelFormat(this.file.file, `${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (t.data instanceof Float32Array) return t.data;
    const q = this.quantization[name];
    if (t.dtype !== 'U8' || q?.dtype !== 'float32' || typeof q.scale !== 'number' || typeof q.min !== 'number') {
      throw modelFormat(this.file.file, `${name} is ${t.dtype}; expected F32, or U8 with its float32 scale and min in __metadata__.quantization`);
    }
    const levels = t.data as Uint8Array;
    const out = new Float32Array(levels.length);
    for (let i = 0; i < levels.length; i++) out[i] = levels[i]! * q.scale + q.min;
    return out;
  }
}

/** TF's [KH, KW, I, O] → PyTorch's [O, I, KH, KW], the layout the packers take. */
function tfToTorch(w: Float32Array, [KH, KW, I, O]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let k = 0; k < KH! * KW!; k++) {
    for (let i = 0; i < I!; i++) {
      for (let o = 0; o < O!; o++) out[(o * I! + i) * KH! * KW! + k] = w[(k * I! + i) * O! + o]!;
    }
  }
  return out;
}

/** A conv with bias: weights [k, k, in, out] and `biasName` [out]. */
function loadConv(
  rt: Runtime, w: Weights, name: string, biasName: string, [k, stride, cin, cout]: readonly number[], relu6: boolean,
): Conv2dLayer {
  const weight = tfToTorch(w.get(name, [k!, k!, cin!, cout!]), [k!, k!, cin!, cout!]);
  return {
    kind: 'conv',
    weight: packConv2dWeight(rt, weight, [cout!, cin!, k!, k!]),
    bias: vector(rt, w.get(biasName, [cout!])),
    outChannels: cout!,
    stride: stride!,
    padding: 'same',
    dilation: 1,
    activation: relu6 ? 'relu6' : 'none',
  };
}

/** `prefix`/depthwise_weights [3, 3, C, 1] with `prefix`/BatchNorm folded in. */
function loadDepthwise(rt: Runtime, w: Weights, prefix: string, stride: number, C: number, eps: number): Conv2dLayer {
  // [3, 3, C, 1] is [3, 3, 1, C] in memory: as PyTorch's [C, 1, 3, 3] (groups = C) after the transpose.
  const weight = tfToTorch(w.get(`${prefix}/depthwise_weights`, [3, 3, C, 1]), [3, 3, 1, C]);
  const bn = (s: string) => w.get(`${prefix}/BatchNorm/${s}`, [C]);
  const folded = foldBatchNormIntoConv(weight, undefined, C, {
    weight: bn('gamma'), bias: bn('beta'), runningMean: bn('moving_mean'), runningVar: bn('moving_variance'), eps,
  });
  return {
    kind: 'depthwise',
    weight: packDepthwiseWeight(rt, folded.weight, [C, 1, 3, 3]),
    bias: vector(rt, folded.bias),
    outChannels: C,
    stride,
    padding: 'same',
    dilation: 1,
    activation: 'relu6',
  };
}

function loadFaceDetectorWeights(rt: Runtime, model: ModelDir): FaceDetectorWeights {
  const config = parseConfig(`${model.dir}/config.json`, model.config);
  const w = new Weights(model.weights);
  const mn = (i: number, kind: string) => `MobilenetV1/Conv2d_${i}_${kind}`;
  const conv0 = loadConv(rt, w, `${mn(0, 'pointwise')}/weights`, `${mn(0, 'pointwise')}/convolution_bn_offset`, [3, 2, 3, 32], true);
  const blocks = BLOCKS.map(([stride, cin, cout], b) => ({
    depthwise: loadDepthwise(rt, w, mn(b + 1, 'depthwise'), stride, cin, config.batchNormEpsilon),
    pointwise: loadConv(rt, w, `${mn(b + 1, 'pointwise')}/weights`, `${mn(b + 1, 'pointwise')}/convolution_bn_offset`, [1, 1, cin, cout], true),
  }));
  const extras = EXTRAS.map((geometry, j) => {
    const p = `Prediction/Conv2d_${j}_pointwise`;
    return loadConv(rt, w, `${p}/weights`, `${p}/convolution_bn_offset`, geometry, true);
  });
  const predictors = PREDICTORS.map(([C, A], k) => {
    const p = (head: string) => `Prediction/BoxPredictor_${k}/${head}`;
    return {
      boxes: loadConv(rt, w, `${p('BoxEncodingPredictor')}/weights`, `${p('BoxEncodingPredictor')}/biases`, [1, 1, C, 4 * A], false),
      classes: loadConv(rt, w, `${p('ClassPredictor')}/weights`, `${p('ClassPredictor')}/biases`, [1, 1, C, 3 * A], false),
      anchorsPerCell: A,
    };
  });
  const cells = [32, 16, 8, 4, 2, 1].reduce((n, g, k) => n + g * g * PREDICTORS[k]![1], 0);
  if (cells !== config.anchors) throw modelFormat(`${model.dir}/config.json`, `"anchors" is ${config.anchors}, but the network predicts ${cells}`);
  const anchors = rt.tensor([config.anchors, 4], w.get('Output/extra_dim', [1, config.anchors, 4]));
  return { architecture: FACE_DETECTOR, config, conv0, blocks, extras, predictors, anchors: anchors.ptr };
}

// ---------------------------------------------------------------------------
// The detector
// ---------------------------------------------------------------------------

/** One face: box [x, y, width, height] in the original image's pixels (origin top-left, not rounded). */
export interface Detection {
  box: [number, number, number, number];
  score: number;
}

export interface FaceDetectorOptions {
  /** Keep boxes with score > minConfidence (default: the config's score_threshold, 0.5). */
  minConfidence?: number;
  /** At most this many boxes (default: the config's max_results, 100). */
  maxResults?: number;
  /** A box overlapping a better kept one with IoU above this is dropped (default: the config's iou_threshold, 0.5). */
  iouThreshold?: number;
}

/** An item of a batch: an image (RGB, RGBA or grey), with optional per-image options. */
/** An image (pixels, or a PNG or JPEG file's bytes, decoded where it runs) and the options for it. */
export type FaceDetectorItem = ImageItem & FaceDetectorOptions;

/** The network's outputs before NMS: decoded boxes (ymin, xmin, ymax, xmax) in the padded square's 0…1 frame, and face scores. */
export interface RawDetections {
  boxes: Float32Array; // [anchors, 4]
  scores: Float32Array; // [anchors]
}

/** ≈ multiply–adds per image (§8), for sharding. */
const MACS = 3.14e9;

export class FaceDetector implements BatchModel<FaceDetectorItem> {
  readonly architecture = FACE_DETECTOR;
  constructor(
    private readonly rt: Runtime,
    readonly layout: FaceDetectorWeights,
  ) {}

  get config(): FaceDetectorConfig {
    return this.layout.config;
  }

  check(item: unknown, where: string): asserts item is FaceDetectorItem {
    checkImage(item, where);
    this.options(item as FaceDetectorItem, where);
  }

  cost(): number {
    return MACS;
  }

  units(): number {
    return 1;
  }

  /** Per image: its detections as [x, y, width, height, score] × n (see `unpackDetections`). */
  run(items: readonly FaceDetectorItem[], step: (units?: number) => void): Float32Array[] {
    return items.map((item) => {
      const found = this.detect(imageOf(item), item, step);
      step(1);
      return Float32Array.from(found.flatMap((d) => [...d.box, d.score]));
    });
  }

  /** The faces in `image`, best first. */
  detect(image: Image, options: FaceDetectorOptions = {}, step: () => void = () => {}): Detection[] {
    checkImage(image, 'detect');
    const { minConfidence, maxResults, iouThreshold } = this.options(options, 'detect');
    const raw = this.raw(image, step);
    const keep = faceApiNms(raw.boxes, raw.scores, Math.min(maxResults, this.config.anchors), iouThreshold, minConfidence);
    return keep
      .map((i) => ({ box: toImagePixels(raw.boxes, i, image.width, image.height, this.config.inputSize), score: raw.scores[i]! }))
      .filter((d) => d.box[2] > 0 && d.box[3] > 0); // nothing of it in the image
  }

  /** Boxes and scores of every anchor, before NMS (face-api's `forwardInput`). */
  raw(image: Image, step: () => void = () => {}): RawDetections {
    const { rt, layout } = this;
    const { inputSize: S, anchors: n } = this.config;
    return rt.scope(() => {
      const x = rt.empty([1, S, S, 3]); // (1, 512, 512, 3)
      networkInput(image, S, x.data);
      const encodings = rt.empty([n, 4]); // (anchors, 4): (ty, tx, th, tw)
      const logits = rt.empty([n, 3]); // (anchors, 3): background, face, unused
      let anchor = 0;
      const predict = (k: number, feature: Tensor) => {
        const { boxes, classes, anchorsPerCell: A } = layout.predictors[k]!;
        const [, h, w] = feature.shape as [number, number, number, number];
        // Row-major [h, w, 4A] is [h·w·A, 4] (channel a·4 + t): each predictor writes its anchors' rows in place.
        runConv2d(rt, feature, boxes, new Tensor(rt.heap, encodings.ptr + anchor * 16, [1, h, w, 4 * A]));
        runConv2d(rt, feature, classes, new Tensor(rt.heap, logits.ptr + anchor * 12, [1, h, w, 3 * A]));
        anchor += h * w * A;
      };

      let h = runConv2d(rt, x, layout.conv0); // (1, 256, 256, 32)
      layout.blocks.forEach((block, b) => {
        step();
        h = runSeparable(rt, h, block.depthwise, block.pointwise); // (1, ⌈H/s⌉, ⌈W/s⌉, C'), band by band
        if (b === F0_BLOCK) predict(0, h); // F0 (1, 32, 32, 512)
      });
      predict(1, h); // F1 (1, 16, 16, 1024)
      layout.extras.forEach((extra, j) => {
        h = runConv2d(rt, h, extra);
        if (j % 2 === 1) predict(2 + (j >> 1), h); // F2 … F5: (1, 8, 8, 512) … (1, 1, 1, 128)
      });
      step();
      return decode(encodings.data, logits.data, rt.heap.f32(layout.anchors, 4 * n), this.config.boxScaleFactors);
    });
  }

  private options(o: FaceDetectorOptions, where: string): Required<FaceDetectorOptions> {
    const minConfidence = o.minConfidence ?? this.config.scoreThreshold;
    const maxResults = o.maxResults ?? this.config.maxResults;
    if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence < 1)) {
      throw badInput(`${where}: minConfidence must be a number from 0 to below 1, got ${minConfidence}`);
    }
    if (!Number.isSafeInteger(maxResults) || maxResults < 1) throw badInput(`${where}: maxResults must be a positive integer, got ${maxResults}`);
    const iouThreshold = o.iouThreshold ?? this.config.iouThreshold;
    if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1)) {
      throw badInput(`${where}: iouThreshold must be a number from 0 to 1, got ${iouThreshold}`);
    }
    return { minConfidence, maxResults, iouThreshold };
  }
}

/** `run`'s output for one image back to detections. */
export function unpackDetections(out: Float32Array): Detection[] {
  return Array.from({ length: out.length / 5 }, (_, i) => ({
    box: [out[5 * i]!, out[5 * i + 1]!, out[5 * i + 2]!, out[5 * i + 3]!],
    score: out[5 * i + 4]!,
  }));
}

// ---------------------------------------------------------------------------
// §2 Preprocessing
// ---------------------------------------------------------------------------

const normalize = (v: number) => f(f(v / 127.5) - 1);
const NORMALIZED = Float32Array.from({ length: 256 }, (_, v) => normalize(v));

/**
 * The image padded with zeros to a square at the top-left, resized to
 * size × size by TF's legacy bilinear rule unless the square already is that
 * size, and scaled to [−1, 1] as v/127.5 − 1 in float32 (tfjs's div then sub).
 * Written into `x` when given: the network's input tensor, so that no 3 MB
 * array is made and dropped per image (with two workers, the collections
 * such arrays cause ran on the cores the workers needed).
 */
export function networkInput(image: Image, size: number, x: Float32Array = new Float32Array(size * size * 3)): Float32Array {
  const rgb = toRgb(image);
  const { width: W, height: H } = rgb;
  const side = Math.max(W, H);
  if (side !== size) {
    resizeBilinearLegacy(rgb, size, size, { width: side, height: side }, x);
    for (let i = 0; i < x.length; i++) x[i] = normalize(x[i]!);
    return x;
  }
  // Unresized pixels are bytes: their 256 normalised values are looked up (the padding is 0 → −1).
  x.fill(NORMALIZED[0]!);
  for (let y = 0; y < H; y++) {
    for (let i = y * W * 3, o = y * size * 3, end = (y + 1) * W * 3; i < end; i++, o++) x[o] = NORMALIZED[rgb.data[i]!]!;
  }
  return x;
}

// ---------------------------------------------------------------------------
// §5 Anchor decoding
// ---------------------------------------------------------------------------

/** Boxes (SSD decoding, ssd.ts) and sigmoid face scores from encodings, logits and anchors, in float32 as tfjs (outputLayer.ts). */
export function decode(
  encodings: Float32Array, logits: Float32Array, anchors: Float32Array, scaleFactors: readonly number[],
): RawDetections {
  const n = anchors.length / 4;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) scores[i] = 1 / (1 + Math.exp(-logits[3 * i + 1]!));
  return { boxes: decodeBoxes(encodings, anchors, scaleFactors), scores };
}

// ---------------------------------------------------------------------------
// §6 Non-maximum suppression, face-api's rules (nonMaxSuppression.ts)
// ---------------------------------------------------------------------------

/** IoU of boxes i and j of (ymin, xmin, ymax, xmax) rows, corners re-ordered; 0 if either has no area. */
function faceApiIou(b: ArrayLike<number>, i: number, j: number): number {
  const [yi0, yi1] = [Math.min(b[4 * i]!, b[4 * i + 2]!), Math.max(b[4 * i]!, b[4 * i + 2]!)];
  const [xi0, xi1] = [Math.min(b[4 * i + 1]!, b[4 * i + 3]!), Math.max(b[4 * i + 1]!, b[4 * i + 3]!)];
  const [yj0, yj1] = [Math.min(b[4 * j]!, b[4 * j + 2]!), Math.max(b[4 * j]!, b[4 * j + 2]!)];
  const [xj0, xj1] = [Math.min(b[4 * j + 1]!, b[4 * j + 3]!), Math.max(b[4 * j + 1]!, b[4 * j + 3]!)];
  const areaI = (yi1 - yi0) * (xi1 - xi0);
  const areaJ = (yj1 - yj0) * (xj1 - xj0);
  if (areaI <= 0 || areaJ <= 0) return 0;
  const inter = Math.max(Math.min(yi1, yj1) - Math.max(yi0, yj0), 0) * Math.max(Math.min(xi1, xj1) - Math.max(xi0, xj0), 0);
  return inter / (areaI + areaJ - inter);
}

/**
 * The indices face-api keeps, best first: candidates with score > scoreThreshold
 * (strict) by score, ties in anchor order; each is dropped if a box already
 * kept (compared newest first) overlaps it with IoU > iouThreshold; at most
 * maxOutput. In double precision on the float32 boxes, as face-api's JS.
 * (src/metrics/nms.ts is torchvision's: float32 IoUs, no threshold, no corner re-ordering.)
 */
export function faceApiNms(
  boxes: ArrayLike<number>, scores: ArrayLike<number>, maxOutput: number, iouThreshold: number, scoreThreshold: number,
): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > scoreThreshold) candidates.push(i);
  candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const selected: number[] = [];
  for (const c of candidates) {
    if (selected.length >= maxOutput) break;
    let suppressed = false;
    for (let j = selected.length - 1; j >= 0 && !suppressed; j--) suppressed = faceApiIou(boxes, c, selected[j]!) > iouThreshold;
    if (!suppressed) selected.push(c);
  }
  return selected;
}

// ---------------------------------------------------------------------------
// §7 Back to the original image
// ---------------------------------------------------------------------------

/**
 * Box i in the original image's pixels as face-api's locateFaces computes it
 * (clipped to [0, 1] of the padded square, scaled by size/round(side·size/S),
 * the reshaped size it rounds, then by the image's width and height), then
 * clipped to the image: face-api leaves a box running on into the padding
 * below or right of a non-square image. [x, y, width, height]; the width or
 * height is 0 for a box wholly in the padding.
 */
export function toImagePixels(boxes: ArrayLike<number>, i: number, W: number, H: number, size: number): [number, number, number, number] {
  const scale = size / Math.max(H, W);
  const padX = size / Math.round(W * scale);
  const padY = size / Math.round(H * scale);
  const top = Math.min(H, Math.max(0, boxes[4 * i]!) * padY * H);
  const left = Math.min(W, Math.max(0, boxes[4 * i + 1]!) * padX * W);
  const bottom = Math.min(H, Math.min(1, boxes[4 * i + 2]!) * padY * H);
  const right = Math.min(W, Math.min(1, boxes[4 * i + 3]!) * padX * W);
  return [left, top, Math.max(0, right - left), Math.max(0, bottom - top)];
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

export const faceDetectorArchitecture: Architecture = {
  name: FACE_DETECTOR,
  load(rt: Runtime, model: ModelDir): FaceDetector {
    return new FaceDetector(rt, loadFaceDetectorWeights(rt, model));
  },
  attach(rt: Runtime, layout: ModelLayout): FaceDetector {
    return new FaceDetector(rt, layout as FaceDetectorWeights);
  },
};

/** Reads models/face-detector (or another directory converted the same way) into `rt`. */
export function loadFaceDetector(rt: Runtime, modelDir: string): FaceDetector {
  const model = readModelDir(modelDir);
  if (model.config.architecture !== FACE_DETECTOR) {
    throw modelFormat(`${modelDir}/config.json`, `"architecture" is "${model.config.architecture}", expected "${FACE_DETECTOR}"`);
  }
  return faceDetectorArchitecture.load(rt, model) as FaceDetector;
}
