import { shapeError } from '../errors.js';
import type { Heap } from './memory.js';

/** Dimensions, outermost first. */
export type Shape = readonly number[];

/** The element count of a shape: the product of its dimensions (1 for []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A shape as messages write it: `[2, 3]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The element count of `shape`, after checking every dimension is a non-negative integer. */
export function checkedSize(shape: Shape, what = 'tensor'): number {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw shapeError(`invalid ${what} shape ${formatShape(shape)}`);
  }
  return sizeOf(shape);
}

/**
 * An f32 array in the kernels' linear memory with a shape. Layouts are
 * channels-last (images [N, H, W, C], sequences [T, C]) and row-major.
 * `data` builds a fresh view each time: a view kept across an allocation may
 * have been detached by `memory.grow`.
 */
export class Tensor {
  /** Elements: the product of the shape. */
  readonly size: number;
  constructor(
    /** The heap the values live in. */
    readonly heap: Heap,
    /** Byte address of the first value (16-byte aligned when the heap allocated it). */
    readonly ptr: number,
    /** Dimensions, outermost first, channels last. */
    readonly shape: Shape,
  ) {
    this.size = checkedSize(shape);
  }

  /** The values, as a fresh view: do not keep it across an allocation. */
  get data(): Float32Array {
    return this.heap.f32(this.ptr, this.size);
  }

  /** A copy in ordinary JS memory, safe to keep. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** Copies `values` in (exactly `size` of them, E_SHAPE otherwise); returns the tensor. */
  write(values: ArrayLike<number>): this {
    if (values.length !== this.size) {
      throw shapeError(`cannot write ${values.length} values into a tensor of shape ${formatShape(this.shape)}`);
    }
    this.data.set(values);
    return this;
  }

  /**
   * Rows [first, first + count) along the first axis, as a view of the same
   * memory: [count, ...shape[1:]]. Where a model needs part of a buffer
   * (one sentence of a packed batch, one band of an image) it takes rows
   * instead of computing byte addresses.
   */
  rows(first: number, count: number): Tensor {
    const rows = this.shape[0] ?? 1;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > rows) {
      throw shapeError(`rows ${first}..${first + count} are outside a tensor of shape ${formatShape(this.shape)}`);
    }
    const rowFloats = rows === 0 ? 0 : this.size / rows;
    return new Tensor(this.heap, this.ptr + first * rowFloats * 4, [count, ...this.shape.slice(1)]);
  }

  /** The same memory seen with another shape of the same size. */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw shapeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(shape)}`);
    }
    return new Tensor(this.heap, this.ptr, shape);
  }
}

/**
 * Checks `t` against an expected shape, where `-1` accepts any size; the error
 * names the argument, e.g. "conv2d: weight has shape [3, 3], expected [16, 3, 3, 3]".
 */
export function expectShape(where: string, name: string, t: { shape: Shape }, expected: Shape): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    const want = expected.map((d) => (d === -1 ? '*' : String(d))).join(', ');
    throw shapeError(`${where}: ${name} has shape ${formatShape(t.shape)}, expected [${want}]`);
  }
}
