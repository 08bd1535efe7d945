/**
 * COCO run-length encoded masks: a port of pycocotools 2.0.11's mask API
 * (cocoapi common/maskApi.c, pycocotools/_mask.pyx and mask.py), so COCO
 * segmentation evaluation (iouType 'segm') needs no Python.
 *
 * An `Rle` is maskApi.c's RLE: the mask is read column by column (Fortran
 * order, as pycocotools' masks) and `counts` holds the lengths of its runs,
 * alternately 0s and 1s, starting with a (possibly empty) run of 0s. COCO
 * JSON stores `counts` either as that array ("uncompressed") or as a string
 * (rleToString). Every function here gives what maskApi.c gives, run for run
 * and bit for bit (test/fixtures/detection/mask-rle.json, tools/fixtures_mask.py),
 * including its uint arithmetic; where maskApi.c would read out of bounds,
 * loop forever or hit undefined behaviour on bad input, we throw badInput.
 */
import { badInput } from '../errors.js';

/** A binary mask as run lengths, COCO's uncompressed RLE. */
export interface Rle {
  /** [height, width] of the image. */
  size: [number, number];
  /** Run lengths, column-major, the first a run of 0s; they sum to height × width. */
  counts: Uint32Array | number[];
}

/** A segmentation as COCO JSON holds it: polygons [[x, y, x, y, …], …] or an RLE with array or string counts. */
export type Segmentation = number[][] | { size: [number, number]; counts: number[] | string };

const UINT32 = 2 ** 32;

// ---------------------------------------------------------------- checks

/**
 * Height and width as maskApi.c can use them: whole numbers ≥ 1 (an empty
 * image makes maskApi.c read counts[0] of an empty array) whose product fits
 * the C `int` that rleFrPoly computes `x*h+y` in.
 */
function checkSize(h: number, w: number, where: string): void {
  if (!Number.isSafeInteger(h) || !Number.isSafeInteger(w) || h < 1 || w < 1 || h * w > 2 ** 31 - 1) {
    throw badInput(`${where}: image size ${h}×${w} (height × width) is not two whole numbers ≥ 1 with at most 2^31 − 1 pixels`);
  }
}

/**
 * Counts that describe an h×w mask: whole numbers ≥ 0 summing to h·w. Without
 * this, maskApi.c's merge and IoU loops (which stop when both masks run out
 * together) can spin forever, and rleDecode leaves pixels unwritten.
 */
function checkCounts(counts: ArrayLike<unknown>, h: number, w: number, where: string): void {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) {
      throw badInput(`${where}: run ${i} of counts is ${String(c)}; expected a whole number ≥ 0`);
    }
    sum += c;
  }
  if (sum !== h * w) throw badInput(`${where}: counts sum to ${sum}; expected height × width = ${h}×${w} = ${h * w}`);
}

function checkRle(rle: Rle, where: string): void {
  checkSize(rle.size[0], rle.size[1], where);
  checkCounts(rle.counts, rle.size[0], rle.size[1], where);
}

/**
 * rleFrPoly keeps 5·x and the differences of neighbours in C `int`s; beyond
 * ±1e8 (or NaN) they could overflow, which is undefined behaviour in C.
 */
function checkCoordinates(xy: ArrayLike<unknown>, what: string, where: string): void {
  for (let i = 0; i < xy.length; i++) {
    const v = xy[i];
    if (typeof v !== 'number' || !(Math.abs(v) <= 1e8)) {
      throw badInput(`${where}: ${what} ${i} is ${String(v)}; expected a finite coordinate within ±1e8`);
    }
  }
}

// ---------------------------------------------------------------- encode and decode

/**
 * maskApi.c rleEncode: `mask` is h×w bytes in column-major order. As in C a
 * new run starts wherever the byte changes, so nonzero values other than 1
 * (1 → 2) also toggle, exactly as pycocotools encodes them.
 */
