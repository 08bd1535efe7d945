import type { KernelEntry, Problem } from '../problem.js';
import {
  avgPool2d, globalAvgPool, indexTensor, maxPool2d, maxPool2dWithIndices, maxUnpool2d, upsampleBilinear, upsampleNearest,
} from '../../runtime/ops/pool.js';
import type { Rng } from '../../runtime/rng.js';
import {
  type Pool2dParams, type ResampleParams, avgPool2dRef, globalAvgPoolRef, maxPool2dRef, maxUnpool2dRef, poolOutputShape,
  resampleOutputShape, upsampleBilinearRef, upsampleNearestRef,
} from '../reference/pool.js';

const CHANNELS = [1, 3, 7, 17, 33, 64];

/** y then the indices (exact as floats below 2²⁴), so one comparison checks both. */
function joined(y: Float32Array, indices: Int32Array): Float32Array {
  const out = new Float32Array(y.length + indices.length);
  out.set(y);
  out.set(indices, y.length);
  return out;
}

function poolLabel(kind: string, p: Pool2dParams, extra: string): string {
  const d = p.dilation && (p.dilation[0] > 1 || p.dilation[1] > 1) ? ` d${p.dilation.join('×')}` : '';
  return `${kind} ${p.kernel.join('×')} s${p.stride.join('×')} p${p.padding.join('×')}${d}${p.ceilMode ? ' ceil' : ''}` +
    ` on ${p.N}×${p.H}×${p.W}×${p.C}${extra}`;
}

function poolOptions(p: Pool2dParams) {
  return { kernelSize: p.kernel, stride: p.stride, padding: p.padding, dilation: p.dilation, ceilMode: p.ceilMode };
}

/** Inputs with ties (small integers) and NaN mixed in when `awkward`. */
function poolInput(rng: Rng, n: number, awkward: boolean): Float32Array {
  const x = rng.uniform(n, -4, 4);
  if (!awkward) return x;
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    x[i] = r < 0.03 ? NaN : Math.round(x[i]!);
  }
  return x;
}

function maxPoolProblem(rng: Rng, p: Pool2dParams, withIndices: boolean, awkward = false): Problem {
  const x = poolInput(rng, p.N * p.H * p.W * p.C, awkward);
  const [OH, OW] = poolOutputShape(p);
  return {
    label: poolLabel('maxpool', p, withIndices ? ' +indices' : ''),
    flops: p.N * OH * OW * p.C * p.kernel[0] * p.kernel[1],
    prepare(rt) {
      const xt = rt.tensor([p.N, p.H, p.W, p.C], x);
      const out = rt.tensor([p.N, OH, OW, p.C]);
      if (!withIndices) return { call: () => maxPool2d(rt, xt, { ...poolOptions(p), out }), output: () => out.toArray() };
      let indices: Int32Array | undefined;
      return {
        call: () => {
          indices = maxPool2dWithIndices(rt, xt, { ...poolOptions(p), out }).indices.toArray();
        },
        output: () => joined(out.toArray(), indices ?? new Int32Array(0)),
      };
    },
    reference: () => {
      const { y, indices } = maxPool2dRef(x, p);
      return withIndices ? joined(y, indices) : y;
    },
  };
}

function avgPoolProblem(rng: Rng, p: Pool2dParams, countIncludePad: boolean): Problem {
  const x = rng.uniform(p.N * p.H * p.W * p.C, -4, 4);
  const [OH, OW] = poolOutputShape(p);
  return {
    label: poolLabel('avgpool', p, countIncludePad ? '' : ' exclude-pad'),
    flops: p.N * OH * OW * p.C * p.kernel[0] * p.kernel[1],
    prepare(rt) {
      const xt = rt.tensor([p.N, p.H, p.W, p.C], x);
      const out = rt.tensor([p.N, OH, OW, p.C]);
      return { call: () => avgPool2d(rt, xt, { ...poolOptions(p), countIncludePad, out }), output: () => out.toArray() };
    },
    reference: () => avgPool2dRef(x, { ...p, countIncludePad }),
  };
}

