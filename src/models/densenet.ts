/**
 * DenseNet-BC (Huang et al., 2017) as torchvision builds it, from its state
 * dict: a stem (7×7 stride-2 conv, BN, ReLU, 3×3 stride-2 max pool — or, for
 * small inputs, a 3×3 stride-1 conv without the pool), dense blocks and
 * transitions, a final BN + ReLU, global average pooling and a Linear
 * classifier.
 *
 * In a dense block every layer sees the concatenation of the block's input
 * and all earlier layers' outputs, and adds `growth` channels of its own:
 * BN → ReLU → 1×1 conv to bn_size·k → BN → ReLU → 3×3 conv to k. The block
 * runs in one buffer [N, H, W, C₀ + L·k] allocated once: each layer
 * normalises the leading channels of that buffer in place of a concatenated
 * copy, and writes its k new channels into their slot. (The second batch norm
 * follows a convolution, so it is folded into the 1×1 conv; the first
 * cannot be, because its ReLU comes before the convolution.)
 *
 * A transition (BN → ReLU → 1×1 conv → 2×2 average pool) compresses the
 * channels between blocks.
 */
import { modelFormat } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import {
  type BatchNormLayer, type Conv2dLayer, loadBatchNorm, loadConv2d, runBatchNorm, runConv2d,
  runNormConv1x1,
} from '../nn/conv.js';
import { type Linear, linear, loadLinear } from '../nn/linear.js';
import { writeChannels } from '../runtime/ops/activation.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../runtime/ops/pool.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { classifierArchitecture } from './image-classifier.js';

export interface DenseNetConfig {
  growthRate: number;
  blockConfig: number[];
  initFeatures: number;
  bnSize: number;
  classes: number;
  /** 'imagenet': 7×7 stride-2 conv + 3×3 stride-2 max pool; 'small': 3×3 stride-1 conv, no pool. */
  stem: 'imagenet' | 'small';
}

interface DenseLayer {
  norm1: BatchNormLayer; // over the C₀ + i·k leading channels
  conv1: Conv2dLayer; // 1×1 → bn_size·k, norm2 folded in, ReLU
  conv2: Conv2dLayer; // 3×3 → k
}

interface Transition {
  norm: BatchNormLayer;
  conv: Conv2dLayer; // 1×1, compression
}

export interface DenseNetWeights {
  config: DenseNetConfig;
  stem: Conv2dLayer; // norm0 folded in, ReLU
  blocks: Array<{ inChannels: number; layers: DenseLayer[]; transition?: Transition }>;
  finalNorm: BatchNormLayer;
  classifier: Linear;
}

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

export function parseDenseNetConfig(file: string, c: Record<string, unknown>): DenseNetConfig {
  for (const key of ['growth_rate', 'num_init_features', 'bn_size', 'num_classes']) {
    if (!positiveInt(c[key])) throw modelFormat(file, `"${key}" must be a positive integer, got ${JSON.stringify(c[key])}`);
  }
  if (!Array.isArray(c.block_config) || c.block_config.length === 0 || !c.block_config.every(positiveInt)) {
    throw modelFormat(file, `"block_config" must list positive integers (layers per block), got ${JSON.stringify(c.block_config)}`);
  }
  const stem = c.stem ?? 'imagenet';
  if (stem !== 'imagenet' && stem !== 'small') throw modelFormat(file, `"stem" must be "imagenet" or "small", got ${JSON.stringify(stem)}`);
  return {
    growthRate: c.growth_rate as number, blockConfig: c.block_config as number[], initFeatures: c.num_init_features as number,
    bnSize: c.bn_size as number, classes: c.num_classes as number, stem,
  };
}

