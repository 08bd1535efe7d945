// The bench:peers cases written in TensorFlow.js ops, from the same PyTorch
// state dicts hibiki loads (NCHW weights turned to TF's NHWC layouts here).
// Batch norms are folded into the convolutions and every convolution uses
// tf.fused (bias and activation in the XNNPACK call): the fastest TF.js can
// be, so the comparison is with TF.js at its best.
import type { SafeTensorsFile } from '../../src/io/safetensors.js';

// TensorFlow.js is a peer (bench/peers/node_modules); its types are not in the project's dependencies.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tf = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type T = any;

const floats = (file: SafeTensorsFile, name: string) => file.get(name).data as Float32Array;
const shapeOf = (file: SafeTensorsFile, name: string) => file.get(name).shape as number[];

/** A Conv2d [OC, C/g, KH, KW] with its BatchNorm folded: TF filter [KH, KW, C, OC] (depthwise: [KH, KW, C, 1]) and bias. */
function foldedConv(tf: Tf, file: SafeTensorsFile, conv: string, bn: string, depthwise: boolean): { filter: T; bias: T } {
  const [OC, Cg, KH, KW] = shapeOf(file, `${conv}.weight`) as [number, number, number, number];
  const w = floats(file, `${conv}.weight`);
  const gamma = floats(file, `${bn}.weight`), beta = floats(file, `${bn}.bias`);
  const mean = floats(file, `${bn}.running_mean`), variance = floats(file, `${bn}.running_var`);
  const scale = Float32Array.from(gamma, (g, o) => g / Math.sqrt(variance[o]! + 1e-5));
  const bias = Float32Array.from(beta, (b, o) => b - mean[o]! * scale[o]!);
  const filter = new Float32Array(w.length);
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < Cg; c++) {
      for (let i = 0; i < KH * KW; i++) {
        const v = w[(o * Cg + c) * KH * KW + i]! * scale[o]!;
        filter[depthwise ? i * OC + o : (i * Cg + c) * OC + o] = v;
      }
    }
  }
  return { filter: tf.tensor4d(filter, depthwise ? [KH, KW, OC, 1] : [KH, KW, Cg, OC]), bias: tf.tensor1d(bias) };
}

/** A Linear [out, in] as a TF matrix [in, out] and bias. */
function linear(tf: Tf, file: SafeTensorsFile, name: string): { w: T; b: T } {
  const [out, inp] = shapeOf(file, `${name}.weight`) as [number, number];
  return { w: tf.transpose(tf.tensor2d(floats(file, `${name}.weight`), [out, inp])), b: tf.tensor1d(floats(file, `${name}.bias`)) };
}

/** torchvision's mobilenet_v2: x [1, 224, 224, 3] → logits [1, 1000]. */
export function tfjsMobileNetV2(tf: Tf, file: SafeTensorsFile): (x: T) => T {
  type Layer = { filter: T; bias: T; stride: number; depthwise: boolean; act: string | undefined };
  const layer = (conv: string, bn: string, stride: number, depthwise: boolean, act: string | undefined): Layer =>
    ({ ...foldedConv(tf, file, conv, bn, depthwise), stride, depthwise, act });
  const stem = layer('features.0.0', 'features.0.1', 2, false, 'relu6');
  const blocks: Array<{ layers: Layer[]; residual: boolean }> = [];
  const settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  let index = 1;
  let channels = 32;
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n!; i++, index++) {
      const p = `features.${index}.conv`;
      const stride = i === 0 ? s! : 1;
      const layers = t === 1
        ? [layer(`${p}.0.0`, `${p}.0.1`, stride, true, 'relu6'), layer(`${p}.1`, `${p}.2`, 1, false, undefined)]
        : [layer(`${p}.0.0`, `${p}.0.1`, 1, false, 'relu6'), layer(`${p}.1.0`, `${p}.1.1`, stride, true, 'relu6'), layer(`${p}.2`, `${p}.3`, 1, false, undefined)];
      blocks.push({ layers, residual: stride === 1 && channels === c });
      channels = c!;
    }
  }
  const head = layer('features.18.0', 'features.18.1', 1, false, 'relu6');
  const fc = linear(tf, file, 'classifier.1');
  const run = (x: T, l: Layer) => {
    const kh = l.filter.shape[0] as number;
    const pad = kh === 1 ? 'valid' : [[0, 0], [1, 1], [1, 1], [0, 0]];
    const args = { x, filter: l.filter, bias: l.bias, strides: l.stride, pad, activation: l.act ?? 'linear' };
    return l.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  };
  return (x) => tf.tidy(() => {
    let h = run(x, stem);
    for (const b of blocks) {
      let y = h;
      for (const l of b.layers) y = run(y, l);
      h = b.residual ? tf.add(h, y) : y;
    }
    h = tf.mean(run(h, head), [1, 2]);
    return tf.add(tf.matMul(h, fc.w), fc.b);
  });
}

