import { HibikiError } from '../errors.js';

/** Bytes in a WebAssembly page. */
export const PAGE_BYTES = 65536;
/** The module declares this maximum (asconfig.json: maximumMemory); 4 GiB, wasm32's limit. */
export const MAX_PAGES = 65536;
/** Everything the kernels read is 16-byte aligned so v128 loads never straddle. */
export const ALIGN = 16;
/** Address 0 stays unused: kernels take 0 to mean "no array" (no bias, no mask). */
export const FIRST_ADDRESS = 64;

/** A range of addresses [base, limit) of a memory that several heaps share. */
export interface Region {
  base: number;
  limit: number;
}

/**
 * The linear memory the kernels run over, and the one allocator for it.
 *
 * Allocation is a stack: weights are allocated once at load time and stay;
 * each inference call takes a `mark()`, allocates its scratch above it and
 * `release()`s back to it when done. The memory is a shared
 * `WebAssembly.Memory`, so later several workers' instances can run over one
 * copy of the weights.
 *
 * Views are never cached: `memory.grow` replaces `memory.buffer`, so every
 * accessor builds its view from the current buffer.
 */
export class Heap {
  /** The memory the kernels run over, shared by every heap over it. */
  readonly memory: WebAssembly.Memory;
  /** The address range this heap may use: all of memory, or a worker's scratch region. */
  readonly base: number;
  /** One past the last address this heap may use. */
  readonly limit: number;
  private top: number;
  private peak: number;

  constructor(memory?: WebAssembly.Memory, region?: Region) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.base = region?.base ?? FIRST_ADDRESS;
    this.limit = region?.limit ?? MAX_PAGES * PAGE_BYTES;
    if (this.base < FIRST_ADDRESS || this.base % ALIGN !== 0 || this.limit < this.base) {
      throw new HibikiError('E_INTERNAL', `Heap: invalid region [${this.base}, ${this.limit})`);
    }
    this.top = this.base;
    this.peak = this.base;
  }

  /** Bytes in use right now, and the most that have ever been in use. */
  get used(): number {
    return this.top - this.base;
  }
  /** The most bytes that have ever been in use at once. */
  get highWater(): number {
    return this.peak - this.base;
  }

  /** Allocates `bytes` (16-byte aligned), growing the memory if needed. */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new HibikiError('E_INTERNAL', `Heap.alloc: size must be a non-negative integer, got ${bytes}`);
    }
    const ptr = this.top;
    const end = ptr + Math.ceil(bytes / ALIGN) * ALIGN;
    this.ensure(end);
    this.top = end;
    this.peak = Math.max(this.peak, end);
    return ptr;
  }

  /** The current top of the stack, to `release` back to. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated since `mark`. */
  release(mark: number): void {
    if (mark < this.base || mark > this.top || mark % ALIGN !== 0) {
      throw new HibikiError('E_INTERNAL', `Heap.release: ${mark} is not a mark below the top (${this.top})`);
    }
    this.top = mark;
  }

  /** A fresh f32 view of `length` values at `ptr` (byte address); do not keep it across an allocation. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  /** A fresh i32 view of `length` values at `ptr`, as `f32`. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  /** A fresh byte view of `length` bytes at `ptr`, as `f32`. */
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  private ensure(end: number): void {
    if (end > MAX_PAGES * PAGE_BYTES) {
      throw new HibikiError(
        'E_RESOURCE',
        `out of WebAssembly memory: ${end} bytes needed, the limit is ${MAX_PAGES * PAGE_BYTES} (4 GiB)`,
      );
    }
    if (end > this.limit) {
      throw new HibikiError(
        'E_RESOURCE',
        `out of scratch memory: ${end - this.base} bytes needed, this heap's region holds ${this.limit - this.base}`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
  }
}
