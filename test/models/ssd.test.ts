import { describe, expect, it } from 'vitest';
import { decodeBoxes, multipleGridAnchors, selectDetections } from '../../src/models/ssd.js';

describe('SSD pieces (hand-computed)', () => {
  it('default boxes: scales spaced from min to max, one box per aspect ratio plus the interpolated one', () => {
    const a = multipleGridAnchors({ featureMaps: [2, 1], minScale: 0.2, maxScale: 0.8, aspectRatios: [1, 4], reduceBoxesInLowestLayer: false });
    // map 0: 2×2 cells × (s, 1), (√(0.2·0.8), 1), (s, 4); map 1: 1 cell × (0.8, 1), (√0.8, 1), (0.8, 4)
    expect(a.length / 4).toBe(2 * 2 * 3 + 3);
    const box = (i: number) => Array.from(a.subarray(4 * i, 4 * i + 4));
    expect(box(0).map((v) => +v.toFixed(6))).toEqual([0.15, 0.15, 0.35, 0.35]); // cell (0, 0) centre 0.25, scale 0.2
    expect(box(1).map((v) => +v.toFixed(6))).toEqual([0.05, 0.05, 0.45, 0.45]); // scale √0.16 = 0.4
    expect(box(2).map((v) => +v.toFixed(6))).toEqual([0.2, 0.05, 0.3, 0.45]); // ratio 4: height 0.1, width 0.4
    expect(box(13).map((v) => +v.toFixed(6))).toEqual([0.5 - Math.sqrt(0.8) / 2, 0.5 - Math.sqrt(0.8) / 2, 0.5 + Math.sqrt(0.8) / 2, 0.5 + Math.sqrt(0.8) / 2].map((v) => +v.toFixed(6)));
  });

  it('decodes offsets against the default box with the variances', () => {
    // anchor centre (0.5, 0.5), size 0.4 × 0.2; ty = 10 → centre + 1·0.4; tw = 5·ln 3 → width × 3
    const boxes = decodeBoxes([10, 0, 0, 5 * Math.log(3)], [0.3, 0.4, 0.7, 0.6], [10, 10, 5, 5]);
    expect(Array.from(boxes).map((v) => +v.toFixed(5))).toEqual([0.7, 0.2, 1.1, 0.8]);
  });

  it('keeps per class: score threshold, top-k, class-aware NMS, then the best overall', () => {
    const boxes = Float32Array.from([
      0, 0, 1, 1, // 0
      0, 0, 1, 0.9, // 1: IoU 0.9 with box 0
      0.5, 0.5, 1, 1, // 2
      0, 0, 0.2, 0.2, // 3
    ]);
    // classes: background, cat, dog
    const scores = Float32Array.from([
      0.1, 0.9, 0.8, // box 0
      0.1, 0.85, 0.05, // box 1
      0.1, 0.3, 0.6, // box 2
      0.1, 0.2, 0.1, // box 3
    ]);
    const kept = selectDetections(boxes, scores, 3, { scoreThreshold: 0.25, iouThreshold: 0.5, topK: 10, maxDetections: 10 });
    // cat: 0 (0.9) suppresses 1 (0.85), 2 (0.3) overlaps 0 by 0.25 and stays, 3 is under the threshold;
    // dog: 0 (0.8) and 2 (0.6) do not suppress cats, IoU 0.25 keeps both
    expect(kept.map((d) => [d.anchor, d.class])).toEqual([[0, 1], [0, 2], [2, 2], [2, 1]]);
    expect(selectDetections(boxes, scores, 3, { scoreThreshold: 0.25, iouThreshold: 0.5, topK: 1, maxDetections: 10 }).map((d) => d.anchor)).toEqual([0, 0]);
    expect(selectDetections(boxes, scores, 3, { scoreThreshold: 0.25, iouThreshold: 0.5, topK: 10, maxDetections: 2 })).toHaveLength(2);
  });
});
