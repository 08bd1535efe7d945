import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  rleArea, rleDecode, rleEncode, rleFromBbox, rleFromPolygon, rleFromString, rleIou, rleMerge, rleToBbox, rleToString,
  toRle, type Rle,
} from '../../src/metrics/mask-rle.js';
import { expectError } from '../helpers/errors.js';

interface Measured { h: number; w: number; counts: string; area: number; bbox: number[] }
interface Fixture {
  provenance: string;
  polygons: Array<Omit<Measured, 'counts'> & { kind: string; polygons: number[][]; counts: string[]; merged: string }>;
  masks: Array<Measured & { mask: string }>;
  bboxes: Measured[];
  uncompressed: Array<Measured & { runs: number[] }>;
  merges: Array<{ h: number; w: number; counts: string[]; union: string; intersection: string }>;
  ious: Array<{ dt: Compressed[]; gt: Compressed[]; iscrowd: number[]; iou: number[][] }>;
}
interface Compressed { size: [number, number]; counts: string }

const fixture = JSON.parse(readFileSync(new URL('../fixtures/detection/mask-rle.json', import.meta.url), 'utf8')) as Fixture;
const counts = (r: Rle) => Array.from(r.counts);
const fromString = (c: Compressed) => rleFromString(c.counts, c.size[0], c.size[1]);

/** area and toBbox as pycocotools gives them, and the string surviving decode → encode. */
function expectMeasures(rle: Rle, c: { area: number; bbox: number[]; h: number; w: number }, label: string): void {
  expect(rleArea(rle), `${label} area`).toBe(c.area);
  expect(rleToBbox(rle), `${label} toBbox`).toEqual(c.bbox);
}

describe(`COCO mask RLE against ${fixture.provenance} (tools/fixtures_mask.py)`, () => {
  it('rasterises polygons bit for bit as frPyObjects, and merges them as COCO.annToRLE', () => {
    for (const [i, c] of fixture.polygons.entries()) {
      const label = `polygon case ${i} (${c.kind})`;
      c.polygons.forEach((p, j) => expect(rleToString(rleFromPolygon(p, c.h, c.w)), `${label}, polygon ${j}`).toBe(c.counts[j]));
      const rle = toRle(c.polygons, c.h, c.w, label);
      expect(rleToString(rle), label).toBe(c.merged);
      expectMeasures(rle, c, label);
    }
  });

  it('encodes masks (bytes 2 included) to the same runs and compressed string as encode', () => {
    for (const [i, c] of fixture.masks.entries()) {
      const mask = Uint8Array.from(c.mask, (d) => Number(d));
      const rle = rleEncode(mask, c.h, c.w);
      expect(rleToString(rle), `mask case ${i}`).toBe(c.counts);
      expectMeasures(rle, c, `mask case ${i}`);
      const decoded = rleDecode(rleFromString(c.counts, c.h, c.w));
      expect(Array.from(decoded), `mask case ${i} decoded`).toEqual(Array.from(rleDecode(rle)));
    }
  });

  it('draws boxes as frBbox', () => {
    for (const [i, c] of fixture.bboxes.entries()) {
      const rle = rleFromBbox(c.bbox, c.h, c.w);
      expect(rleToString(rle), `box case ${i}`).toBe(c.counts);
      expect(rleArea(rle), `box case ${i} area`).toBe(c.area);
    }
  });

  it('compresses uncompressed RLEs (empty runs kept) and measures them, uint wrap-around of toBbox included', () => {
    for (const [i, c] of fixture.uncompressed.entries()) {
      const rle = toRle({ size: [c.h, c.w], counts: c.runs }, c.h, c.w, `uncompressed case ${i}`);
      expect(rleToString(rle), `uncompressed case ${i}`).toBe(c.counts);
      expect(counts(rleFromString(c.counts, c.h, c.w)), `uncompressed case ${i} round trip`).toEqual(c.runs);
      expectMeasures(rle, c, `uncompressed case ${i}`);
    }
  });

  it('merges as merge, union and intersection', () => {
    for (const [i, c] of fixture.merges.entries()) {
      const rles = c.counts.map((s) => rleFromString(s, c.h, c.w));
      expect(rleToString(rleMerge(rles)), `merge case ${i} union`).toBe(c.union);
      expect(rleToString(rleMerge(rles, true)), `merge case ${i} intersection`).toBe(c.intersection);
    }
  });

  it('computes iou matrices with crowd flags to 1e-12', () => {
    for (const [i, c] of fixture.ious.entries()) {
      const got = rleIou(c.dt.map(fromString), c.gt.map(fromString), c.iscrowd.map((x) => x === 1));
      expect(got.length, `iou case ${i} rows`).toBe(c.iou.length);
      got.forEach((row, d) => {
        expect(row.length, `iou case ${i} row ${d}`).toBe(c.iou[d]!.length);
        row.forEach((v, g) => expect(Math.abs(v - c.iou[d]![g]!), `iou case ${i} [${d}][${g}]`).toBeLessThanOrEqual(1e-12));
      });
    }
  });
});