export function loadDenseNet(rt: Runtime, file: SafeTensorsFile, config: DenseNetConfig): DenseNetWeights {
  const k = config.growthRate;
  const small = config.stem === 'small';
  const stem = loadConv2d(rt, file, 'features.conv0', {
    bn: 'features.norm0', stride: small ? 1 : 2, padding: small ? 1 : 3, activation: 'relu',
  });
  let channels = config.initFeatures;
  const blocks = config.blockConfig.map((layers, b) => {
    const p = `features.denseblock${b + 1}`;
    const inChannels = channels;
    const dense = Array.from({ length: layers }, (_, i): DenseLayer => ({
      norm1: loadBatchNorm(rt, file, `${p}.denselayer${i + 1}.norm1`, inChannels + i * k),
      conv1: loadConv2d(rt, file, `${p}.denselayer${i + 1}.conv1`, { bn: `${p}.denselayer${i + 1}.norm2`, activation: 'relu' }),
      conv2: loadConv2d(rt, file, `${p}.denselayer${i + 1}.conv2`, { padding: 1 }),
    }));
    channels = inChannels + layers * k;
    if (b === config.blockConfig.length - 1) return { inChannels, layers: dense };
    const t = `features.transition${b + 1}`;
    const transition = { norm: loadBatchNorm(rt, file, `${t}.norm`, channels), conv: loadConv2d(rt, file, `${t}.conv`) };
    channels = transition.conv.outChannels;
    return { inChannels, layers: dense, transition };
  });
  const classifier = loadLinear(rt, file, 'classifier');
  if (classifier.weight.K !== channels || classifier.weight.N !== config.classes) {
    throw modelFormat(file.file, `classifier is ${classifier.weight.K} → ${classifier.weight.N}, expected ${channels} → ${config.classes} (config.json)`);
  }
  return { config, stem, blocks, finalNorm: loadBatchNorm(rt, file, 'features.norm5', channels), classifier };
}

/** x [N, H, W, C] → logits [N, classes]. */
export function denseNetForward(rt: Runtime, w: DenseNetWeights, x: Tensor): Tensor {
  const k = w.config.growthRate;
  let h = runConv2d(rt, x, w.stem); // [N, H/2, W/2, C₀] (imagenet stem: 7×7 stride 2) or [N, H, W, C₀] (3×3)
  if (w.config.stem === 'imagenet') h = maxPool2d(rt, h, { kernelSize: 3, stride: 2, padding: 1 }); // [N, H/4, W/4, C₀]
  for (const block of w.blocks) {
    const [N, H, W] = h.shape as [number, number, number, number];
    const buffer = rt.empty([N, H, W, block.inChannels + block.layers.length * k]); // the whole block's features, each written once
    writeChannels(rt, h, buffer, 0);
    block.layers.forEach((layer, i) => {
      rt.scope(() => {
        const b = runNormConv1x1(rt, buffer, layer.norm1, layer.conv1); // [N, H, W, bn_size·k] from relu(norm1) of C₀ + i·k channels
        writeChannels(rt, runConv2d(rt, b, layer.conv2), buffer, block.inChannels + i * k); // [N, H, W, k] into its slot
      });
    });
    h = buffer;
    if (block.transition) {
      const t = runNormConv1x1(rt, h, block.transition.norm, block.transition.conv); // [N, H, W, C/2]
      h = avgPool2d(rt, t, { kernelSize: 2, stride: 2 }); // [N, H/2, W/2, C/2]
    }
  }
  const pooled = globalAvgPool(rt, runBatchNorm(rt, h, w.finalNorm, 'relu')); // [N, C]
  return linear(rt, w.classifier, pooled); // [N, classes]
}

/**
 * config.json: { "architecture": "densenet", "growth_rate": 32, "block_config": [6, 12, 24, 16],
 * "num_init_features": 64, "bn_size": 4, "num_classes": 1000, "stem": "imagenet", "input": {…}, "labels": […] }.
 */
export const denseNet = classifierArchitecture<DenseNetWeights>({
  name: 'densenet',
  load: (rt, model) => loadDenseNet(rt, model.weights, parseDenseNetConfig(`${model.dir}/config.json`, model.config)),
  forward: denseNetForward,
});
