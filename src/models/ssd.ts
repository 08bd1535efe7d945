/**
 * SSD (Liu et al., 2016) around any backbone: default boxes over several
 * feature maps, box offsets decoded against them, and the detections kept.
 *
 *  - `multipleGridAnchors`: the default boxes of TensorFlow's Object
 *    Detection API (multiple_grid_anchor_generator, as the face detector's
 *    model was trained with): per feature map k of a g×g grid, a scale s_k
 *    spaced evenly from minScale to maxScale, one box per aspect ratio a
 *    (height s/√a, width s·√a) centred on each cell, plus one of scale
 *    √(s_k·s_{k+1}) at ratio 1; the first map optionally has just three.
 *  - `decodeBoxes`: offsets (ty, tx, th, tw) against a default box with the
 *    usual variances given as scale factors (10, 10, 5, 5 = 1/0.1, 1/0.2).
 *  - `selectDetections`: per class (the background class 0 excluded), the
 *    boxes above a score threshold, the best topK of them, class-aware NMS
 *    (torchvision's batched_nms, src/metrics/nms.ts) and the best
 *    maxDetections overall — torchvision's SSD postprocessing.
 *
 * Boxes are (ymin, xmin, ymax, xmax) rows in the input's 0…1 frame, as
 * TensorFlow writes them.
 */
import { batchedNms } from '../metrics/nms.js';

/** How SSD's default boxes are laid out (TF object detection's multiple_grid_anchor_generator). */
export interface AnchorOptions {
  /** Grid size of each feature map, finest first (e.g. 32, 16, 8, 4, 2, 1). */
  featureMaps: readonly number[];
  minScale: number;
  maxScale: number;
  aspectRatios: readonly number[];
  /** The finest map gets only (0.1, 1), (s, 2), (s, 1/2), as TF's reduce_boxes_in_lowest_layer. */
  reduceBoxesInLowestLayer: boolean;
}

/** The default boxes, map by map, row by row, cell by cell, box by box: [n, 4] as (ymin, xmin, ymax, xmax). */
export function multipleGridAnchors(o: AnchorOptions): Float32Array {
  const K = o.featureMaps.length;
  const scales = [...Array.from({ length: K }, (_, k) => o.minScale + ((o.maxScale - o.minScale) * k) / (K - 1)), 1];
  const boxes: number[] = [];
  o.featureMaps.forEach((g, k) => {
    const s = scales[k]!;
    const kinds: Array<[number, number]> = k === 0 && o.reduceBoxesInLowestLayer
      ? [[0.1, 1], [s, 2], [s, 0.5]]
      : [[s, 1], [Math.sqrt(s * scales[k + 1]!), 1], ...o.aspectRatios.filter((a) => a !== 1).map((a): [number, number] => [s, a])];
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const [yc, xc] = [(i + 0.5) / g, (j + 0.5) / g];
        for (const [scale, ratio] of kinds) {
          const [h, w] = [scale / Math.sqrt(ratio), scale * Math.sqrt(ratio)];
          boxes.push(yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2);
        }
      }
    }
  });
  return Float32Array.from(boxes);
}

const f = Math.fround;

/**
 * Boxes from offsets [n, 4] (ty, tx, th, tw) against anchors [n, 4], operation by operation in float32
 * as TensorFlow.js computes them: centre + t/scale · size, size · exp(t/scale).
 */
export function decodeBoxes(encodings: ArrayLike<number>, anchors: ArrayLike<number>, [sy, sx, sh, sw]: readonly number[]): Float32Array {
  const n = anchors.length / 4;
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const [a0, a1, a2, a3] = [anchors[4 * i]!, anchors[4 * i + 1]!, anchors[4 * i + 2]!, anchors[4 * i + 3]!];
    const [ty, tx, th, tw] = [encodings[4 * i]!, encodings[4 * i + 1]!, encodings[4 * i + 2]!, encodings[4 * i + 3]!];
    const ha = f(a2 - a0);
    const wa = f(a3 - a1);
    const yc = f(f(f(ty / sy!) * ha) + f(a0 + f(ha / 2)));
    const xc = f(f(f(tx / sx!) * wa) + f(a1 + f(wa / 2)));
    const halfH = f(f(f(Math.exp(f(th / sh!))) * ha) / 2);
    const halfW = f(f(f(Math.exp(f(tw / sw!))) * wa) / 2);
    boxes[4 * i] = yc - halfH;
    boxes[4 * i + 1] = xc - halfW;
    boxes[4 * i + 2] = yc + halfH;
    boxes[4 * i + 3] = xc + halfW;
  }
  return boxes;
}

/** Which decoded boxes selectDetections keeps. */
export interface SelectOptions {
  scoreThreshold: number;
  iouThreshold: number;
  /** Candidates per class before NMS. */
  topK: number;
  maxDetections: number;
}

/** A kept box: which default box it came from, its class and score. */
export interface SsdDetection {
  /** Index of the default box. */
  anchor: number;
  class: number;
  score: number;
}

/** The detections kept from boxes [n, 4] and class scores [n, classes] (class 0 the background), best first. */
export function selectDetections(boxes: Float32Array, scores: Float32Array, classes: number, o: SelectOptions): SsdDetection[] {
  const n = boxes.length / 4;
  const picked: SsdDetection[] = [];
  for (let c = 1; c < classes; c++) {
    const mine: SsdDetection[] = [];
    for (let i = 0; i < n; i++) {
      const score = scores[i * classes + c]!;
      if (score > o.scoreThreshold) mine.push({ anchor: i, class: c, score });
    }
    mine.sort((a, b) => b.score - a.score || a.anchor - b.anchor);
    picked.push(...mine.slice(0, o.topK));
  }
  // batched_nms takes (x1, y1, x2, y2)
  const xyxy = new Float32Array(4 * picked.length);
  picked.forEach((d, i) => xyxy.set([boxes[4 * d.anchor + 1]!, boxes[4 * d.anchor]!, boxes[4 * d.anchor + 3]!, boxes[4 * d.anchor + 2]!], 4 * i));
  const keep = batchedNms(xyxy, Float32Array.from(picked, (d) => d.score), Int32Array.from(picked, (d) => d.class), o.iouThreshold);
  return keep.slice(0, o.maxDetections).map((i) => picked[i]!);
}