/**
 * A random window and an input large enough for at least one output pixel.
 * Dilated windows get an input at least their span, so that none falls wholly
 * between taps (PyTorch then gives −∞, which the hand tests cover).
 */
function randomPool(rng: Rng, dilated: boolean): Pool2dParams {
  const kernel: [number, number] = [rng.int(1, 4), rng.int(1, 4)];
  const dilation: [number, number] = dilated ? [rng.int(1, 3), rng.int(1, 3)] : [1, 1];
  const padding: [number, number] = [rng.int(0, kernel[0] >> 1), rng.int(0, kernel[1] >> 1)];
  const span = (i: 0 | 1) => dilation[i] * (kernel[i] - 1) + 1;
  const least = (i: 0 | 1) => (dilation[i] > 1 ? span(i) : Math.max(1, span(i) - 2 * padding[i]));
  return {
    N: rng.int(1, 2),
    H: rng.int(least(0), span(0) + 9),
    W: rng.int(least(1), span(1) + 9),
    C: rng.pick(CHANNELS),
    kernel,
    stride: [rng.int(1, 3), rng.int(1, 3)],
    padding,
    dilation,
    ceilMode: rng.next() < 0.5,
  };
}

function globalAvgPoolProblem(rng: Rng, N: number, H: number, W: number, C: number): Problem {
  const x = rng.uniform(N * H * W * C, -4, 4);
  return {
    label: `global avgpool ${N}×${H}×${W}×${C}`,
    flops: N * H * W * C,
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const out = rt.tensor([N, C]);
      return { call: () => globalAvgPool(rt, xt, out), output: () => out.toArray() };
    },
    reference: () => globalAvgPoolRef(x, N, H * W, C),
  };
}

/**
 * Unpooling of [N, H, W, C] into the size a k×k, stride-s pool came from.
 * The indices are that pool's (as in SegNet), or with `arbitrary` any plane
 * positions, repeats included, where the later pixel must win.
 */
function maxUnpoolProblem(rng: Rng, N: number, H: number, W: number, C: number, kernel: number, stride: number,
  arbitrary: boolean): Problem {
  const OH = (H - 1) * stride + kernel;
  const OW = (W - 1) * stride + kernel;
  let x: Float32Array;
  let indices: Int32Array;
  if (arbitrary) {
    x = rng.uniform(N * H * W * C, -4, 4);
    indices = Int32Array.from({ length: x.length }, () => rng.int(0, OH * OW - 1));
  } else {
    const pooled = maxPool2dRef(rng.uniform(N * OH * OW * C, -4, 4), {
      N, H: OH, W: OW, C, kernel: [kernel, kernel], stride: [stride, stride], padding: [0, 0],
    });
    x = pooled.y;
    indices = pooled.indices;
  }
  return {
    label: `maxunpool k${kernel} s${stride} ${N}×${H}×${W}×${C} → ${OH}×${OW}${arbitrary ? ' arbitrary indices' : ''}`,
    flops: N * OH * OW * C,
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const it = indexTensor(rt, [N, H, W, C], indices);
      const out = rt.tensor([N, OH, OW, C]);
      return {
        call: () => maxUnpool2d(rt, xt, it, { kernelSize: kernel, stride, out }),
        output: () => out.toArray(),
      };
    },
    reference: () => maxUnpool2dRef(x, indices, N, H, W, C, OH, OW),
  };
}

