import { describe, expect, it } from 'vitest';
import type { Image } from '../../src/io/image.js';
import { parseImageInput, prepareImages } from '../../src/models/image-input.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectError } from '../helpers/errors.js';

const grey = (width: number, height: number, values: number[]): Image => ({ width, height, channels: 1, data: Uint8Array.from(values) });
// std = 1/255 and mean 0 leave the pixel values as they are, so the resize is visible directly
const identity = (size: [number, number], channels: 1 | 3, invert = false) =>
  parseImageInput('config.json', { size, channels, mean: Array(channels).fill(0), std: Array(channels).fill(1 / 255), invert });

describe('image preprocessing for classifiers (hand-computed)', () => {
  const rt = Runtime.create();

  it('shrinks by averaging the source pixels of each output pixel', () => {
    const im = grey(4, 4, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
    const x = rt.scope(() => prepareImages(rt, [im], identity([2, 2], 1)).toArray());
    expect(Array.from(x)).toEqual([5, 9, 21, 25]); // (0+2+8+10)/4, (4+6+12+14)/4, …
    // 3 → 2 columns: PyTorch's adaptive bins [0, 2) and [1, 3) overlap on the middle column
    const y = rt.scope(() => prepareImages(rt, [grey(3, 1, [0, 30, 60])], identity([1, 2], 1)).toArray());
    expect(Array.from(y)).toEqual([15, 45]);
  });

  it('grows bilinearly, converts RGB to grey with ITU-R 601 luma, inverts, normalises by mean and std', () => {
    const x = rt.scope(() => prepareImages(rt, [grey(1, 1, [100])], identity([2, 3], 1)).toArray());
    expect(Array.from(x)).toEqual([100, 100, 100, 100, 100, 100]);
    const rgb: Image = { width: 1, height: 1, channels: 3, data: Uint8Array.from([200, 100, 50]) };
    const g = rt.scope(() => prepareImages(rt, [rgb], identity([1, 1], 1)).toArray());
    expect(g[0]).toBeCloseTo((200 * 299 + 100 * 587 + 50 * 114) / 1000, 4);
    const inv = rt.scope(() => prepareImages(rt, [grey(1, 1, [55])], identity([1, 1], 1, true)).toArray());
    expect(inv[0]).toBe(200);
    const norm = parseImageInput('config.json', { size: [1, 1], channels: 3, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    const n = rt.scope(() => prepareImages(rt, [rgb], norm).toArray());
    expect(n[0]).toBeCloseTo((200 / 255 - 0.5) / 0.5, 6);
    expect(n[1]).toBeCloseTo((100 / 255 - 0.25) / 0.25, 6);
    expect(n[2]).toBeCloseTo(50 / 255 / 2, 6);
  });

  it('names bad "input" settings', () => {
    expectError(() => parseImageInput('m/config.json', { size: [8] }), 'E_MODEL_FORMAT', /m\/config\.json: "input\.size" must be \[height, width\]/);
    expectError(() => parseImageInput('m/config.json', { channels: 2 }), 'E_MODEL_FORMAT', /"input\.channels" must be 1 or 3, got 2/);
    expectError(() => parseImageInput('m/config.json', { channels: 1, mean: [0], std: [0] }), 'E_MODEL_FORMAT', /"input\.std" must list 1 numbers > 0/);
  });
});
