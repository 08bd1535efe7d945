import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { Heap } from '../../src/runtime/memory.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { Tensor, expectShape } from '../../src/runtime/tensor.js';

describe('Heap', () => {
  it('allocates 16-byte aligned, never at address 0', () => {
    const heap = new Heap();
    const a = heap.alloc(3);
    const b = heap.alloc(1);
    expect(a).toBeGreaterThan(0);
    expect(a % 16).toBe(0);
    expect(b).toBe(a + 16);
  });

  it('grows the memory and keeps what was written', () => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 100, shared: true }));
    const p = heap.alloc(16);
    heap.f32(p, 4).set([1, 2, 3, 4]);
    const big = heap.alloc(3 * 65536);
    expect(heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 3 * 65536);
    expect(Array.from(heap.f32(p, 4))).toEqual([1, 2, 3, 4]);
  });

  it('releases to a mark, and tracks the high-water mark', () => {
    const heap = new Heap();
    heap.alloc(100);
    const mark = heap.mark();
    const p = heap.alloc(1000);
    heap.release(mark);
    expect(heap.alloc(16)).toBe(p);
    expect(heap.highWater).toBeGreaterThanOrEqual(p + 1000 - heap.base);
    expect(() => heap.release(heap.mark() + 16)).toThrow(/not a mark/);
  });

  it('refuses more than the 4 GiB a wasm32 memory can address, without growing', () => {
    const heap = new Heap();
    const before = heap.memory.buffer.byteLength;
    expect(() => heap.alloc(5 * 2 ** 30)).toThrow(/out of WebAssembly memory/);
    expect(() => heap.alloc(-1)).toThrow(HibikiError);
    expect(heap.memory.buffer.byteLength).toBe(before);
  });

  it('stays inside its region of a shared memory', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 100, shared: true });
    const a = new Heap(memory, { base: 65536, limit: 65536 + 4096 });
    const b = new Heap(memory, { base: 65536 + 4096, limit: 65536 + 8192 });
    expect(a.alloc(4000)).toBe(65536);
    expect(b.alloc(16)).toBe(65536 + 4096);
    expect(() => a.alloc(200)).toThrow(/out of scratch memory: 4208 bytes needed, this heap's region holds 4096/);
    expect(() => new Heap(memory, { base: 8, limit: 4 })).toThrow(/invalid region/);
  });
});

describe('Tensor and Runtime', () => {
  it('makes zeroed or filled tensors and frees a scope', () => {
    const rt = Runtime.create();
    const outside = rt.tensor([2, 2], [1, 2, 3, 4]);
    const mark = rt.heap.mark();
    const copy = rt.scope(() => rt.tensor([3], [5, 6, 7]).toArray());
    expect(rt.heap.mark()).toBe(mark);
    expect(Array.from(copy)).toEqual([5, 6, 7]);
    expect(Array.from(rt.tensor([3]).data)).toEqual([0, 0, 0]);
    expect(Array.from(outside.data)).toEqual([1, 2, 3, 4]);
  });

  it('releases the scope when the body throws', () => {
    const rt = Runtime.create();
    const mark = rt.heap.mark();
    expect(() =>
      rt.scope(() => {
        rt.tensor([1000]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(rt.heap.mark()).toBe(mark);
  });

  it('checks shapes with messages that name the argument', () => {
    const rt = Runtime.create();
    const t = rt.tensor([2, 3]);
    expect(() => t.write([1, 2])).toThrow(/cannot write 2 values into a tensor of shape \[2, 3\]/);
    expect(() => t.reshape([4])).toThrow(/cannot reshape \[2, 3\] to \[4\]/);
    expect(t.reshape([3, 2]).shape).toEqual([3, 2]);
    expect(() => expectShape('conv2d', 'weight', t, [-1, 4])).toThrow(
      'conv2d: weight has shape [2, 3], expected [*, 4]',
    );
    expect(() => new Tensor(rt.heap, 64, [2, -1])).toThrow(/invalid tensor shape/);
    try {
      t.write([]);
    } catch (e) {
      expect((e as HibikiError).code).toBe('E_SHAPE');
    }
  });
});
