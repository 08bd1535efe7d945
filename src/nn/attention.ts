/**
 * Multi-head attention layers over rows: PyTorch's nn.MultiheadAttention and
 * the Transformer's three uses of it (Vaswani et al. §3.2.3) through one
 * layer type and one path.
 *
 *  - self-attention of packed sequences (sentences row after row, no
 *    padding), each sequence over its own rows, causal or not;
 *  - cross-attention of packed query rows over keys and values projected
 *    once from an encoder's output (`keysValues`), kept as [H, S, dk] blocks;
 *  - one decoding step: each row's new key and value join a cache, and its
 *    query attends to the cache (self) or to its source's blocks (cross).
 *
 * Projections leave Q, K and V as columns of row-major outputs (head h at
 * columns h·dk of rows `stride` floats apart); the attention kernel wants
 * each head as a contiguous [T, dk] block. So a sequence's heads are
 * gathered into blocks, attended, and scattered back into rows: 4·T·d floats
 * copied against the 4·T·d² multiply-adds of the projections around them.
 * A decoding step needs no gathering: one query row of d floats already is
 * [H, 1, dk].
 *
 * Addresses are bytes: `4 ·` floats. This file is where that arithmetic
 * lives; the models pass tensors.
 */
import { badInput, shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor, formatShape } from '../runtime/tensor.js';
import { type Linear, linear, linearInto, vector } from './linear.js';

// ---------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------

/**
 * Self-attention with Q, K and V of one width d (PyTorch's
 * nn.MultiheadAttention): the three input projections fused into one Linear,
 * so one GEMM computes them side by side, and the output projection.
 */
export interface MultiHeadAttention {
  heads: number;
  qkv: Linear; // d → 3d: each output row is [q | k | v], head h at columns h·dk of each third
  o: Linear; // d → d
}

/** Encoder–decoder attention: queries from the decoder's rows, keys and values from the encoder's output. */
export interface CrossAttention {
  heads: number;
  q: Linear; // d → d
  kv: Linear; // d → 2d, over the encoder's output once per sentence: each row [k | v]
  o: Linear; // d → d
}

/** Reads `prefix`.in_proj_weight [3d, d], in_proj_bias [3d], out_proj.weight [d, d] and out_proj.bias [d]. */
export function loadMultiHeadAttention(rt: Runtime, file: SafeTensorsFile, prefix: string, heads: number): MultiHeadAttention {
  const t = file.get(`${prefix}.in_proj_weight`);
  const d = t.shape[1]!;
  if (t.shape.length !== 2 || t.shape[0] !== 3 * d) throw shapeError(`${file.file}: ${prefix}.in_proj_weight has shape [${t.shape.join(', ')}], expected [3d, d]`);
  if (!Number.isSafeInteger(heads) || heads < 1 || d % heads !== 0) throw shapeError(`${prefix}: ${heads} heads do not divide d = ${d}`);
  return {
    heads,
    qkv: {
      weight: packMatrixValues(rt, file.floats(`${prefix}.in_proj_weight`, [3 * d, d], 'its own shape'), [3 * d, d], { transposed: true }),
      bias: vector(rt, file.floats(`${prefix}.in_proj_bias`, [3 * d], `${prefix}.in_proj_weight`)),
    },
    o: {
      weight: packMatrixValues(rt, file.floats(`${prefix}.out_proj.weight`, [d, d], `${prefix}.in_proj_weight`), [d, d], { transposed: true }),
      bias: vector(rt, file.floats(`${prefix}.out_proj.bias`, [d], `${prefix}.in_proj_weight`)),
    },
  };
}

/** Width, head width and the softmax scale 1/√dk (computed as the PyTorch side does, in float64). */
function geometry(layer: { heads: number; o: Linear }): { d: number; dk: number; scale: number } {
  const d = layer.o.weight.N;
  const dk = d / layer.heads;
  return { d, dk, scale: 1 / Math.sqrt(dk) };
}

