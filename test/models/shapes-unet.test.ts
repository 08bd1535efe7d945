import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { segmentationIou } from '../../src/metrics/segmentation.js';
import { loadUNet, parseUNetConfig, unetForward } from '../../src/models/unet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { Segmenter } from '../../src/tasks/vision.js';
import { expectClose } from '../helpers/compare.js';

interface ShapesConfig {
  labels: string[];
  input: { size: [number, number]; channels: number; mean: number[]; std: number[] };
  training: { held_out_mean_iou: number; variant_mean_iou: Record<string, number> };
}

// The shipped model on held-out images of tools/make_shapes.py (the first 20 of the held-out seed, tools/train_unet.py).
describe('models/shapes-unet', () => {
  const model = readModelDir(fileURLToPath(new URL('../../models/shapes-unet', import.meta.url)));
  const heldOut = readSafetensors(fileURLToPath(new URL('../fixtures/shapes-unet/held-out.safetensors', import.meta.url)));
  const config = parseUNetConfig('config.json', model.config);
  const { labels: classNames, input, training } = model.config as unknown as ShapesConfig;
  const images = heldOut.get('images'); // uint8 [n, 64, 64, 3]
  const [n, H, W, C] = images.shape as [number, number, number, number];
  const pixels = H * W;
  const rt = Runtime.create();
  const weights = loadUNet(rt, model.weights, config);
  // (pixel/255 − mean)/std per channel, as config.json's input says
  const x = Float32Array.from(images.data as Uint8Array, (v, i) => (v / 255 - input.mean[i % C]!) / input.std[i % C]!);
  const logits = rt.scope(() => unetForward(rt, weights, rt.tensor([n, H, W, C], x)).toArray()); // [n, H, W, classes]
  const K = config.classes;
  const labels = new Uint8Array(n * pixels); // argmax per pixel
  for (let p = 0; p < labels.length; p++) {
    const row = logits.subarray(p * K, p * K + K);
    labels[p] = row.indexOf(Math.max(...row));
  }
  const perImage = (a: Uint8Array, i: number) => a.subarray(i * pixels, (i + 1) * pixels);

  it('is the 4-class U-Net the config describes', () => {
    expect(model.config.architecture).toBe('unet');
    expect(classNames).toEqual(['background', 'circle', 'square', 'triangle']);
    expect(config).toMatchObject({ inChannels: 3, classes: 4, depth: 3, upsample: 'transposed', skip: 'concat' });
    expect([n, H, W, C]).toEqual([20, ...input.size, 3]);
  });

  it('reaches mean IoU ≥ 0.9 on held-out images', () => {
    const truth = heldOut.get('labels').data as Uint8Array;
    const score = segmentationIou(Array.from({ length: n }, (_, i) => ({ truth: perImage(truth, i), predicted: perImage(labels, i) })), K);
    const torchIou = Number(heldOut.metadata.torch_mean_iou);
    console.log(
      `shapes-unet on ${n} held-out images: mean IoU ${score.meanIou.toFixed(4)} (PyTorch ${torchIou.toFixed(4)}; ` +
      `${training.held_out_mean_iou.toFixed(4)} on all held-out), per class ${score.iou.map((v) => v.toFixed(3)).join(' ')}`,
    );
    expect(score.meanIou).toBeGreaterThanOrEqual(0.9);
  });

  it('labels ≥ 99.9 % of pixels as PyTorch does, with PyTorch’s logits', () => {
    const want = heldOut.get('torch_labels').data as Uint8Array;
    const same = labels.reduce((s, v, i) => s + (v === want[i] ? 1 : 0), 0);
    console.log(`shapes-unet: ${labels.length - same} of ${labels.length} pixels labelled differently from PyTorch`);
    expect(same / labels.length).toBeGreaterThanOrEqual(0.999);
    const torchLogits = heldOut.get('torch_logits');
    const worst = expectClose(logits.subarray(0, torchLogits.data.length), torchLogits.data as Float32Array, 1e-4, 'shapes-unet logits');
    console.log(`shapes-unet: worst logit error ${worst.toExponential(2)} on ${torchLogits.shape[0]} images`);
  });

  it('labels the other styles\' pictures as PyTorch does, through Segmenter (noise σ 20 and 30, grey, white paper, half and twice the size)', async () => {
    const segmenter = await Segmenter.open();
    for (const style of ['noise20', 'noise30', 'grey', 'white', 'small', 'large']) {
      const pictures = heldOut.get(`${style}_images`); // uint8 [2, 64, 64, 3]
      const want = heldOut.get(`${style}_torch_labels`).data as Uint8Array;
      const data = pictures.data as Uint8Array;
      const { results } = await segmenter.segment([0, 1].map((i) => ({ width: W, height: H, channels: 3, data: data.subarray(i * pixels * 3, (i + 1) * pixels * 3) })));
      const got = results.flatMap((r) => Array.from(r!.labels));
      const same = got.reduce((n, v, i) => n + (v === want[i] ? 1 : 0), 0);
      expect(same / got.length, style).toBeGreaterThanOrEqual(0.999);
    }
    await segmenter.close();
    // issue 25's targets, as the trainer measured them on 200 held-out pictures of each style
    const v = training.variant_mean_iou;
    console.log(`shapes-unet mean IoU by style: ${Object.entries(v).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')}`);
    for (const style of ['style', 'noise20', 'grey', 'white', 'small', 'large']) expect(v[style], style).toBeGreaterThanOrEqual(0.9);
    expect(v.noise30).toBeGreaterThanOrEqual(0.8);
  });
});
