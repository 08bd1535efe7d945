import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { scaledDotProductAttention } from '../../src/runtime/ops/attention.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectError } from '../helpers/errors.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { attentionRef } from '../../src/kernels/reference/attention.js';
import { expectClose } from '../helpers/compare.js';
import { loadFixtures } from '../helpers/fixtures.js';

describe('attention against PyTorch (softmax(q·kᵀ·scale + mask)·v in float64)', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('attention');
  it('has fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(18));
  for (const c of cases) {
    it(c.name, () => {
      const [q, k, v] = [c.f32('q'), c.f32('k'), c.f32('v')];
      const keyPaddingMask = c.params.masked ? Uint8Array.from(c.int('key_padding_mask').data) : undefined;
      rt.scope(() => {
        const y = scaledDotProductAttention(rt, rt.tensor(q.shape, q.data), rt.tensor(k.shape, k.data), rt.tensor(v.shape, v.data), {
          causal: c.params.causal as boolean,
          keyPaddingMask,
          scale: (c.params.scale as number | null) ?? undefined,
        });
        expect(y.shape).toEqual(c.f32('y').shape);
        expectClose(y.toArray(), c.f32('y').data, 1e-4, c.name);
      });
    });
  }
});

describe('attention edge cases, by hand (where PyTorch gives NaN, hibiki gives zeros)', () => {
  const rt = Runtime.create();
  const rng = new Rng(7);

  // [B, H, T, D] tensors of random values
  const make = (shape: number[]) => rt.tensor(shape, rng.uniform(shape.reduce((a, b) => a * b, 1)));

  for (const Tq of [3, 20]) {
    it(`an all-padding batch item gives zero rows, the other item is untouched (Tq = ${Tq})`, () => {
      rt.scope(() => {
        const [B, H, Tk, D] = [2, 2, 9, 5];
        const q = make([B, H, Tq, D]);
        const k = make([B, H, Tk, D]);
        const v = make([B, H, Tk, D]);
        const mask = [...Array<boolean>(Tk).fill(true), ...Array.from({ length: Tk }, (_, j) => j >= 4)];
        const y = scaledDotProductAttention(rt, q, k, v, { keyPaddingMask: mask }).toArray();
        const half = H * Tq * D;
        expect(Array.from(y.subarray(0, half)).every((x) => x === 0)).toBe(true);
        expect(y.subarray(half).some((x) => x !== 0)).toBe(true);
        const keyMask = Uint8Array.from(mask, (m) => (m ? 1 : 0));
        expectClose(y, attentionRef(q.toArray(), k.toArray(), v.toArray(), { B, H, Tq, Tk, D, Dv: D }, { scale: 1 / Math.sqrt(D), keyMask }));
      });
    });

    it(`causal with Tq > Tk: the first Tq − Tk rows see no key and are zero (Tq = ${Tq})`, () => {
      rt.scope(() => {
        const [H, Tk, D, Dv] = [3, 2, 4, 6];
        const q = make([1, H, Tq, D]);
        const k = make([1, H, Tk, D]);
        const v = make([1, H, Tk, Dv]);
        const y = scaledDotProductAttention(rt, q, k, v, { causal: true }).toArray();
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < Tq; i++) {
            const row = y.subarray((h * Tq + i) * Dv, (h * Tq + i + 1) * Dv);
            expect(row.every((x) => x === 0), `head ${h} row ${i}`).toBe(i < Tq - Tk);
          }
        }
        expectClose(y, attentionRef(q.toArray(), k.toArray(), v.toArray(), { B: 1, H, Tq, Tk, D, Dv }, { scale: 0.5, causal: true }));
      });
    });
  }

  it('NaN in q or k still gives NaN rows, as in PyTorch', () => {
    for (const Tq of [3, 20]) {
      rt.scope(() => {
        const [Tk, D] = [24, 4];
        const q = make([1, 1, Tq, D]);
        const k = make([1, 1, Tk, D]);
        q.data[D + 1] = Number.NaN; // query row 1: every score NaN
        const y = scaledDotProductAttention(rt, q, k, make([1, 1, Tk, D]), { causal: true }).toArray();
        expect(Array.from(y, Number.isNaN)).toEqual(Array.from(y, (_, i) => Math.floor(i / D) === 1));
        k.data[6 * D] = Number.NaN; // key 6: a NaN score in every row that sees it
        const z = scaledDotProductAttention(rt, q, k, make([1, 1, Tk, D]), { causal: true }).toArray();
        expect(Array.from(z, Number.isNaN)).toEqual(Array.from(z, (_, i) => Math.floor(i / D) === 1 || Math.floor(i / D) + Tk - Tq >= 6));
      });
    }
  });

  it('Tk = 0 gives zeros', () => {
    rt.scope(() => {
      const y = scaledDotProductAttention(rt, make([1, 2, 3, 4]), make([1, 2, 0, 4]), make([1, 2, 0, 5]));
      expect(y.shape).toEqual([1, 2, 3, 5]);
      expect(Array.from(y.toArray()).every((x) => x === 0)).toBe(true);
    });
  });

  it('a negative or zero scale is applied before the max-subtraction', () => {
    rt.scope(() => {
      const shape = { B: 1, H: 2, Tq: 17, Tk: 10, D: 3, Dv: 3 };
      const q = make([1, 2, 17, 3]);
      const k = make([1, 2, 10, 3]);
      const v = make([1, 2, 10, 3]);
      const keyMask = Uint8Array.from({ length: 10 }, (_, j) => (j % 3 === 0 ? 1 : 0));
      for (const scale of [-40, 0]) {
        const y = scaledDotProductAttention(rt, q, k, v, { scale, keyPaddingMask: keyMask, causal: true });
        expectClose(y.toArray(), attentionRef(q.toArray(), k.toArray(), v.toArray(), shape, { scale, keyMask, causal: true }));
      }
    });
  });
});