export function rleEncode(mask: Uint8Array, h: number, w: number): Rle {
  checkSize(h, w, 'rleEncode');
  if (mask.length !== h * w) throw badInput(`rleEncode: mask has ${mask.length} bytes; expected height × width = ${h * w}`);
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (const byte of mask) {
    if (byte !== previous) {
      counts.push(run);
      run = 0;
      previous = byte;
    }
    run++;
  }
  counts.push(run);
  return { size: [h, w], counts: Uint32Array.from(counts) };
}

/** maskApi.c rleDecode: the h×w mask (column-major bytes, 0 or 1). */
export function rleDecode(rle: Rle): Uint8Array {
  checkRle(rle, 'rleDecode');
  const mask = new Uint8Array(rle.size[0] * rle.size[1]);
  let at = 0;
  for (let j = 0; j < rle.counts.length; j++) {
    const run = rle.counts[j]!;
    if (j % 2 === 1) mask.fill(1, at, at + run);
    at += run;
  }
  return mask;
}

// ---------------------------------------------------------------- compressed strings

/**
 * maskApi.c rleToString: each count (from the fourth on, minus the count two
 * before it: runs of the same value have similar lengths) in signed 5-bit
 * chunks, least significant first, bit 0x20 meaning "more chunks follow",
 * written as the characters 48 ('0') to 111 ('o').
 */
export function rleToString(rle: Rle): string {
  const chars: number[] = [];
  const counts = rle.counts;
  for (let i = 0; i < counts.length; i++) {
    // Floor division rather than >> : deltas span ±2^32, beyond int32.
    let x = counts[i]! - (i > 2 ? counts[i - 2]! : 0);
    for (let more = true; more;) {
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
  }
  return new TextDecoder().decode(Uint8Array.from(chars)); // all ASCII; no argument-count limit as with fromCharCode(...)
}

/**
 * maskApi.c rleFrString, checked: characters '0'…'o', no value cut off, at
 * most 7 chunks a value (maskApi.c's `-1 << 5*k` is undefined beyond that),
 * no negative run, and runs summing to h·w.
 */
export function rleFromString(s: string, h: number, w: number, where = 'rleFromString'): Rle {
  checkSize(h, w, where);
  const counts: number[] = [];
  for (let p = 0; p < s.length;) {
    const start = p;
    let x = 0;
    let scale = 1;
    for (let more = true; more; p++, scale *= 32) {
      if (p >= s.length) throw badInput(`${where}: compressed counts end inside the value that starts at character ${start}; expected a last character below 'P' (no 0x20 continuation bit)`);
      const c = s.charCodeAt(p) - 48;
      if (!(c >= 0 && c < 64)) throw badInput(`${where}: compressed counts have ${JSON.stringify(s[p])} at character ${p}; expected characters '0' to 'o'`);
      if (p - start === 7) throw badInput(`${where}: compressed counts have a value of more than 7 characters at character ${start}; a run length needs at most 7`);
      x += (c & 0x1f) * scale;
      more = (c & 0x20) !== 0;
      if (!more && c & 0x10) x -= scale * 32; // sign-extend the last chunk, as `x |= -1 << 5*k`
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    if (x < 0) throw badInput(`${where}: compressed counts give run ${counts.length} the negative length ${x}; expected a length ≥ 0`);
    counts.push(x);
  }
  checkCounts(counts, h, w, where);
  return { size: [h, w], counts: Uint32Array.from(counts) };
}

// ---------------------------------------------------------------- from polygons and boxes

/**
 * maskApi.c rleFrPoly, unchecked. The polygon is scaled by 5 and its edges
 * walked point by point on that finer grid (Bresenham-like, rounding with C's
 * `(int)(v+.5)`, which truncates toward zero); every step that crosses the
 * centre of a pixel column gives a boundary point (column, first row inside),
 * and the sorted boundary positions, as differences, are the runs.
 * maskApi.c stores every walked point before the second pass; we pass each
 * consecutive pair on as it is walked (same pairs, same order), so a far-off
 * vertex costs time but not memory.
 */
function frPoly(xy: ArrayLike<number>, h: number, w: number): Rle {
  const scale = 5;
  const k = xy.length >> 1;
  const x = (j: number) => Math.trunc(scale * xy[2 * (j % k)]! + 0.5);
  const y = (j: number) => Math.trunc(scale * xy[2 * (j % k) + 1]! + 0.5);
  const boundary: number[] = [h * w]; // a[k] = h*w closes the last run
  let pu = 0;
  let pv = 0;
  let first = true;
  const visit = (u: number, v: number) => {
    if (!first && u !== pu) {
      // "get points along y-boundary and downsample"
      const xd = ((u < pu ? u : u - 1) + 0.5) / scale - 0.5;
      if (Math.floor(xd) === xd && xd >= 0 && xd <= w - 1) {
        let yd = ((v < pv ? v : pv) + 0.5) / scale - 0.5;
        yd = Math.ceil(yd < 0 ? 0 : yd > h ? h : yd);
        boundary.push(xd * h + yd);
      }
    }
    pu = u;
    pv = v;
    first = false;
  };
  for (let j = 0; j < k; j++) {
    let [xs, xe, ys, ye] = [x(j), x(j + 1), y(j), y(j + 1)];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) [xs, xe, ys, ye] = [xe, xs, ye, ys];
    // A repeated vertex (dx = dy = 0) makes s = 0/0 = NaN as in C; that point's
    // neighbours share its u, so its v is never read.
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        visit(t + xs, Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        visit(Math.trunc(xs + s * t + 0.5), t + ys);
      }
    }
  }
  return { size: [h, w], counts: runsFromBoundary(Uint32Array.from(boundary)) };
}

