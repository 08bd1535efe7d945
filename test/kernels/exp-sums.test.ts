// f32_exp_sums and logSumExpRows: each row's (max, Σ exp(x − max)) in
// float64, held to the loop over Math.exp they replace (expSumsRef): the max
// exactly, the sum to 1e-14 relative on rows as wide as Marian's vocabulary.
import { describe, expect, it } from 'vitest';
import { expSumsRef } from '../../src/kernels/reference/activation.js';
import { logSumExpRows } from '../../src/runtime/ops/activation.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectError } from '../helpers/errors.js';

const MARIAN_VOCAB = 58101;
const rt = Runtime.create();

/** The kernel's (max, sum) pairs for rows of `values`, f64 [rows, 2]. */
function expSums(values: ArrayLike<number>, rows: number, n: number): Float64Array {
  return rt.scope(() => {
    const x = rt.tensor([rows, n], values);
    const out = rt.scratch(4 * rows);
    rt.kernels.f32_exp_sums(rows, n, x.ptr, out);
    return new Float64Array(rt.heap.memory.buffer, out, 2 * rows).slice();
  });
}

/** One row's (max, sum). */
function rowSums(values: number[]): [number, number] {
  const [max, sum] = expSums(values, 1, values.length);
  return [max!, sum!];
}

/** Both rows' max bit for bit (NaN for NaN) and the sums to `tol` relative; returns the worst sum error. */
function expectSums(got: Float64Array, want: Float64Array, tol: number, what: string): number {
  let worst = 0;
  for (let r = 0; r < want.length / 2; r++) {
    expect(got[2 * r], `${what}: row ${r} max`).toBe(want[2 * r]);
    const g = got[2 * r + 1]!;
    const w = want[2 * r + 1]!;
    if (Number.isNaN(w)) {
      expect(g, `${what}: row ${r} sum`).toBeNaN();
      continue;
    }
    const err = Math.abs(g - w) / w;
    expect(err, `${what}: row ${r} sum ${g}, want ${w}`).toBeLessThanOrEqual(tol);
    worst = Math.max(worst, err);
  }
  return worst;
}

