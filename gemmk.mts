import { Runtime } from './src/runtime/runtime.ts';
import { gemm, packMatrix } from './src/runtime/ops/gemm.ts';
const rt = Runtime.create();
for (const [M, K, N] of [[3136, 24, 144], [3136, 144, 24], [784, 32, 192], [196, 96, 576], [196, 576, 96], [12544, 16, 96], [16000, 32, 64], [16000, 64, 256], [512, 512, 512]]) {
  rt.scope(() => {
    const a = rt.tensor([M, K], Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)));
    const b = packMatrix(rt, rt.tensor([K, N], Float32Array.from({ length: K * N }, (_, i) => Math.cos(i))));
    const c = rt.tensor([M, N]);
    const bias = rt.tensor([N]);
    let best = Infinity;
    const reps = Math.max(1, Math.round(2e8 / (M * K * N)));
    for (let r = 0; r < 15; r++) { const s = performance.now(); for (let q = 0; q < reps; q++) gemm(rt, a, b, { out: c, bias, activation: 'relu6' }); best = Math.min(best, (performance.now() - s) / reps); }
    console.log(`M ${M} K ${K} N ${N}: ${(2 * M * K * N / best / 1e6).toFixed(1)} GFLOP/s (${best.toFixed(3)} ms)`);
  });
}
