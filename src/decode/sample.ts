import { badInput } from '../errors.js';
import { drawCategorical } from '../kernels/reference/activation.js';
import type { Rng } from '../runtime/rng.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';

/**
 * Draws a class from logits: softmax(logits / temperature) in f64, then the
 * first class whose cumulative probability reaches u · total (u from `rng`).
 * temperature 0 is greedy (argmax, the first on ties). With `minP` > 0 the
 * classes less likely than minP times the likeliest are left out first
 * (min-p sampling). tools/wavenet_torch.py implements the same rule, so
 * fixtures can check sampled sequences. The rule itself is drawCategorical,
 * the reference of the kernel RowSampler runs.
 */
export function sampleCategorical(
  logits: Float32Array, temperature: number, rng: Rng | undefined, cdf = new Float64Array(logits.length), minP = 0,
): number {
  return drawCategorical(logits, temperature, temperature === 0 || !rng ? undefined : rng.next(), cdf, minP);
}

/**
 * sampleCategorical for every row of a logits tensor [rows, n] at once, in
 * WebAssembly (`f32_sample_rows`): the same rule and the same draws (each
 * exp is Math.exp's to the bit where that is fdlibm's, V8 on x64), a third
 * of the time. Made once per run, in the caller's scope: it holds its
 * scratch there. Per draw, set `temperatures[r]`, `minP[r]` (0 keeps every
 * class) and `u[r]`: the row's
 * uniform number, 0 for a greedy row (temperature 0 draws none), −1 to skip
 * the row; `draw` gives the classes (a view, overwritten by the next draw).
 */
export class RowSampler {
  /** Per row: its temperature (0 = greedy). */
  readonly temperatures: Float64Array;
  /** Per row: its min-p (0 = every class may be drawn). */
  readonly minP: Float64Array;
  /** Per row: its uniform number in [0, 1), or −1 to leave the row out. */
  readonly u: Float64Array;
  private readonly classes: Int32Array;
  private readonly cdf: number;

  constructor(
    private readonly rt: Runtime,
    /** Rows of the logits. */
    readonly rows: number,
    /** Classes per row. */
    readonly n: number,
  ) {
    if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(n) || rows < 1 || n < 1) {
      throw badInput(`RowSampler: rows and classes must be positive integers, got ${rows} and ${n}`);
    }
    const heap = rt.heap;
    const temperatures = heap.alloc(8 * rows);
    const minP = heap.alloc(8 * rows);
    const u = heap.alloc(8 * rows);
    const classes = heap.alloc(4 * rows);
    this.cdf = heap.alloc(8 * n);
    this.temperatures = new Float64Array(heap.memory.buffer, temperatures, rows);
    this.minP = new Float64Array(heap.memory.buffer, minP, rows).fill(0);
    this.u = new Float64Array(heap.memory.buffer, u, rows);
    this.classes = new Int32Array(heap.memory.buffer, classes, rows);
  }

  /** Each row's class (rows left out keep what they had); `logits` must be [rows, n]. */
  draw(logits: Tensor): Int32Array {
    if (logits.shape.length !== 2 || logits.shape[0] !== this.rows || logits.shape[1] !== this.n) {
      throw badInput(`RowSampler.draw: logits must be [${this.rows}, ${this.n}], got [${logits.shape.join(', ')}]`);
    }
    this.rt.kernels.f32_sample_rows(this.rows, this.n, logits.ptr, this.temperatures.byteOffset, this.minP.byteOffset, this.u.byteOffset, this.cdf, this.classes.byteOffset);
    return this.classes;
  }
}
