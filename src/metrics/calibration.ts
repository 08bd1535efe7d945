/**
 * Calibration of a classifier's confidence: does "90 %" come true nine times
 * in ten? The expected calibration error (ECE, Guo et al. 2017, "On
 * Calibration of Modern Neural Networks"): predictions are binned by their
 * confidence into equal-width bins over [0, 1] (bin b holds confidences in
 * (b/B, (b+1)/B], the first also 0), and
 *
 *   ECE = Σ_b (n_b / n) · |accuracy_b − mean confidence_b|
 *
 * 0 is perfectly calibrated; an over-confident model scores high.
 */
import { badInput } from '../errors.js';

/** One confidence bin. */
export interface CalibrationBin {
  /** Confidences in (lower, upper] (the first bin also holds 0). */
  lower: number;
  upper: number;
  count: number;
  /** Fraction of the bin's predictions that were right (0 for an empty bin). */
  accuracy: number;
  /** Mean confidence in the bin (0 for an empty bin). */
  confidence: number;
}

/** What `calibration` gives: the expected and maximum calibration errors, and every bin. */
export interface Calibration {
  /** The expected calibration error, 0–1. */
  ece: number;
  /** The largest |accuracy − confidence| over non-empty bins (the maximum calibration error). */
  mce: number;
  bins: CalibrationBin[];
}

/**
 * ECE of predictions whose top-class probabilities are `confidences` and
 * whose correctness is `correct` (same length), over `bins` equal-width bins (15, as Guo et al.).
 */
export function calibration(confidences: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): Calibration {
  if (confidences.length !== correct.length) throw badInput(`calibration: ${confidences.length} confidences for ${correct.length} outcomes`);
  if (!Number.isSafeInteger(bins) || bins < 1) throw badInput(`calibration: bins must be a positive integer, got ${bins}`);
  const count = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  const sum = new Array<number>(bins).fill(0);
  for (let i = 0; i < confidences.length; i++) {
    const c = confidences[i]!;
    if (!(c >= 0 && c <= 1)) throw badInput(`calibration: confidence ${i + 1} is ${c}, not a probability`);
    // (b/B, (b+1)/B], 0 in the first bin; 0.3 · 10 is 3.0000000000000004 in floating point, so a
    // confidence on a boundary is moved down to the bin whose upper edge it is
    let b = Math.max(0, Math.ceil(c * bins) - 1);
    if (b > 0 && c <= b / bins) b--;
    count[b]!++;
    sum[b]! += c;
    if (correct[i]) right[b]!++;
  }
  const n = confidences.length;
  let ece = 0;
  let mce = 0;
  const out = count.map((k, b) => {
    const accuracy = k ? right[b]! / k : 0;
    const confidence = k ? sum[b]! / k : 0;
    if (k) {
      ece += (k / n) * Math.abs(accuracy - confidence);
      mce = Math.max(mce, Math.abs(accuracy - confidence));
    }
    return { lower: b / bins, upper: (b + 1) / bins, count: k, accuracy, confidence };
  });
  return { ece, mce, bins: out };
}