describe('COCO mask RLE by hand', () => {
  it('encodes a 3×3 mask column by column, starting with a run of 0s', () => {
    // Rows: 0 1 1 / 0 1 0 / 1 0 0 → columns (0,0,1) (1,1,0) (1,0,0) → 0 0 | 1 1 1 | 0 | 1 | 0 0.
    const mask = Uint8Array.from([0, 0, 1, 1, 1, 0, 1, 0, 0]);
    const rle = rleEncode(mask, 3, 3);
    expect(counts(rle)).toEqual([2, 3, 1, 1, 2]);
    // From the fourth count on, deltas: 1 − 3 = −2 → 0b11110 (sign bit set, no more) = 30 + 48 = 'N'; 2 − 1 = 1.
    expect(rleToString(rle)).toBe('231N1');
    expect(rleArea(rle)).toBe(4);
    expect(rleToBbox(rle)).toEqual([0, 0, 3, 3]);
    expect(Array.from(rleDecode(rle))).toEqual(Array.from(mask));
    expect(counts(rleEncode(Uint8Array.from([1, 1, 1, 1]), 2, 2))).toEqual([0, 4]);
  });

  it('writes big and negative deltas in 5-bit chunks', () => {
    // 100 = 3·32 + 4: chunk 4 with the continuation bit (4 | 0x20 = 36 → 'T'), then 3 → '3'.
    expect(rleToString({ size: [10, 20], counts: [100, 100] })).toBe('T3T3');
    // Fourth count 1 after 5: delta −4 = 0b11100 (sign bit 0x10 set, no more) → 28 + 48 = 'L'.
    const rle: Rle = { size: [1, 12], counts: [1, 5, 1, 1, 4] };
    expect(rleToString(rle)).toBe('151L3');
    expect(counts(rleFromString('151L3', 1, 12))).toEqual([1, 5, 1, 1, 4]);
  });

  it('fills a 2×2 box inside a 4×4 image', () => {
    const rle = rleFromBbox([1, 1, 2, 2], 4, 4);
    expect(rleArea(rle)).toBe(4);
    expect(rleToBbox(rle)).toEqual([1, 1, 2, 2]);
    expect(counts(rle)).toEqual([5, 2, 2, 2, 5]);
  });

  it('gives crowd IoU as intersection over the detection’s area, and −1 for different sizes', () => {
    const gt = rleFromBbox([0, 0, 4, 4], 4, 4); // the whole image
    const dt = rleFromBbox([0, 0, 2, 2], 4, 4); // a quarter
    expect(rleIou([dt], [gt, gt], [false, true])).toEqual([[0.25, 1]]);
    expect(rleIou([rleFromBbox([0, 0, 2, 2], 5, 4)], [gt], [false])).toEqual([[-1]]);
    expect(rleIou([], [gt], [false])).toEqual([]);
    expect(rleMerge([]).size).toEqual([0, 0]);
  });
});

