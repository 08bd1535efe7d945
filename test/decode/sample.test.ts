// sampleCategorical (the rule, in JavaScript) and RowSampler (the same rule
// for every row at once, in WebAssembly): hand-computed draws, and the two
// agreeing draw for draw on WaveNet-shaped rows.
import { describe, expect, it } from 'vitest';
import { RowSampler, sampleCategorical } from '../../src/decode/sample.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';

/** An Rng whose next() gives `values` in turn. */
const fixed = (...values: number[]) => ({ next: () => values.shift()! }) as unknown as Rng;

describe('sampleCategorical', () => {
  it('draws the first class whose cumulative probability reaches u', () => {
    // logits ln 1, ln 2, ln 1 at temperature 1: probabilities 1/4, 1/2, 1/4.
    const logits = Float32Array.from([0, Math.log(2), 0]);
    expect([0, 0.2, 0.3, 0.7, 0.8, 0.999].map((u) => sampleCategorical(logits, 1, fixed(u)))).toEqual([0, 0, 1, 1, 2, 2]);
    // temperature 0 is the first maximum, and draws nothing
    const rng = fixed(0.9);
    expect(sampleCategorical(Float32Array.from([1, 3, 3]), 0, rng)).toBe(1);
    expect(rng.next()).toBe(0.9);
  });

  it('with min-p, never draws a class less likely than min-p times the likeliest', () => {
    // probabilities 1/8, 1/2, 1/4, 1/8 (relative to the likeliest: 1/4, 1, 1/2, 1/4); min-p 0.3 leaves
    // classes 1 and 2, weights 2/3 and 1/3; min-p 0.24 keeps all four.
    const logits = Float32Array.from([0, Math.log(4), Math.log(2), 0]);
    expect([0, 0.5, 0.66, 0.67, 0.999].map((u) => sampleCategorical(logits, 1, fixed(u), undefined, 0.3))).toEqual([1, 1, 1, 2, 2]);
    expect([0, 0.1, 0.2, 0.99].map((u) => sampleCategorical(logits, 1, fixed(u), undefined, 0.24))).toEqual([0, 0, 1, 3]);
    // at temperature 2 the ratios are square roots (1/2, 1, 0.71, 1/2): min-p 0.6 cuts only classes 0 and 3
    expect([0, 0.5, 0.99].map((u) => sampleCategorical(logits, 2, fixed(u), undefined, 0.6))).toEqual([1, 1, 2]);
    // min-p 1 keeps only the likeliest
    expect(sampleCategorical(logits, 1, fixed(0.99), undefined, 1)).toBe(1);
  });
});

describe('RowSampler', () => {
  const rt = Runtime.create();

  it('draws what sampleCategorical draws, row by row, each with its temperature and min-p, and leaves out rows with u = −1', () => {
    rt.scope(() => {
      const [B, Q] = [8, 256];
      const sampler = new RowSampler(rt, B, Q);
      const logits = rt.tensor([B, Q]);
      const source = new Rng(7);
      const rngs = Array.from({ length: B }, (_, b) => new Rng(100 + b));
      const twins = Array.from({ length: B }, (_, b) => new Rng(100 + b));
      const temperatures = [0.9, 0.9, 0.5, 1, 0, 1.3, 0.9, 0.7];
      const minP = [0, 0.3, 0.05, 0, 0.3, 0.5, 0.01, 0];
      temperatures.forEach((t, b) => (sampler.temperatures[b] = t));
      minP.forEach((p, b) => (sampler.minP[b] = p));
      let drawn = 0;
      for (let step = 0; step < 200; step++) {
        logits.write(source.uniform(B * Q, -12, 4));
        const active = temperatures.map((_, b) => b !== 3 || step < 120); // stream 3 ends early
        temperatures.forEach((t, b) => (sampler.u[b] = !active[b] ? -1 : t > 0 ? rngs[b]!.next() : 0));
        const before = sampler.draw(logits).slice();
        const classes = sampler.draw(logits); // the same u: the same draws
        expect(Array.from(classes)).toEqual(Array.from(before));
        for (let b = 0; b < B; b++) {
          if (!active[b]) continue;
          expect(classes[b], `step ${step}, stream ${b}`).toBe(sampleCategorical(logits.data.subarray(b * Q, (b + 1) * Q), temperatures[b]!, twins[b], undefined, minP[b]));
          drawn++;
        }
      }
      expect(drawn).toBe(200 * 8 - 80);
    });
  });

  it('refuses logits of another shape, and empty sizes', () => {
    rt.scope(() => {
      const sampler = new RowSampler(rt, 2, 4);
      expect(() => sampler.draw(rt.tensor([2, 5]))).toThrow(/RowSampler.draw: logits must be \[2, 4\], got \[2, 5\]/);
      expect(() => new RowSampler(rt, 0, 4)).toThrow(/rows and classes must be positive integers, got 0 and 4/);
    });
  });
});
