import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ap11Point, apAllPoints, precisionRecallAt, vocEvaluate } from '../../src/metrics/voc.js';
import { expectError } from '../helpers/errors.js';

// A copy of ../shared/testdata/detection_published.json: rafaelpadilla/Object-Detection-Metrics'
// 7-image sample, with the numbers both of its public evaluators print (see its provenance block).
const published = JSON.parse(readFileSync(new URL('../fixtures/detection/detection_published.json', import.meta.url), 'utf8'));
const sample = published.voc_cases[0];

describe('VOC AP on the published sample (rafaelpadilla/Object-Detection-Metrics)', () => {
  for (const [convention, pixelPlusOne] of [['expected_plus_one', true], ['expected_continuous_iou', false]] as const) {
    for (const [t, classes] of Object.entries(sample[convention] as Record<string, Record<string, Record<string, unknown>>>)) {
      it(`${convention}, IoU ${t}: the same TP/FP sequence, precision, recall and both APs`, () => {
        const r = vocEvaluate(sample.groundtruths, sample.detections, { iouThreshold: Number(t), pixelPlusOne });
        for (const [cls, want] of Object.entries(classes)) {
          const got = r.classes.find((c) => c.class === cls)!;
          expect(got.npos).toBe(want.npos);
          if (want.tp) expect(got.tp).toEqual(want.tp);
          if (want.fp) expect(got.fp).toEqual(want.fp);
          if (want.precision) (want.precision as number[]).forEach((p, i) => expect(got.precision[i]).toBeCloseTo(p, 12));
          if (want.recall) (want.recall as number[]).forEach((p, i) => expect(got.recall[i]).toBeCloseTo(p, 12));
          if (want.ap_all_points !== undefined) expect(got.apAllPoints).toBeCloseTo(want.ap_all_points as number, 9);
          if (want.ap_11_point !== undefined) expect(got.ap11Point).toBeCloseTo(want.ap_11_point as number, 9);
        }
      });
    }
  }

  it('reproduces the published review_object_detection_metrics values to 1e-9', () => {
    for (const [t, ap] of Object.entries(sample.published.review_test_case_1_ap_all_points as Record<string, number>)) {
      const r = vocEvaluate(sample.groundtruths, sample.detections, { iouThreshold: Number(t), pixelPlusOne: true });
      expect(Math.abs(r.mapAllPoints - ap)).toBeLessThan(1e-9);
      expect(Math.abs(r.map11Point - sample.published.review_test_case_1_ap_11_point[t])).toBeLessThan(1e-9);
    }
  });
});

describe('VOC AP by hand', () => {
  it('interpolates: one TP then one FP with two ground truths', () => {
    // recall [0.5, 0.5], precision [1, 0.5]: all-point AP = 0.5 · 1; 11-point: levels 0…0.5 → 1 (6 of 11).
    expect(apAllPoints([0.5, 0.5], [1, 0.5])).toBe(0.5);
    expect(ap11Point([0.5, 0.5], [1, 0.5])).toBeCloseTo(6 / 11, 15);
    // Recall exactly 0.6 misses the 0.6 level (0.6000000000000001 as numpy computes it).
    expect(ap11Point([0.6], [1])).toBeCloseTo(6 / 11, 15);
  });
  it('ignores detections of difficult objects', () => {
    const gts = [{ image: 'a', class: 'c', bbox: [0, 0, 10, 10] }, { image: 'a', class: 'c', bbox: [50, 50, 10, 10], difficult: true }];
    const r = vocEvaluate(gts, [
      { image: 'a', class: 'c', score: 0.9, bbox: [50, 50, 10, 10] },
      { image: 'a', class: 'c', score: 0.8, bbox: [0, 0, 10, 10] },
    ]);
    expect(r.classes[0]!.npos).toBe(1);
    expect([r.classes[0]!.tp, r.classes[0]!.fp]).toEqual([[0, 1], [0, 0]]);
    expect(r.mapAllPoints).toBe(1);
  });
  it('gives precision, recall and F1 at a score threshold', () => {
    const gts = [{ image: 'a', class: 'c', bbox: [0, 0, 10, 10] }, { image: 'a', class: 'c', bbox: [20, 20, 10, 10] }];
    const dets = [
      { image: 'a', class: 'c', score: 0.9, bbox: [0, 0, 10, 10] }, // TP
      { image: 'a', class: 'c', score: 0.8, bbox: [60, 60, 10, 10] }, // FP
      { image: 'a', class: 'c', score: 0.3, bbox: [20, 20, 10, 10] }, // TP, but under 0.5
    ];
    expect(precisionRecallAt(gts, dets, 0.5)).toEqual([{ class: 'c', tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5, f1: 0.5 }]);
    expect(precisionRecallAt(gts, dets, 0)[0]).toMatchObject({ tp: 2, fp: 1, fn: 0, recall: 1 });
  });

  it('names the bad record', () => {
    expectError(() => vocEvaluate([{ image: 'a', class: 'c', bbox: [0, 0, -1, 3] }], []), 'E_BAD_INPUT', /ground truth 0 \(image a\): bbox must be \[x, y, w, h\]/);
    expectError(() => vocEvaluate([], [{ image: 'a', class: 'c', score: Number.NaN, bbox: [0, 0, 1, 1] }]), 'E_BAD_INPUT', /detection 0 \(image a\): score must be a finite number, got NaN/);
  });
});
