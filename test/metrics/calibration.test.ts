import { describe, expect, it } from 'vitest';
import { calibration } from '../../src/metrics/calibration.js';
import { errorOf } from '../helpers/errors.js';

describe('calibration (expected calibration error)', () => {
  it('a hand-computed case: bins weighted by their share, |accuracy − confidence| each', () => {
    // (0.9, 1]: four at 0.95, three right → |0.75 − 0.95| · 4/6; (0.5, 0.6]: two at 0.6, one right → |0.5 − 0.6| · 2/6
    const c = calibration([0.95, 0.95, 0.95, 0.95, 0.6, 0.6], [true, true, true, false, true, false], 10);
    expect(c.ece).toBeCloseTo(0.2 * 4 / 6 + 0.1 * 2 / 6, 12);
    expect(c.mce).toBeCloseTo(0.2, 12);
    expect(c.bins[9]).toEqual({ lower: 0.9, upper: 1, count: 4, accuracy: 0.75, confidence: 0.95 });
    expect(c.bins[5]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(c.bins.filter((b) => b.count).length).toBe(2);
  });

  it('puts a confidence on a bin edge in the bin it closes, 0 in the first and 1 in the last', () => {
    const c = calibration([0, 0.3, 0.7, 1], [false, true, true, true], 10);
    expect(c.bins.map((b) => b.count)).toEqual([1, 0, 1, 0, 0, 0, 1, 0, 0, 1]); // 0.3 ∈ (0.2, 0.3], 0.7 ∈ (0.6, 0.7]
    expect(calibration([1, 1], [true, true]).ece).toBe(0); // right and sure: calibrated
    expect(calibration([], []).ece).toBe(0);
  });

  it('refuses mismatched lengths and values that are not probabilities', () => {
    expect(errorOf(() => calibration([0.5], []))).toBe('E_BAD_INPUT: calibration: 1 confidences for 0 outcomes');
    expect(errorOf(() => calibration([0.5, 1.5], [true, true]))).toBe('E_BAD_INPUT: calibration: confidence 2 is 1.5, not a probability');
    expect(errorOf(() => calibration([0.5], [true], 0))).toBe('E_BAD_INPUT: calibration: bins must be a positive integer, got 0');
  });
});
