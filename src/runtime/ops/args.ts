// Argument checks shared by the kernel bindings: each failure is a
// HibikiError naming the operation and the argument, raised before any
// kernel runs.
import { badInput, shapeError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Shape, type Tensor, expectShape, formatShape, sizeOf } from '../tensor.js';

/** A size per spatial axis: one number for both, or [height, width] (PyTorch's int-or-tuple). */
export type Pair = number | readonly [number, number];

/** `value` (or `fallback` when absent) as [h, w] integers ≥ min. */
export function pair(where: string, name: string, value: Pair | undefined, fallback: Pair, min: number): [number, number] {
  const v = value ?? fallback;
  const [h, w] = typeof v === 'number' ? [v, v] : v;
  if (!Number.isSafeInteger(h) || !Number.isSafeInteger(w) || h < min || w < min) {
    throw badInput(`${where}: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [h, w];
}

export function positiveInt(where: string, name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw badInput(`${where}: ${name} must be an integer ≥ 1, got ${v}`);
  return v;
}

/** Checks that plain values (e.g. a weight from a checkpoint) fill `shape`. */
export function expectLength(where: string, name: string, data: ArrayLike<number>, shape: Shape): void {
  if (data.length !== sizeOf(shape)) {
    throw shapeError(`${where}: ${name} has ${data.length} values, but shape ${formatShape(shape)} needs ${sizeOf(shape)}`);
  }
}

/** `out` checked against `shape`, or a new tensor of that shape. */
export function output(rt: Runtime, where: string, shape: Shape, out: Tensor | undefined): Tensor {
  if (!out) return rt.empty(shape); // every op that calls this writes its whole output
  expectShape(where, 'out', out, shape);
  return out;
}
