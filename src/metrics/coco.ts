/**
 * COCO evaluation exactly as pycocotools' COCOeval computes it (loadRes →
 * evaluate → accumulate → summarize), for boxes (iouType "bbox") and masks
 * ("segm"): IoU thresholds .50:.05:.95 and 101 recall points (numpy's
 * linspace values), area ranges all/small/medium/large, maxDets 1/10/100,
 * crowd ground truth as ignore regions (IoU over the detection's area),
 * greedy matching in score order with stable sorts, −1 for empty buckets.
 *
 * Two departures, both where pycocotools is wrong: the summary looks IoU
 * thresholds up by index, not by float equality (its AP@0.90 lookup fails on
 * 0.9000000000000001), and a custom maxDets is honoured everywhere (its
 * summary asks for maxDets=100 in the first line and prints −1 otherwise).
 * One leniency: detections that are polygons or uncompressed RLE are read
 * like ground truth (pycocotools' loadRes only takes compressed RLE).
 */
import { badInput } from '../errors.js';
import { type Rle, type Segmentation, rleArea, rleIou, rleToBbox, toRle } from './mask-rle.js';

/** A COCO annotation file as pycocotools reads it: images, annotations (boxes or masks) and categories. */
export interface CocoGroundTruth {
  images: { id: number; height?: number; width?: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox?: number[]; segmentation?: Segmentation; area: number; iscrowd?: number | boolean }[];
  categories: { id: number; name?: string }[];
}

/** One detection of a COCO results file: a box or a mask, its category and score. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: number[];
  segmentation?: Segmentation;
}

/** What IoU compares: boxes or segmentation masks (pycocotools' iouType). */
export type CocoIouType = 'bbox' | 'segm';

/** How cocoEvaluate evaluates, with pycocotools' defaults. */
export interface CocoOptions {
  /** Default 'bbox'. */
  iouType?: CocoIouType;
  /** Three ascending detection limits per image (pycocotools' params.maxDets); default [1, 10, 100]. */
  maxDets?: readonly number[];
  /** File names for error messages. */
  gtFile?: string;
  dtFile?: string;
}

/** Names of the 12 summary numbers with the default maxDets; `statNames(maxDets)` gives them for others. */
export const COCO_STAT_NAMES = ['AP', 'AP50', 'AP75', 'APsmall', 'APmedium', 'APlarge', 'AR1', 'AR10', 'AR100', 'ARsmall', 'ARmedium', 'ARlarge'] as const;

/** The names of the 12 summary numbers for these maxDets (the AR ones carry the limits). */
export function statNames(maxDets: readonly number[]): string[] {
  return COCO_STAT_NAMES.map((n, i) => (i >= 6 && i <= 8 ? `AR${maxDets[i - 6]}` : n));
}

/** A precision–recall curve: precision at the 101 recall points, averaged over categories. */
export interface PrCurve {
  label: string;
  ap: number;
  recall: number[];
  precision: number[];
}

/** What cocoEvaluate returns: pycocotools' 12 summary numbers and what they are made of. */
export interface CocoResult {
  iouType: CocoIouType;
  maxDets: number[];
  /** The 12 numbers in pycocotools' order (`statNames(maxDets)`). */
  stats: number[];
  /** AP (IoU .50:.95, all areas, the largest maxDets) per category id; −1 where the category has no ground truth. */
  perCategoryAP: Map<number, number>;
  /** Curves at IoU .50 and .75 and averaged over .50:.95 (all areas, the largest maxDets). */
  curves: PrCurve[];
}

/** numpy.linspace(start, stop, num): i · step + start, the last value exactly stop. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
const RECALL_THRESHOLDS = linspace(0, 1, 101);
const AREAS: Array<[number, number]> = [[0, 1e10], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e10]];
const SPACING_1 = 2.220446049250313e-16; // np.spacing(1)

interface Gt { id: number; area: number; crowd: boolean; bbox: number[]; rle?: Rle }
interface Dt { id: number; area: number; score: number; bbox: number[]; rle?: Rle }

/** maskApi.c bbIou: boxes [x, y, w, h]; a crowd region's IoU is the overlap over the detection's area. */
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