// ---------------------------------------------------------------------------
// Buffers
// ---------------------------------------------------------------------------

/** What a decoding step's attention works in, for R rows: made once per search so a step allocates nothing. */
export interface StepBuffers {
  qkv: Tensor; // (R, 3d): self-attention's projections
  q: Tensor; // (R, d): cross-attention's queries
  attended: Tensor; // (R, d): every head's output, before the output projection
  scratch: Tensor; // the attention kernel's work area, one query over up to maxKeys keys
}

/** Buffers for packed sequences: a step's, and per-head blocks to gather a sequence's rows into. */
export interface AttentionBuffers extends StepBuffers {
  /** Each (H, T, dk) for a sequence of T ≤ max(maxQueries, maxKeys) rows. */
  blocks: { q: Tensor; k: Tensor; v: Tensor; y: Tensor };
}

export interface BufferSizes {
  /** Rows (tokens of all sequences, or decoder rows). */
  rows: number;
  d: number;
  heads: number;
  /** The most keys one query attends to. */
  maxKeys: number;
}

/** Buffers for `stepSelfAttention` and `stepCrossAttention`, in the runtime's current scope. */
export function stepBuffers(rt: Runtime, sizes: BufferSizes): StepBuffers {
  const { rows, d, heads } = sizes;
  const dk = d / heads;
  return {
    qkv: rt.empty([rows, 3 * d]),
    q: rt.empty([rows, d]),
    attended: rt.empty([rows, d]),
    scratch: rt.empty([rt.kernels.f32_attention_scratch_size(1, sizes.maxKeys, dk, dk)]),
  };
}

/** Buffers for `selfAttention` and `crossAttention` over sequences of up to `maxQueries` rows, in the current scope. */
export function attentionBuffers(rt: Runtime, sizes: BufferSizes & { maxQueries: number }): AttentionBuffers {
  const { rows, d, heads, maxQueries, maxKeys } = sizes;
  const dk = d / heads;
  const block = () => rt.empty([heads * Math.max(maxQueries, maxKeys) * dk]);
  return {
    qkv: rt.empty([rows, 3 * d]),
    attended: rt.empty([rows, d]),
    blocks: { q: block(), k: block(), v: block(), y: block() },
    scratch: rt.empty([rt.kernels.f32_attention_scratch_size(maxQueries, maxKeys, dk, dk)]),
    q: rt.empty([rows, d]), // last: self-attention alone never touches it
  };
}

// ---------------------------------------------------------------------------
// Packed sequences
// ---------------------------------------------------------------------------

export interface PackedOptions {
  /** Rows of each sequence, packed one after another with no padding. */
  lengths: readonly number[];
  /** out += the attention's output (a residual connection) instead of out = it. */
  accumulate?: boolean;
}

/** First row of each of the packed sequences of `lengths`. */
export function packedOffsets(lengths: readonly number[]): number[] {
  let row = 0;
  return lengths.map((T) => (row += T) - T);
}

function packedRows(where: string, lengths: readonly number[], x: Tensor, out: Tensor, d: number): number {
  const N = lengths.reduce((a, b) => a + b, 0);
  if (x.size !== N * d || out.size !== N * d) {
    throw shapeError(`${where}: x ${formatShape(x.shape)} and out ${formatShape(out.shape)} must both be the ${N} rows of ${d} the lengths add up to`);
  }
  return N;
}

/** Copies T rows (`stride` floats apart) of every head into blocks (H, T, dk) at `blocks`, or back with `back`. */
function gatherHeads(rt: Runtime, heads: number, dk: number, T: number, rows: number, stride: number, blocks: number, back: boolean): void {
  for (let h = 0; h < heads; h++) {
    const row = rows + h * dk * 4;
    const block = blocks + h * T * dk * 4;
    if (back) rt.kernels.f32_copy_rows(T, dk, block, dk, row, stride);
    else rt.kernels.f32_copy_rows(T, dk, row, stride, block, dk);
  }
}

