/**
 * Kernel speed, as `npm run bench` and `hibiki bench` report it: for each
 * registered kernel's bench problems, the median time of one call, GFLOP/s,
 * the fraction of the machine's WASM SIMD peak (measured in the same run) and
 * the speedup over the plain TypeScript reference. Ratios, not absolute times,
 * are what carry from one noisy 2-core machine to another.
 */
import { Bench } from 'tinybench';
import { KERNELS, type KernelEntry, type Problem } from '../runtime/kernels.js';
import { Rng } from '../runtime/rng.js';
import { Runtime } from '../runtime/runtime.js';
import { type SystemInfo, systemInfo } from './system.js';

export const REPORT_VERSION = 1;

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

export interface KernelBenchRow {
  kernel: string;
  family: string;
  problem: string;
  flops: number;
  /** Median milliseconds per call. */
  ms: number;
  gflops: number;
  /** The WASM SIMD peak, measured in rounds alternating with this kernel's. */
  peakGflops: number;
  /** Median over the rounds of (kernel GFLOP/s ÷ peak GFLOP/s of the same round). */
  peakFraction: number;
  referenceMs?: number;
  /** referenceMs / ms. */
  speedup?: number;
  target?: number;
  meetsTarget?: boolean;
}

export interface KernelBenchReport {
  version: number;
  date: string;
  system: SystemInfo;
  /**
   * Independent f32x4 multiply-add chains, the ceiling for WASM SIMD on one
   * core: the median of the per-row measurements.
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

/** Alternating rounds of kernel and peak: enough to see through a shared machine's drift. */
const ROUNDS = 7;

/**
 * Times `call` in rounds, each right after a short measurement of the peak,
 * and takes the kernel/peak ratio per round: a 2-core VM's speed moves by
 * tens of percent within seconds, and a ratio of two measurements taken far
 * apart would move with it.
 */
function interleaved(rt: Runtime, call: () => unknown, flops: number, timeMs: number) {
  const perRound = Math.max(10, timeMs / ROUNDS);
  const ms: number[] = [];
  const peaks: number[] = [];
  const fractions: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const peak = measurePeakGflops(rt, perRound / 2, round === 0);
    const t = medianMs(call, perRound, 5, round === 0);
    ms.push(t);
    peaks.push(peak);
    fractions.push(flops / t / 1e6 / peak);
  }
  return { ms: median(ms), peakGflops: median(peaks), peakFraction: median(fractions) };
}

function benchProblem(rt: Runtime, entry: KernelEntry, problem: Problem, options: KernelBenchOptions): KernelBenchRow {
  const timeMs = options.timeMs ?? 300;
  return rt.scope(() => {
    const { call } = problem.prepare(rt);
    const { ms, peakGflops, peakFraction } = interleaved(rt, call, problem.flops, timeMs);
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