const isBox = (b: unknown): b is number[] =>
  Array.isArray(b) && b.length === 4 && b.every(Number.isFinite) && b[2]! >= 0 && b[3]! >= 0;

// ---------------------------------------------------------------------------------------------
// Reading: ground truth and results, checked record by record (COCO() and loadRes()).

type Images = Map<number, CocoGroundTruth['images'][number]>;

function imageSize(images: Images, imageId: number, where: string): [number, number] {
  const img = images.get(imageId)!;
  if (!Number.isInteger(img.height) || !Number.isInteger(img.width) || img.height! <= 0 || img.width! <= 0) {
    throw badInput(`${where}: segmentation needs image ${imageId} to have positive integer "height" and "width"`);
  }
  return [img.height!, img.width!];
}

function readImages(gt: CocoGroundTruth, file: string): Images {
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(gt?.[key])) throw badInput(`${file}: ground truth needs an "${key}" array`);
  }
  const images: Images = new Map();
  gt.images.forEach((img, i) => {
    if (!Number.isFinite(img?.id)) throw badInput(`${file}: image ${i} needs a numeric "id"`);
    if (images.has(img.id)) throw badInput(`${file}: image id ${img.id} appears twice`);
    images.set(img.id, img);
  });
  return images;
}

function readGroundTruth(gt: CocoGroundTruth, images: Images, iouType: CocoIouType, file: string): Map<string, Gt[]> {
  const categories = new Set(gt.categories.map((c, i) => {
    if (!Number.isFinite(c?.id)) throw badInput(`${file}: category ${i} needs a numeric "id"`);
    return c.id;
  }));
  const ids = new Set<number>();
  const byKey = new Map<string, Gt[]>();
  gt.annotations.forEach((a, i) => {
    if (!Number.isFinite(a?.id) || a.id === 0) throw badInput(`${file}: annotation ${i} needs a nonzero numeric "id"`);
    const where = `${file}: annotation ${a.id}`;
    if (ids.has(a.id)) throw badInput(`${where}: id appears twice`);
    ids.add(a.id);
    if (!images.has(a.image_id)) throw badInput(`${where} refers to image ${a.image_id}, which is not in "images"`);
    if (!categories.has(a.category_id)) throw badInput(`${where} refers to category ${a.category_id}, which is not in "categories"`);
    if (!Number.isFinite(a.area) || a.area < 0) throw badInput(`${where}: "area" must be a number ≥ 0, got ${JSON.stringify(a.area)}`);
    let rle: Rle | undefined;
    if (iouType === 'segm') {
      if (a.segmentation === undefined) throw badInput(`${where}: iouType segm needs a "segmentation"`);
      const [h, w] = imageSize(images, a.image_id, where);
      rle = toRle(a.segmentation, h, w, where);
    } else if (!isBox(a.bbox)) {
      throw badInput(`${where}: bbox must be [x, y, w, h] with w, h ≥ 0, got ${JSON.stringify(a.bbox)}`);
    }
    const key = `${a.image_id}/${a.category_id}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push({ id: a.id, area: a.area, crowd: Boolean(a.iscrowd), bbox: a.bbox ?? [], rle });
  });
  return byKey;
}

/**
 * loadRes(): ids 1…n in file order; areas from the boxes when the first result has a box (even for
 * segm, as pycocotools does), else from the masks; boxes of mask results from the masks; mask of a
 * box result (segm only) from the box's polygon.
 */
function readResults(gt: CocoGroundTruth, images: Images, results: readonly CocoDetection[], iouType: CocoIouType, file: string): Map<string, Dt[]> {
  const categories = new Set(gt.categories.map((c) => c.id));
  const areaFromBox = results.length > 0 && Array.isArray(results[0]!.bbox) && results[0]!.bbox.length > 0;
  const byKey = new Map<string, Dt[]>();
  results.forEach((d, i) => {
    const where = `${file}: result ${i}`;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw badInput(`${where}: expected an object, got ${JSON.stringify(d)}`);
    if (!images.has(d.image_id)) throw badInput(`${where}: image_id ${JSON.stringify(d.image_id)} is not an image of the ground truth`);
    if (!categories.has(d.category_id)) throw badInput(`${where}: category_id ${JSON.stringify(d.category_id)} is not a category of the ground truth`);
    if (typeof d.score !== 'number' || !Number.isFinite(d.score)) throw badInput(`${where}: score must be a finite number, got ${typeof d.score === 'number' ? d.score : JSON.stringify(d.score)}`);
    if (d.bbox !== undefined && !isBox(d.bbox)) throw badInput(`${where}: bbox must be [x, y, w, h] with w, h ≥ 0, got ${JSON.stringify(d.bbox)}`);
    if (areaFromBox && d.bbox === undefined) throw badInput(`${where}: needs a "bbox" like the first result (results are all boxes or all masks)`);
    let rle: Rle | undefined;
    if (d.segmentation !== undefined || iouType === 'segm') {
      const [h, w] = imageSize(images, d.image_id, where);
      const [x, y, bw, bh] = d.bbox ?? [];
      if (d.segmentation === undefined && d.bbox === undefined) throw badInput(`${where}: needs a "bbox" or a "segmentation"`);
      rle = toRle(d.segmentation ?? [[x!, y!, x!, y! + bh!, x! + bw!, y! + bh!, x! + bw!, y!]], h, w, where);
    }
    const bbox = d.bbox ?? rleToBbox(rle!);
    const area = areaFromBox ? bbox[2]! * bbox[3]! : rleArea(rle!);
    const key = `${d.image_id}/${d.category_id}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push({ id: i + 1, area, score: d.score, bbox, rle });
  });
  return byKey;
}

