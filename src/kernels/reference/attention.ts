// Plain TypeScript definition of scaled dot-product attention, what
// assembly/attention.ts computes: per batch, head and query row, the scores
// against every key it may see, a max-subtracted softmax, and the weighted
// sum of the values. Float64 throughout; the naive O(Tq·Tk) row at a time.

export interface AttentionShape {
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
}

export interface AttentionRefOptions {
  scale: number;
  /** Query i sees keys j ≤ i + Tk − Tq. */
  causal?: boolean;
  /** [B, Tk], nonzero = padding key. */
  keyMask?: Uint8Array;
}

/** q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv] → y [B, H, Tq, Dv]; a query that sees no key gives zeros. */
export function attentionRef(
  q: Float32Array, k: Float32Array, v: Float32Array, shape: AttentionShape, options: AttentionRefOptions,
): Float32Array {
  const { B, H, Tq, Tk, D, Dv } = shape;
  const y = new Float32Array(B * H * Tq * Dv);
  const scores = new Float64Array(Tk);
  const out = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let i = 0; i < Tq; i++) {
        const qRow = (bh * Tq + i) * D;
        let max = -Infinity;
        for (let j = 0; j < Tk; j++) {
          const hidden = (options.causal && j > i + Tk - Tq) || (options.keyMask?.[b * Tk + j] ?? 0) !== 0;
          if (hidden) {
            scores[j] = -Infinity;
            continue;
          }
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qRow + d]! * k[(bh * Tk + j) * D + d]!;
          scores[j] = s * options.scale;
          max = Math.max(max, scores[j]!);
        }
        if (max === -Infinity) continue; // no visible key: the row stays zero
        out.fill(0);
        let sum = 0;
        for (let j = 0; j < Tk; j++) {
          if (scores[j] === -Infinity) continue;
          const p = Math.exp(scores[j]! - max);
          sum += p;
          for (let e = 0; e < Dv; e++) out[e]! += p * v[(bh * Tk + j) * Dv + e]!;
        }
        for (let e = 0; e < Dv; e++) y[(bh * Tq + i) * Dv + e] = out[e]! / sum;
      }
    }
  }
  return y;
}
