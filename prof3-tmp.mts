import { readModelDir } from './src/io/model-dir.ts';
import { loadModel } from './src/models/index.ts';
import { Runtime } from './src/runtime/runtime.ts';
import { causalConv1d } from './src/runtime/ops/conv.ts';
import { gemm } from './src/runtime/ops/gemm.ts';
import { gatedTanh } from './src/runtime/ops/activation.ts';
const rt = Runtime.create();
const model: any = loadModel(rt, readModelDir('models/wavenet-piano'));
const c = model.config, layout = model.layout;
const T = 16000;
const t: Record<string, number> = {};
const time = (k: string, f: () => any) => { const s = performance.now(); const r = f(); t[k] = (t[k] ?? 0) + performance.now() - s; return r; };
const N = 10;
const x = Int32Array.from({ length: T }, (_, i) => (i * 7) % 256);
for (let it = 0; it < N; it++) {
  const s = performance.now(); model.logits(x, 3); t.total = (t.total ?? 0) + performance.now() - s;
}
rt.scope(() => {
  const h = rt.tensor([T, c.residual]); const skips = rt.tensor([T, c.skip]); const bias = rt.tensor([2 * c.dilationChannels]);
  for (let it = 0; it < N; it++) layout.layers.forEach((layer: any, i: number) => rt.scope(() => {
    const z = time('conv', () => causalConv1d(rt, h, layer.conv, { dilation: c.dilations[i], bias }));
    const g = time('gated', () => gatedTanh(rt, z));
    time('residual', () => gemm(rt, g, layer.residual, { out: h, accumulate: true }));
    time('skip', () => gemm(rt, g, layer.skip, { out: skips, accumulate: true }));
  }));
});
for (const [k, v] of Object.entries(t)) console.log(k.padEnd(10), (v / N).toFixed(2), 'ms');
const t2: Record<string, number> = {};
const time2 = (k: string, f: () => any) => { const s = performance.now(); const r = f(); t2[k] = (t2[k] ?? 0) + performance.now() - s; return r; };
import { activation } from './src/runtime/ops/activation.ts';
import { Tensor } from './src/runtime/tensor.ts';
rt.scope(() => {
  const skips = rt.tensor([T, c.skip]);
  const b = (ptr: number, n: number) => new Tensor(rt.heap, ptr, [n]);
  for (let it = 0; it < N; it++) rt.scope(() => {
    time2('embed', () => { const h = rt.tensor([T, c.residual]); for (let t = 0; t < T; t++) rt.kernels.f32_copy_rows(1, c.residual, layout.embed + x[t] * c.residual * 4, c.residual, h.ptr + t * c.residual * 4, c.residual); });
    time2('relu', () => activation(rt, skips, 'relu', skips));
    const o1 = time2('out1', () => gemm(rt, skips, layout.out1, { bias: b(layout.out1Bias, c.skip), activation: 'relu' }));
    const o2 = time2('out2', () => gemm(rt, o1, layout.out2, { bias: b(layout.out2Bias, c.classes) }));
    time2('toArray', () => o2.toArray());
  });
});
for (const [k, v] of Object.entries(t2)) console.log(k.padEnd(10), (v / N).toFixed(2), 'ms');
