import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import {
  type CrossAttention, type MultiHeadAttention, attentionBuffers, crossAttention, keyValueCache, keysValues, loadMultiHeadAttention,
  multiHeadSelfAttention, reorderCache, selfAttention, stepBuffers, stepCrossAttention, stepSelfAttention,
} from '../../src/nn/attention.js';
import { type Linear, vector } from '../../src/nn/linear.js';
import { packMatrixValues } from '../../src/runtime/ops/gemm.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { attentionRef } from '../../src/kernels/reference/attention.js';
import { expectClose } from '../helpers/compare.js';
import { errorOf } from '../helpers/errors.js';

// PyTorch's nn.MultiheadAttention on seeded weights (tools/fixtures_mha.py)
const file = readSafetensors(new URL('../fixtures/mha.safetensors', import.meta.url).pathname);
const cases = JSON.parse(file.metadata.cases!) as Array<{ name: string; heads: number; causal: boolean }>;

describe('multiHeadSelfAttention', () => {
  it('gives nn.MultiheadAttention’s outputs (batch_first; causal through the mask)', () => {
    expect(cases).toHaveLength(4);
    for (const { name, heads, causal } of cases) {
      const rt = Runtime.create();
      const layer = loadMultiHeadAttention(rt, file, name, heads);
      const x = file.get(`${name}.x`);
      const y = multiHeadSelfAttention(rt, layer, rt.tensor(x.shape, x.data as Float32Array), { causal });
      expect(y.shape, name).toEqual(x.shape);
      expectClose(y.toArray(), file.get(`${name}.y`).data as Float32Array, 1e-4);
    }
  });

  it('refuses heads that do not divide d, and an input of another width', () => {
    const rt = Runtime.create();
    expect(errorOf(() => loadMultiHeadAttention(rt, file, 'd48_h6_b2_t7', 5))).toMatch(/5 heads do not divide d = 48/);
    const layer = loadMultiHeadAttention(rt, file, 'd48_h6_b2_t7', 6);
    expect(errorOf(() => multiHeadSelfAttention(rt, layer, rt.tensor([3, 47])))).toMatch(/x has shape \[3, 47\], expected \[B, T, 48\]/);
  });
});

// ---------------------------------------------------------------------------
// The Transformer's uses: packed sequences, cross-attention, decoding steps
// ---------------------------------------------------------------------------

const d = 24;
const H = 3;
const dk = d / H;

/** A Linear in → out with seeded weights, and the plain values for the reference. */
function randomLinear(rt: Runtime, rng: Rng, out: number, inp: number): Linear & { w: Float32Array; b: Float32Array } {
  const w = rng.uniform(out * inp, -0.5, 0.5);
  const b = rng.uniform(out, -0.1, 0.1);
  return { weight: packMatrixValues(rt, w, [out, inp], { transposed: true }), bias: vector(rt, b), w, b };
}

/** x (rows, in) · Wᵀ + b in float64, rounded once. */
function linearRef(x: ArrayLike<number>, layer: { w: Float32Array; b: Float32Array }, rows: number, inp: number, out: number): Float32Array {
  const y = new Float32Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = layer.b[o]!;
      for (let i = 0; i < inp; i++) s += x[r * inp + i]! * layer.w[o * inp + i]!;
      y[r * out + o] = s;
    }
  }
  return y;
}

/** Columns [first, first + n) of every row of a (rows, width) matrix. */
const columns = (m: Float32Array, rows: number, width: number, first: number, n: number) =>
  Float32Array.from({ length: rows * n }, (_, i) => m[Math.floor(i / n) * width + first + (i % n)]!);

/** Rows (T, d) → heads (H, T, dk), and back. */
const toHeads = (m: Float32Array, T: number) => Float32Array.from({ length: T * d }, (_, i) => {
  const h = Math.floor(i / (T * dk));
  const t = Math.floor(i / dk) % T;
  return m[t * d + h * dk + (i % dk)]!;
});
const fromHeads = (m: Float32Array, T: number) => Float32Array.from({ length: T * d }, (_, i) => {
  const t = Math.floor(i / d);
  const h = Math.floor((i % d) / dk);
  return m[(h * T + t) * dk + (i % dk)]!;
});