/**
 * One sequence's Tq queries, gathered into blocks.q (H, Tq, dk), over Tk keys
 * and values in blocks (H, Tk, dk), into rows at `y` (d apart); `causal` lets
 * query i see keys ≤ i + Tk − Tq.
 */
function attendBlocks(
  rt: Runtime, H: number, dk: number, scale: number, buffers: AttentionBuffers, Tq: number, Tk: number, kBlocks: number, vBlocks: number,
  y: number, causal: boolean,
): void {
  const { blocks } = buffers;
  rt.kernels.f32_attention(1, H, Tq, Tk, dk, dk, blocks.q.ptr, kBlocks, vBlocks, blocks.y.ptr, scale, causal ? 1 : 0, 0, buffers.scratch.ptr);
  gatherHeads(rt, H, dk, Tq, y, H * dk, blocks.y.ptr, true);
}

/**
 * Self-attention of packed sequences: x (N, d) holds them row after row and
 * each attends over its own rows (with `causal`, query i over keys ≤ i).
 * out (N, d) = attention · Wo + bo, or += it with `accumulate`; out may be x.
 */
export function selfAttention(
  rt: Runtime, layer: MultiHeadAttention, x: Tensor, out: Tensor, buffers: AttentionBuffers, options: PackedOptions & { causal?: boolean },
): void {
  const { d, dk, scale } = geometry(layer);
  const N = packedRows('selfAttention', options.lengths, x, out, d);
  const { qkv, attended, blocks } = buffers;
  linearInto(rt, layer.qkv, x, qkv, { rows: N }); // (N, 3d)
  let first = 0;
  for (const T of options.lengths) {
    const rows = qkv.ptr + first * 3 * d * 4;
    gatherHeads(rt, layer.heads, dk, T, rows, 3 * d, blocks.q.ptr, false); // (H, T, dk)
    gatherHeads(rt, layer.heads, dk, T, rows + d * 4, 3 * d, blocks.k.ptr, false);
    gatherHeads(rt, layer.heads, dk, T, rows + 2 * d * 4, 3 * d, blocks.v.ptr, false);
    attendBlocks(rt, layer.heads, dk, scale, buffers, T, T, blocks.k.ptr, blocks.v.ptr, attended.ptr + first * d * 4, options.causal ?? false);
    first += T;
  }
  linearInto(rt, layer.o, attended, out, { rows: N, accumulate: options.accumulate }); // (N, d)
}

/** Self-attention over x (B, T, d) (or (T, d)) → (B, T, d), as nn.MultiheadAttention(x, x, x) with batch_first. */
export function multiHeadSelfAttention(rt: Runtime, layer: MultiHeadAttention, x: Tensor, options: { causal?: boolean } = {}): Tensor {
  const { heads } = layer;
  const d = layer.o.weight.N;
  if (x.shape.at(-1) !== d || (x.shape.length !== 2 && x.shape.length !== 3)) {
    throw shapeError(`multiHeadSelfAttention: x has shape [${x.shape.join(', ')}], expected [B, T, ${d}] or [T, ${d}]`);
  }
  const T = x.shape.at(-2)!;
  const B = x.size / (T * d);
  const y = rt.empty(x.shape); // written whole by the output projection
  rt.scope(() => {
    const buffers = attentionBuffers(rt, { rows: B * T, d, heads, maxQueries: T, maxKeys: T });
    selfAttention(rt, layer, x.reshape([B * T, d]), y.reshape([B * T, d]), buffers, { lengths: new Array<number>(B).fill(T), causal: options.causal });
  });
  return y;
}

/**
 * Cross-attention's keys and values, computed once: packed sequences of
 * `lengths` starting at rows `offsets`, sequence b's rows holding its keys
 * (and values) as blocks (H, S_b, dk) for the kernel to read in place.
 */
export interface KeysValues {
  lengths: readonly number[];
  offsets: readonly number[];
  k: Tensor; // (N, d), in blocks as above
  v: Tensor; // (N, d)
}

