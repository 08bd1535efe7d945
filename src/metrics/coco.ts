/**
 * COCO bounding-box evaluation exactly as pycocotools' COCOeval computes it
 * (evaluate → accumulate → summarize): IoU thresholds .50:.05:.95 and 101
 * recall points (numpy's linspace values), area ranges all/small/medium/
 * large, maxDets 1/10/100, crowd ground truth as ignore regions (IoU over
 * the detection's area), greedy matching in score order with stable sorts,
 * −1 for empty buckets. One departure: the summary looks IoU thresholds up
 * by index, not by float equality (pycocotools' AP@0.90 lookup fails on
 * 0.9000000000000001).
 */
import { badInput } from '../errors.js';

export interface CocoGroundTruth {
  images: { id: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; area: number; iscrowd?: number | boolean }[];
  categories: { id: number; name?: string }[];
}

export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

export const COCO_STAT_NAMES = ['AP', 'AP50', 'AP75', 'APsmall', 'APmedium', 'APlarge', 'AR1', 'AR10', 'AR100', 'ARsmall', 'ARmedium', 'ARlarge'] as const;

export interface CocoResult {
  /** The 12 numbers in pycocotools' order (COCO_STAT_NAMES). */
  stats: number[];
  /** AP (IoU .50:.95, all areas, 100 detections) per category id; −1 where the category has no ground truth. */
  perCategoryAP: Map<number, number>;
}

/** numpy.linspace(start, stop, num): i · step + start, the last value exactly stop. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
const RECALL_THRESHOLDS = linspace(0, 1, 101);
const MAX_DETS = [1, 10, 100];
const AREAS: Array<[number, number]> = [[0, 1e10], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e10]];
const SPACING_1 = 2.220446049250313e-16; // np.spacing(1)

interface Gt { id: number; area: number; crowd: boolean; bbox: number[] }
interface Dt { id: number; area: number; score: number; bbox: number[] }

function bboxIou(d: number[], g: number[], crowd: boolean): number {
  const w = Math.min(d[0]! + d[2]!, g[0]! + g[2]!) - Math.max(d[0]!, g[0]!);
  if (w <= 0) return 0;
  const h = Math.min(d[1]! + d[3]!, g[1]! + g[3]!) - Math.max(d[1]!, g[1]!);
  if (h <= 0) return 0;
  const i = w * h;
  const da = d[2]! * d[3]!;
  return i / (crowd ? da : da + g[2]! * g[3]! - i);
}

/** Indices of `xs` sorted by `key` ascending, stable (numpy's mergesort). */
function stableOrder<T>(xs: readonly T[], key: (x: T) => number): number[] {
  return xs.map((_, i) => i).sort((a, b) => key(xs[a]!) - key(xs[b]!) || a - b);
}

interface ImageEval { dtScores: number[]; dtMatched: boolean[][]; dtIgnore: boolean[][]; gtIgnore: boolean[] }

function evaluateImage(gts: Gt[], dts: Dt[], ious: number[][], area: [number, number], maxDet: number): ImageEval | undefined {
  if (gts.length === 0 && dts.length === 0) return undefined;
  const ignored = gts.map((g) => g.crowd || g.area < area[0] || g.area > area[1]);
  const gtOrder = gts.map((_, i) => i).sort((a, b) => Number(ignored[a]) - Number(ignored[b]) || a - b);
  const gt = gtOrder.map((i) => gts[i]!);
  const gtIg = gtOrder.map((i) => ignored[i]!);
  const dt = dts.slice(0, maxDet); // already in score order
  const T = IOU_THRESHOLDS.length;
  const gtm = Array.from({ length: T }, () => new Array<number>(gt.length).fill(0));
  const dtm = Array.from({ length: T }, () => new Array<number>(dt.length).fill(0));
  const dtIg = Array.from({ length: T }, () => new Array<boolean>(dt.length).fill(false));
  if (gt.length && dt.length) {
    IOU_THRESHOLDS.forEach((t, ti) => {
      dt.forEach((d, di) => {
        let iou = Math.min(t, 1 - 1e-10);
        let m = -1;
        for (let gi = 0; gi < gt.length; gi++) {
          if (gtm[ti]![gi]! > 0 && !gt[gi]!.crowd) continue;
          if (m > -1 && !gtIg[m] && gtIg[gi]) break;
          const o = ious[di]![gtOrder[gi]!]!;
          if (o < iou) continue;
          iou = o;
          m = gi;
        }
        if (m === -1) return;
        dtIg[ti]![di] = gtIg[m]!;
        dtm[ti]![di] = gt[m]!.id;
        gtm[ti]![m] = d.id;
      });
    });
  }
  const outside = dt.map((d) => d.area < area[0] || d.area > area[1]);
  return {
    dtScores: dt.map((d) => d.score),
    dtMatched: dtm.map((row) => row.map((id) => id !== 0)),
    dtIgnore: dtIg.map((row, ti) => row.map((ig, di) => ig || (dtm[ti]![di] === 0 && outside[di]!))),
    gtIgnore: gtIg,
  };
}

