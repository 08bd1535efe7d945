import { type KernelEntry, type Problem, withTarget } from '../problem.js';
import { scaledDotProductAttention } from '../../runtime/ops/attention.js';
import type { Rng } from '../../runtime/rng.js';
import { type AttentionShape, attentionRef } from '../reference/attention.js';

interface AttentionCase extends AttentionShape {
  causal: boolean;
  /** Valid (unpadded) keys per batch item, or none for no key mask. */
  keyLengths?: number[];
}

function attentionProblem(rng: Rng, c: AttentionCase): Problem {
  const { B, H, Tq, Tk, D, Dv, causal, keyLengths } = c;
  const q = rng.uniform(B * H * Tq * D, -2, 2);
  const k = rng.uniform(B * H * Tk * D, -2, 2);
  const v = rng.uniform(B * H * Tk * Dv);
  const keyMask = keyLengths && Uint8Array.from({ length: B * Tk }, (_, i) => (i % Tk >= keyLengths[Math.floor(i / Tk)]! ? 1 : 0));
  const scale = 1 / Math.sqrt(D);
  // Multiply-adds of both matmuls over the (query, key) pairs the masks let through.
  let pairs = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const seen = causal ? Math.max(0, Math.min(Tk, i + Tk - Tq + 1)) : Tk;
      pairs += H * Math.min(seen, keyLengths?.[b] ?? Tk);
    }
  }
  return {
    label: `attention B${B} H${H} Tq${Tq} Tk${Tk} D${D} Dv${Dv}${causal ? ' causal' : ''}${keyLengths ? ` keys ${keyLengths.join('/')}` : ''}`,
    flops: 2 * pairs * (D + Dv),
    prepare(rt) {
      const qt = rt.tensor([B, H, Tq, D], q);
      const kt = rt.tensor([B, H, Tk, D], k);
      const vt = rt.tensor([B, H, Tk, Dv], v);
      const out = rt.tensor([B, H, Tq, Dv]);
      return {
        call: () => scaledDotProductAttention(rt, qt, kt, vt, { causal, keyPaddingMask: keyMask, scale, out }),
        output: () => out.toArray(),
      };
    },
    reference: () => attentionRef(q, k, v, c, { scale, causal, keyMask }),
  };
}

function randomCase(rng: Rng): AttentionCase {
  const B = rng.int(1, 3);
  const Tk = rng.pick([1, 3, 7, 17, 20, 33, 40]);
  const Tq = rng.next() < 0.3 ? rng.int(1, 3) : rng.pick([1, 3, 7, 17, 33, Tk]);
  const D = rng.pick([1, 3, 7, 17, 33, 64]);
  return {
    B,
    H: rng.pick([1, 2, 3, 8]),
    Tq,
    Tk,
    D,
    Dv: rng.next() < 0.5 ? D : rng.pick([1, 5, 8, 19]),
    causal: rng.next() < 0.5,
    keyLengths: rng.next() < 0.5 ? Array.from({ length: B }, () => rng.int(0, Tk)) : undefined,
  };
}

export const attentionKernels: KernelEntry[] = [
  {
    kernel: 'f32_attention',
    family: 'attention',
    random: (rng) => attentionProblem(rng, randomCase(rng)),
    bench: (rng) => [
      // A Transformer layer's self-attention (d_model 512, 8 heads of 64), 128 tokens.
      withTarget(attentionProblem(rng, { B: 1, H: 8, Tq: 128, Tk: 128, D: 64, Dv: 64, causal: false }), 0.5),
      attentionProblem(rng, { B: 1, H: 8, Tq: 128, Tk: 128, D: 64, Dv: 64, causal: true }),
      // One decoding step against a KV cache of 128 keys.
      attentionProblem(rng, { B: 8, H: 8, Tq: 1, Tk: 128, D: 64, Dv: 64, causal: true }),
    ],
  },
];