function checkMaxDets(maxDets: readonly number[]): number[] {
  if (maxDets.length !== 3 || !maxDets.every((m) => Number.isInteger(m) && m > 0) || maxDets[0]! > maxDets[1]! || maxDets[1]! > maxDets[2]!) {
    throw badInput(`maxDets must be three ascending positive integers (like 1,10,100), got ${maxDets.join(',')}`);
  }
  return [...maxDets];
}

// ---------------------------------------------------------------------------------------------
// evaluate(): greedy matching per image, category and area range.

interface ImageEval { dtScores: number[]; dtMatched: boolean[][]; dtIgnore: boolean[][]; gtIgnore: boolean[] }

/** evaluateImg() for an image with ground truth or detections of the category. */
function evaluateImage(gts: Gt[], dts: Dt[], ious: number[][], area: [number, number], maxDet: number): ImageEval {
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
          if (gtm[ti]![gi]! > 0 && !gt[gi]!.crowd) continue; // taken, and only crowds match twice
          if (m > -1 && !gtIg[m] && gtIg[gi]) break; // a real match beats any ignored one
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

/** COCOeval over ground truth and detections (boxes or masks). */
export function cocoEvaluate(gt: CocoGroundTruth, detections: readonly CocoDetection[], options: CocoOptions = {}): CocoResult {
  const iouType = options.iouType ?? 'bbox';
  if (iouType !== 'bbox' && iouType !== 'segm') throw badInput(`iouType must be bbox or segm, got ${String(iouType)}`);
  const maxDets = checkMaxDets(options.maxDets ?? [1, 10, 100]);
  if (!Array.isArray(detections)) throw badInput(`${options.dtFile ?? 'results'}: expected an array of results`);
  const images = readImages(gt, options.gtFile ?? 'ground truth');
  const gts = readGroundTruth(gt, images, iouType, options.gtFile ?? 'ground truth');
  const dts = readResults(gt, images, detections, iouType, options.dtFile ?? 'results');
  const imgIds = gt.images.map((i) => i.id).sort((a, b) => a - b);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const maxDet = maxDets[2]!;

  // computeIoU(): per category, the images (in id order) that have ground truth or detections of it,
  // with those detections in score order (at most maxDet) against every ground truth.
  const prepared = catIds.map((cat) => imgIds.flatMap((img) => {
    const key = `${img}/${cat}`;
    const g = gts.get(key) ?? [];
    const all = dts.get(key) ?? [];
    if (g.length === 0 && all.length === 0) return [];
    const d = stableOrder(all, (x) => -x.score).slice(0, maxDet).map((i) => all[i]!);
    const ious = iouType === 'segm'
      ? rleIou(d.map((x) => x.rle!), g.map((x) => x.rle!), g.map((x) => x.crowd))
      : d.map((x) => g.map((y) => bboxIou(x.bbox, y.bbox, y.crowd)));
    return [{ gt: g, dt: d, ious }];
  }));

  // accumulate(): precision at 101 recall points and final recall, per threshold, category, area and maxDets.
  const T = IOU_THRESHOLDS.length, R = RECALL_THRESHOLDS.length, K = catIds.length, A = AREAS.length, M = maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1); // [T, R, K, A, M]
  const recall = new Float64Array(T * K * A * M).fill(-1); // [T, K, A, M]
  catIds.forEach((_, k) => {
    AREAS.forEach((area, a) => {
      const evals = prepared[k]!.map((p) => evaluateImage(p.gt, p.dt, p.ious, area, maxDet)!);
      if (evals.length === 0) return;
      const npig = evals.reduce((n, e) => n + e.gtIgnore.filter((x) => !x).length, 0);
      if (npig === 0) return;
      maxDets.forEach((limit, m) => {
        // the first `limit` detections of every image as [image, rank, score], in score order
        const picked = evals.flatMap((e, ei) => e.dtScores.slice(0, limit).map((score, di) => [ei, di, score] as const));
        const order = stableOrder(picked, (p) => -p[2]).map((i) => picked[i]!);
        IOU_THRESHOLDS.forEach((_, t) => {
          let tp = 0, fp = 0;
          const rc: number[] = [], pr: number[] = [];
          for (const [ei, di] of order) {
            if (!evals[ei]!.dtIgnore[t]![di]) {
              if (evals[ei]!.dtMatched[t]![di]) tp++; else fp++;
            }
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

  // summarize(): means over the buckets that are not −1, every lookup by index.
  const mean = (values: number[]) => { const v = values.filter((x) => x > -1); return v.length ? v.reduce((s, x) => s + x, 0) / v.length : -1; };
  const allT = IOU_THRESHOLDS.map((_, t) => t);
  const allK = catIds.map((_, k) => k);
  const at = (t: number, ri: number, k: number, a: number, m: number) => precision[(((t * R + ri) * K + k) * A + a) * M + m]!;
  const ap = (ts: number[], a: number, m: number, ks = allK) => mean(ts.flatMap((t) => RECALL_THRESHOLDS.flatMap((_, ri) => ks.map((k) => at(t, ri, k, a, m)))));
  const ar = (a: number, m: number) => mean(allT.flatMap((t) => allK.map((k) => recall[((t * K + k) * A + a) * M + m]!)));
  const last = M - 1;
  const stats = [ap(allT, 0, last), ap([0], 0, last), ap([5], 0, last), ap(allT, 1, last), ap(allT, 2, last), ap(allT, 3, last),
    ar(0, 0), ar(0, 1), ar(0, last), ar(1, last), ar(2, last), ar(3, last)];
  const curve = (label: string, ts: number[]): PrCurve => {
    const points = RECALL_THRESHOLDS.map((r, ri) => [r, mean(ts.flatMap((t) => allK.map((k) => at(t, ri, k, 0, last))))] as const)
      .filter(([, p]) => p > -1);
    return { label, ap: ap(ts, 0, last), recall: points.map(([r]) => r), precision: points.map(([, p]) => p) };
  };
  return {
    iouType,
    maxDets,
    stats,
    perCategoryAP: new Map(catIds.map((c, k) => [c, ap(allT, 0, last, [k])])),
    curves: [curve('IoU=0.50', [0]), curve('IoU=0.75', [5]), curve('IoU=0.50:0.95', allT)],
  };
}