describe('attention binding errors', () => {
  const rt = Runtime.create();
  const t = (shape: number[]) => rt.tensor(shape);
  const q = t([2, 3, 4, 5]);
  const k = t([2, 3, 6, 5]);
  const v = t([2, 3, 6, 7]);

  it('q must be [B, H, Tq, D]', () => expectError(() => scaledDotProductAttention(rt, t([3, 4, 5]), k, v), 'E_SHAPE', /\bq has shape \[3, 4, 5\]/));
  it('k must agree with q in B, H and D', () => {
    expectError(() => scaledDotProductAttention(rt, q, t([1, 3, 6, 5]), v), 'E_SHAPE', /\bk has shape \[1, 3, 6, 5\], expected \[2, 3, \*, 5\]/);
    expectError(() => scaledDotProductAttention(rt, q, t([2, 2, 6, 5]), v), 'E_SHAPE', /\bk has shape/);
    expectError(() => scaledDotProductAttention(rt, q, t([2, 3, 6, 4]), v), 'E_SHAPE', /\bk has shape/);
  });
  it('v must agree with k in B, H and Tk', () => {
    expectError(() => scaledDotProductAttention(rt, q, k, t([2, 3, 5, 7])), 'E_SHAPE', /\bv has shape \[2, 3, 5, 7\], expected \[2, 3, 6, \*\]/);
  });
  it('keyPaddingMask must hold B·Tk values', () => {
    expectError(() => scaledDotProductAttention(rt, q, k, v, { keyPaddingMask: new Uint8Array(6) }), 'E_SHAPE', /keyPaddingMask has 6 values, expected B·Tk/);
    expectError(() => scaledDotProductAttention(rt, q, k, v, { keyPaddingMask: 'yes' as unknown as boolean[] }), 'E_BAD_INPUT', /keyPaddingMask must be/);
  });
  it('scale must be a finite number', () => {
    expectError(() => scaledDotProductAttention(rt, q, k, v, { scale: Number.NaN }), 'E_BAD_INPUT', /scale must be a finite number/);
    expectError(() => scaledDotProductAttention(rt, q, k, v, { scale: Infinity }), 'E_BAD_INPUT', /scale/);
  });
  it('out must be [B, H, Tq, Dv] and not overlap the inputs', () => {
    expectError(() => scaledDotProductAttention(rt, q, k, v, { out: t([2, 3, 4, 5]) }), 'E_SHAPE', /\bout has shape \[2, 3, 4, 5\], expected \[2, 3, 4, 7\]/);
    expectError(() => scaledDotProductAttention(rt, q, k, v, { out: new Tensor(rt.heap, v.ptr + 4, [2, 3, 4, 7]) }), 'E_BAD_INPUT', /overlaps v/);
  });
  it('checks everything before the kernel runs (out untouched)', () => {
    const out = rt.tensor([2, 3, 4, 7], new Float32Array(2 * 3 * 4 * 7).fill(3));
    expect(() => scaledDotProductAttention(rt, q, k, v, { out, keyPaddingMask: [true] })).toThrow(HibikiError);
    expect(out.toArray().every((x) => x === 3)).toBe(true);
  });
});
