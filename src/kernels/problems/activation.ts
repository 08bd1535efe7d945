import type { KernelEntry, Problem } from '../problem.js';
import { type Activation, activation, add, concatChannels, gatedTanh, mul, softmax } from '../../runtime/ops/activation.js';
import type { Rng } from '../../runtime/rng.js';
import { activationRef, concatChannelsRef, expSumsRef, gatedTanhRef, sampleRowsRef, softmaxRef } from '../reference/activation.js';

function activationProblem(rng: Rng, n: number, act: Activation): Problem {
  const x = rng.uniform(n, -8, 8);
  return {
    label: `${act} n=${n}`,
    // Transcendentals have no agreed flop count: reported by time only.
    flops: 0,
    prepare(rt) {
      const xt = rt.tensor([n], x);
      const out = rt.tensor([n]);
      return { call: () => activation(rt, xt, act, out), output: () => out.toArray() };
    },
    reference: () => activationRef(x, act),
  };
}

function gateProblem(rng: Rng, rows: number, C: number): Problem {
  const x = rng.uniform(rows * 2 * C, -6, 6);
  return {
    label: `gated tanh ${rows}×${C}`,
    flops: 0,
    prepare(rt) {
      const xt = rt.tensor([rows, 2 * C], x);
      const out = rt.tensor([rows, C]);
      return { call: () => gatedTanh(rt, xt, out), output: () => out.toArray() };
    },
    reference: () => gatedTanhRef(x, rows, C),
  };
}

function softmaxProblem(rng: Rng, rows: number, n: number, log: boolean): Problem {
  const x = rng.uniform(rows * n, -20, 20);
  return {
    label: `${log ? 'log-' : ''}softmax ${rows}×${n}`,
    flops: 0,
    prepare(rt) {
      const xt = rt.tensor([rows, n], x);
      const out = rt.tensor([rows, n]);
      return { call: () => softmax(rt, xt, { log, out }), output: () => out.toArray() };
    },
    reference: () => softmaxRef(x, rows, n, log),
  };
}

// The kernel itself, not logSumExpRows over it: the (max, sum) pairs are what
// must agree with the Math.exp loop, the max exactly and the sum to 1e-13
// (it is the loop's sum to the bit where Math.exp is fdlibm's; elsewhere each
// term may be an ulp off).
function expSumsProblem(rng: Rng, rows: number, n: number, spread: number): Problem {
  const x = rng.uniform(rows * n, -spread, spread);
  return {
    label: `exp sums ${rows}×${n} in ±${spread}`,
    flops: 0,
    tolerance: 1e-13,
    prepare(rt) {
      const xt = rt.tensor([rows, n], x);
      const out = rt.scratch(4 * rows); // f64 [rows, 2]
      return {
        call: () => rt.kernels.f32_exp_sums(rows, n, xt.ptr, out),
        output: () => new Float64Array(rt.heap.memory.buffer, out, 2 * rows).slice(),
      };
    },
    reference: () => expSumsRef(x, rows, n),
  };
}

// Draws must equal drawCategorical's exactly: the same class, every row.
// Rows with u = −1 are left out and keep what out held. Rows are built to
// catch the edges: a repeated maximum (ties go to the first), a value one
// float below the maximum before it (greedy must not take it), flat rows
// with u = k/n (the cumulative sum meets u·total exactly at class k − 1),
// and u = 0 (with min-p, class 0 may weigh 0 and must not be drawn).
// Temperature 0 is greedy; min-p 0 keeps every class, and 0.05 and 0.3 cut
// most of a row in ±8.
function sampleRowsProblem(rng: Rng, rows: number, n: number, spread: number): Problem {
  const x = rng.uniform(rows * n, -spread, spread);
  const u = Float64Array.from({ length: rows }, () => (rng.next() < 0.1 ? -1 : rng.next()));
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    const kind = rng.int(0, 4);
    if (kind === 0 && n > 1) row[rng.int(0, n - 1)] = row[rng.int(0, n - 1)] = spread + 1;
    if (kind === 1 && n > 1) {
      const at = rng.int(1, n - 1);
      row[at] = spread + 1;
      row[rng.int(0, at - 1)] = Math.fround(spread + 1 - 2 ** -20);
    }
    if (kind === 2) {
      row.fill(0.5);
      if (u[r]! >= 0) u[r] = rng.int(0, n) / n;
    }
    if (kind === 3 && u[r]! >= 0) u[r] = 0;
  }
  const temperatures = Float64Array.from({ length: rows }, () => rng.pick([0, 0.5, 0.9, 1, 1.3]));
  const minP = Float64Array.from({ length: rows }, () => rng.pick([0, 0, 0.01, 0.05, 0.3]));
  const BEFORE = -7;
  return {
    label: `sample rows ${rows}×${n} in ±${spread}`,
    flops: 0,
    tolerance: 0,
    prepare(rt) {
      const xt = rt.tensor([rows, n], x);
      const t = rt.scratch(2 * rows);
      const p = rt.scratch(2 * rows);
      const uu = rt.scratch(2 * rows);
      const cdf = rt.scratch(2 * n);
      const out = rt.scratch(rows);
      new Float64Array(rt.heap.memory.buffer, t, rows).set(temperatures);
      new Float64Array(rt.heap.memory.buffer, p, rows).set(minP);
      new Float64Array(rt.heap.memory.buffer, uu, rows).set(u);
      new Int32Array(rt.heap.memory.buffer, out, rows).fill(BEFORE);
      return {
        call: () => rt.kernels.f32_sample_rows(rows, n, xt.ptr, t, p, uu, cdf, out),
        output: () => Float32Array.from(new Int32Array(rt.heap.memory.buffer, out, rows)),
      };
    },
    reference: () => sampleRowsRef(x, rows, n, temperatures, minP, u, BEFORE),
  };
}