/** One sequence's attention from projected q (Tq, d), k and v (Tk, d), through attentionRef, then Wo. */
function attendRef(q: Float32Array, k: Float32Array, v: Float32Array, Tq: number, Tk: number, o: { w: Float32Array; b: Float32Array }, causal: boolean) {
  const y = attentionRef(toHeads(q, Tq), toHeads(k, Tk), toHeads(v, Tk), { B: 1, H, Tq, Tk, D: dk, Dv: dk }, { scale: 1 / Math.sqrt(dk), causal });
  return linearRef(fromHeads(y, Tq), o, Tq, d, d);
}

function setup(seed: number) {
  const rt = Runtime.create();
  const rng = new Rng(seed);
  const qkv = randomLinear(rt, rng, 3 * d, d);
  const o = randomLinear(rt, rng, d, d);
  const self: MultiHeadAttention = { heads: H, qkv, o };
  const cq = randomLinear(rt, rng, d, d);
  const ckv = randomLinear(rt, rng, 2 * d, d);
  const co = randomLinear(rt, rng, d, d);
  const cross: CrossAttention = { heads: H, q: cq, kv: ckv, o: co };
  return { rt, rng, self, cross, ref: { qkv, o, cq, ckv, co } };
}

const rowsOf = (t: Tensor, first: number, count: number) => t.rows(first, count).toArray();

describe('selfAttention over packed sequences', () => {
  const lengths = [3, 17, 1, 5]; // 17 rows take the kernel's packed path, the others its direct one
  const N = lengths.reduce((a, b) => a + b, 0);

  for (const causal of [false, true]) {
    it(`gives each sequence the reference attention over its own rows${causal ? ', causal' : ''}, bit-identical alone and packed`, () => {
      const { rt, rng, self, ref } = setup(1);
      const x = rt.tensor([N, d], rng.uniform(N * d));
      const out = rt.empty([N, d]);
      const buffers = attentionBuffers(rt, { rows: N, d, heads: H, maxQueries: 17, maxKeys: 17 });
      selfAttention(rt, self, x, out, buffers, { lengths, causal });
      let first = 0;
      for (const T of lengths) {
        const rows = linearRef(rowsOf(x, first, T), ref.qkv, T, d, 3 * d);
        const want = attendRef(columns(rows, T, 3 * d, 0, d), columns(rows, T, 3 * d, d, d), columns(rows, T, 3 * d, 2 * d, d), T, T, ref.o, causal);
        expectClose(rowsOf(out, first, T), want, 1e-5, `sequence of ${T}`);
        const alone = rt.empty([T, d]);
        selfAttention(rt, self, x.rows(first, T), alone, buffers, { lengths: [T], causal });
        expect(alone.toArray()).toEqual(rowsOf(out, first, T));
        first += T;
      }
    });
  }

  it('adds to out with accumulate (a residual connection), reading x before writing', () => {
    const { rt, rng, self } = setup(2);
    const x = rt.tensor([N, d], rng.uniform(N * d));
    const buffers = attentionBuffers(rt, { rows: N, d, heads: H, maxQueries: 17, maxKeys: 17 });
    const y = rt.empty([N, d]);
    selfAttention(rt, self, x, y, buffers, { lengths });
    const sum = x.toArray().map((v, i) => v + y.data[i]!);
    selfAttention(rt, self, x, x, buffers, { lengths, accumulate: true });
    expectClose(x.toArray(), sum, 1e-6);
  });

  it('refuses lengths that do not add up to the rows', () => {
    const { rt, self } = setup(3);
    const buffers = attentionBuffers(rt, { rows: 4, d, heads: H, maxQueries: 4, maxKeys: 4 });
    expect(errorOf(() => selfAttention(rt, self, rt.tensor([4, d]), rt.empty([4, d]), buffers, { lengths: [2, 3] })))
      .toMatch(/selfAttention: x \[4, 24\] and out \[4, 24\] must both be the 5 rows of 24 the lengths add up to/);
  });
});

