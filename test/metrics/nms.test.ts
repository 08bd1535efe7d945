import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchedNms, boxIou, nms, nmsTopK, xywhToXyxy } from '../../src/metrics/nms.js';
import { expectError } from '../helpers/errors.js';

interface Case {
  boxes: number[]; scores: number[]; classes: number[]; iou_threshold: number;
  nms: number[]; batched_nms: number[]; box_iou: Array<number | null>;
}
const { cases } = JSON.parse(readFileSync(new URL('../fixtures/nms.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('nms and box IoU against torchvision 0.14 (tools/fixtures_nms.py)', () => {
  it('keeps exactly torchvision.ops.nms’s indices, ties and IoUs at the threshold included', () => {
    for (const [i, c] of cases.entries()) expect(nms(c.boxes, c.scores, c.iou_threshold), `case ${i}`).toEqual(c.nms);
  });

  it('keeps exactly torchvision.ops.batched_nms’s indices', () => {
    for (const [i, c] of cases.entries()) {
      expect(batchedNms(c.boxes, c.scores, c.classes, c.iou_threshold), `case ${i}`).toEqual(c.batched_nms);
    }
  });

  it('computes torchvision.ops.box_iou bit for bit', () => {
    for (const [i, c] of cases.entries()) {
      const m = Math.min(c.boxes.length / 4, 6);
      const got = Array.from(boxIou(c.boxes, c.boxes.slice(0, 4 * m)), (x) => (Number.isNaN(x) ? null : x));
      expect(got, `case ${i}`).toEqual(c.box_iou);
    }
  });

  it('has hand-computed answers for the simple cases', () => {
    // Two unit squares overlapping by half: IoU (0.5) / (1.5) = 1/3.
    expect(boxIou([0, 0, 1, 1], [0.5, 0, 1.5, 1])[0]).toBeCloseTo(1 / 3, 7);
    expect(Array.from(xywhToXyxy([1, 2, 3, 4]))).toEqual([1, 2, 4, 6]);
    // IoU exactly 0.5 at threshold 0.5 is kept (suppression needs IoU > threshold) …
    expect(nms([0, 0, 2, 1, 0, 0, 1, 1], [0.9, 0.8], 0.5)).toEqual([0, 1]);
    expect(nms([0, 0, 2, 1, 0, 0, 1, 1], [0.9, 0.8], 0.49)).toEqual([0]);
    // … while 1/3 in float32 (0.33333334) is above the threshold 1/3, as in torchvision.
    expect(nms([0, 0, 2, 2, 1, 0, 3, 2], [0.9, 0.8], 1 / 3)).toEqual([0]);
    expect(nmsTopK([0, 0, 1, 1, 5, 5, 6, 6, 9, 9, 10, 10], [0.1, 0.3, 0.2], 0.5, 2)).toEqual([1, 2]);
  });

  it('names the bad box or score', () => {
    expectError(() => nms([0, 0, 1], [1], 0.5), 'E_BAD_INPUT', /3 numbers is not a whole number of \[x1, y1, x2, y2\] boxes/);
    expectError(() => nms([0, 0, 1, 1, 2, 2, 1, 3], [1, 1], 0.5), 'E_BAD_INPUT', /box 1 \[2, 2, 1, 3\] has negative size/);
    expectError(() => nms([0, 0, 1, 1], [Number.NaN], 0.5), 'E_BAD_INPUT', /score 0 is NaN/);
    expectError(() => batchedNms([0, 0, 1, 1], [1], [0.5], 0.5), 'E_BAD_INPUT', /class 0 is 0\.5, not a whole number/);
  });
});
