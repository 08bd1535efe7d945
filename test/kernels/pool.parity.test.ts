import { describe, expect, it } from 'vitest';
import type { Pair } from '../../src/runtime/ops/args.js';
import {
  avgPool2d, globalAvgPool, indexTensor, maxPool2d, maxPool2dWithIndices, maxUnpool2d, poolOutputSize,
  upsampleBilinear, upsampleNearest,
} from '../../src/runtime/ops/pool.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { type FixtureCase, loadFixtures } from '../helpers/fixtures.js';

const pair = (v: unknown) => v as [number, number];

function runCase(rt: Runtime, c: FixtureCase): void {
  const x = c.f32('x');
  const want = c.f32('y');
  const xt = rt.tensor(x.shape, x.data);
  const p = c.params;
  const window = { kernelSize: pair(p.kernel), stride: pair(p.stride), padding: pair(p.padding) };
  switch (c.op) {
    case 'maxpool2d': {
      const options = { ...window, dilation: pair(p.dilation), ceilMode: p.ceil_mode as boolean };
      const { y, indices } = maxPool2dWithIndices(rt, xt, options);
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      // Indices exactly: ties keep the first maximum, NaN the last NaN.
      expect(indices.toArray()).toEqual(c.int('indices').data);
      expectClose(maxPool2d(rt, xt, options).toArray(), want.data, 1e-4, `${c.name} without indices`);
      return;
    }
    case 'avgpool2d': {
      const y = avgPool2d(rt, xt, { ...window, ceilMode: p.ceil_mode as boolean, countIncludePad: p.count_include_pad as boolean });
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    case 'global_avgpool': {
      const y = globalAvgPool(rt, xt);
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    case 'maxunpool2d': {
      const indices = c.int('indices');
      const outputSize = (p.output_size ?? undefined) as [number, number] | undefined;
      const y = maxUnpool2d(rt, xt, indexTensor(rt, indices.shape, indices.data), { ...window, outputSize });
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    case 'upsample_nearest':
    case 'upsample_bilinear': {
      const options = {
        size: (p.size ?? undefined) as Pair | undefined,
        scaleFactor: (p.scale_factor ?? undefined) as [number, number] | undefined,
      };
      const y = c.op === 'upsample_nearest'
        ? upsampleNearest(rt, xt, options)
        : upsampleBilinear(rt, xt, { ...options, alignCorners: p.align_corners as boolean });
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe('pooling and upsampling against PyTorch', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('pool');
  it('has fixtures', () => expect(cases.length).toBe(67));
  for (const c of cases) it(c.name, () => rt.scope(() => runCase(rt, c)));
});

describe('pooling, worked by hand', () => {
  const rt = Runtime.create();

  /** A 2×2 image with C channels, channel c holding the four values of `planes[c]` in h·W + w order. */
  function image(planes: number[][]) {
    const C = planes.length;
    const data = new Float32Array(4 * C);
    planes.forEach((plane, c) => plane.forEach((v, i) => (data[i * C + c] = v)));
    return rt.tensor([1, 2, 2, C], data);
  }

  it('max pooling keeps the first of tied maxima and the last NaN (vector lanes and scalar tail alike)', () => {
    rt.scope(() => {
      // Five channels: four take the SIMD path, the fifth the scalar tail; the tail repeats channel 0.
      const planes = [[5, 5, 5, 5], [1, 3, 3, 2], [1, NaN, 3, NaN], [NaN, 7, 8, 9], [5, 5, 5, 5]];
      const { y, indices } = maxPool2dWithIndices(rt, image(planes), { kernelSize: 2 });
      expect(Array.from(y.data)).toEqual([5, 3, NaN, NaN, 5]);
      expect(Array.from(indices.data)).toEqual([0, 1, 3, 0, 0]);
      const planes2 = [[1, 3, 3, 2], [1, NaN, 3, NaN], [5, 5, 5, 5], [-1, -1, 0, 0], [1, NaN, 3, NaN]];
      const r = maxPool2dWithIndices(rt, image(planes2), { kernelSize: 2 });
      expect(Array.from(r.indices.data)).toEqual([1, 3, 0, 2, 3]);
    });
  });

  it('a window of −∞ gives −∞ and the index of its first tap', () => {
    rt.scope(() => {
      const { y, indices } = maxPool2dWithIndices(rt, image([[-Infinity, -Infinity, -Infinity, -Infinity]]), {
        kernelSize: 2, stride: 1, padding: 1,
      });
      expect(Array.from(y.data)).toEqual(Array(9).fill(-Infinity));
      // The first tap inside the image of each 3×3 output window.
      expect(Array.from(indices.data)).toEqual([0, 0, 1, 0, 0, 1, 2, 2, 3]);
    });
  });

  it('a dilated window that falls between the taps gives −∞, as PyTorch (checked: values [6, 2])', () => {
    rt.scope(() => {
      // F.max_pool2d(arange(12).reshape(1,1,6,2), (3,2), (1,3), (1,1), (3,3), ceil_mode=True, return_indices=True)
      const x = rt.tensor([1, 6, 2, 1], Float32Array.from({ length: 12 }, (_, i) => i));
      const { y, indices } = maxPool2dWithIndices(rt, x, {
        kernelSize: [3, 2], stride: [1, 3], padding: 1, dilation: 3, ceilMode: true,
      });
      expect(y.shape).toEqual([1, 2, 1, 1]);
      expect(Array.from(y.data)).toEqual([-Infinity, -Infinity]);
      expect(Array.from(indices.data)).toEqual([6, 2]);
    });
  });

  it('average pooling divides by the padded window or by the pixels inside', () => {
    rt.scope(() => {
      const x = image([[1, 2, 3, 4]]);
      const incl = avgPool2d(rt, x, { kernelSize: 2, stride: 1, padding: 1 });
      expect(Array.from(incl.data)).toEqual([1 / 4, 3 / 4, 2 / 4, 4 / 4, 10 / 4, 6 / 4, 3 / 4, 7 / 4, 4 / 4]);
      const excl = avgPool2d(rt, x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false });
      expect(Array.from(excl.data)).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    });
  });

  it('ceil mode adds a last window only where it starts inside the input or the left padding', () => {
    expect(poolOutputSize(10, 3, 0, 2, 1, false)).toBe(4);
    expect(poolOutputSize(10, 3, 0, 2, 1, true)).toBe(5);
    // (8 + 2 − 3 + 2)/3 + 1 = 4 windows, but the 4th would start at 9 = 8 + 1, in the right padding.
    expect(poolOutputSize(8, 3, 1, 3, 1, true)).toBe(3);
    expect(poolOutputSize(5, 3, 1, 3, 1, true)).toBe(2);
  });

  it('nearest upsampling takes floor(dst · in/out) with the ratio in f32', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 1, 2, 1], [10, 20]);
      // 2 → 3: scale = fround(2/3); sources 0, floor(0.67) = 0, floor(1.33) = 1.
      expect(Array.from(upsampleNearest(rt, x, { size: [1, 3] }).data)).toEqual([10, 10, 20]);
      expect(Array.from(upsampleNearest(rt, x, { size: [1, 4] }).data)).toEqual([10, 10, 20, 20]);
      // Factor 1.05 keeps 10 pixels but samples with 1/1.05, as PyTorch's NCHW path does for C > 1.
      const ten = rt.tensor([1, 1, 10, 1], Float32Array.from({ length: 10 }, (_, i) => i));
      expect(Array.from(upsampleNearest(rt, ten, { scaleFactor: 1.05 }).data)).toEqual([0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  it('bilinear upsampling ×2 without and with aligned corners', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 1, 2, 1], [0, 4]);
      // src = (dst + ½)/2 − ½ clamped at 0: 0, 0.25, 0.75, 1.25 → index 1 is the last, so it repeats.
      expect(Array.from(upsampleBilinear(rt, x, { scaleFactor: [1, 2] }).data)).toEqual([0, 1, 3, 4]);
      // src = dst · (2 − 1)/(4 − 1).
      const aligned = upsampleBilinear(rt, x, { size: [1, 4], alignCorners: true }).toArray();
      expectClose(aligned, [0, 4 / 3, 8 / 3, 4], 1e-6);
    });
  });
});
