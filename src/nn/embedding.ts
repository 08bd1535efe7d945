/**
 * Token embeddings with position embeddings added, the input of a
 * Transformer stack (Vaswani et al. §3.4–3.5): a lookup, so it runs in
 * TypeScript over views of linear memory rather than in a kernel.
 */
import { shapeError } from '../errors.js';
import type { PackedMatrix } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import { type Tensor, formatShape } from '../runtime/tensor.js';
import type { Vector } from './linear.js';

/** x[r] = table[token r] · scale + positions[position r]. */
export interface Embedding {
  /**
   * (vocab, d) rows; or with layout "strips", the table as a tied output
   * projection holds it (packMatrixValues of it, transposed: token t's value
   * i at ((t >> 3)·d + i)·8 + (t & 7)), read in place so that a tied table
   * is resident once.
   */
  table: Vector;
  layout?: 'rows' | 'strips';
  positions: Vector; // (maxPositions, d): sinusoids or learned
  d: number;
  /** √d rounded to f32 (the paper multiplies the embeddings by √d), or 1. */
  scale: number;
}

/** An Embedding's table read in place from a tied output projection (packMatrixValues of the table, transposed). */
export function tiedTable(rt: Runtime, projection: PackedMatrix): Pick<Embedding, 'table' | 'layout'> {
  return { table: { ptr: projection.ptr, length: rt.kernels.f32_gemm_packed_size(projection.K, projection.N) }, layout: 'strips' };
}

/**
 * Embeds `tokens` into out (tokens.length, d): token r at position
 * `positions[r]`, or every token at `positions` when it is one number (a
 * decoding step). Checks neither ids nor positions: callers have.
 */
export function embedInto(rt: Runtime, layer: Embedding, tokens: ArrayLike<number>, positions: ArrayLike<number> | number, out: Tensor): void {
  const { d, scale } = layer;
  if (out.size !== tokens.length * d) throw shapeError(`embedInto: out ${formatShape(out.shape)} does not hold ${tokens.length} rows of ${d}`);
  // Three views per call, none per token: this runs every decoder step.
  const x = out.data;
  const e = rt.heap.f32(layer.table.ptr, layer.table.length);
  const p = rt.heap.f32(layer.positions.ptr, layer.positions.length);
  const samePosition = typeof positions === 'number';
  const strips = layer.layout === 'strips';
  const step = strips ? 8 : 1; // between a token's consecutive values
  for (let r = 0; r < tokens.length; r++) {
    const t = tokens[r]!;
    const eRow = strips ? (t >> 3) * d * 8 + (t & 7) : t * d;
    const pRow = (samePosition ? positions : positions[r]!) * d;
    for (let i = 0; i < d; i++) x[r * d + i] = Math.fround(e[eRow + i * step]! * scale) + p[pRow + i]!;
  }
}
