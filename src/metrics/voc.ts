/**
 * PASCAL VOC average precision: per class, detections sorted by score (a
 * stable sort, so ties keep input order); each takes the ground truth of the
 * same image and class it overlaps most, matched ones included, and is a
 * true positive iff that IoU ≥ the threshold and the ground truth is not yet
 * taken (no fallback to the second-best). "Difficult" ground truths count
 * neither way: a detection matching one is ignored. AP by all-point
 * interpolation (VOC2010+) and by 11 points (VOC2007).
 */
import { badInput } from '../errors.js';

/** A ground-truth box of one image, as the PASCAL VOC devkit reads it. */
export interface VocBox {
  image: string;
  class: string;
  /** [x, y, w, h] */
  bbox: readonly number[];
  difficult?: boolean;
}

/** A detected box with its confidence. */
export interface VocDetection extends VocBox {
  score: number;
}

/** How vocEvaluate matches detections to ground truth. */
export interface VocOptions {
  /** Default 0.5. */
  iouThreshold?: number;
  /** The "+1 pixel" convention of the VOC devkit: areas (w + 1)(h + 1) in corner terms. Default false. */
  pixelPlusOne?: boolean;
}

/** One class's matches and average precision. */
export interface VocClassResult {
  class: string;
  /** Ground truths that count (not difficult). */
  npos: number;
  /** Per detection, in score order: 1 when a true positive / false positive (0 for both when ignored). */
  tp: number[];
  fp: number[];
  precision: number[];
  recall: number[];
  apAllPoints: number;
  ap11Point: number;
}

/** What vocEvaluate returns: per class, and the mean average precisions. */
export interface VocResult {
  classes: VocClassResult[];
  /** Means over the classes that have ground truth. */
  mapAllPoints: number;
  map11Point: number;
}

function iou(a: readonly number[], b: readonly number[], plusOne: boolean): number {
  const e = plusOne ? 1 : 0;
  const [ax2, ay2, bx2, by2] = [a[0]! + a[2]!, a[1]! + a[3]!, b[0]! + b[2]!, b[1]! + b[3]!];
  const w = Math.min(ax2, bx2) - Math.max(a[0]!, b[0]!) + e;
  const h = Math.min(ay2, by2) - Math.max(a[1]!, b[1]!) + e;
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2]! + e) * (a[3]! + e) + (b[2]! + e) * (b[3]! + e) - inter);
}

/** All-point interpolated AP: the area under the precision envelope. */
export function apAllPoints(recall: readonly number[], precision: readonly number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i]!, mpre[i + 1]!);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i]! - mrec[i - 1]!) * mpre[i]!;
  return ap;
}

/** 11-point interpolated AP: mean over recall levels 0, 0.1, …, 1 of the best precision at recall ≥ the level. */
export function ap11Point(recall: readonly number[], precision: readonly number[]): number {
  let sum = 0;
  for (let k = 0; k <= 10; k++) {
    // k · 0.1, as np.linspace(0, 1, 11) and the VOC2007 devkit's np.arange(0, 1.1, 0.1) compute it:
    // 0.6000000000000001, not 0.6, so a recall of exactly 0.6 does not reach that level.
    const t = k * 0.1;
    let best = 0;
    recall.forEach((r, i) => { if (r >= t) best = Math.max(best, precision[i]!); });
    sum += best;
  }
  return sum / 11;
}

function checkBox(b: VocBox, what: string, i: number): void {
  if (typeof b !== 'object' || b === null || typeof b.image !== 'string' || typeof b.class !== 'string') {
    throw badInput(`${what} ${i}: needs "image" and "class" strings`);
  }
  if (!Array.isArray(b.bbox) || b.bbox.length !== 4 || !b.bbox.every(Number.isFinite) || b.bbox[2]! < 0 || b.bbox[3]! < 0) {
    throw badInput(`${what} ${i} (image ${b.image}): bbox must be [x, y, w, h] with finite numbers and w, h ≥ 0, got ${JSON.stringify(b.bbox)}`);
  }
}

