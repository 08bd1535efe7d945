/**
 * Multi-head attention over rows. Projections leave Q, K and V as columns of
 * row-major outputs (head h at columns h·dk of rows `stride` floats apart);
 * the attention kernel wants each head as a contiguous [T, dk] block. So a
 * sequence's heads are gathered into blocks, attended, and scattered back
 * into rows: 4·T·d floats copied against the 4·T·d² multiply-adds of the
 * projections around them.
 *
 * The Transformer's sublayers run through `gatherHeads`/`attendRows`; the
 * same rows path serves PyTorch's `nn.MultiheadAttention`
 * (`loadMultiHeadAttention`, `multiHeadSelfAttention`).
 */
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type PackedMatrix, packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { shapeError } from '../errors.js';
import { type Vector, vector } from './linear.js';

/** Per-head blocks [H, T, dk] for queries, keys, values and results, and the kernel's scratch. */
export interface HeadBlocks {
  readonly heads: number;
  readonly dk: number;
  readonly q: number;
  readonly k: number;
  readonly v: number;
  readonly y: number;
  readonly scratch: number;
}

/** Blocks for attending up to `maxTq` queries over up to `maxTk` keys, in the runtime's current scope. */
export function headBlocks(rt: Runtime, heads: number, dk: number, maxTq: number, maxTk: number): HeadBlocks {
  const size = heads * Math.max(maxTq, maxTk) * dk;
  return {
    heads, dk, q: rt.scratch(size), k: rt.scratch(size), v: rt.scratch(size), y: rt.scratch(size),
    scratch: rt.scratch(rt.kernels.f32_attention_scratch_size(maxTq, maxTk, dk, dk)),
  };
}

/** Copies T rows (`stride` floats apart) of every head into [H, T, dk] blocks at `blocks`, or back. */
export function gatherHeads(rt: Runtime, heads: number, dk: number, T: number, rows: number, stride: number, blocks: number, back = false): void {
  for (let h = 0; h < heads; h++) {
    const row = rows + h * dk * 4;
    const block = blocks + h * T * dk * 4;
    if (back) rt.kernels.f32_copy_rows(T, dk, block, dk, row, stride);
    else rt.kernels.f32_copy_rows(T, dk, row, stride, block, dk);
  }
}

/** Where one sequence's rows are: the address of its first row and the floats from one row to the next. */
export interface Rows {
  ptr: number;
  stride: number;
}

/**
 * y = softmax(scale·Q·Kᵀ)·V for every head of one sequence: Tq query rows over
 * Tk key and value rows, all as rows; `causal` lets query i see keys ≤ i + Tk − Tq.
 * `keys` may instead already be blocks [H, Tk, dk] (a cache computed once).
 */
export function attendRows(
  rt: Runtime, b: HeadBlocks, Tq: number, q: Rows, Tk: number, keys: { k: Rows; v: Rows } | { kBlocks: number; vBlocks: number },
  y: Rows, scale: number, causal = false,
): void {
  const { heads: H, dk } = b;
  gatherHeads(rt, H, dk, Tq, q.ptr, q.stride, b.q);
  let kb: number;
  let vb: number;
  if ('k' in keys) {
    gatherHeads(rt, H, dk, Tk, keys.k.ptr, keys.k.stride, b.k);
    gatherHeads(rt, H, dk, Tk, keys.v.ptr, keys.v.stride, b.v);
    [kb, vb] = [b.k, b.v];
  } else {
    [kb, vb] = [keys.kBlocks, keys.vBlocks];
  }
  rt.kernels.f32_attention(1, H, Tq, Tk, dk, dk, b.q, kb, vb, b.y, scale, causal ? 1 : 0, 0, b.scratch);
  gatherHeads(rt, H, dk, Tq, y.ptr, y.stride, b.y, true);
}

/** PyTorch's nn.MultiheadAttention with Q, K, V of one width d: the fused input projection and the output projection. */
export interface MultiHeadAttentionLayer {
  d: number;
  heads: number;
  qkv: PackedMatrix; // d → 3d
  qkvBias: Vector;
  o: PackedMatrix;
  oBias: Vector;
}

/** Reads `prefix`.in_proj_weight [3d, d], in_proj_bias [3d], out_proj.weight [d, d] and out_proj.bias [d]. */
export function loadMultiHeadAttention(rt: Runtime, file: SafeTensorsFile, prefix: string, heads: number): MultiHeadAttentionLayer {
  const t = file.get(`${prefix}.in_proj_weight`);
  const d = t.shape[1]!;
  if (t.shape.length !== 2 || t.shape[0] !== 3 * d) throw shapeError(`${file.file}: ${prefix}.in_proj_weight has shape [${t.shape.join(', ')}], expected [3d, d]`);
  if (!Number.isSafeInteger(heads) || heads < 1 || d % heads !== 0) throw shapeError(`${prefix}: ${heads} heads do not divide d = ${d}`);
  return {
    d, heads,
    qkv: packMatrixValues(rt, file.floats(`${prefix}.in_proj_weight`, [3 * d, d], 'its own shape'), [3 * d, d], { transposed: true }),
    qkvBias: vector(rt, file.floats(`${prefix}.in_proj_bias`, [3 * d], `${prefix}.in_proj_weight`)),
    o: packMatrixValues(rt, file.floats(`${prefix}.out_proj.weight`, [d, d], `${prefix}.in_proj_weight`), [d, d], { transposed: true }),
    oBias: vector(rt, file.floats(`${prefix}.out_proj.bias`, [d], `${prefix}.in_proj_weight`)),
  };
}

/** Self-attention over x [B, T, d] (or [T, d]) → [B, T, d], as nn.MultiheadAttention(x, x, x) with batch_first. */
export function multiHeadSelfAttention(rt: Runtime, layer: MultiHeadAttentionLayer, x: Tensor, options: { causal?: boolean } = {}): Tensor {
  const { d, heads: H } = layer;
  if (x.shape.at(-1) !== d || (x.shape.length !== 2 && x.shape.length !== 3)) {
    throw shapeError(`multiHeadSelfAttention: x has shape [${x.shape.join(', ')}], expected [B, T, ${d}] or [T, ${d}]`);
  }
  const T = x.shape.at(-2)!;
  const B = x.size / (T * d);
  const k = rt.kernels;
  const y = rt.empty(x.shape); // written whole by the output projection
  rt.scope(() => {
    const qkv = rt.scratch(B * T * 3 * d);
    const attended = rt.scratch(B * T * d);
    k.f32_gemm_packed(B * T, 3 * d, d, x.ptr, d, layer.qkv.ptr, qkv, 3 * d, layer.qkvBias.ptr, 0, 0);
    const blocks = headBlocks(rt, H, d / H, T, T);
    const scale = 1 / Math.sqrt(d / H);
    for (let b = 0; b < B; b++) {
      const rows = qkv + b * T * 3 * d * 4;
      attendRows(rt, blocks, T, { ptr: rows, stride: 3 * d }, T,
        { k: { ptr: rows + d * 4, stride: 3 * d }, v: { ptr: rows + 2 * d * 4, stride: 3 * d } },
        { ptr: attended + b * T * d * 4, stride: d }, scale, options.causal ?? false);
    }
    k.f32_gemm_packed(B * T, d, d, attended, d, layer.o.ptr, y.ptr, d, layer.oBias.ptr, 0, 0);
  });
  return y;
}
