/**
 * Kernel speed, as `npm run bench` and `hibiki bench` report it: for each
 * registered kernel's bench problems, the time of one call (best of seven
 * rounds of tinybench medians), GFLOP/s, the fraction of the machine's WASM
 * SIMD peak (measured in the same rounds) and the speedup over the plain
 * TypeScript reference. Ratios, not absolute times, are what carry from one
 * noisy 2-core machine to another.
 */
import { Bench } from 'tinybench';
import { KERNELS, type KernelEntry, type Problem } from './registry.js';
import { Rng } from '../runtime/rng.js';
import { Runtime } from '../runtime/runtime.js';
import { type SystemInfo, systemInfo } from '../runtime/system.js';

export const REPORT_VERSION = 1;

/** What benchKernels measures, and how long. */
export interface KernelBenchOptions {
  /** Only problems whose kernel name or label matches. */
  filter?: RegExp;
  /** Minimum time per measurement, in ms. */
  timeMs?: number;
  /** Also time the plain TypeScript reference (slow for large problems). */
  reference?: boolean;
  /** Called as each row is measured, for progress output. */
  onRow?: (row: KernelBenchRow) => void;
}

/** One kernel on one problem: its time, its throughput and how near the SIMD peak it runs. */
export interface KernelBenchRow {
  kernel: string;
  family: string;
  problem: string;
  flops: number;
  /** Milliseconds per call: the best round's median. */
  ms: number;
  gflops: number;
  /** The WASM SIMD peak, best of the rounds that alternate with this kernel's. */
  peakGflops: number;
  /** gflops ÷ peakGflops. */
  peakFraction: number;
  referenceMs?: number;
  /** referenceMs / ms. */
  speedup?: number;
  target?: number;
  meetsTarget?: boolean;
}

/**
 * What benchKernels returns (and `hibiki bench --json` writes): the machine,
 * the peak and every row, with a format version.
 */
export interface KernelBenchReport {
  version: number;
  date: string;
  system: SystemInfo;
  /**
   * Independent f32x4 multiply-add chains, the ceiling for WASM SIMD on one
   * core: the median over the rows of their best-of-rounds peak.
   */
  peakGflops: number;
  rows: KernelBenchRow[];
}

/** Median ms per call of `fn`, by tinybench. */
export function medianMs(fn: () => unknown, timeMs: number, minIterations = 5, warmup = true): number {
  const bench = new Bench({
    time: timeMs,
    iterations: minIterations,
    warmup,
    warmupTime: Math.min(100, timeMs),
    warmupIterations: 2,
  });
  bench.add('task', fn);
  const [task] = bench.runSync();
  const result = task?.result;
  if (!result || !('latency' in result)) throw new Error(`benchmark failed: ${JSON.stringify(result)}`);
  return result.latency.p50;
}

const PEAK_ITERS = 250_000;

/** The WASM SIMD multiply-add peak of this core, in GFLOP/s. */
export function measurePeakGflops(rt: Runtime, timeMs: number, warmup = true): number {
  const ms = medianMs(() => rt.kernels.f32_peak_madd(PEAK_ITERS, 1), timeMs, 10, warmup);
  return (PEAK_ITERS * 12 * 4 * 2) / ms / 1e6;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Rounds of kernel and peak, alternating. */
const ROUNDS = 7;

/**
 * Times `call` in rounds that alternate with the peak microbenchmark and
 * keeps the best round of each (each round's figure a tinybench median). A
 * 2-core VM shared with other machines slows down in bursts of a few
 * hundred milliseconds and never speeds up, so the best round is the
 * machine's own speed, and kernel and peak are both seen at it.
 */
function bestOfRounds(rt: Runtime, call: () => unknown, flops: number, timeMs: number) {
  const perRound = Math.max(10, timeMs / ROUNDS);
  let ms = Infinity;
  let peakGflops = 0;
  for (let round = 0; round < ROUNDS; round++) {
    peakGflops = Math.max(peakGflops, measurePeakGflops(rt, perRound / 2, round === 0));
    ms = Math.min(ms, medianMs(call, perRound, 5, round === 0));
  }
  return { ms, peakGflops, peakFraction: flops / ms / 1e6 / peakGflops };
}

function benchProblem(rt: Runtime, entry: KernelEntry, problem: Problem, options: KernelBenchOptions): KernelBenchRow {
  const timeMs = options.timeMs ?? 300;
  return rt.scope(() => {
    const { call } = problem.prepare(rt);
    const { ms, peakGflops, peakFraction } = bestOfRounds(rt, call, problem.flops, timeMs);
    const row: KernelBenchRow = {
      kernel: entry.kernel,
      family: entry.family,
      problem: problem.label,
      flops: problem.flops,
      ms,
      gflops: problem.flops / ms / 1e6,
      peakGflops,
      peakFraction,
    };
    if (options.reference ?? true) {
      // The reference is slow: a few runs give a stable enough median.
      row.referenceMs = medianMs(() => problem.reference(), 0, 3);
      row.speedup = row.referenceMs / ms;
    }
    if (problem.target !== undefined) {
      row.target = problem.target;
      row.meetsTarget = row.peakFraction >= problem.target;
    }
    return row;
  });
}

/**
 * Times every registered kernel on its model-shaped problems (KERNELS), in
 * this thread, against the WASM SIMD peak measured between them.
 */
export function benchKernels(options: KernelBenchOptions = {}): KernelBenchReport {
  const rt = Runtime.create();
  measurePeakGflops(rt, 200); // warm-up: V8 tiers the kernels up on first use
  const rows: KernelBenchRow[] = [];
  for (const entry of KERNELS) {
    for (const problem of entry.bench(new Rng(42))) {
      if (options.filter && !options.filter.test(`${entry.kernel} ${problem.label}`)) continue;
      const row = benchProblem(rt, entry, problem, options);
      rows.push(row);
      options.onRow?.(row);
    }
  }
  const peakGflops = rows.length ? median(rows.map((r) => r.peakGflops)) : measurePeakGflops(rt, 200);
  return { version: REPORT_VERSION, date: new Date().toISOString(), system: systemInfo(1), peakGflops, rows };
}

const fixed = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));

/** One line per problem, aligned for a terminal. */
export function formatKernelRow(row: KernelBenchRow): string {
  const target =
    row.target === undefined ? '' : `target ≥ ${Math.round(row.target * 100)} %: ${row.meetsTarget ? 'met' : 'MISSED'}`;
  return [
    row.problem.padEnd(44),
    `${fixed(row.ms, 3).padStart(9)} ms`,
    row.flops ? `${fixed(row.gflops, 1).padStart(6)} GFLOP/s` : ''.padStart(14),
    row.flops ? `${fixed(row.peakFraction * 100, 0).padStart(4)} % of peak` : ''.padStart(14),
    row.speedup === undefined ? '' : `${fixed(row.speedup, 1).padStart(7)}× plain TS`,
    target,
  ].join('  ');
}