/**
 * PASCAL VOC average precision per class and its mean, by the devkit's rules
 * (see the top of this file): detections in score order, each a true
 * positive iff the ground truth it overlaps most is over the IoU threshold
 * and not yet taken; AP by all points (VOC2010+) and by 11 points (VOC2007).
 */
export function vocEvaluate(groundTruths: readonly VocBox[], detections: readonly VocDetection[], options: VocOptions = {}): VocResult {
  const threshold = options.iouThreshold ?? 0.5;
  const plusOne = options.pixelPlusOne ?? false;
  groundTruths.forEach((g, i) => checkBox(g, 'ground truth', i));
  detections.forEach((d, i) => {
    checkBox(d, 'detection', i);
    if (!Number.isFinite(d.score)) throw badInput(`detection ${i} (image ${d.image}): score must be a finite number, got ${d.score}`);
  });
  const classes = [...new Set([...groundTruths.map((g) => g.class), ...detections.map((d) => d.class)])].sort();
  const results = classes.map((cls): VocClassResult => {
    const gts = groundTruths.filter((g) => g.class === cls);
    const byImage = new Map<string, { box: VocBox; taken: boolean }[]>();
    for (const g of gts) {
      if (!byImage.has(g.image)) byImage.set(g.image, []);
      byImage.get(g.image)!.push({ box: g, taken: false });
    }
    const npos = gts.filter((g) => !g.difficult).length;
    const dets = detections.map((d, i) => ({ d, i })).filter(({ d }) => d.class === cls)
      .sort((a, b) => b.d.score - a.d.score || a.i - b.i);
    const tp: number[] = [];
    const fp: number[] = [];
    for (const { d } of dets) {
      let best = -Infinity;
      let match: { box: VocBox; taken: boolean } | undefined;
      for (const g of byImage.get(d.image) ?? []) {
        const o = iou(d.bbox, g.box.bbox, plusOne);
        if (o > best) { best = o; match = g; }
      }
      if (match && best >= threshold && match.box.difficult) { tp.push(0); fp.push(0); continue; }
      if (match && best >= threshold && !match.taken) {
        match.taken = true;
        tp.push(1); fp.push(0);
      } else {
        tp.push(0); fp.push(1);
      }
    }
    let ctp = 0;
    let cfp = 0;
    const precision: number[] = [];
    const recall: number[] = [];
    tp.forEach((t, k) => {
      ctp += t; cfp += fp[k]!;
      recall.push(npos ? ctp / npos : 0);
      precision.push(ctp + cfp ? ctp / (ctp + cfp) : 0);
    });
    return { class: cls, npos, tp, fp, precision, recall, apAllPoints: apAllPoints(recall, precision), ap11Point: ap11Point(recall, precision) };
  });
  const counted = results.filter((r) => r.npos > 0);
  const mean = (f: (r: VocClassResult) => number) => (counted.length ? counted.reduce((a, r) => a + f(r), 0) / counted.length : 0);
  return { classes: results, mapAllPoints: mean((r) => r.apAllPoints), map11Point: mean((r) => r.ap11Point) };
}

/** One class's counts and precision and recall at a score threshold. */
export interface PrecisionRecall {
  class: string;
  tp: number;
  fp: number;
  /** Ground truths (not difficult) left unmatched. */
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Precision, recall and F1 per class at a score threshold: the detections
 * scoring ≥ scoreThreshold, matched as vocEvaluate matches them. The
 * precision–recall curve is vocEvaluate's `precision` and `recall`.
 */
export function precisionRecallAt(
  groundTruths: readonly VocBox[], detections: readonly VocDetection[], scoreThreshold: number, options: VocOptions = {},
): PrecisionRecall[] {
  if (!Number.isFinite(scoreThreshold)) throw badInput(`scoreThreshold must be a number, got ${scoreThreshold}`);
  const kept = detections.filter((d) => d.score >= scoreThreshold);
  return vocEvaluate(groundTruths, kept, options).classes.map((c) => {
    const tp = c.tp.reduce((a, b) => a + b, 0);
    const fp = c.fp.reduce((a, b) => a + b, 0);
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = c.npos ? tp / c.npos : 0;
    return { class: c.class, tp, fp, fn: c.npos - tp, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  });
}
