import { describe, expect, it } from 'vitest';
import {
  avgPool2d, globalAvgPool, indexTensor, maxPool2d, maxPool2dWithIndices, maxUnpool2d, upsampleBilinear, upsampleNearest,
} from '../../src/runtime/ops/pool.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';

const codeOf = errorOf;

describe('pool bindings reject bad input before any kernel runs', () => {
  const rt = Runtime.create();
  const x = rt.tensor([1, 4, 4, 3]);

  it('max and average pooling', () => {
    expect(codeOf(() => maxPool2d(rt, rt.tensor([4, 4, 3]), { kernelSize: 2 }))).toBe(
      'E_SHAPE: maxPool2d: x has shape [4, 4, 3], expected [*, *, *, *]',
    );
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 0 }))).toMatch(/^E_BAD_INPUT: maxPool2d: kernelSize must be an integer ≥ 1/);
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 2, stride: [1, 0] }))).toMatch(/^E_BAD_INPUT: maxPool2d: stride must be/);
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 2, dilation: 0 }))).toMatch(/^E_BAD_INPUT: maxPool2d: dilation must be/);
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 3, padding: 2 }))).toBe(
      'E_BAD_INPUT: maxPool2d: padding [2, 2] must be at most half the kernel size [3, 3]',
    );
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 5 }))).toBe(
      'E_SHAPE: maxPool2d: x has shape [1, 4, 4, 3], too small for the window (the output would be 0×0)',
    );
    expect(codeOf(() => maxPool2d(rt, x, { kernelSize: 2, out: rt.tensor([1, 2, 2, 4]) }))).toBe(
      'E_SHAPE: maxPool2d: out has shape [1, 2, 2, 4], expected [1, 2, 2, 3]',
    );
    expect(codeOf(() => maxPool2dWithIndices(rt, x, { kernelSize: [2, 2], padding: -1 }))).toMatch(
      /^E_BAD_INPUT: maxPool2dWithIndices: padding must be an integer ≥ 0/,
    );
    expect(codeOf(() => avgPool2d(rt, x, { kernelSize: 2, stride: 1.5 }))).toMatch(/^E_BAD_INPUT: avgPool2d: stride must be/);
    expect(codeOf(() => avgPool2d(rt, x, { kernelSize: [1, 2], padding: [0, 2] }))).toBe(
      'E_BAD_INPUT: avgPool2d: padding [0, 2] must be at most half the kernel size [1, 2]',
    );
    expect(codeOf(() => globalAvgPool(rt, rt.tensor([2, 3])))).toBe(
      'E_SHAPE: globalAvgPool: x has shape [2, 3], expected [N, H, W, C] or [N, T, C]',
    );
    expect(codeOf(() => globalAvgPool(rt, rt.tensor([2, 0, 3])))).toMatch(/^E_BAD_INPUT: globalAvgPool: x has shape \[2, 0, 3\], with no pixels/);
    expect(codeOf(() => globalAvgPool(rt, x, rt.tensor([1, 1, 3])))).toBe('E_SHAPE: globalAvgPool: out has shape [1, 1, 3], expected [1, 3]');
  });

  it('max unpooling checks its indices and output size', () => {
    const pooled = rt.tensor([1, 2, 2, 3]);
    const indices = indexTensor(rt, [1, 2, 2, 3]);
    expect(codeOf(() => maxUnpool2d(rt, pooled, indexTensor(rt, [1, 2, 2, 1]), { kernelSize: 2 }))).toBe(
      'E_SHAPE: maxUnpool2d: indices has shape [1, 2, 2, 1], expected [1, 2, 2, 3]',
    );
    expect(codeOf(() => maxUnpool2d(rt, pooled, indexTensor(rt, [1, 2, 2, 3], [0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]), { kernelSize: 2 }))).toBe(
      'E_BAD_INPUT: maxUnpool2d: indices[4] = 16 is outside the 4×4 output plane',
    );
    expect(codeOf(() => maxUnpool2d(rt, pooled, indexTensor(rt, [1, 2, 2, 3], Array(12).fill(-1)), { kernelSize: 2 }))).toMatch(
      /^E_BAD_INPUT: maxUnpool2d: indices\[0\] = -1 is outside/,
    );
    // The indices are all checked before anything is written.
    const out = rt.tensor([1, 4, 4, 3], new Float32Array(48).fill(7));
    const late = indexTensor(rt, [1, 2, 2, 3], [...Array(11).fill(0), 99]);
    expect(codeOf(() => maxUnpool2d(rt, pooled, late, { kernelSize: 2, out }))).toMatch(/^E_BAD_INPUT: maxUnpool2d: indices\[11\] = 99/);
    expect(Array.from(out.data)).toEqual(Array(48).fill(7));
    expect(codeOf(() => maxUnpool2d(rt, pooled, indices, { kernelSize: 2, outputSize: [6, 4] }))).toBe(
      'E_BAD_INPUT: maxUnpool2d: outputSize [6, 4] must lie within one stride [2, 2] of [4, 4] and be positive',
    );
    expect(codeOf(() => maxUnpool2d(rt, pooled, indices, { kernelSize: 2, outputSize: [5, 5] }))).toBeUndefined();
    expect(codeOf(() => indexTensor(rt, [2, 2], [1, 2, 3]))).toBe('E_SHAPE: cannot write 3 indices into an index tensor of shape [2, 2]');
  });

  it('upsampling takes exactly one of size and scaleFactor', () => {
    expect(codeOf(() => upsampleNearest(rt, x, {}))).toBe('E_BAD_INPUT: upsampleNearest: give exactly one of size and scaleFactor');
    expect(codeOf(() => upsampleBilinear(rt, x, { size: 8, scaleFactor: 2 }))).toBe(
      'E_BAD_INPUT: upsampleBilinear: give exactly one of size and scaleFactor',
    );
    expect(codeOf(() => upsampleNearest(rt, x, { size: [8, 0] }))).toMatch(/^E_BAD_INPUT: upsampleNearest: size must be an integer ≥ 1/);
    expect(codeOf(() => upsampleNearest(rt, x, { scaleFactor: -2 }))).toBe(
      'E_BAD_INPUT: upsampleNearest: scaleFactor must be positive and finite, got -2',
    );
    expect(codeOf(() => upsampleBilinear(rt, x, { scaleFactor: [0.1, 1] }))).toBe(
      'E_BAD_INPUT: upsampleBilinear: scaleFactor 0.1,1 leaves no output pixels from 4×4',
    );
    expect(codeOf(() => upsampleBilinear(rt, rt.tensor([1, 4, 3]), { size: 2 }))).toBe(
      'E_SHAPE: upsampleBilinear: x has shape [1, 4, 3], expected [*, *, *, *]',
    );
    expect(codeOf(() => upsampleNearest(rt, x, { size: 8, out: rt.tensor([1, 8, 8, 1]) }))).toBe(
      'E_SHAPE: upsampleNearest: out has shape [1, 8, 8, 1], expected [1, 8, 8, 3]',
    );
  });
});
