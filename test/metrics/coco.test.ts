import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COCO_STAT_NAMES, type CocoDetection, type CocoGroundTruth, cocoEvaluate, statNames } from '../../src/metrics/coco.js';
import { expectError } from '../helpers/errors.js';

// rafaelpadilla/review_object_detection_metrics' COCO sample (cocoapi's fakebbox100 detections) with the
// 12 numbers pycocotools prints for it: ../fixtures/detection/detection_published.json (provenance inside).
const published = JSON.parse(readFileSync(new URL('../fixtures/detection/detection_published.json', import.meta.url), 'utf8'));
const sample = published.coco_cases[0];
// Seeded cases scored by pycocotools 2.0.11: tools/fixtures_coco.py.
const oracle = JSON.parse(readFileSync(new URL('../fixtures/detection/coco-oracle.json', import.meta.url), 'utf8'));

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

  it('gives the precision–recall curves whose means are AP50, AP75 and AP', () => {
    const [c50, c75, all] = result.curves;
    expect(c50!.ap).toBe(result.stats[1]);
    expect(c75!.ap).toBe(result.stats[2]);
    expect(all!.ap).toBe(result.stats[0]);
    expect(c50!.recall).toHaveLength(101);
    // precision never rises with recall (pycocotools' envelope), and the curve's mean is the AP
    for (let i = 1; i < 101; i++) expect(c50!.precision[i]!).toBeLessThanOrEqual(c50!.precision[i - 1]! + 1e-12);
    expect(c50!.precision.reduce((s, p) => s + p, 0) / 101).toBeCloseTo(result.stats[1]!, 12);
  });
});

describe('cocoEvaluate against pycocotools on seeded cases (boxes, masks, crowds, ties, >100 detections)', () => {
  for (const c of oracle.cases) {
    it(`${c.name} (${c.iouType}, maxDets ${c.maxDets.join('/')})`, () => {
      const r = cocoEvaluate(c.gt, c.detections, { iouType: c.iouType, maxDets: c.maxDets });
      r.stats.forEach((s, i) => expect(Math.abs(s - c.expected_stats[i]), statNames(c.maxDets)[i]).toBeLessThan(1e-12));
      // pycocotools agrees everywhere except the first line with a custom maxDets, where it prints −1
      const custom = c.maxDets[2] !== 100;
      r.stats.forEach((s, i) => expect(Math.abs(s - c.pycocotools_stats[i]) < 1e-12 || (custom && i === 0 && c.pycocotools_stats[0] === -1)).toBe(true));
      for (const [cat, ap] of Object.entries(c.expected_per_category_AP as Record<string, number>)) {
        expect(Math.abs(r.perCategoryAP.get(Number(cat))! - ap), `category ${cat}`).toBeLessThan(1e-12);
      }
    });
  }

  it('covers what it claims: crowds, every area range, >100 detections on an image, masks of every form', () => {
    const anns = oracle.cases.flatMap((c: { gt: CocoGroundTruth }) => c.gt.annotations);
    expect(anns.some((a: { iscrowd: number }) => a.iscrowd)).toBe(true);
    expect(anns.some((a: { area: number }) => a.area < 32 ** 2)).toBe(true);
    expect(anns.some((a: { area: number }) => a.area > 32 ** 2 && a.area < 96 ** 2)).toBe(true);
    expect(anns.some((a: { area: number }) => a.area > 96 ** 2)).toBe(true);
    const many = oracle.cases.find((c: { name: string }) => c.name === 'bbox-many-detections');
    const perImage = new Map<number, number>();
    for (const d of many.detections) perImage.set(d.image_id, (perImage.get(d.image_id) ?? 0) + 1);
    expect(Math.max(...perImage.values())).toBeGreaterThan(100);
    const forms = new Set(anns.filter((a: CocoGroundTruth['annotations'][number]) => a.segmentation).map((a: CocoGroundTruth['annotations'][number]) =>
      Array.isArray(a.segmentation) ? 'polygon' : typeof (a.segmentation as { counts: unknown }).counts));
    expect([...forms].sort()).toEqual(['object', 'polygon', 'string']);
  });
});