describe('crossAttention and keysValues', () => {
  it('attends each query sequence to its own memory sequence, as the reference, in packed and step form alike', () => {
    const { rt, rng, cross, ref } = setup(4);
    const memoryLengths = [4, 18];
    const lengths = [3, 2];
    const S = 22;
    const N = 5;
    const memory = rt.tensor([S, d], rng.uniform(S * d));
    const x = rt.tensor([N, d], rng.uniform(N * d));
    const kv = keysValues(rt, cross, memory, { lengths: memoryLengths });
    expect(kv.offsets).toEqual([0, 4]);
    const out = rt.empty([N, d]);
    crossAttention(rt, cross, x, out, kv, attentionBuffers(rt, { rows: N, d, heads: H, maxQueries: 3, maxKeys: 18 }), { lengths });
    const stepOut = rt.empty([N, d]);
    stepCrossAttention(rt, cross, x, stepOut, kv, Int32Array.from([0, 0, 0, 1, 1]), stepBuffers(rt, { rows: N, d, heads: H, maxKeys: 18 }), {});
    // Fewer than 16 queries: the kernel's direct path either way, so the step gives the same bits.
    expect(stepOut.toArray()).toEqual(out.toArray());
    let first = 0;
    lengths.forEach((T, b) => {
      const m = linearRef(rowsOf(memory, kv.offsets[b]!, memoryLengths[b]!), ref.ckv, memoryLengths[b]!, d, 2 * d);
      const q = linearRef(rowsOf(x, first, T), ref.cq, T, d, d);
      const want = attendRef(q, columns(m, memoryLengths[b]!, 2 * d, 0, d), columns(m, memoryLengths[b]!, 2 * d, d, d), T, memoryLengths[b]!, ref.co, false);
      expectClose(rowsOf(out, first, T), want, 1e-5, `sentence ${b}`);
      first += T;
    });
  });
});

describe('stepSelfAttention and reorderCache', () => {
  it('gives the causal self-attention’s rows one position at a time, and a row continues its parent after a reorder', () => {
    const { rt, rng, self } = setup(5);
    const T = 6;
    const R = 2;
    const sequences = [rt.tensor([T, d], rng.uniform(T * d)), rt.tensor([T, d], rng.uniform(T * d))];
    const full = sequences.map((s) => {
      const y = rt.empty([T, d]);
      selfAttention(rt, self, s, y, attentionBuffers(rt, { rows: T, d, heads: H, maxQueries: T, maxKeys: T }), { lengths: [T], causal: true });
      return y.toArray();
    });
    const cache = keyValueCache(rt, { rows: R, d, heads: H, capacity: T });
    const buffers = stepBuffers(rt, { rows: R, d, heads: H, maxKeys: T });
    const x = rt.empty([R, d]);
    const out = rt.empty([R, d]);
    // Row r follows sequence order[r]; after position 3 the rows swap sequences and their caches with them.
    let order = [0, 1];
    for (let t = 0; t < T; t++) {
      if (t === 3) {
        reorderCache(rt, cache, [1, 0], t);
        order = [1, 0];
      }
      order.forEach((s, r) => x.rows(r, 1).write(sequences[s]!.rows(t, 1).toArray()));
      stepSelfAttention(rt, self, x, out, cache, t, buffers, {});
      order.forEach((s, r) => expect(rowsOf(out, r, 1), `position ${t}, row ${r}`).toEqual(full[s]!.subarray(t * d, (t + 1) * d)));
    }
    expect(errorOf(() => stepSelfAttention(rt, self, x, out, cache, T, buffers, {}))).toMatch(/position 6 is past the 6 positions the cache holds/);
    expect(errorOf(() => reorderCache(rt, cache, [0], 2))).toMatch(/1 parents for 2 rows/);
  });
});