function checkGt(gt: CocoGroundTruth, file: string): void {
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(gt?.[key])) throw badInput(`${file}: ground truth needs an "${key}" array`);
  }
  const images = new Set(gt.images.map((i) => i.id));
  gt.annotations.forEach((a, i) => {
    if (!Number.isFinite(a.id) || a.id === 0) throw badInput(`${file}: annotation ${i} needs a nonzero numeric "id"`);
    if (!images.has(a.image_id)) throw badInput(`${file}: annotation ${a.id} refers to image ${a.image_id}, which is not in "images"`);
    if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every(Number.isFinite) || a.bbox[2]! < 0 || a.bbox[3]! < 0) {
      throw badInput(`${file}: annotation ${a.id}: bbox must be [x, y, w, h] with w, h ≥ 0, got ${JSON.stringify(a.bbox)}`);
    }
    if (!Number.isFinite(a.area)) throw badInput(`${file}: annotation ${a.id}: "area" must be a number`);
  });
}

/** COCOeval(iouType='bbox') over ground truth and detections. */
export function cocoEvaluate(gt: CocoGroundTruth, detections: readonly CocoDetection[], file = 'ground truth'): CocoResult {
  checkGt(gt, file);
  const imgIds = [...new Set(gt.images.map((i) => i.id))].sort((a, b) => a - b);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const imageSet = new Set(imgIds);
  detections.forEach((d, i) => {
    if (!imageSet.has(d.image_id)) throw badInput(`detection ${i}: image_id ${d.image_id} is not an image of the ground truth`);
    if (!Number.isFinite(d.score)) throw badInput(`detection ${i}: score must be a finite number, got ${d.score}`);
    if (!Array.isArray(d.bbox) || d.bbox.length !== 4 || !d.bbox.every(Number.isFinite) || d.bbox[2]! < 0 || d.bbox[3]! < 0) {
      throw badInput(`detection ${i}: bbox must be [x, y, w, h] with w, h ≥ 0, got ${JSON.stringify(d.bbox)}`);
    }
  });
  const key = (img: number, cat: number) => `${img}/${cat}`;
  const gts = new Map<string, Gt[]>();
  for (const a of gt.annotations) {
    const k = key(a.image_id, a.category_id);
    if (!gts.has(k)) gts.set(k, []);
    gts.get(k)!.push({ id: a.id, area: a.area, crowd: Boolean(a.iscrowd), bbox: a.bbox });
  }
  const dts = new Map<string, Dt[]>();
  detections.forEach((d, i) => {
    const k = key(d.image_id, d.category_id);
    if (!dts.has(k)) dts.set(k, []);
    dts.get(k)!.push({ id: i + 1, area: d.bbox[2]! * d.bbox[3]!, score: d.score, bbox: d.bbox });
  });
  // Per image and category: detections in score order (at most 100) and their IoUs with every ground truth.
  const prepared = new Map<string, { gt: Gt[]; dt: Dt[]; ious: number[][] }>();
  for (const img of imgIds) {
    for (const cat of catIds) {
      const g = gts.get(key(img, cat)) ?? [];
      const all = dts.get(key(img, cat)) ?? [];
      const d = stableOrder(all, (x) => -x.score).slice(0, MAX_DETS.at(-1)).map((i) => all[i]!);
      prepared.set(key(img, cat), { gt: g, dt: d, ious: d.map((x) => g.map((y) => bboxIou(x.bbox, y.bbox, y.crowd))) });
    }
  }
  const T = IOU_THRESHOLDS.length, R = RECALL_THRESHOLDS.length, K = catIds.length, A = AREAS.length, M = MAX_DETS.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1); // [T, R, K, A, M]
  const recall = new Float64Array(T * K * A * M).fill(-1); // [T, K, A, M]
  catIds.forEach((cat, k) => {
    AREAS.forEach((area, a) => {
      const evals = imgIds
        .map((img) => { const p = prepared.get(key(img, cat))!; return evaluateImage(p.gt, p.dt, p.ious, area, MAX_DETS.at(-1)!); })
        .filter((e): e is ImageEval => e !== undefined);
      if (evals.length === 0) return;
      MAX_DETS.forEach((maxDet, m) => {
        const scores = evals.flatMap((e) => e.dtScores.slice(0, maxDet));
        const order = stableOrder(scores, (s) => -s);
        const matched = IOU_THRESHOLDS.map((_, t) => evals.flatMap((e) => e.dtMatched[t]!.slice(0, maxDet)));
        const ignore = IOU_THRESHOLDS.map((_, t) => evals.flatMap((e) => e.dtIgnore[t]!.slice(0, maxDet)));
        const npig = evals.reduce((n, e) => n + e.gtIgnore.filter((x) => !x).length, 0);
        if (npig === 0) return;
        IOU_THRESHOLDS.forEach((_, t) => {
          let tp = 0, fp = 0;
          const rc: number[] = [], pr: number[] = [];
          for (const i of order) {
            if (ignore[t]![i]) { rc.push(tp / npig); pr.push(tp / (fp + tp + SPACING_1)); continue; }
            if (matched[t]![i]) tp++; else fp++;
            rc.push(tp / npig);
            pr.push(tp / (fp + tp + SPACING_1));
          }
          recall[((t * K + k) * A + a) * M + m] = rc.length ? rc.at(-1)! : 0;
          for (let i = pr.length - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          let pi = 0;
          RECALL_THRESHOLDS.forEach((r, ri) => {
            while (pi < rc.length && rc[pi]! < r) pi++; // np.searchsorted(rc, r, side='left')
            precision[(((t * R + ri) * K + k) * A + a) * M + m] = pi < pr.length ? pr[pi]! : 0;
          });
        });
      });
    });
  });
  const mean = (values: number[]) => { const v = values.filter((x) => x > -1); return v.length ? v.reduce((s, x) => s + x, 0) / v.length : -1; };
  const ap = (ts: number[], a: number, m: number, ks = catIds.map((_, k) => k)) =>
    mean(ts.flatMap((t) => RECALL_THRESHOLDS.flatMap((_, ri) => ks.map((k) => precision[(((t * R + ri) * K + k) * A + a) * M + m]!))));
  const ar = (a: number, m: number) => mean(IOU_THRESHOLDS.flatMap((_, t) => catIds.map((_, k) => recall[((t * K + k) * A + a) * M + m]!)));
  const all = IOU_THRESHOLDS.map((_, t) => t);
  const stats = [ap(all, 0, 2), ap([0], 0, 2), ap([5], 0, 2), ap(all, 1, 2), ap(all, 2, 2), ap(all, 3, 2),
    ar(0, 0), ar(0, 1), ar(0, 2), ar(1, 2), ar(2, 2), ar(3, 2)];
  return { stats, perCategoryAP: new Map(catIds.map((c, k) => [c, ap(all, 0, 2, [k])])) };
}