describe('f32_exp_sums', () => {
  it('sums values it can be checked against by hand, in the vector loop and the tail', () => {
    // exp(0) = 1 exactly: n equal values sum to n.
    for (const n of [1, 3, 4, 7, 8, 11]) expect(rowSums(Array(n).fill(2.5))).toEqual([2.5, n]);
    // x − max = −k·ln 2 (ln 2 rounded to f32, 2.3e-8 off): halves, 1 + 1/2 + … + 1/64 = 2 − 1/64.
    const halves = Array.from({ length: 7 }, (_, k) => Math.fround(3 - k * Math.fround(Math.LN2)));
    const [max, sum] = rowSums(halves);
    expect(max).toBe(3);
    expect(sum).toBeCloseTo(2 - 1 / 64, 6);
    expectSums(expSums(halves, 1, 7), expSumsRef(Float32Array.from(halves), 1, 7), 1e-15, 'halves');
    // exp(−1) and exp(−2) to an ulp.
    const [, e] = rowSums([3, 2, 1]);
    expect(Math.abs(e - (1 + Math.exp(-1) + Math.exp(-2)))).toBeLessThanOrEqual(4.5e-16);
  });

  it('takes each exp within an ulp of Math.exp, in every lane and the tail', () => {
    // Rows [d, 0, d, d, d] (d in both halves of the f32x4 and in the tail) sum to
    // less than 5, so an exp an ulp off moves the sum by at most two of its ulps.
    const d = new Rng(1).uniform(4000, -4, 1);
    const rows = d.length;
    const x = new Float32Array(rows * 5);
    for (let r = 0; r < rows; r++) x.set([d[r]!, 0, d[r]!, d[r]!, d[r]!], r * 5);
    const got = expSums(x, rows, 5);
    const want = expSumsRef(x, rows, 5);
    for (let r = 0; r < rows; r++) {
      const sum = want[2 * r + 1]!;
      expect(Math.abs(got[2 * r + 1]! - sum), `d = ${d[r]}`).toBeLessThanOrEqual(2 ** -51 * sum);
    }
  });

  it('gives −∞ entries nothing, and entries over 708 below the max nothing, as Math.exp does', () => {
    const [max, sum] = rowSums([-Infinity, 0, -Infinity, -Infinity, 1, -Infinity]);
    expect(max).toBe(1);
    expect(Math.abs(sum - (Math.exp(-1) + 1))).toBeLessThanOrEqual(2 ** -52);
    expect(rowSums([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 4])).toEqual([4, 1]);
    // exp(−720) is a subnormal Math.exp gives and the kernel does not: 1 + it is 1 either way.
    expect(rowSums([0, -720, -800, -1e30, -708.5, -Infinity])).toEqual([0, 1]);
  });

  it('gives a NaN sum where the Math.exp loop does: a NaN, +∞, or a row of −∞', () => {
    for (const row of [
      [1, 2, NaN, 3, 4], // NaN in the vector loop
      [1, 2, 3, 4, NaN], // NaN in the tail
      [NaN, -Infinity, -Infinity],
    ]) {
      const [max, sum] = rowSums(row);
      expect(max, `${row}`).toBeNaN();
      expect(sum, `${row}`).toBeNaN();
    }
    for (const row of [[1, Infinity, 3, 4, 5], [1, 2, 3, 4, Infinity]]) {
      const [max, sum] = rowSums(row);
      expect(max).toBe(Infinity); // ∞ − ∞ is NaN
      expect(sum).toBeNaN();
    }
    // At every position of a row with all three max loops (by 16, by 4, tail).
    for (let at = 0; at < 39; at++) {
      const row = Array.from({ length: 39 }, (_, i) => i % 7);
      row[at] = NaN;
      const [max, sum] = rowSums(row);
      expect(max, `NaN at ${at}`).toBeNaN();
      expect(sum, `NaN at ${at}`).toBeNaN();
      // Math.max ranks +0 over −0.
      const zeros = Array(39).fill(-0);
      zeros[at] = 0;
      expect(Object.is(rowSums(zeros)[0], 0), `+0 at ${at}`).toBe(true);
    }
    for (const n of [1, 4, 5, 39]) {
      const [max, sum] = rowSums(Array(n).fill(-Infinity));
      expect(max).toBe(-Infinity);
      expect(sum).toBeNaN();
    }
    // No values: the loop's −∞ and 0 (so log Σ exp = −∞).
    expect(Array.from(expSums([], 2, 0))).toEqual([-Infinity, 0, -Infinity, 0]);
  });

  it(`agrees with the Math.exp loop to 1e-14 on rows ${MARIAN_VOCAB} wide`, () => {
    const rng = new Rng(58101);
    for (const spread of [1, 20, 100, 1000]) {
      const rows = 3;
      const x = rng.uniform(rows * MARIAN_VOCAB, -spread, spread);
      // One row peaked as logits after a confident step are: a large max, the rest far below.
      x[MARIAN_VOCAB + 12345] = spread + 30;
      expectSums(expSums(x, rows, MARIAN_VOCAB), expSumsRef(x, rows, MARIAN_VOCAB), 1e-14, `±${spread}`);
    }
  });
});

describe('logSumExpRows', () => {
  const rows = 4;
  const n = MARIAN_VOCAB;
  const x = new Rng(7).uniform(rows * n, -15, 15);
  const want = expSumsRef(x, rows, n);
  const lse = (r: number): number => want[2 * r]! + Math.log(want[2 * r + 1]!);

  it('takes max + log(sum) of each row of a runtime tensor, and frees its scratch', () => {
    const logits = rt.tensor([rows, n], x);
    const used = rt.heap.used;
    const out = new Float64Array(rows);
    for (let i = 0; i < 100; i++) logSumExpRows(rt, logits.data, rows, n, out);
    expect(rt.heap.used).toBe(used);
    for (let r = 0; r < rows; r++) expect(Math.abs(out[r]! - lse(r)) / Math.abs(lse(r))).toBeLessThanOrEqual(1e-15);
    // A view of later rows reads from its own offset.
    const two = new Float64Array(2);
    logSumExpRows(rt, logits.rows(2, 2).data, 2, n, two);
    expect(Array.from(two)).toEqual([out[2], out[3]]);
  });

  it('copies in logits that are not in its memory, with the same result', () => {
    const inMemory = new Float64Array(rows);
    logSumExpRows(rt, rt.tensor([rows, n], x).data, rows, n, inMemory);
    const used = rt.heap.used;
    const copied = new Float64Array(rows);
    logSumExpRows(rt, x, rows, n, copied);
    expect(copied).toEqual(inMemory);
    expect(rt.heap.used).toBe(used);
  });

  it('refuses too few logits or outputs', () => {
    expectError(() => logSumExpRows(rt, new Float32Array(10), 2, 6, new Float64Array(2)), 'E_BAD_INPUT', /2 rows of 6 need 12 logits/);
    expectError(() => logSumExpRows(rt, new Float32Array(12), 2, 6, new Float64Array(1)), 'E_BAD_INPUT', /and 2 outputs, got 12 and 1/);
  });
});
