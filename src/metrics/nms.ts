/**
 * Box IoU and non-maximum suppression, exactly as torchvision.ops computes
 * them (`box_iou`, `nms`, `batched_nms`): boxes are [x1, y1, x2, y2] in
 * float32, areas and intersections rounded to float32 at every step as
 * torchvision's CPU kernel does, so an IoU that lands exactly on the
 * threshold is decided the same way (suppressed only when IoU > threshold).
 * Scores are ordered highest first, ties in input order (a stable sort, as
 * torch.sort on CPU).
 */
import { badInput } from '../errors.js';

const f = Math.fround;

/** Boxes as a flat [x1, y1, x2, y2, …] array, checked: finite, x2 ≥ x1 and y2 ≥ y1. */
export function checkBoxes(boxes: ArrayLike<number>, where: string): number {
  if (boxes.length % 4 !== 0) throw badInput(`${where}: ${boxes.length} numbers is not a whole number of [x1, y1, x2, y2] boxes`);
  const n = boxes.length / 4;
  for (let i = 0; i < n; i++) {
    const [x1, y1, x2, y2] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
    if (![x1, y1, x2, y2].every(Number.isFinite)) throw badInput(`${where}: box ${i} has a coordinate that is not a finite number`);
    if (x2 < x1 || y2 < y1) throw badInput(`${where}: box ${i} [${x1}, ${y1}, ${x2}, ${y2}] has negative size (x2 < x1 or y2 < y1)`);
  }
  return n;
}

/** [x, y, w, h] boxes → [x1, y1, x2, y2]. */
export function xywhToXyxy(boxes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i]!;
    out[i + 1] = boxes[i + 1]!;
    out[i + 2] = f(boxes[i]! + boxes[i + 2]!);
    out[i + 3] = f(boxes[i + 1]! + boxes[i + 3]!);
  }
  return out;
}

function area(b: ArrayLike<number>, i: number): number {
  return f(f(b[4 * i + 2]! - b[4 * i]!) * f(b[4 * i + 3]! - b[4 * i + 1]!));
}

/** IoU of box i of `a` and box j of `b`, in float32 as torchvision's nms kernel. */
function iouAt(a: ArrayLike<number>, i: number, areaA: number, b: ArrayLike<number>, j: number, areaB: number): number {
  const w = Math.max(0, f(Math.min(a[4 * i + 2]!, b[4 * j + 2]!) - Math.max(a[4 * i]!, b[4 * j]!)));
  const h = Math.max(0, f(Math.min(a[4 * i + 3]!, b[4 * j + 3]!) - Math.max(a[4 * i + 1]!, b[4 * j + 1]!)));
  const inter = f(w * h);
  return f(inter / f(f(areaA + areaB) - inter));
}

/** Pairwise IoU [N, M] of xyxy boxes (torchvision.ops.box_iou); 0/0 (two empty boxes) gives NaN as there. */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const n = checkBoxes(a, 'boxIou: a');
  const m = checkBoxes(b, 'boxIou: b');
  const out = new Float32Array(n * m);
  const areasB = Array.from({ length: m }, (_, j) => area(b, j));
  for (let i = 0; i < n; i++) {
    const areaA = area(a, i);
    for (let j = 0; j < m; j++) out[i * m + j] = iouAt(a, i, areaA, b, j, areasB[j]!);
  }
  return out;
}

/** Indices by score, highest first; equal scores keep input order. */
function byScore(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
}

function checkScores(scores: ArrayLike<number>, n: number, where: string): void {
  if (scores.length !== n) throw badInput(`${where}: ${scores.length} scores for ${n} boxes`);
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) throw badInput(`${where}: score ${i} is NaN`);
}

/**
 * Greedy NMS (torchvision.ops.nms): the kept indices, highest score first.
 * A box is suppressed by a kept, higher-scoring box when their IoU > iouThreshold.
 */
export function nms(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): number[] {
  const n = checkBoxes(boxes, 'nms: boxes');
  checkScores(scores, n, 'nms');
  if (!Number.isFinite(iouThreshold)) throw badInput(`nms: iouThreshold must be a number, got ${iouThreshold}`);
  const b = Float32Array.from(boxes);
  const areas = Array.from({ length: n }, (_, i) => area(b, i));
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  const order = byScore(scores);
  for (let a = 0; a < n; a++) {
    const i = order[a]!;
    if (suppressed[i]) continue;
    keep.push(i);
    for (let c = a + 1; c < n; c++) {
      const j = order[c]!;
      if (!suppressed[j] && iouAt(b, i, areas[i]!, b, j, areas[j]!) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

/**
 * Class-aware NMS (torchvision.ops.batched_nms): boxes of different classes
 * never suppress each other. Kept indices, highest score first. Up to 1,000
 * boxes it shifts each class's boxes by class · (largest coordinate + 1) and
 * runs one NMS, as torchvision does on CPU, so float32 rounding matches too;
 * above that, one NMS per class.
 */
export function batchedNms(boxes: ArrayLike<number>, scores: ArrayLike<number>, classes: ArrayLike<number>, iouThreshold: number): number[] {
  const n = checkBoxes(boxes, 'batchedNms: boxes');
  checkScores(scores, n, 'batchedNms');
  if (classes.length !== n) throw badInput(`batchedNms: ${classes.length} classes for ${n} boxes`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(classes[i])) throw badInput(`batchedNms: class ${i} is ${classes[i]}, not a whole number`);
  }
  if (n === 0) return [];
  if (4 * n <= 4000) {
    let max = -Infinity;
    for (let i = 0; i < 4 * n; i++) max = Math.max(max, f(boxes[i]!));
    const step = f(max + 1);
    const shifted = new Float32Array(4 * n);
    for (let i = 0; i < 4 * n; i++) shifted[i] = f(boxes[i]! + f(classes[i >> 2]! * step));
    return nms(shifted, scores, iouThreshold);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (!groups.has(classes[i]!)) groups.set(classes[i]!, []);
    groups.get(classes[i]!)!.push(i);
  }
  const keep: number[] = [];
  for (const members of groups.values()) {
    const sub = members.flatMap((i) => [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!]);
    for (const k of nms(sub, members.map((i) => scores[i]!), iouThreshold)) keep.push(members[k]!);
  }
  return keep.sort((i, j) => scores[j]! - scores[i]! || i - j);
}

/** The `k` highest-scoring boxes NMS keeps (all when k is absent). */
export function nmsTopK(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number, k?: number): number[] {
  const keep = nms(boxes, scores, iouThreshold);
  return k === undefined ? keep : keep.slice(0, k);
}