/** Ground truth over images 1…n, categories 1 and 2, boxes [x, y, w, h] with their own area unless given. */
function groundTruth(images: number, boxes: Array<{ image: number; bbox: number[]; crowd?: boolean; area?: number; category?: number }>): CocoGroundTruth {
  return {
    images: Array.from({ length: images }, (_, i) => ({ id: i + 1, height: 200, width: 200 })),
    categories: [{ id: 1 }, { id: 2 }],
    annotations: boxes.map((b, i) => ({ id: i + 1, image_id: b.image, category_id: b.category ?? 1, bbox: b.bbox,
      area: b.area ?? b.bbox[2]! * b.bbox[3]!, iscrowd: b.crowd ? 1 : 0 })),
  };
}
const det = (image: number, bbox: number[], score: number, category = 1): CocoDetection => ({ image_id: image, category_id: category, bbox, score });
const stat = (r: { stats: number[] }, name: (typeof COCO_STAT_NAMES)[number]) => r.stats[COCO_STAT_NAMES.indexOf(name)]!;

// Precision is tp / (tp + fp + np.spacing(1)) in pycocotools, so a perfect score is 1 − 2⁻⁵² and
// hand-worked values are compared to 12 digits.
describe('cocoEvaluate rules (hand-worked)', () => {
  it('breaks score ties by image id, then by order in the file (numpy mergesort)', () => {
    // a false positive and a true positive with the same score: whichever image comes first is ranked first
    const gt = groundTruth(2, [{ image: 2, bbox: [10, 10, 20, 20] }]);
    const fpFirst = cocoEvaluate(gt, [det(2, [10, 10, 20, 20], 0.5), det(1, [50, 50, 20, 20], 0.5)]);
    expect(stat(fpFirst, 'AP50')).toBeCloseTo(0.5, 12); // precision 0 then 1/2, envelope 1/2 at every recall
    const tpFirst = cocoEvaluate(groundTruth(2, [{ image: 1, bbox: [10, 10, 20, 20] }]), [det(2, [50, 50, 20, 20], 0.5), det(1, [10, 10, 20, 20], 0.5)]);
    expect(stat(tpFirst, 'AP50')).toBeCloseTo(1, 12);
  });

  it('matches IoU exactly at a threshold, and no higher threshold', () => {
    const r = cocoEvaluate(groundTruth(1, [{ image: 1, bbox: [0, 0, 10, 10] }]), [det(1, [0, 0, 10, 5], 0.9)]); // IoU 50/100
    expect(stat(r, 'AP50')).toBeCloseTo(1, 12);
    expect(stat(r, 'AP75')).toBeCloseTo(0, 12);
    expect(stat(r, 'AP')).toBeCloseTo(0.1, 12);
    expect(stat(r, 'AR100')).toBeCloseTo(0.1, 12);
  });

  it('treats crowd regions as ignore regions: IoU over the detection’s area, many matches, not counted as objects', () => {
    const boxes = (crowd: boolean) => groundTruth(1, [{ image: 1, bbox: [0, 0, 100, 100], crowd }, { image: 1, bbox: [150, 150, 10, 10] }]);
    const dets = [det(1, [10, 10, 20, 20], 0.9), det(1, [50, 50, 20, 20], 0.8), det(1, [150, 150, 10, 10], 0.7)];
    const crowd = cocoEvaluate(boxes(true), dets);
    expect(stat(crowd, 'AP')).toBeCloseTo(1, 12); // both detections inside the crowd are ignored, the third is a hit
    expect(stat(crowd, 'AR100')).toBeCloseTo(1, 12);
    // the same box as an ordinary object: IoU 400/10000, two false positives ranked first, 1 of 2 objects found
    const plain = cocoEvaluate(boxes(false), dets);
    expect(stat(plain, 'AP')).toBeCloseTo(51 / 3 / 101, 12); // precision 1/3 at recall points 0…0.50
    expect(stat(plain, 'AR100')).toBeCloseTo(0.5, 12);
  });

  it('puts objects in area ranges by their "area" field, and ignores unmatched detections outside the range', () => {
    // a 10×10 box whose annotated area (2000) makes it medium; a large false positive ranked first
    const gt = groundTruth(1, [{ image: 1, bbox: [10, 10, 10, 10], area: 2000 }]);
    const r = cocoEvaluate(gt, [det(1, [50, 50, 120, 120], 0.9), det(1, [10, 10, 10, 10], 0.8)]);
    expect(stat(r, 'APsmall')).toBeCloseTo(-1, 12); // no small object: the hit is matched to an ignored object
    expect(stat(r, 'APmedium')).toBeCloseTo(1, 12); // the large false positive lies outside the range
    expect(stat(r, 'APlarge')).toBeCloseTo(-1, 12);
    expect(stat(r, 'AP50')).toBeCloseTo(0.5, 12); // over all areas it counts
  });

  it('cuts detections per image at each maxDets, and honours custom maxDets in every line', () => {
    const gt = groundTruth(1, [{ image: 1, bbox: [0, 0, 20, 20] }]);
    const dets = [det(1, [100, 100, 20, 20], 0.9), det(1, [120, 120, 20, 20], 0.8), det(1, [0, 0, 20, 20], 0.7)];
    const r = cocoEvaluate(gt, dets);
    expect([stat(r, 'AR1'), stat(r, 'AR10'), stat(r, 'AR100')]).toEqual([0, 1, 1]);
    const custom = cocoEvaluate(gt, dets, { maxDets: [1, 2, 3] });
    expect(custom.stats.slice(6, 9)).toEqual([0, 0, 1]);
    expect(custom.stats[0]).toBeCloseTo(1 / 3, 12); // pycocotools prints −1 here: it looks for maxDets=100
    expect(statNames([1, 2, 3]).slice(6, 9)).toEqual(['AR1', 'AR2', 'AR3']);
    expect(cocoEvaluate(gt, dets, { maxDets: [1, 2, 2] }).stats[0]).toBe(0); // the hit is the third
  });

  it('gives −1 for categories without objects, and counts detections on images without objects as false positives', () => {
    const gt = groundTruth(2, [{ image: 1, bbox: [0, 0, 20, 20] }]);
    const r = cocoEvaluate(gt, [det(2, [0, 0, 20, 20], 0.9), det(1, [0, 0, 20, 20], 0.8), det(1, [0, 0, 20, 20], 0.7, 2)]);
    expect(r.perCategoryAP.get(2)).toBe(-1); // category 2 has detections but no objects
    expect(stat(r, 'AP50')).toBeCloseTo(0.5, 12); // the false positive on image 2 ranks first
    expect(cocoEvaluate(gt, []).stats.slice(0, 3)).toEqual([0, 0, 0]);
    expect(cocoEvaluate(groundTruth(1, []), []).stats.every((s) => s === -1)).toBe(true);
  });

  it('names the file and record that is wrong', () => {
    const gt = structuredClone(sample.gt);
    gt.annotations[0].image_id = 999999;
    expectError(() => cocoEvaluate(gt, [], { gtFile: 'gt.json' }), 'E_BAD_INPUT', /gt\.json: annotation \d+ refers to image 999999, which is not in "images"/);
    gt.annotations[0].image_id = sample.gt.annotations[0].image_id;
    gt.annotations[0].category_id = 4242;
    expectError(() => cocoEvaluate(gt, []), 'E_BAD_INPUT', /annotation \d+ refers to category 4242, which is not in "categories"/);
    const opts = { dtFile: 'dt.json' };
    expectError(() => cocoEvaluate(sample.gt, [det(1146, [0, 0, -2, 3], 0.5)], opts), 'E_BAD_INPUT', /dt\.json: result 0: bbox must be/);
    expectError(() => cocoEvaluate(sample.gt, [det(1146, [0, 0, 2, 3], Number.NaN)], opts), 'E_BAD_INPUT', /dt\.json: result 0: score must be a finite number, got NaN/);
    expectError(() => cocoEvaluate(sample.gt, [det(31337, [0, 0, 2, 3], 1)], opts), 'E_BAD_INPUT', /result 0: image_id 31337 is not an image of the ground truth/);
    expectError(() => cocoEvaluate(sample.gt, [det(1146, [0, 0, 2, 3], 1, 777)], opts), 'E_BAD_INPUT', /result 0: category_id 777 is not a category of the ground truth/);
    expectError(() => cocoEvaluate(sample.gt, [det(1146, [0, 0, 2, 3], 1), { image_id: 1146, category_id: 1, score: 1 }], opts), 'E_BAD_INPUT', /result 1: needs a "bbox" like the first result/);
    expectError(() => cocoEvaluate(sample.gt, [], { maxDets: [10, 1, 100] }), 'E_BAD_INPUT', /maxDets must be three ascending positive integers/);
    expectError(() => cocoEvaluate(groundTruth(1, [{ image: 1, bbox: [0, 0, 2, 2] }]), [], { iouType: 'segm' }), 'E_BAD_INPUT', /annotation 1: iouType segm needs a "segmentation"/);
  });
});