/** torchvision's densenet121: x [1, 224, 224, 3] → logits [1, 1000]. Batch norms come before their convolutions
 * (BN → ReLU → conv), so they cannot be folded: each is a scale and shift computed once, then tf.fused.conv2d
 * with no bias. */
export function tfjsDenseNet121(tf: Tf, file: SafeTensorsFile): (x: T) => T {
  const norm = (name: string) => {
    const gamma = floats(file, `${name}.weight`), beta = floats(file, `${name}.bias`);
    const mean = floats(file, `${name}.running_mean`), variance = floats(file, `${name}.running_var`);
    const scale = Float32Array.from(gamma, (g, c) => g / Math.sqrt(variance[c]! + 1e-5));
    return { scale: tf.tensor1d(scale), shift: tf.tensor1d(Float32Array.from(beta, (b, c) => b - mean[c]! * scale[c]!)) };
  };
  const conv = (name: string) => {
    const [OC, C, KH, KW] = shapeOf(file, `${name}.weight`) as [number, number, number, number];
    const w = floats(file, `${name}.weight`);
    const filter = new Float32Array(w.length);
    for (let o = 0; o < OC; o++) for (let c = 0; c < C; c++) for (let i = 0; i < KH * KW; i++) filter[(i * C + c) * OC + o] = w[(o * C + c) * KH * KW + i]!;
    return tf.tensor4d(filter, [KH, KW, C, OC]);
  };
  const bnRelu = (x: T, n: { scale: T; shift: T }) => tf.relu(tf.add(tf.mul(x, n.scale), n.shift));
  const stem = { conv: conv('features.conv0'), norm: norm('features.norm0') };
  const blocks = [6, 12, 24, 16].map((layers, b) => ({
    layers: Array.from({ length: layers }, (_, l) => {
      const p = `features.denseblock${b + 1}.denselayer${l + 1}`;
      return { norm1: norm(`${p}.norm1`), conv1: conv(`${p}.conv1`), norm2: norm(`${p}.norm2`), conv2: conv(`${p}.conv2`) };
    }),
    transition: b < 3 ? { norm: norm(`features.transition${b + 1}.norm`), conv: conv(`features.transition${b + 1}.conv`) } : undefined,
  }));
  const norm5 = norm('features.norm5');
  const fc = linear(tf, file, 'classifier');
  const pad1 = [[0, 0], [1, 1], [1, 1], [0, 0]];
  return (x) => tf.tidy(() => {
    let h = bnRelu(tf.conv2d(x, stem.conv, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]), stem.norm);
    h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid');
    for (const block of blocks) {
      for (const l of block.layers) {
        const y = tf.conv2d(bnRelu(tf.conv2d(bnRelu(h, l.norm1), l.conv1, 1, 'valid'), l.norm2), l.conv2, 1, pad1);
        h = tf.concat([h, y], 3);
      }
      if (block.transition) h = tf.avgPool(tf.conv2d(bnRelu(h, block.transition.norm), block.transition.conv, 1, 'valid'), 2, 2, 'valid');
    }
    h = tf.mean(bnRelu(h, norm5), [1, 2]);
    return tf.add(tf.matMul(h, fc.w), fc.b);
  });
}