/**
 * The end of rleFrPoly: sorted boundary positions → differences; a zero
 * difference (two boundaries at one pixel) cancels, joining the runs around it.
 */
function runsFromBoundary(a: Uint32Array): Uint32Array {
  a.sort();
  for (let j = a.length - 1; j > 0; j--) a[j] = a[j]! - a[j - 1]!;
  const runs = [a[0]!];
  for (let j = 1; j < a.length;) {
    if (a[j]! > 0) runs.push(a[j++]!);
    else if (++j < a.length) runs[runs.length - 1]! += a[j++]!;
  }
  return Uint32Array.from(runs);
}

/** maskApi.c rleFrPoly: the mask of polygon [x0, y0, x1, y1, …] (pixel (0,0) spans [0,1)²), as pycocotools frPyObjects. */
export function rleFromPolygon(xy: ArrayLike<number>, h: number, w: number, where = 'rleFromPolygon: polygon'): Rle {
  checkSize(h, w, where);
  if (xy.length < 6 || xy.length % 2 !== 0) {
    throw badInput(`${where}: ${xy.length} numbers; expected an even count of at least 6 (x, y of 3 or more points)`);
  }
  checkCoordinates(xy, 'number', where);
  return frPoly(xy, h, w);
}

/** maskApi.c rleFrBbox: box [x, y, width, height] drawn as the polygon of its corners. */
export function rleFromBbox(bbox: ArrayLike<number>, h: number, w: number, where = 'rleFromBbox'): Rle {
  checkSize(h, w, where);
  if (bbox.length !== 4) throw badInput(`${where}: box has ${bbox.length} numbers; expected [x, y, width, height]`);
  const [xs, ys] = [bbox[0]!, bbox[1]!];
  const [xe, ye] = [xs + bbox[2]!, ys + bbox[3]!];
  const corners = [xs, ys, xs, ye, xe, ye, xe, ys];
  checkCoordinates(corners, 'corner coordinate', where);
  return frPoly(corners, h, w);
}

// ---------------------------------------------------------------- measures

/** maskApi.c rleArea: pixels inside (the sum of the odd runs). */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let j = 1; j < rle.counts.length; j += 2) area += rle.counts[j]!;
  return area;
}

/**
 * maskApi.c rleToBbox (pycocotools 2.0.11's, which skips empty runs): the
 * enclosing [x, y, width, height]. Width and height are C `uint` differences,
 * so a mask whose only 1-runs are empty gives 2^32 − w + 1 as pycocotools does.
 */
export function rleToBbox(rle: Rle): [number, number, number, number] {
  checkRle(rle, 'rleToBbox');
  return toBbox(rle);
}

