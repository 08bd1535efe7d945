import { expect } from 'vitest';

/**
 * The parity rule (DESIGN.md, Proof): |got − want| ≤ tol · max(1, |want|),
 * i.e. absolute error for values up to 1, relative for larger magnitudes.
 * Returns the worst scaled error so tests can report it.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4, what = 'output'): number {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) !== Number.isNaN(g)) {
      throw new Error(`${what}[${i}]: got ${g}, want ${w}`);
    }
    if (Number.isNaN(w)) continue;
    const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  expect(worst, `${what}: worst error at [${worstAt}]: got ${got[worstAt]}, want ${want[worstAt]}`).toBeLessThanOrEqual(tol);
  return worst;
}
