import { badInput } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Tensor, expectShape, formatShape } from '../tensor.js';
import { output } from './args.js';

/** `silu` is x·sigmoid(x) (PyTorch's SiLU; "swish" in Hugging Face configs). */
export type Activation = 'none' | 'relu' | 'relu6' | 'gelu' | 'tanh' | 'sigmoid' | 'silu';

/** The codes assembly/activation.ts switches on: `relu6` is ACT_RELU6 there (test/runtime/kernel-interface.test.ts checks). */
export const ACTIVATION_CODES: Record<Activation, number> = {
  none: 0,
  relu: 1,
  relu6: 2,
  gelu: 3,
  tanh: 4,
  sigmoid: 5,
  silu: 6,
};

export function activationCode(act: Activation | undefined): number {
  const code = ACTIVATION_CODES[act ?? 'none'];
  if (code === undefined) throw badInput(`unknown activation "${act}" (expected one of ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  return code;
}

function outputLike(rt: Runtime, where: string, x: Tensor, out: Tensor | undefined): Tensor {
  return output(rt, where, x.shape, out);
}

/** act(x) elementwise; `out` may be `x` itself. */
export function activation(rt: Runtime, x: Tensor, act: Activation, out?: Tensor): Tensor {
  const y = outputLike(rt, 'activation', x, out);
  rt.kernels.f32_activation(x.size, x.ptr, y.ptr, activationCode(act));
  return y;
}

/** WaveNet's gate: x [..., 2C] → tanh(x[..., :C]) · sigmoid(x[..., C:]) [..., C]. */
export function gatedTanh(rt: Runtime, x: Tensor, out?: Tensor): Tensor {
  const last = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 1 || last % 2 !== 0) {
    throw badInput(`gatedTanh: the last dimension must be even (filter and gate halves), got ${formatShape(x.shape)}`);
  }
  const C = last / 2;
  const y = output(rt, 'gatedTanh', [...x.shape.slice(0, -1), C], out);
  rt.kernels.f32_gated_tanh(x.size / last, C, x.ptr, y.ptr);
  return y;
}

/** Softmax (or log-softmax) over the last dimension. */
export function softmax(rt: Runtime, x: Tensor, options: { log?: boolean; out?: Tensor } = {}): Tensor {
  const n = x.shape[x.shape.length - 1] ?? 1;
  const y = outputLike(rt, 'softmax', x, options.out);
  rt.kernels.f32_softmax_rows(n === 0 ? 0 : x.size / n, n, x.ptr, y.ptr, options.log ? 1 : 0);
  return y;
}

/**
 * out[r] = log Σ_v exp(logits[r, v]) for the rows of logits [rows, n], in
 * float64: max + Math.log(Σ exp(x − max)), with the sum the loop over
 * Math.exp makes (to the bit on V8 x64) at a third of its ~10 ns an element;
 * beam and greedy search take it over every row of Marian's 58,101-wide
 * logits at each step. `logits` is best a view of this runtime's memory (a
 * tensor's `data`); any other array is copied in first.
 */
export function logSumExpRows(rt: Runtime, logits: Float32Array, rows: number, n: number, out: Float64Array): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(n) || rows < 0 || n < 0 || rows * n > logits.length || rows > out.length) {
    throw badInput(`logSumExpRows: ${rows} rows of ${n} need ${rows * n} logits and ${rows} outputs, got ${logits.length} and ${out.length}`);
  }
  // Checked before allocating: a view taken before memory.grow keeps the old buffer object.
  const inMemory = logits.buffer === rt.heap.memory.buffer;
  rt.scope(() => {
    const x = inMemory ? logits.byteOffset : rt.tensor([rows, n], logits.subarray(0, rows * n)).ptr;
    const pairs = rt.scratch(4 * rows); // f64 [rows, 2]: (max, Σ exp(x − max))
    rt.kernels.f32_exp_sums(rows, n, x, pairs);
    const sums = new Float64Array(rt.heap.memory.buffer, pairs, 2 * rows);
    for (let r = 0; r < rows; r++) out[r] = sums[2 * r]! + Math.log(sums[2 * r + 1]!);
  });
}

function elementwise(rt: Runtime, where: string, a: Tensor, b: Tensor, out: Tensor | undefined): Tensor {
  expectShape(where, 'b', b, a.shape);
  return outputLike(rt, where, a, out);
}

/** a + b, elementwise, for tensors of one shape; into `out` when given. */
export function add(rt: Runtime, a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const y = elementwise(rt, 'add', a, b, out);
  rt.kernels.f32_add(a.size, a.ptr, b.ptr, y.ptr);
  return y;
}

/** a · b, elementwise, for tensors of one shape; into `out` when given. */
export function mul(rt: Runtime, a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const y = elementwise(rt, 'mul', a, b, out);
  rt.kernels.f32_mul(a.size, a.ptr, b.ptr, y.ptr);
  return y;
}

/** Concatenates channels-last tensors along the last dimension. */
export function concatChannels(rt: Runtime, parts: readonly Tensor[], out?: Tensor): Tensor {
  const first = parts[0];
  if (!first) throw badInput('concatChannels: no tensors given');
  const lead = first.shape.slice(0, -1);
  let total = 0;
  for (const [i, p] of parts.entries()) {
    expectShape('concatChannels', `part ${i}`, p, [...lead, -1]);
    total += p.shape[p.shape.length - 1] ?? 0;
  }
  const y = output(rt, 'concatChannels', [...lead, total], out);
  let offset = 0;
  for (const p of parts) {
    writeChannels(rt, p, y, offset);
    offset += p.shape[p.shape.length - 1] ?? 0;
  }
  return y;
}

/** Copies x [..., C] into channels [offset, offset + C) of `into` [..., C_into] (same leading shape). */
export function writeChannels(rt: Runtime, x: Tensor, into: Tensor, offset: number): void {
  const C = x.shape[x.shape.length - 1] ?? 0;
  const total = into.shape[into.shape.length - 1] ?? 0;
  expectShape('writeChannels', 'x', x, [...into.shape.slice(0, -1), -1]);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + C > total) {
    throw badInput(`writeChannels: channels ${offset}…${offset + C} do not fit in ${total}`);
  }
  const rows = C === 0 ? 0 : x.size / C;
  rt.kernels.f32_copy_rows(rows, C, x.ptr, C, into.ptr + offset * 4, total);
}