function toBbox(rle: Rle): [number, number, number, number] {
  const [h, w] = rle.size;
  const counts = rle.counts;
  const m = counts.length - (counts.length % 2);
  if (m === 0) return [0, 0, 0, 0];
  let [xs, ys, xe, ye, cc] = [w, h, 0, 0, 0];
  for (let j = 0; j < m; j++) {
    const start = cc;
    cc += counts[j]!;
    if (j % 2 === 0 || counts[j] === 0) continue;
    const [xStart, xEnd] = [Math.floor(start / h), Math.floor((cc - 1) / h)];
    xs = Math.min(xs, xStart);
    xe = Math.max(xe, xEnd);
    if (xStart < xEnd) [ys, ye] = [0, h - 1]; // the run wraps into the next column
    else [ys, ye] = [Math.min(ys, start % h), Math.max(ye, (cc - 1) % h)];
  }
  return [xs, ys, (xe - xs + 1 + UINT32) % UINT32, (ye - ys + 1 + UINT32) % UINT32];
}

// ---------------------------------------------------------------- two masks at once

/** Where one mask is in a walk over its runs: pixels left in the current run and its value. */
class RunCursor {
  left: number;
  on = false;
  private next = 1;
  constructor(private readonly counts: ArrayLike<number>) {
    this.left = counts[0]!;
  }

  /** maskApi.c's `ca-=c; if(!ca && a<A.m) { ca=A.cnts[a++]; va=!va; }`: at most one run a step, even an empty one. */
  skip(c: number): void {
    this.left -= c;
    if (this.left === 0 && this.next < this.counts.length) {
      this.left = this.counts[this.next++]!;
      this.on = !this.on;
    }
  }
}

/** maskApi.c rleMerge of two same-size masks: their union or intersection. */
function merge2(a: Rle, b: Rle, intersect: boolean): Rle {
  const [A, B] = [new RunCursor(a.counts), new RunCursor(b.counts)];
  const runs: number[] = [];
  let [v, cc, ct] = [false, 0, 1];
  while (ct > 0) {
    const c = Math.min(A.left, B.left);
    cc += c;
    A.skip(c);
    B.skip(c);
    ct = A.left + B.left;
    const vp = v;
    v = intersect ? A.on && B.on : A.on || B.on;
    if (v !== vp || ct === 0) {
      runs.push(cc);
      cc = 0;
    }
  }
  return { size: a.size, counts: Uint32Array.from(runs) };
}

/**
 * maskApi.c rleMerge: union (or intersection) of masks of one size, folded
 * left to right. No masks give an empty 0×0 RLE as in pycocotools; masks of
 * different sizes throw (maskApi.c silently returns that empty RLE).
 */
export function rleMerge(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) return { size: [0, 0], counts: new Uint32Array(0) };
  const [h, w] = rles[0]!.size;
  rles.forEach((r, i) => {
    checkRle(r, `rleMerge: mask ${i}`);
    if (r.size[0] !== h || r.size[1] !== w) throw badInput(`rleMerge: mask ${i} is ${r.size[0]}×${r.size[1]}; expected the ${h}×${w} of mask 0`);
  });
  return rles.slice(1).reduce((acc, r) => merge2(acc, r, intersect), { size: [h, w], counts: Uint32Array.from(rles[0]!.counts) });
}

/** bbIou's test in maskApi.c rleIou: do the boxes overlap with positive width and height? */
function boxesOverlap(d: readonly number[], g: readonly number[]): boolean {
  const w = Math.min(d[2]! + d[0]!, g[2]! + g[0]!) - Math.max(d[0]!, g[0]!);
  const h = Math.min(d[3]! + d[1]!, g[3]! + g[1]!) - Math.max(d[1]!, g[1]!);
  return w > 0 && h > 0;
}

