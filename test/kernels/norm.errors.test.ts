import { describe, expect, it } from 'vitest';
import { batchNorm, foldBatchNorm, foldBatchNormIntoConv, instanceNorm, layerNorm } from '../../src/runtime/ops/norm.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';

const codeOf = errorOf;

describe('norm bindings reject bad input before any kernel runs', () => {
  const rt = Runtime.create();
  const x = rt.tensor([2, 3, 3, 4]);
  const c4 = rt.tensor([4]);

  it('batch norm and its folding', () => {
    expect(codeOf(() => batchNorm(rt, x, { scale: rt.tensor([3]), shift: c4 }))).toBe('E_SHAPE: batchNorm: scale has shape [3], expected [4]');
    expect(codeOf(() => batchNorm(rt, x, { scale: c4, shift: rt.tensor([1, 4]) }))).toBe('E_SHAPE: batchNorm: shift has shape [1, 4], expected [4]');
    expect(codeOf(() => batchNorm(rt, x, { scale: c4, shift: c4 }, 'swish' as never))).toMatch(/^E_BAD_INPUT: unknown activation "swish"/);
    expect(codeOf(() => batchNorm(rt, x, { scale: c4, shift: c4 }, 'relu', rt.tensor([2, 3, 3, 5])))).toBe(
      'E_SHAPE: batchNorm: out has shape [2, 3, 3, 5], expected [2, 3, 3, 4]',
    );
    const stats = { runningMean: new Float32Array(4), runningVar: new Float32Array(4) };
    expect(codeOf(() => foldBatchNorm({ ...stats, runningVar: new Float32Array(3) }))).toBe(
      'E_SHAPE: foldBatchNorm: runningVar has 3 values, expected 4 (as runningMean)',
    );
    expect(codeOf(() => foldBatchNorm({ ...stats, weight: new Float32Array(5) }))).toBe(
      'E_SHAPE: foldBatchNorm: weight has 5 values, expected 4 (as runningMean)',
    );
    expect(codeOf(() => foldBatchNorm({ ...stats, eps: -1 }))).toBe('E_BAD_INPUT: foldBatchNorm: eps must be a finite number ≥ 0, got -1');
    expect(codeOf(() => foldBatchNormIntoConv(new Float32Array(10), undefined, 4, stats))).toBe(
      'E_SHAPE: foldBatchNormIntoConv: weight has 10 values, not a whole number for each of 4 output channels',
    );
    expect(codeOf(() => foldBatchNormIntoConv(new Float32Array(12), undefined, 3, stats))).toBe(
      'E_SHAPE: foldBatchNormIntoConv: runningMean has 4 values, expected 3 (output channels)',
    );
    expect(codeOf(() => foldBatchNormIntoConv(new Float32Array(12), new Float32Array(2), 4, stats))).toBe(
      'E_SHAPE: foldBatchNormIntoConv: bias has 2 values, expected 4',
    );
  });

  it('layer and instance norm', () => {
    expect(codeOf(() => layerNorm(rt, x, { gamma: rt.tensor([3]) }))).toBe('E_SHAPE: layerNorm: gamma has shape [3], expected [4]');
    expect(codeOf(() => layerNorm(rt, x, { beta: rt.tensor([4, 1]) }))).toBe('E_SHAPE: layerNorm: beta has shape [4, 1], expected [4]');
    expect(codeOf(() => layerNorm(rt, x, { eps: Number.NaN }))).toBe('E_BAD_INPUT: layerNorm: eps must be a finite number ≥ 0, got NaN');
    expect(codeOf(() => layerNorm(rt, rt.tensor([])))).toBe('E_SHAPE: layerNorm: x has shape [], expected at least one dimension');
    expect(codeOf(() => layerNorm(rt, x, { out: rt.tensor([2, 3, 4]) }))).toBe(
      'E_SHAPE: layerNorm: out has shape [2, 3, 4], expected [2, 3, 3, 4]',
    );
    expect(codeOf(() => instanceNorm(rt, rt.tensor([3, 4])))).toBe(
      'E_SHAPE: instanceNorm: x has shape [3, 4], expected [N, H, W, C] or [N, T, C]',
    );
    expect(codeOf(() => instanceNorm(rt, rt.tensor([1, 0, 4])))).toMatch(/^E_BAD_INPUT: instanceNorm: x has shape \[1, 0, 4\], with no pixels/);
    expect(codeOf(() => instanceNorm(rt, x, { gamma: rt.tensor([5]) }))).toBe('E_SHAPE: instanceNorm: gamma has shape [5], expected [4]');
  });
});
