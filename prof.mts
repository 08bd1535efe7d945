import { readSafetensors } from './src/io/safetensors.ts';
import { readModelConfig } from './src/io/model-dir.ts';
import * as mb from './src/models/mobilenet.ts';
import { runConv2d } from './src/nn/conv.ts';
import { Runtime } from './src/runtime/runtime.ts';
const dir = 'bench/peers/models/mobilenet_v2/';
const rt = Runtime.create();
const w = mb.loadMobileNetV2(rt, readSafetensors(dir + 'model.safetensors'), mb.parseMobileNetV2Config(dir, readModelConfig(dir)));
const x = new Float32Array(224 * 224 * 3).map((_, i) => Math.sin(i));
const t: number[] = new Array(w.blocks.length + 3).fill(0);
for (let r = 0; r < 30; r++) rt.scope(() => {
  let s = performance.now();
  let h = runConv2d(rt, rt.tensor([1, 224, 224, 3], x), w.stem);
  const lap = (i: number) => { const n = performance.now(); if (r >= 10) t[i] += n - s; s = n; };
  lap(0);
  w.blocks.forEach((b, i) => { h = (mb as any).__block(rt, b, h); lap(i + 1); });
  h = runConv2d(rt, h, w.head); lap(w.blocks.length + 1);
});
console.log(t.map((v, i) => `${i}:${(v / 20).toFixed(2)}`).join(' '), 'total', (t.reduce((a, b) => a + b) / 20).toFixed(2));
