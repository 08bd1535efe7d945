import { describe, expect, it } from 'vitest';
import { activation, concatChannels, gatedTanh, add } from '../../src/runtime/ops/activation.js';
import { gemm, matmul, packMatrix } from '../../src/runtime/ops/gemm.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';

const codeOf = errorOf;

describe('gemm and elementwise bindings reject bad input before any kernel runs', () => {
  const rt = Runtime.create();
  const a = rt.tensor([4, 3]);
  const w = packMatrix(rt, rt.tensor([3, 5]));

  it('gemm', () => {
    expect(codeOf(() => gemm(rt, rt.tensor([4, 2]), w))).toBe('E_SHAPE: gemm: a has shape [4, 2], expected [*, 3]');
    expect(codeOf(() => gemm(rt, a, w, { bias: rt.tensor([4]) }))).toBe('E_SHAPE: gemm: bias has shape [4], expected [5]');
    expect(codeOf(() => gemm(rt, a, w, { out: rt.tensor([4, 4]) }))).toBe('E_SHAPE: gemm: out has shape [4, 4], expected [4, 5]');
    expect(codeOf(() => gemm(rt, a, w, { accumulate: true }))).toMatch(/^E_BAD_INPUT: gemm: accumulate needs an out/);
    expect(codeOf(() => matmul(rt, a, rt.tensor([2, 5])))).toBe('E_SHAPE: matmul: b has shape [2, 5], expected [3, *]');
    expect(codeOf(() => packMatrix(rt, rt.tensor([3])))).toMatch(/^E_BAD_INPUT: packMatrix: expected a matrix/);
  });

  it('accumulates into out when asked', () => {
    const out = rt.tensor([1, 2], [10, 20]);
    const y = gemm(rt, rt.tensor([1, 2], [1, 2]), packMatrix(rt, rt.tensor([2, 2], [1, 0, 0, 1])), { out, accumulate: true });
    expect(Array.from(y.data)).toEqual([11, 22]);
  });

  it('elementwise', () => {
    expect(codeOf(() => activation(rt, a, 'swish' as never))).toMatch(/^E_BAD_INPUT: unknown activation "swish"/);
    expect(codeOf(() => gatedTanh(rt, rt.tensor([2, 3])))).toMatch(/^E_BAD_INPUT: gatedTanh: the last dimension must be even/);
    expect(codeOf(() => add(rt, a, rt.tensor([3, 4])))).toBe('E_SHAPE: add: b has shape [3, 4], expected [4, 3]');
    expect(codeOf(() => concatChannels(rt, []))).toMatch(/^E_BAD_INPUT: concatChannels: no tensors/);
    expect(codeOf(() => concatChannels(rt, [a, rt.tensor([5, 3])]))).toBe(
      'E_SHAPE: concatChannels: part 1 has shape [5, 3], expected [4, *]',
    );
  });
});
