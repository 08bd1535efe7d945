// Plain TypeScript definitions of the convolutions: what assembly/conv.ts
// computes, over channels-last activations and PyTorch-layout weights (the
// definition includes the weight conversion the packing functions do).
// Weights are first rearranged so that the innermost loop runs over
// contiguous output channels, as a plain-JS implementation would, to keep
// the benches' baseline fair.
import type { Activation } from '../../runtime/ops/activation.js';
import { activate } from './activation.js';

export interface Conv2dParams {
  N: number; H: number; W: number; C: number;
  OC: number; KH: number; KW: number;
  stride: [number, number]; padding: [number, number]; dilation: [number, number];
  groups: number;
  bias?: Float32Array;
  activation?: Activation;
}

function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** F.conv2d on x [N, H, W, C] with weight [OC, C/groups, KH, KW]: y [N, OH, OW, OC]. */
export function conv2dRef(x: Float32Array, weight: Float32Array, p: Conv2dParams): Float32Array {
  const { N, H, W, C, OC, KH, KW, groups } = p;
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [dH, dW] = p.dilation;
  const OH = outSize(H, KH, sH, pH, dH);
  const OW = outSize(W, KW, sW, pW, dW);
  const Cg = C / groups;
  const OCg = OC / groups;
  // wt[kh, kw, c, oc] for c within its group
  const wt = new Float32Array(KH * KW * Cg * OC);
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < Cg; c++) {
      for (let k = 0; k < KH * KW; k++) wt[(k * Cg + c) * OC + o] = weight[(o * Cg + c) * KH * KW + k]!;
    }
  }
  const y = new Float32Array(N * OH * OW * OC);
  const acc = new Float64Array(OC);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let o = 0; o < OC; o++) acc[o] = p.bias?.[o] ?? 0;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sW - pW + kw * dW;
            if (iw < 0 || iw >= W) continue;
            for (let g = 0; g < groups; g++) {
              for (let c = 0; c < Cg; c++) {
                const xv = x[((n * H + ih) * W + iw) * C + g * Cg + c]!;
                const wr = ((kh * KW + kw) * Cg + c) * OC;
                for (let o = g * OCg; o < (g + 1) * OCg; o++) acc[o]! += xv * wt[wr + o]!;
              }
            }
          }
        }
        const yo = ((n * OH + oh) * OW + ow) * OC;
        for (let o = 0; o < OC; o++) y[yo + o] = activate(acc[o]!, p.activation ?? 'none');
      }
    }
  }
  return y;
}

/** Depthwise conv2d (groups = C) with weight [C, 1, KH, KW]: y [N, OH, OW, C]. */
export function depthwiseConv2dRef(x: Float32Array, weight: Float32Array, p: Omit<Conv2dParams, 'OC' | 'groups'>): Float32Array {
  const { N, H, W, C, KH, KW } = p;
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [dH, dW] = p.dilation;
  const OH = outSize(H, KH, sH, pH, dH);
  const OW = outSize(W, KW, sW, pW, dW);
  // wt[kh, kw, c]
  const wt = new Float32Array(KH * KW * C);
  for (let c = 0; c < C; c++) {
    for (let k = 0; k < KH * KW; k++) wt[k * C + c] = weight[c * KH * KW + k]!;
  }
  const y = new Float32Array(N * OH * OW * C);
  const acc = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) acc[c] = p.bias?.[c] ?? 0;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sW - pW + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const wo = (kh * KW + kw) * C;
            for (let c = 0; c < C; c++) acc[c]! += x[xo + c]! * wt[wo + c]!;
          }
        }
        const yo = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) y[yo + c] = activate(acc[c]!, p.activation ?? 'none');
      }
    }
  }
  return y;
}

export interface ConvTranspose2dParams extends Omit<Conv2dParams, 'groups'> {
  outputPadding: [number, number];
}

/** F.conv_transpose2d on x [N, H, W, C] with weight [C, OC, KH, KW]: y [N, OH, OW, OC]. */
export function convTranspose2dRef(x: Float32Array, weight: Float32Array, p: ConvTranspose2dParams): Float32Array {
  const { N, H, W, C, OC, KH, KW } = p;
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [dH, dW] = p.dilation;
  const OH = (H - 1) * sH - 2 * pH + dH * (KH - 1) + p.outputPadding[0] + 1;
  const OW = (W - 1) * sW - 2 * pW + dW * (KW - 1) + p.outputPadding[1] + 1;
  // wt[kh, kw, c, oc]
  const wt = new Float32Array(KH * KW * C * OC);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < OC; o++) {
      for (let k = 0; k < KH * KW; k++) wt[(k * C + c) * OC + o] = weight[(c * OC + o) * KH * KW + k]!;
    }
  }
  const acc = new Float64Array(N * OH * OW * OC);
  for (let i = 0; i < N * OH * OW; i++) {
    for (let o = 0; o < OC; o++) acc[i * OC + o] = p.bias?.[o] ?? 0;
  }
  // each input pixel spreads x · W[c, :, kh, kw] over the output
  for (let n = 0; n < N; n++) {
    for (let ih = 0; ih < H; ih++) {
      for (let iw = 0; iw < W; iw++) {
        for (let kh = 0; kh < KH; kh++) {
          const oh = ih * sH - pH + kh * dH;
          if (oh < 0 || oh >= OH) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ow = iw * sW - pW + kw * dW;
            if (ow < 0 || ow >= OW) continue;
            const yo = ((n * OH + oh) * OW + ow) * OC;
            for (let c = 0; c < C; c++) {
              const xv = x[((n * H + ih) * W + iw) * C + c]!;
              const wr = ((kh * KW + kw) * C + c) * OC;
              for (let o = 0; o < OC; o++) acc[yo + o]! += xv * wt[wr + o]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc, (v) => activate(v, p.activation ?? 'none'));
}

export interface CausalConv1dParams {
  N: number; T: number; C: number; OC: number; K: number; dilation: number;
  bias?: Float32Array;
  activation?: Activation;
}

/** F.conv1d(F.pad(x, ((K−1)·d, 0)), weight [OC, C, K], dilation = d) on x [N, T, C]: y [N, T, OC]. */
export function causalConv1dRef(x: Float32Array, weight: Float32Array, p: CausalConv1dParams): Float32Array {
  const { N, T, C, OC, K, dilation } = p;
  // wt[k, c, oc]
  const wt = new Float32Array(K * C * OC);
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) wt[(k * C + c) * OC + o] = weight[(o * C + c) * K + k]!;
    }
  }
  const y = new Float32Array(N * T * OC);
  const acc = new Float64Array(OC);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) {
      for (let o = 0; o < OC; o++) acc[o] = p.bias?.[o] ?? 0;
      for (let k = 0; k < K; k++) {
        const ts = t - (K - 1 - k) * dilation;
        if (ts < 0) continue;
        for (let c = 0; c < C; c++) {
          const xv = x[(n * T + ts) * C + c]!;
          const wr = (k * C + c) * OC;
          for (let o = 0; o < OC; o++) acc[o]! += xv * wt[wr + o]!;
        }
      }
      for (let o = 0; o < OC; o++) y[(n * T + t) * OC + o] = activate(acc[o]!, p.activation ?? 'none');
    }
  }
  return y;
}