/** Projects memory (N, d), packed sequences of `lengths`, to keys and values; allocated in the current scope. */
export function keysValues(rt: Runtime, layer: CrossAttention, memory: Tensor, options: { lengths: readonly number[] }): KeysValues {
  const { d, dk } = geometry(layer);
  const { lengths } = options;
  const N = packedRows('keysValues', lengths, memory, memory, d);
  const offsets = packedOffsets(lengths);
  const k = rt.empty([N, d]);
  const v = rt.empty([N, d]);
  rt.scope(() => {
    const kv = linear(rt, layer.kv, memory); // (N, 2d)
    lengths.forEach((S, b) => {
      const rows = kv.ptr + offsets[b]! * 2 * d * 4;
      gatherHeads(rt, layer.heads, dk, S, rows, 2 * d, k.ptr + offsets[b]! * d * 4, false); // (H, S, dk)
      gatherHeads(rt, layer.heads, dk, S, rows + d * 4, 2 * d, v.ptr + offsets[b]! * d * 4, false);
    });
  });
  return { lengths, offsets, k, v };
}

/**
 * Cross-attention of packed query sequences x (N, d) of `lengths`, sequence
 * b over memory sequence b. out (N, d) = attention · Wo + bo, or += it with
 * `accumulate`; out may be x.
 */
export function crossAttention(
  rt: Runtime, layer: CrossAttention, x: Tensor, out: Tensor, memory: KeysValues, buffers: AttentionBuffers, options: PackedOptions,
): void {
  const { d, dk, scale } = geometry(layer);
  const N = packedRows('crossAttention', options.lengths, x, out, d);
  if (options.lengths.length !== memory.lengths.length) {
    throw badInput(`crossAttention: ${options.lengths.length} query sequences for ${memory.lengths.length} in memory`);
  }
  const { q, attended, blocks } = buffers;
  linearInto(rt, layer.q, x, q, { rows: N }); // (N, d)
  let first = 0;
  options.lengths.forEach((T, b) => {
    const block = memory.offsets[b]! * d * 4; // this sequence's (H, S, dk) keys and values
    gatherHeads(rt, layer.heads, dk, T, q.ptr + first * d * 4, d, blocks.q.ptr, false); // (H, T, dk)
    attendBlocks(rt, layer.heads, dk, scale, buffers, T, memory.lengths[b]!, memory.k.ptr + block, memory.v.ptr + block, attended.ptr + first * d * 4, false);
    first += T;
  });
  linearInto(rt, layer.o, attended, out, { rows: N, accumulate: options.accumulate }); // (N, d)
}

// ---------------------------------------------------------------------------
// One decoding step
// ---------------------------------------------------------------------------

/** One layer's self-attention keys and values for R rows decoded together. */
export interface KeyValueCache {
  k: Tensor; // (R, H, capacity, dk)
  v: Tensor; // (R, H, capacity, dk)
  /** As k and v: what `reorderCache` copies into, then swaps with them. */
  spareK: Tensor;
  spareV: Tensor;
}

/** A cache for `rows` rows of up to `capacity` positions, in the runtime's current scope. */
export function keyValueCache(rt: Runtime, sizes: { rows: number; d: number; heads: number; capacity: number }): KeyValueCache {
  const { rows, d, heads, capacity } = sizes;
  const shape = [rows, heads, capacity, d / heads];
  return { k: rt.empty(shape), v: rt.empty(shape), spareK: rt.empty(shape), spareV: rt.empty(shape) };
}

/**
 * Row r of the cache becomes what row parent[r] held, for the first
 * `positions` positions (beam search keeping its best continuations).
 */