describe('COCO mask RLE bad input', () => {
  const where = 'dt.json: result 3';
  const bad = (segmentation: unknown) => () => toRle(segmentation, 4, 5, where);

  it('names the polygon and what a polygon needs', () => {
    expectError(bad([[0, 0, 1, 1, 2]]), 'E_BAD_INPUT', /^E_BAD_INPUT: dt\.json: result 3: polygon 0: 5 numbers; expected an even count of at least 6/);
    expectError(bad([[0, 0, 1, 1, 2, 2], [0, 0, 1, 1]]), 'E_BAD_INPUT', /result 3: polygon 1: 4 numbers/);
    expectError(bad([[0, 0, 1, Number.NaN, 2, 2]]), 'E_BAD_INPUT', /result 3: polygon 0: number 3 is NaN; expected a finite coordinate/);
    expectError(bad([[0, 0, 1, '1', 2, 2]]), 'E_BAD_INPUT', /number 3 is 1; expected a finite coordinate/);
    expectError(bad([[0, 0, 1, 2e8, 2, 2]]), 'E_BAD_INPUT', /polygon 0: number 3 is 200000000; expected a finite coordinate within ±1e8/);
    expectError(bad([]), 'E_BAD_INPUT', /result 3: segmentation is an empty list/);
    expectError(bad([7]), 'E_BAD_INPUT', /result 3: polygon 0 is number; expected a list/);
  });

  it('checks an RLE’s size against the image', () => {
    expectError(bad({ size: [5, 4], counts: [20] }), 'E_BAD_INPUT', /result 3: RLE size \[5,4\] does not match the image; expected \[4, 5\]/);
    expectError(bad({ counts: [20] }), 'E_BAD_INPUT', /result 3: segmentation is an object without counts and size/);
    expectError(bad(null), 'E_BAD_INPUT', /result 3: segmentation is null/);
  });

  it('checks uncompressed counts', () => {
    expectError(bad({ size: [4, 5], counts: [3, 4] }), 'E_BAD_INPUT', /result 3: counts sum to 7; expected height × width = 4×5 = 20/);
    expectError(bad({ size: [4, 5], counts: [3, -4, 21] }), 'E_BAD_INPUT', /result 3: run 1 of counts is -4; expected a whole number ≥ 0/);
    expectError(bad({ size: [4, 5], counts: [19.5, 0.5] }), 'E_BAD_INPUT', /run 0 of counts is 19\.5/);
    expectError(bad({ size: [4, 5], counts: 20 }), 'E_BAD_INPUT', /result 3: RLE counts is number; expected a string \(compressed\) or a list/);
  });

  it('checks compressed counts', () => {
    expectError(bad({ size: [4, 5], counts: '7' }), 'E_BAD_INPUT', /result 3: counts sum to 7; expected height × width = 4×5 = 20/);
    expectError(bad({ size: [4, 5], counts: 'T' }), 'E_BAD_INPUT', /result 3: compressed counts end inside the value that starts at character 0/);
    expectError(bad({ size: [4, 5], counts: '2 3' }), 'E_BAD_INPUT', /result 3: compressed counts have " " at character 1; expected characters '0' to 'o'/);
    expectError(bad({ size: [4, 5], counts: 'TTTTTTTT0' }), 'E_BAD_INPUT', /a value of more than 7 characters at character 0/);
    // 'L' is the delta −4, added to run 1 (2): 2 − 4 = −2.
    expectError(bad({ size: [4, 5], counts: '125L' }), 'E_BAD_INPUT', /result 3: compressed counts give run 3 the negative length -2/);
  });

  it('checks sizes and masks in the direct API', () => {
    expectError(() => rleEncode(new Uint8Array(5), 2, 3), 'E_BAD_INPUT', /rleEncode: mask has 5 bytes; expected height × width = 6/);
    expectError(() => rleFromPolygon([0, 0, 1, 1, 2, 2], 0, 3), 'E_BAD_INPUT', /image size 0×3/);
    expectError(() => rleDecode({ size: [2, 2], counts: [1, 2] }), 'E_BAD_INPUT', /rleDecode: counts sum to 3/);
    const a = rleFromBbox([0, 0, 1, 1], 2, 2);
    expectError(() => rleMerge([a, rleFromBbox([0, 0, 1, 1], 2, 3)]), 'E_BAD_INPUT', /rleMerge: mask 1 is 2×3; expected the 2×2 of mask 0/);
    expectError(() => rleIou([a], [a], []), 'E_BAD_INPUT', /rleIou: 0 iscrowd flags for 1 ground truths/);
  });
});
