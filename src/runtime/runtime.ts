import type { KernelExports } from './exports.js';
import { Heap, type Region } from './memory.js';
import { Tensor, type Shape, sizeOf } from './tensor.js';
import { instantiateKernels, kernelModule } from './wasm.js';

/** What a Runtime runs over: a memory, a compiled module, a region of it. */
export interface RuntimeOptions {
  /** A (shared) memory to run over; a new one by default. */
  memory?: WebAssembly.Memory;
  /** The compiled kernel module, e.g. one posted from another thread. */
  module?: WebAssembly.Module;
  /** Allocate only inside this address range (a pool worker's scratch region). */
  region?: Region;
}

/**
 * One thread's kernels: the module instantiated over a heap. Everything the
 * engine computes goes through a Runtime; models hold their weights in its
 * heap and run each call inside `scope`.
 */
export class Runtime {
  /** The heap tensors are allocated in. */
  readonly heap: Heap;
  /** The kernels' WebAssembly exports, instantiated over the heap's memory. */
  readonly kernels: KernelExports;

  private constructor(heap: Heap, kernels: KernelExports) {
    this.heap = heap;
    this.kernels = kernels;
  }

  /** Instantiates the kernels over a new heap (or the memory and region given). */
  static create(options: RuntimeOptions = {}): Runtime {
    const heap = new Heap(options.memory, options.region);
    return new Runtime(heap, instantiateKernels(heap.memory, options.module ?? kernelModule()));
  }

  /** A new tensor in linear memory, zero-filled or holding `values`. */
  tensor(shape: Shape, values?: ArrayLike<number>): Tensor {
    const t = new Tensor(this.heap, this.heap.alloc(sizeOf(shape) * 4), shape);
    if (values) t.write(values);
    else t.data.fill(0);
    return t;
  }

  /**
   * A new tensor whose contents are whatever the memory last held: for
   * outputs a kernel writes whole. Zero-filling them cost MobileNet v2 a
   * pass over every activation it makes (about 10 MB an image).
   */
  empty(shape: Shape): Tensor {
    return new Tensor(this.heap, this.heap.alloc(sizeOf(shape) * 4), shape);
  }

  /** Raw scratch bytes, for kernels that take a work area. */
  scratch(floats: number): number {
    return this.heap.alloc(floats * 4);
  }

  /**
   * Runs `fn` and frees everything it allocated. Tensors made inside are
   * invalid afterwards: return copies (`toArray()`), not tensors.
   */
  scope<T>(fn: () => T): T {
    const mark = this.heap.mark();
    try {
      return fn();
    } finally {
      this.heap.release(mark);
    }
  }
}
