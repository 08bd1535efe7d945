/**
 * Segmentation overlap: IoU of binary masks, and per-class IoU (Jaccard) and
 * mean IoU over label maps, accumulated in a confusion matrix as the usual
 * semantic-segmentation benchmarks do (intersection / union per class over
 * the whole set, pixels labelled `ignoreIndex` skipped).
 */
import { badInput } from '../errors.js';

/** IoU of two binary masks (nonzero = inside) of the same size; two empty masks give 0. */
export function maskIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw badInput(`maskIou: masks of ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union ? inter / union : 0;
}

/** How well predicted labels match true ones, pixel by pixel. */
export interface SegmentationScore {
  /** [classes × classes], row = true class, column = predicted class. */
  confusion: Float64Array;
  /** IoU per class; NaN for a class that appears in neither truth nor prediction. */
  iou: number[];
  /** Mean over the classes whose IoU is defined. */
  meanIou: number;
  /** Correct pixels / counted pixels. */
  pixelAccuracy: number;
}

/** Per-class IoU and mean IoU of predicted label maps against true ones (pairs of equal-size maps). */
export function segmentationIou(
  pairs: ReadonlyArray<{ truth: ArrayLike<number>; predicted: ArrayLike<number> }>, classes: number, ignoreIndex = 255,
): SegmentationScore {
  if (!Number.isSafeInteger(classes) || classes < 1) throw badInput(`segmentationIou: classes must be a whole number ≥ 1, got ${classes}`);
  const confusion = new Float64Array(classes * classes);
  pairs.forEach(({ truth, predicted }, p) => {
    if (truth.length !== predicted.length) throw badInput(`segmentationIou: pair ${p} has ${truth.length} true and ${predicted.length} predicted pixels`);
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i]!;
      if (t === ignoreIndex) continue;
      const y = predicted[i]!;
      if (!(Number.isInteger(t) && t >= 0 && t < classes)) throw badInput(`segmentationIou: pair ${p}, pixel ${i}: true label ${t} is not a class below ${classes}`);
      if (!(Number.isInteger(y) && y >= 0 && y < classes)) throw badInput(`segmentationIou: pair ${p}, pixel ${i}: predicted label ${y} is not a class below ${classes}`);
      confusion[t * classes + y]! += 1;
    }
  });
  const iou: number[] = [];
  let correct = 0;
  let total = 0;
  for (let c = 0; c < classes; c++) {
    let row = 0;
    let col = 0;
    for (let k = 0; k < classes; k++) {
      row += confusion[c * classes + k]!;
      col += confusion[k * classes + c]!;
    }
    const inter = confusion[c * classes + c]!;
    const union = row + col - inter;
    iou.push(union ? inter / union : Number.NaN);
    correct += inter;
    total += row;
  }
  const defined = iou.filter((x) => !Number.isNaN(x));
  return {
    confusion, iou,
    meanIou: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN,
    pixelAccuracy: total ? correct / total : Number.NaN,
  };
}