function binaryProblem(rng: Rng, n: number, op: 'add' | 'mul'): Problem {
  const a = rng.uniform(n);
  const b = rng.uniform(n);
  return {
    label: `${op} n=${n}`,
    flops: n,
    prepare(rt) {
      const at = rt.tensor([n], a);
      const bt = rt.tensor([n], b);
      const out = rt.tensor([n]);
      return { call: () => (op === 'add' ? add : mul)(rt, at, bt, out), output: () => out.toArray() };
    },
    reference: () => a.map((v, i) => (op === 'add' ? v + b[i]! : v * b[i]!)),
  };
}

function concatProblem(rng: Rng, rows: number, channels: number[]): Problem {
  const parts = channels.map((c) => rng.uniform(rows * c));
  return {
    label: `concat ${rows}×[${channels.join(', ')}]`,
    flops: 0,
    prepare(rt) {
      const ts = parts.map((p, i) => rt.tensor([rows, channels[i]!], p));
      const out = rt.tensor([rows, channels.reduce((a, b) => a + b, 0)]);
      return { call: () => concatChannels(rt, ts, out), output: () => out.toArray() };
    },
    reference: () => concatChannelsRef(parts, rows, channels),
  };
}

export const activationKernels: KernelEntry[] = [
  {
    kernel: 'f32_activation',
    family: 'activation',
    random: (rng) => activationProblem(rng, rng.int(0, 300), rng.pick<Activation>(['relu', 'relu6', 'gelu', 'tanh', 'sigmoid', 'silu'])),
    bench: (rng) => [activationProblem(rng, 1 << 16, 'gelu')],
  },
  {
    kernel: 'f32_gated_tanh',
    family: 'activation',
    random: (rng) => gateProblem(rng, rng.int(1, 20), rng.int(1, 40)),
    bench: (rng) => [gateProblem(rng, 1024, 64)],
  },
  {
    kernel: 'f32_softmax_rows',
    family: 'activation',
    random: (rng) => softmaxProblem(rng, rng.int(1, 10), rng.int(1, 100), rng.next() < 0.5),
    bench: (rng) => [softmaxProblem(rng, 128, 1024, false)],
  },
  {
    kernel: 'f32_exp_sums',
    family: 'activation',
    // ±500 reaches x − max < −708, where the kernel's exp gives 0.
    random: (rng) => expSumsProblem(rng, rng.int(1, 8), rng.int(1, 300), rng.pick([20, 500])),
    bench: (rng) => [expSumsProblem(rng, 4, 58101, 20)],
  },
  {
    kernel: 'f32_sample_rows',
    family: 'activation',
    random: (rng) => sampleRowsProblem(rng, rng.int(1, 12), rng.int(1, 300), rng.pick([4, 20, 500])),
    // WaveNet generation's draw: 8 streams of 256 μ-law classes.
    bench: (rng) => [sampleRowsProblem(rng, 8, 256, 8)],
  },
  {
    kernel: 'f32_add',
    family: 'activation',
    random: (rng) => binaryProblem(rng, rng.int(0, 100), 'add'),
    bench: (rng) => [binaryProblem(rng, 1 << 16, 'add')],
  },
  {
    kernel: 'f32_mul',
    family: 'activation',
    random: (rng) => binaryProblem(rng, rng.int(0, 100), 'mul'),
    bench: (rng) => [binaryProblem(rng, 1 << 16, 'mul')],
  },
  {
    kernel: 'f32_copy_rows',
    family: 'activation',
    random: (rng) => concatProblem(rng, rng.int(1, 30), Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 33))),
    bench: (rng) => [concatProblem(rng, 56 * 56, [64, 32, 32])],
  },
];