/** The inner loop of maskApi.c rleIou: intersection and union of two same-size masks, in pixels. */
function overlap(dt: Rle, gt: Rle): { inter: number; union: number } {
  const [A, B] = [new RunCursor(dt.counts), new RunCursor(gt.counts)];
  let [inter, union, ct] = [0, 0, 1];
  while (ct > 0) {
    const c = Math.min(A.left, B.left);
    if (A.on || B.on) {
      union += c;
      if (A.on && B.on) inter += c;
    }
    A.skip(c);
    B.skip(c);
    ct = A.left + B.left;
  }
  return { inter, union };
}

/**
 * maskApi.c rleIou: ious[d][g] for detections × ground truths. Against a
 * crowd region the IoU is intersection / detection area (a detection may
 * match any part of the crowd). As in maskApi.c, pairs whose bounding boxes
 * do not overlap are 0 without walking the runs, and pairs of different image
 * sizes whose boxes overlap are −1. Like pycocotools, no detections or no
 * ground truths give [].
 */
export function rleIou(dt: readonly Rle[], gt: readonly Rle[], iscrowd: readonly boolean[]): number[][] {
  if (iscrowd.length !== gt.length) throw badInput(`rleIou: ${iscrowd.length} iscrowd flags for ${gt.length} ground truths; expected one per ground truth`);
  dt.forEach((r, i) => checkRle(r, `rleIou: detection ${i}`));
  gt.forEach((r, i) => checkRle(r, `rleIou: ground truth ${i}`));
  if (dt.length === 0 || gt.length === 0) return [];
  const [dtBoxes, gtBoxes] = [dt.map(toBbox), gt.map(toBbox)];
  return dt.map((d, i) => gt.map((g, j) => {
    if (!boxesOverlap(dtBoxes[i]!, gtBoxes[j]!)) return 0;
    if (d.size[0] !== g.size[0] || d.size[1] !== g.size[1]) return -1;
    const { inter, union } = overlap(d, g);
    if (inter === 0) return 0;
    return inter / (iscrowd[j] ? rleArea(d) : union);
  }));
}

// ---------------------------------------------------------------- COCO JSON

function polygonsToRle(polygons: unknown[], h: number, w: number, where: string): Rle {
  if (polygons.length === 0) throw badInput(`${where}: segmentation is an empty list; expected polygons [[x, y, x, y, …], …]`);
  const rles = polygons.map((p, i) => {
    if (!Array.isArray(p)) throw badInput(`${where}: polygon ${i} is ${typeof p}; expected a list [x, y, x, y, …]`);
    return rleFromPolygon(p as number[], h, w, `${where}: polygon ${i}`);
  });
  return rleMerge(rles);
}

/**
 * pycocotools COCO.annToRLE for an image of h×w: polygons (each rasterised,
 * then their union), uncompressed RLE (counts an array) or compressed RLE
 * (counts a string). Bad input throws a message that starts with `where`.
 * Stricter than pycocotools, which takes a first polygon of 4 numbers for a
 * box, drops the odd last number of a polygon, and trusts an RLE's own size.
 */
export function toRle(segmentation: unknown, h: number, w: number, where: string): Rle {
  checkSize(h, w, where);
  if (Array.isArray(segmentation)) return polygonsToRle(segmentation, h, w, where);
  if (typeof segmentation !== 'object' || segmentation === null || !('counts' in segmentation) || !('size' in segmentation)) {
    const what = segmentation === null ? 'null' : typeof segmentation === 'object' ? 'an object without counts and size' : typeof segmentation;
    throw badInput(`${where}: segmentation is ${what}; expected polygons [[x, y, …], …] or an RLE {size, counts}`);
  }
  const { size, counts } = segmentation as { size: unknown; counts: unknown };
  if (!Array.isArray(size) || size.length !== 2 || size[0] !== h || size[1] !== w) {
    throw badInput(`${where}: RLE size ${JSON.stringify(size)} does not match the image; expected [${h}, ${w}] (height, width)`);
  }
  if (typeof counts === 'string') return rleFromString(counts, h, w, where);
  if (!Array.isArray(counts)) throw badInput(`${where}: RLE counts is ${typeof counts}; expected a string (compressed) or a list of run lengths`);
  checkCounts(counts, h, w, where);
  return { size: [h, w], counts: Uint32Array.from(counts as number[]) };
}
