import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COCO_STAT_NAMES, cocoEvaluate } from '../../src/metrics/coco.js';
import { expectError } from '../helpers/errors.js';

// rafaelpadilla/review_object_detection_metrics' COCO sample (cocoapi's fakebbox100 detections) with the
// 12 numbers pycocotools prints for it: ../fixtures/detection/detection_published.json (provenance inside).
const published = JSON.parse(readFileSync(new URL('../fixtures/detection/detection_published.json', import.meta.url), 'utf8'));
const sample = published.coco_cases[0];

describe('cocoEvaluate on the published COCO sample', () => {
  const result = cocoEvaluate(sample.gt, sample.detections);

  it('gives pycocotools’ 12 summary numbers', () => {
    COCO_STAT_NAMES.forEach((name, i) => {
      expect(Math.abs(result.stats[i]! - sample.expected_stats[name]), name).toBeLessThan(1e-12);
      expect(Math.abs(result.stats[i]! - sample.published_stats[name]), name).toBeLessThan(sample.published_tolerance);
    });
  });

  it('gives pycocotools’ AP per category, −1 where a category has no ground truth', () => {
    for (const [cat, ap] of Object.entries(sample.expected_per_category_AP as Record<string, number>)) {
      expect(Math.abs(result.perCategoryAP.get(Number(cat))! - ap), `category ${cat}`).toBeLessThan(1e-12);
    }
  });

  it('names the record that is wrong', () => {
    const gt = structuredClone(sample.gt);
    gt.annotations[0].image_id = 999999;
    expectError(() => cocoEvaluate(gt, []), 'E_BAD_INPUT', /annotation \d+ refers to image 999999, which is not in "images"/);
    expectError(() => cocoEvaluate(sample.gt, [{ image_id: 1146, category_id: 1, bbox: [0, 0, -2, 3], score: 0.5 }]), 'E_BAD_INPUT', /detection 0: bbox must be/);
    expectError(() => cocoEvaluate(sample.gt, [{ image_id: 1146, category_id: 1, bbox: [0, 0, 2, 3], score: Number.NaN }]), 'E_BAD_INPUT', /detection 0: score must be a finite number, got NaN/);
    expectError(() => cocoEvaluate(sample.gt, [{ image_id: 31337, category_id: 1, bbox: [0, 0, 2, 3], score: 1 }]), 'E_BAD_INPUT', /image_id 31337 is not an image of the ground truth/);
  });
});
