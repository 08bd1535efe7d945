import { badInput, shapeError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Tensor, expectShape, formatShape } from '../tensor.js';

/** How scaledDotProductAttention attends: the mask, the scale, where to write. */
export interface AttentionOptions {
  /**
   * Query i sees keys j ≤ i + Tk − Tq: bottom-right aligned, which is
   * PyTorch's `is_causal` when Tq = Tk and what a KV cache needs when the
   * Tq new queries come after Tk − Tq cached keys.
   */
  causal?: boolean;
  /** [B, Tk] row-major, true/nonzero = padding key (ignored), as PyTorch's key_padding_mask. */
  keyPaddingMask?: Uint8Array | readonly boolean[];
  /** Multiplies Q·Kᵀ before the softmax (any finite value). Default 1/√D. */
  scale?: number;
  /** Where to write [B, H, Tq, Dv] (not overlapping q, k or v); allocated when absent. */
  out?: Tensor;
}

/**
 * softmax(scale · Q·Kᵀ + masks) · V for q [B, H, Tq, D], k [B, H, Tk, D],
 * v [B, H, Tk, Dv]: [B, H, Tq, Dv].
 *
 * A query that sees no key at all (every key it may see is padding, or a
 * causal mask with Tq > Tk hides every key from the first rows) gets a zero
 * output row. PyTorch returns NaN there (a softmax over nothing); zeros keep
 * a batch with an all-padding sequence from poisoning later layers.
 */
export function scaledDotProductAttention(
  rt: Runtime, q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {},
): Tensor {
  const where = 'scaledDotProductAttention';
  expectShape(where, 'q', q, [-1, -1, -1, -1]);
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  expectShape(where, 'k', k, [B, H, -1, D]);
  const Tk = k.shape[2] as number;
  expectShape(where, 'v', v, [B, H, Tk, -1]);
  const Dv = v.shape[3] as number;
  const scale = options.scale ?? (D > 0 ? 1 / Math.sqrt(D) : 1);
  if (!Number.isFinite(scale)) throw badInput(`${where}: scale must be a finite number, got ${options.scale}`);
  const mask = options.keyPaddingMask;
  if (mask !== undefined) {
    if (!(mask instanceof Uint8Array) && !Array.isArray(mask)) {
      throw badInput(`${where}: keyPaddingMask must be a Uint8Array or an array of booleans`);
    }
    if (mask.length !== B * Tk) {
      throw shapeError(`${where}: keyPaddingMask has ${mask.length} values, expected B·Tk = ${B}·${Tk} = ${B * Tk} ([B, Tk])`);
    }
  }
  const y = options.out ?? rt.empty([B, H, Tq, Dv]);
  expectShape(where, 'out', y, [B, H, Tq, Dv]);
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (overlaps(y, t)) throw badInput(`${where}: out ${formatShape(y.shape)} overlaps ${name} in memory`);
  }

  // The mask copy and the scratch live only for the call (above `y`).
  const mark = rt.heap.mark();
  try {
    let maskPtr = 0;
    if (mask !== undefined && mask.length > 0) {
      maskPtr = rt.heap.alloc(mask.length);
      const bytes = rt.heap.u8(maskPtr, mask.length);
      if (mask instanceof Uint8Array) bytes.set(mask);
      else for (let i = 0; i < mask.length; i++) bytes[i] = mask[i] ? 1 : 0;
    }
    const scratch = rt.scratch(rt.kernels.f32_attention_scratch_size(Tq, Tk, D, Dv));
    // y [B, H, Tq, Dv] = softmax(scale · q [B, H, Tq, D] · kᵀ [B, H, D, Tk] + masks) · v [B, H, Tk, Dv]
    rt.kernels.f32_attention(B, H, Tq, Tk, D, Dv, q.ptr, k.ptr, v.ptr, y.ptr, scale, options.causal ? 1 : 0, maskPtr,
      scratch);
  } finally {
    rt.heap.release(mark);
  }
  return y;
}

function overlaps(a: Tensor, b: Tensor): boolean {
  return a.size > 0 && b.size > 0 && a.ptr < b.ptr + b.size * 4 && b.ptr < a.ptr + a.size * 4;
}
