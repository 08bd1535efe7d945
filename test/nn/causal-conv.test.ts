import { describe, expect, it } from 'vitest';
import { causalConv, causalConvLayer, causalConvQueue, causalConvStep } from '../../src/nn/causal-conv.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { errorOf } from '../helpers/errors.js';

// y[t] = bias + Σ_k W_k · x[t − (K − 1 − k)·d], zeros before t = 0.
describe('causal conv, by hand: C = 1, K = 2, dilation 2', () => {
  // W = [2, 3]: tap 0 reads x[t − 2], tap 1 reads x[t]; bias 0.5.
  const x = [1, 2, 3, 4, 5];
  const want = [0.5 + 3 * 1, 0.5 + 3 * 2, 0.5 + 2 * 1 + 3 * 3, 0.5 + 2 * 2 + 3 * 4, 0.5 + 2 * 3 + 3 * 5]; // 3.5, 6.5, 11.5, 16.5, 21.5
  const layer = (rt: Runtime) => causalConvLayer(rt, Float32Array.from([2, 3]), [1, 1, 2], { dilation: 2, bias: Float32Array.from([0.5]) });

  it('over the whole sequence', () => {
    const rt = Runtime.create();
    expect(Array.from(causalConv(rt, layer(rt), rt.tensor([5, 1], x)).toArray())).toEqual(want);
  });

  it('one step at a time, the queue holding x[t − 2] and x[t − 1]', () => {
    const rt = Runtime.create();
    const conv = layer(rt);
    const queue = causalConvQueue(rt, conv, 1);
    expect(queue.slots).toBe(2);
    const xt = rt.tensor([1, 1]);
    const z = rt.tensor([1, 1]);
    const got = x.map((v, t) => {
      xt.write([v]);
      causalConvStep(rt, conv, queue, t, xt, z);
      return z.data[0];
    });
    expect(got).toEqual(want);
    // after t = 4 the ring holds x[3] in slot 3 mod 2 = 1 and x[4] in slot 0
    expect(Array.from(queue.buffer.toArray())).toEqual([5, 4]);
  });
});

describe('causal conv: the step path equals the whole sequence', () => {
  const B = 3; // streams stepping together
  const C = 6;
  const OC = 8;
  const T = 50;
  for (const K of [2, 3]) {
    for (const dilation of [1, 2, 5, 40]) {
      it(`K = ${K}, dilation ${dilation}: ${B} streams of ${T} steps, plain, accumulating onto a bias, and gated`, () => {
        const rt = Runtime.create();
        const rng = new Rng(K * 100 + dilation);
        const conv = causalConvLayer(rt, rng.uniform(OC * C * K, -0.5, 0.5), [OC, C, K], { dilation, bias: rng.uniform(OC) });
        const xs = rng.uniform(B * T * C); // (B, T, C)
        const x = rt.tensor([B, T, C], xs);
        const whole = causalConv(rt, conv, x).toArray(); // (B, T, OC)
        const gated = causalConv(rt, conv, x, { gated: true }).toArray(); // (B, T, OC/2)
        const plain = causalConvQueue(rt, conv, B);
        const onBias = causalConvQueue(rt, conv, B);
        const xt = rt.tensor([B, C]);
        const z = rt.tensor([B, OC]);
        const zBias = rt.tensor([B, OC]);
        const gate = rt.tensor([B, OC / 2]);
        const bias = rt.heap.f32(conv.bias.ptr, OC).slice();
        const accumulate = { accumulate: true, gate };
        const stepped = new Float32Array(B * T * OC);
        const steppedOnBias = new Float32Array(B * T * OC);
        const steppedGate = new Float32Array(B * T * (OC / 2));
        for (let t = 0; t < T; t++) {
          xt.write(Array.from({ length: B }, (_, b) => Array.from(xs.subarray((b * T + t) * C, (b * T + t + 1) * C))).flat());
          causalConvStep(rt, conv, plain, t, xt, z);
          zBias.write(Array.from({ length: B }, () => Array.from(bias)).flat());
          causalConvStep(rt, conv, onBias, t, xt, zBias, accumulate);
          for (let b = 0; b < B; b++) {
            stepped.set(z.data.subarray(b * OC, (b + 1) * OC), (b * T + t) * OC);
            steppedOnBias.set(zBias.data.subarray(b * OC, (b + 1) * OC), (b * T + t) * OC);
            steppedGate.set(gate.data.subarray(b * (OC / 2), (b + 1) * (OC / 2)), (b * T + t) * (OC / 2));
          }
        }
        // All taps in one sum, or tap by tap: equal to rounding.
        expectClose(stepped, whole, 1e-6, 'step');
        expectClose(steppedOnBias, whole, 1e-6, 'step onto the bias');
        expectClose(steppedGate, gated, 1e-6, 'gated step');
        // Some taps must read past inputs, or the test would not test the queue.
        expect(T).toBeGreaterThan(dilation);
      });
    }
  }

  it('over time tiles with their history, exactly as over the whole sequence', () => {
    const rt = Runtime.create();
    const rng = new Rng(7);
    const K = 3;
    const dilation = 4;
    const conv = causalConvLayer(rt, rng.uniform(OC * C * K), [OC, C, K], { dilation, bias: rng.uniform(OC) });
    const x = rt.tensor([T, C], rng.uniform(T * C));
    const whole = causalConv(rt, conv, x).toArray();
    const reach = (K - 1) * dilation;
    const padded = rt.tensor([reach + T, C]); // zeros, then x
    padded.rows(reach, T).write(x.data);
    const tiles: number[] = [];
    for (let t0 = 0; t0 < T; t0 += 16) {
      const n = Math.min(16, T - t0);
      tiles.push(...causalConv(rt, conv, padded.rows(t0, reach + n), { history: reach }).toArray());
    }
    expect(tiles).toEqual(Array.from(whole));
  });
});

describe('causal conv step checks', () => {
  it('refuses a queue made for another dilation, tensors of the wrong size and a step before 0', () => {
    const rt = Runtime.create();
    const conv = causalConvLayer(rt, new Float32Array(4 * 2 * 2), [4, 2, 2], { dilation: 3 });
    const other = causalConvLayer(rt, new Float32Array(4 * 2 * 2), [4, 2, 2], { dilation: 2 });
    const queue = causalConvQueue(rt, other, 1);
    expect(errorOf(() => causalConvStep(rt, conv, queue, 0, rt.tensor([1, 2]), rt.tensor([1, 4])))).toMatch(
      /^E_SHAPE: causalConvStep: .*the queue \(K − 1\)·dilation = 3 slots \(has 2\)/,
    );
    const mine = causalConvQueue(rt, conv, 1);
    expect(errorOf(() => causalConvStep(rt, conv, mine, 0, rt.tensor([1, 3]), rt.tensor([1, 4])))).toMatch(/x must be \[1, 2\] \(got \[1, 3\]\)/);
    expect(errorOf(() => causalConvStep(rt, conv, mine, -1, rt.tensor([1, 2]), rt.tensor([1, 4])))).toBe('E_BAD_INPUT: causalConvStep: t must be a step ≥ 0, got -1');
    expect(errorOf(() => causalConvLayer(rt, new Float32Array(8), [2, 2, 2], { dilation: 0 }))).toMatch(/dilation must be an integer ≥ 1, got 0/);
  });
});