function resampleProblem(rng: Rng, mode: 'nearest' | 'bilinear', p: ResampleParams): Problem {
  const x = rng.uniform(p.N * p.H * p.W * p.C, -4, 4);
  const [OH, OW] = resampleOutputShape(p);
  const how = p.size ? `→ ${OH}×${OW}` : `×${p.scaleFactor!.join('×')}`;
  return {
    label: `${mode} ${p.N}×${p.H}×${p.W}×${p.C} ${how}${p.alignCorners ? ' align-corners' : ''}`,
    // Nearest copies; bilinear does 4 multiplies and 3 adds per value.
    flops: p.N * OH * OW * p.C * (mode === 'nearest' ? 1 : 7),
    prepare(rt) {
      const xt = rt.tensor([p.N, p.H, p.W, p.C], x);
      const out = rt.tensor([p.N, OH, OW, p.C]);
      const options = { size: p.size, scaleFactor: p.scaleFactor, out };
      return {
        call: () => mode === 'nearest'
          ? upsampleNearest(rt, xt, options)
          : upsampleBilinear(rt, xt, { ...options, alignCorners: p.alignCorners }),
        output: () => out.toArray(),
      };
    },
    reference: () => (mode === 'nearest' ? upsampleNearestRef(x, p) : upsampleBilinearRef(x, p)),
  };
}

function randomResample(rng: Rng, alignCorners: boolean): ResampleParams {
  const H = rng.int(1, 12);
  const W = rng.int(1, 12);
  const base = { N: rng.int(1, 2), H, W, C: rng.pick(CHANNELS), alignCorners };
  if (rng.next() < 0.5) return { ...base, size: [rng.int(1, 25), rng.int(1, 25)] };
  // A factor that would leave no output pixel becomes 1.
  const factor = (size: number) => {
    const f = rng.pick([0.5, 0.7, 1.3, 1.5, 2, 2.5, 3]);
    return Math.floor(size * f) > 0 ? f : 1;
  };
  return { ...base, scaleFactor: [factor(H), factor(W)] };
}

export const poolKernels: KernelEntry[] = [
  {
    kernel: 'f32_maxpool2d_nhwc',
    family: 'pool',
    random: (rng) => maxPoolProblem(rng, randomPool(rng, rng.next() < 0.5), rng.next() < 0.5, rng.next() < 0.3),
    bench: (rng) => [
      maxPoolProblem(rng, { N: 1, H: 112, W: 112, C: 64, kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, false),
    ],
  },
  {
    kernel: 'f32_avgpool2d_nhwc',
    family: 'pool',
    random: (rng) => avgPoolProblem(rng, randomPool(rng, false), rng.next() < 0.5),
    bench: (rng) => [avgPoolProblem(rng, { N: 1, H: 56, W: 56, C: 128, kernel: [2, 2], stride: [2, 2], padding: [0, 0] }, true)],
  },
  {
    kernel: 'f32_global_avgpool_nhwc',
    family: 'pool',
    random: (rng) => globalAvgPoolProblem(rng, rng.int(1, 3), rng.int(1, 9), rng.int(1, 9), rng.pick(CHANNELS)),
    bench: (rng) => [globalAvgPoolProblem(rng, 1, 7, 7, 1280)],
  },
  {
    kernel: 'f32_maxunpool2d_nhwc',
    family: 'pool',
    random: (rng) => maxUnpoolProblem(rng, rng.int(1, 2), rng.int(1, 8), rng.int(1, 8), rng.pick(CHANNELS), rng.int(1, 3),
      rng.int(1, 3), rng.next() < 0.5),
    bench: (rng) => [maxUnpoolProblem(rng, 1, 56, 56, 64, 2, 2, false)],
  },
  {
    kernel: 'f32_upsample_nearest_nhwc',
    family: 'pool',
    random: (rng) => resampleProblem(rng, 'nearest', randomResample(rng, false)),
    bench: (rng) => [resampleProblem(rng, 'nearest', { N: 1, H: 28, W: 28, C: 256, scaleFactor: [2, 2] })],
  },
  {
    kernel: 'f32_upsample_bilinear_nhwc',
    family: 'pool',
    random: (rng) => resampleProblem(rng, 'bilinear', randomResample(rng, rng.next() < 0.5)),
    bench: (rng) => [resampleProblem(rng, 'bilinear', { N: 1, H: 28, W: 28, C: 64, scaleFactor: [2, 2] })],
  },
];
