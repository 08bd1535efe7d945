/**
 * MobileNet v2 (Sandler et al., 2018) as torchvision builds it, from its
 * state dict: a 3×3 stride-2 stem, 17 inverted residual blocks (1×1
 * expansion → 3×3 depthwise → 1×1 linear projection, with the input added
 * back when the block keeps size and channels), a 1×1 head to 1280·width
 * channels, global average pooling and a Linear classifier. Every batch norm
 * is folded into the convolution before it at load time; ReLU6 rides on the
 * kernels' fused activation.
 *
 * The residual add costs no pass of its own: the projection is a GEMM that
 * accumulates into the block's input (out = x + h·W + b).
 */
import { modelFormat } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type Conv2dLayer, loadConv2d, runConv2d, runSeparable } from '../nn/conv.js';
import { type Linear, linear, loadLinear, vectorTensor } from '../nn/linear.js';
import { type DepthwiseWeight, type PackedConv2d, depthwiseBandGeometry, depthwiseConv2dBand } from '../runtime/ops/conv.js';
import { gemm } from '../runtime/ops/gemm.js';
import { globalAvgPool } from '../runtime/ops/pool.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { classifierArchitecture } from './image-classifier.js';

export interface MobileNetV2Config {
  /** Width multiplier α: channels scaled by α and rounded to multiples of 8 (torchvision's _make_divisible). */
  widthMult: number;
  classes: number;
}

interface InvertedResidual {
  expand?: Conv2dLayer; // 1×1 C → t·C, ReLU6 (absent when t = 1)
  depthwise: Conv2dLayer; // 3×3 depthwise, stride s, ReLU6
  project: Conv2dLayer; // 1×1 t·C → C', linear
  residual: boolean;
}

/** The weights in linear memory. */
export interface MobileNetV2Weights {
  config: MobileNetV2Config;
  stem: Conv2dLayer; // 3×3 stride 2, 3 → 32α, ReLU6
  blocks: InvertedResidual[];
  head: Conv2dLayer; // 1×1 → 1280·max(1, α), ReLU6
  classifier: Linear;
}

/** torchvision's (expansion t, channels c, repeats n, first stride s) table. */
const SETTINGS: Array<[number, number, number, number]> = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/** _make_divisible(v, 8): the nearest multiple of 8, never below 90 % of v. */
function divisible(v: number): number {
  const d = Math.max(8, Math.floor(v + 4) - (Math.floor(v + 4) % 8));
  return d < 0.9 * v ? d + 8 : d;
}

export function parseMobileNetV2Config(file: string, c: Record<string, unknown>): MobileNetV2Config {
  const widthMult = (c.width_mult ?? 1) as number;
  const classes = c.num_classes as number;
  if (typeof widthMult !== 'number' || !(widthMult > 0)) throw modelFormat(file, `"width_mult" must be a positive number, got ${JSON.stringify(c.width_mult)}`);
  if (!Number.isSafeInteger(classes) || classes < 1) throw modelFormat(file, `"num_classes" must be a positive integer, got ${JSON.stringify(c.num_classes)}`);
  return { widthMult, classes };
}

export function loadMobileNetV2(rt: Runtime, file: SafeTensorsFile, config: MobileNetV2Config): MobileNetV2Weights {
  const relu6 = { activation: 'relu6' as const };
  const stem = loadConv2d(rt, file, 'features.0.0', { bn: 'features.0.1', stride: 2, padding: 1, ...relu6 });
  let channels = divisible(32 * config.widthMult);
  const blocks: InvertedResidual[] = [];
  let index = 1;
  for (const [t, c, n, s] of SETTINGS) {
    const out = divisible(c * config.widthMult);
    for (let i = 0; i < n; i++, index++) {
      const p = `features.${index}.conv`;
      const hidden = Math.round(channels * t);
      const stride = i === 0 ? s : 1;
      const expand = t === 1 ? undefined : loadConv2d(rt, file, `${p}.0.0`, { bn: `${p}.0.1`, ...relu6 });
      const d = t === 1 ? 0 : 1; // index of the depthwise conv in the block's Sequential
      blocks.push({
        expand,
        depthwise: loadConv2d(rt, file, `${p}.${d}.0`, { bn: `${p}.${d}.1`, stride, padding: 1, groups: hidden, ...relu6 }),
        project: loadConv2d(rt, file, `${p}.${d + 1}`, { bn: `${p}.${d + 2}` }),
        residual: stride === 1 && channels === out,
      });
      channels = out;
    }
  }
  const head = loadConv2d(rt, file, `features.${index}.0`, { bn: `features.${index}.1`, ...relu6 });
  const classifier = loadLinear(rt, file, 'classifier.1');
  if (classifier.weight.N !== config.classes) {
    throw modelFormat(file.file, `classifier.1 has ${classifier.weight.N} outputs, but config.json says num_classes ${config.classes}`);
  }
  return { config, stem, blocks, head, classifier };
}

/** Floats of expanded activations a band aims at (128 KB): well inside a core's L2, with the band's other rows beside them. */
const BAND_FLOATS = 32 * 1024;

/**
 * One inverted residual block, band by band: for a few output rows at a
 * time, the 1×1 expansion of just the input rows they need, the depthwise
 * 3×3 over that band, and the 1×1 projection straight into the output. The
 * expanded tensor (t = 6 times the block's channels, the biggest in the
 * network) is never written out whole: each band of it is read back while
 * still in cache. Rows two bands share are kept, not expanded twice.
 *
 * The arithmetic is the unbanded block's, row for row. With a residual, the
 * output is the input itself (out = x + projection): a band writes rows
 * the later bands no longer read.
 */