/** nn.MultiheadAttention(256, 8) self-attention: x [128, 256] → [128, 256]. */
export function tfjsSelfAttention(tf: Tf, file: SafeTensorsFile, heads: number): (x: T) => T {
  const [threeD, d] = shapeOf(file, 'mha.in_proj_weight') as [number, number];
  const wIn = tf.transpose(tf.tensor2d(floats(file, 'mha.in_proj_weight'), [threeD, d]));
  const bIn = tf.tensor1d(floats(file, 'mha.in_proj_bias'));
  const out = linear(tf, file, 'mha.out_proj');
  const dk = d / heads;
  return (x) => tf.tidy(() => {
    const T = x.shape[0] as number;
    const qkv = tf.add(tf.matMul(x, wIn), bIn); // [T, 3d]
    const [q, k, v] = tf.split(qkv, 3, 1).map((m: T) => tf.transpose(tf.reshape(m, [T, heads, dk]), [1, 0, 2])); // [H, T, dk]
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dk));
    const y = tf.matMul(tf.softmax(scores), v); // [H, T, dk]
    return tf.add(tf.matMul(tf.reshape(tf.transpose(y, [1, 0, 2]), [T, d]), out.w), out.b);
  });
}

/** The WaveNet of tools/wavenet_torch.py, teacher-forced: classes [T] and a global condition → logits [T, classes]. */
export function tfjsWaveNet(tf: Tf, file: SafeTensorsFile, config: { dilation_cycle: number[]; stacks: number; dilation_channels: number }): (x: T, condition: number) => T {
  const dilations = Array.from({ length: config.stacks }, () => config.dilation_cycle).flat();
  const D = config.dilation_channels;
  const embed = tf.tensor2d(floats(file, 'embed.weight'), shapeOf(file, 'embed.weight'));
  const condition = tf.tensor2d(floats(file, 'condition.weight'), shapeOf(file, 'condition.weight'));
  const conv1x1 = (name: string) => {
    const [o, i] = shapeOf(file, `${name}.weight`) as [number, number];
    return { w: tf.transpose(tf.tensor2d(floats(file, `${name}.weight`), [o, i])), b: tf.tensor1d(floats(file, `${name}.bias`)) };
  };
  const layers = dilations.map((dilation, i) => {
    const [O, C, K] = shapeOf(file, `layers.${i}.conv.weight`) as [number, number, number];
    const w = floats(file, `layers.${i}.conv.weight`);
    const filter = new Float32Array(w.length); // [K, C, O]
    for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) filter[(k * C + c) * O + o] = w[(o * C + c) * K + k]!;
    return {
      dilation, K, filter: tf.tensor3d(filter, [K, C, O]), bias: tf.tensor1d(floats(file, `layers.${i}.conv.bias`)),
      residual: conv1x1(`layers.${i}.residual`), skip: conv1x1(`layers.${i}.skip`),
    };
  });
  const out1 = conv1x1('out1');
  const out2 = conv1x1('out2');
  return (x, c) => tf.tidy(() => {
    const T = x.shape[0] as number;
    let h = tf.gather(embed, x); // [T, R]
    const bias = tf.reshape(tf.gather(condition, [c]), [dilations.length, 2 * D]);
    let skips: T;
    layers.forEach((l, i) => {
      const padded = tf.pad(h, [[(l.K - 1) * l.dilation, 0], [0, 0]]);
      const z = tf.add(tf.conv1d(tf.expandDims(padded, 0), l.filter, 1, 'valid', 'NWC', l.dilation), tf.add(l.bias, bias.slice([i, 0], [1, 2 * D])));
      const [a, b] = tf.split(tf.reshape(z, [T, 2 * D]), 2, 1);
      const g = tf.mul(tf.tanh(a), tf.sigmoid(b));
      const s = tf.add(tf.matMul(g, l.skip.w), l.skip.b);
      skips = skips ? tf.add(skips, s) : s;
      h = tf.add(h, tf.add(tf.matMul(g, l.residual.w), l.residual.b));
    });
    const o1 = tf.relu(tf.add(tf.matMul(tf.relu(skips), out1.w), out1.b));
    return tf.add(tf.matMul(o1, out2.w), out2.b);
  });
}