export function reorderCache(rt: Runtime, cache: KeyValueCache, parent: ArrayLike<number>, positions: number): void {
  const [R, H, capacity, dk] = cache.k.shape as [number, number, number, number];
  if (parent.length !== R) throw badInput(`reorderCache: ${parent.length} parents for ${R} rows`);
  const used = positions * dk; // floats per head in use
  const headFloats = capacity * dk;
  const rowBytes = H * headFloats * 4;
  for (let r = 0; r < R; r++) {
    const from = parent[r]! * rowBytes;
    rt.kernels.f32_copy_rows(H, used, cache.k.ptr + from, headFloats, cache.spareK.ptr + r * rowBytes, headFloats);
    rt.kernels.f32_copy_rows(H, used, cache.v.ptr + from, headFloats, cache.spareV.ptr + r * rowBytes, headFloats);
  }
  const { k, v } = cache;
  cache.k = cache.spareK;
  cache.v = cache.spareV;
  cache.spareK = k;
  cache.spareV = v;
}

/**
 * Masked self-attention of one decoding step: x (R, d) holds each row's
 * token at `position`; its key and value join the cache there and its query
 * attends to positions 0 … position. out (R, d) = attention · Wo + bo, or
 * += it with `accumulate`; out may be x. Allocates nothing.
 */
export function stepSelfAttention(
  rt: Runtime, layer: MultiHeadAttention, x: Tensor, out: Tensor, cache: KeyValueCache, position: number, buffers: StepBuffers,
  options: { accumulate?: boolean },
): void {
  const H = layer.heads;
  const d = layer.o.weight.N;
  const dk = d / H; // as geometry(), without an object per step
  const scale = 1 / Math.sqrt(dk);
  const R = cache.k.shape[0]!;
  const capacity = cache.k.shape[2]!;
  if (position >= capacity) throw badInput(`stepSelfAttention: position ${position} is past the ${capacity} positions the cache holds`);
  const k = rt.kernels;
  const { qkv, attended, scratch } = buffers;
  linearInto(rt, layer.qkv, x, qkv); // (R, 3d)
  const headBytes = capacity * dk * 4;
  for (let r = 0; r < R; r++) {
    const row = qkv.ptr + r * 3 * d * 4;
    const slot = r * H * headBytes; // row r's (H, capacity, dk) in the caches
    // Every head's key and value at `position`: H rows of dk, capacity · dk floats apart.
    k.f32_copy_rows(H, dk, row + d * 4, dk, cache.k.ptr + slot + position * dk * 4, capacity * dk);
    k.f32_copy_rows(H, dk, row + 2 * d * 4, dk, cache.v.ptr + slot + position * dk * 4, capacity * dk);
    for (let h = 0; h < H; h++) {
      k.f32_attention(1, 1, 1, position + 1, dk, dk, row + h * dk * 4, cache.k.ptr + slot + h * headBytes, cache.v.ptr + slot + h * headBytes,
        attended.ptr + (r * d + h * dk) * 4, scale, 0, 0, scratch.ptr);
    }
  }
  linearInto(rt, layer.o, attended, out, options); // (R, d)
}

/**
 * Cross-attention of one decoding step: row r of x (R, d) attends to memory
 * sequence source[r]. out (R, d) = attention · Wo + bo, or += it with
 * `accumulate`; out may be x. Allocates nothing.
 */
export function stepCrossAttention(
  rt: Runtime, layer: CrossAttention, x: Tensor, out: Tensor, memory: KeysValues, source: Int32Array, buffers: StepBuffers,
  options: { accumulate?: boolean },
): void {
  const d = layer.o.weight.N;
  const dk = d / layer.heads;
  const scale = 1 / Math.sqrt(dk);
  const { q, attended, scratch } = buffers;
  linearInto(rt, layer.q, x, q); // (R, d)
  for (let r = 0; r < source.length; r++) {
    const b = source[r]!;
    const block = memory.offsets[b]! * d * 4; // (H, S, dk)
    // One query row of d floats is (H, 1, dk): every head in one call.
    rt.kernels.f32_attention(1, layer.heads, 1, memory.lengths[b]!, dk, dk, q.ptr + r * d * 4, memory.k.ptr + block, memory.v.ptr + block,
      attended.ptr + r * d * 4, scale, 0, 0, scratch.ptr);
  }
  linearInto(rt, layer.o, attended, out, options); // (R, d)
}
