import { describe, expect, it } from 'vitest';
import { maskIou, segmentationIou } from '../../src/metrics/segmentation.js';
import { expectError } from '../helpers/errors.js';

describe('segmentation IoU (hand-computed)', () => {
  it('mask IoU: 2 shared pixels of 4 covered', () => {
    expect(maskIou([1, 1, 1, 0, 0], [0, 1, 1, 1, 0])).toBe(0.5);
    expect(maskIou([0, 0], [0, 0])).toBe(0);
  });

  it('per-class IoU, mean IoU and pixel accuracy over two label maps, ignore label skipped', () => {
    // truth      0 0 1 1 | 2 2 255      predicted  0 1 1 1 | 2 0 1
    const r = segmentationIou([
      { truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1] },
      { truth: [2, 2, 255], predicted: [2, 0, 1] },
    ], 4);
    // class 0: inter 1, truth 2, predicted 2 → 1/3; class 1: inter 2, truth 2, predicted 3 → 2/3;
    // class 2: inter 1, truth 2, predicted 1 → 1/2; class 3 absent → NaN.
    expect(r.iou[0]).toBeCloseTo(1 / 3, 15);
    expect(r.iou[1]).toBeCloseTo(2 / 3, 15);
    expect(r.iou[2]).toBe(0.5);
    expect(r.iou[3]).toBeNaN();
    expect(r.meanIou).toBeCloseTo((1 / 3 + 2 / 3 + 0.5) / 3, 15);
    expect(r.pixelAccuracy).toBeCloseTo(4 / 6, 15);
  });

  it('names the bad pixel', () => {
    expectError(() => segmentationIou([{ truth: [0, 7], predicted: [0, 0] }], 3), 'E_BAD_INPUT', /pair 0, pixel 1: true label 7 is not a class below 3/);
    expectError(() => maskIou([1], [1, 0]), 'E_BAD_INPUT', /masks of 1 and 2 pixels/);
  });
});