function invertedResidualBanded(rt: Runtime, b: InvertedResidual & { expand: Conv2dLayer }, h: Tensor): Tensor {
  const [N, H, W, C] = h.shape as [number, number, number, number];
  const expand = b.expand.weight as PackedConv2d;
  const project = b.project.weight as PackedConv2d;
  const hidden = expand.outChannels;
  const s = (Array.isArray(b.depthwise.stride) ? b.depthwise.stride[0] : b.depthwise.stride) as number;
  const depthwise = b.depthwise.weight as DepthwiseWeight;
  const depthwiseOptions = { stride: b.depthwise.stride, padding: b.depthwise.padding, bias: vectorTensor(rt, b.depthwise.bias), activation: b.depthwise.activation };
  const { OH, OW, rows } = depthwiseBandGeometry(depthwise, depthwiseOptions, H, W);
  const OC = project.outChannels;
  const out = b.residual ? h : rt.empty([N, OH, OW, OC]);
  const bandRows = Math.max(1, Math.floor(BAND_FLOATS / (W * hidden * s)));
  const maxInRows = Math.min(H, (bandRows - 1) * s + 3);
  const expanded = rt.empty([maxInRows * W, hidden]); // the held input rows, expanded: (rows · W, hidden)
  const depthwised = rt.empty([bandRows * OW, hidden]); // one band of the depthwise output: (rows · OW, hidden)
  const rowFloats = W * hidden;
  const expandBias = vectorTensor(rt, b.expand.bias);
  const projectBias = vectorTensor(rt, b.project.bias);
  const pixelsIn = h.reshape([N * H * W, C]);
  const pixelsOut = out.reshape([N * OH * OW, OC]);
  for (let n = 0; n < N; n++) {
    let heldLo = 0; // image rows [heldLo, heldHi) are expanded at the start of `expanded`
    let heldHi = 0;
    for (let oh0 = 0; oh0 < OH; oh0 += bandRows) {
      const oh1 = Math.min(OH, oh0 + bandRows);
      const [lo, hi] = rows(oh0, oh1);
      // Keep the rows this band shares with the last one, then expand the rest.
      const kept = Math.max(0, heldHi - lo);
      if (kept > 0) expanded.data.copyWithin(0, (lo - heldLo) * rowFloats, (heldHi - heldLo) * rowFloats);
      const fresh = lo + kept;
      gemm(rt, pixelsIn.rows((n * H + fresh) * W, (hi - fresh) * W), { ptr: expand.ptr, K: C, N: hidden }, {
        bias: expandBias, activation: b.expand.activation, out: expanded.rows(kept * W, (hi - fresh) * W),
      });
      heldLo = lo;
      heldHi = hi;
      const bandIn = expanded.rows(0, (hi - lo) * W).reshape([1, hi - lo, W, hidden]);
      const bandOut = depthwised.rows(0, (oh1 - oh0) * OW).reshape([1, oh1 - oh0, OW, hidden]);
      depthwiseConv2dBand(rt, bandIn, depthwise, { height: H, firstRow: lo, rowStart: oh0, rowEnd: oh1, out: bandOut }, depthwiseOptions);
      gemm(rt, bandOut.reshape([(oh1 - oh0) * OW, hidden]), { ptr: project.ptr, K: hidden, N: OC }, {
        bias: projectBias, out: pixelsOut.rows((n * OH + oh0) * OW, (oh1 - oh0) * OW), accumulate: b.residual,
      });
    }
  }
  return out;
}

/** x [N, H, W, 3] (normalised as the model was trained) → logits [N, classes]. */
export function mobileNetV2Forward(rt: Runtime, w: MobileNetV2Weights, x: Tensor): Tensor {
  let h = runConv2d(rt, x, w.stem); // [N, H/2, W/2, 32α]
  for (const b of w.blocks) {
    if (b.expand) {
      h = invertedResidualBanded(rt, { ...b, expand: b.expand }, h);
      continue;
    }
    // t = 1: no expansion; without a residual the depthwise output still goes band by band.
    if (!b.residual) {
      h = runSeparable(rt, h, b.depthwise, b.project);
      continue;
    }
    const d = runConv2d(rt, h, b.depthwise);
    const [N, H, W, C] = h.shape as [number, number, number, number];
    const project = b.project.weight as PackedConv2d;
    gemm(rt, d.reshape([N * H * W, project.inChannels]), { ptr: project.ptr, K: project.inChannels, N: C }, {
      bias: vectorTensor(rt, b.project.bias), out: h.reshape([N * H * W, C]), accumulate: true,
    });
  }
  h = runConv2d(rt, h, w.head); // [N, h, w, 1280]
  const pooled = globalAvgPool(rt, h); // [N, 1280]
  return linear(rt, w.classifier, pooled.reshape([pooled.shape[0]!, pooled.size / pooled.shape[0]!]));
}

/** config.json: { "architecture": "mobilenet_v2", "width_mult": 1, "num_classes": 1000, "input": {…}, "labels": […] }. */
export const mobileNetV2 = classifierArchitecture<MobileNetV2Weights>({
  name: 'mobilenet_v2',
  load: (rt, model) => loadMobileNetV2(rt, model.weights, parseMobileNetV2Config(`${model.dir}/config.json`, model.config)),
  forward: mobileNetV2Forward,
});
