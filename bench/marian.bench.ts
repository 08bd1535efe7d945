// npm run bench:marian — a Marian directory at opus-mt-en-de's size (d_model 512, 6 + 6 layers,
// 8 heads, d_ff 2048, a shared vocabulary of 58,101: 74 M parameters, 296 MB of float32 weights):
//  - the time to open it: in this thread (read + load into the runtime's memory), and as a pool of
//    1, 2 and 4 workers (the main thread loads the weights into a shared memory, the workers attach);
//  - resident memory with 1, 2 and 4 workers after one job (every worker has attached and used its
//    scratch), each in a fresh process: the weights must be resident once, so a worker adds its
//    scratch and nothing that grows with the weights;
//  - tokens/s in this thread, greedy and beam 4, at batch 1 and 16 (the speed against onnxruntime on
//    the same weights and inputs is npm run bench:peers' marian_* rows); then greedy again with the
//    Linear weights int8 (quantize: 'int8'): tokens/s, the ratio, the weights' bytes, and how many
//    of the 16 sources decode to the same ids.
// The directory: MARIAN_DIR, else bench/peers/models/marian (tools/export_peers.py marian, or
// /usr/bin/python3 tools/marian_torch.py --random-weights DIR): random weights, no tokenizer, so the
// sources are token ids. Writes bench/results/marian.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { readModelDir } from '../src/io/model-dir.js';
import { loadMarian } from '../src/models/marian.js';
import { Pool } from '../src/pool/pool.js';
import { Rng } from '../src/runtime/rng.js';
import { Runtime } from '../src/runtime/runtime.js';
import { bestMs } from './rounds.js';

const DIR = process.env.MARIAN_DIR ?? fileURLToPath(new URL('./peers/models/marian/', import.meta.url));
const NEW_TOKENS = 32;
const MIB = 2 ** 20;

/** `count` sources of 8–32 random ids below the pad (vocab − 1), each ending with eos 0. */
function sources(count: number, vocab: number): number[][] {
  const rng = new Rng(58101);
  return Array.from({ length: count }, () => {
    const n = rng.int(8, 32);
    return [...Array.from({ length: n - 1 }, () => rng.int(1, vocab - 2)), 0];
  });
}

// One configuration of a child process: opens the pool, runs one job, prints {openMs, rssMiB}.
if (process.argv[2] === 'measure') {
  const workers = Number(process.argv[3]);
  const started = performance.now();
  const pool = await Pool.open(DIR, { workers });
  const openMs = performance.now() - started;
  const vocab = (pool.model.layout as unknown as { marian: { vocabSize: number } }).marian.vocabSize;
  const r = await pool.run(sources(2 * workers, vocab).map((source) => ({ source, maxNewTokens: 4 })));
  if (r.failures.length) throw new Error(JSON.stringify(r.failures[0]));
  // The weights file's buffer is garbage once loaded; collect it before reading the resident size.
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    (globalThis as { gc?: () => void }).gc?.();
  }
  console.log(JSON.stringify({ openMs, rssMiB: process.memoryUsage().rss / MIB }));
  await pool.close();
  process.exit(0);
}

if (!existsSync(`${DIR}/model.safetensors`)) throw new Error(`${DIR}: no model.safetensors; run tools/export_peers.py marian (or set MARIAN_DIR)`);
console.log(formatSystemLine(systemInfo(2)));

const started = performance.now();
const model = loadMarian(Runtime.create(), DIR);
const openMs = performance.now() - started;
const c = model.config;
const params = c.vocabSize * c.d + c.encoderLayers * (4 * c.d * c.d + 2 * c.d * c.encoderFFN) + c.decoderLayers * (8 * c.d * c.d + 2 * c.d * c.decoderFFN);
console.log(`${DIR}: d_model ${c.d}, ${c.encoderLayers} + ${c.decoderLayers} layers, vocabulary ${c.vocabSize} (~${(params / 1e6).toFixed(0)} M parameters); opened in this thread in ${openMs.toFixed(0)} ms`);

const speed: Array<{ beams: number; batch: number; ms: number; tokensPerSecond: number }> = [];
for (const beams of [1, 4]) {
  for (const batch of [1, 16]) {
    const batchSources = sources(batch, c.vocabSize);
    let tokens = 0;
    const ms = await bestMs(2, () => {
      tokens = model.generate(batchSources, { numBeams: beams, maxNewTokens: NEW_TOKENS }).reduce((n, [best]) => n + best!.ids.length - 1, 0);
    });
    speed.push({ beams, batch, ms, tokensPerSecond: (1000 * tokens) / ms });
    console.log(`${beams === 1 ? 'greedy' : `beam ${beams}`}, batch ${batch}: ${tokens} tokens in ${ms.toFixed(0)} ms = ${((1000 * tokens) / ms).toFixed(1)} tokens/s`);
  }
}

// int8: the same sources, greedy, with every Linear quantised; the heap's size once loaded is the weights'.
const f32Rt = Runtime.create();
loadMarian(f32Rt, DIR);
const f32Bytes = f32Rt.heap.mark();
const int8Rt = Runtime.create();
const int8Model = loadMarian(int8Rt, { ...readModelDir(DIR), quantize: 'int8' });
const int8Bytes = int8Rt.heap.mark();
const int8: Array<{ batch: number; ms: number; tokensPerSecond: number; overFloat32: number; sameIds: number }> = [];
for (const batch of [1, 16]) {
  const batchSources = sources(batch, c.vocabSize);
  let ids: number[][] = [];
  const ms = await bestMs(2, () => {
    ids = int8Model.generate(batchSources, { numBeams: 1, maxNewTokens: NEW_TOKENS }).map(([best]) => best!.ids);
  });
  const tokens = ids.reduce((n, x) => n + x.length - 1, 0);
  const float = model.generate(batchSources, { numBeams: 1, maxNewTokens: NEW_TOKENS }).map(([best]) => best!.ids);
  const sameIds = ids.filter((x, i) => JSON.stringify(x) === JSON.stringify(float[i])).length;
  const row = speed.find((r) => r.beams === 1 && r.batch === batch)!;
  int8.push({ batch, ms, tokensPerSecond: (1000 * tokens) / ms, overFloat32: (1000 * tokens) / ms / row.tokensPerSecond, sameIds });
  console.log(`int8 greedy, batch ${batch}: ${((1000 * tokens) / ms).toFixed(1)} tokens/s, ${int8.at(-1)!.overFloat32.toFixed(2)}× float32; ${sameIds} of ${batch} the same ids`);
}
console.log(`weights in memory: float32 ${(f32Bytes / MIB).toFixed(0)} MiB, int8 ${(int8Bytes / MIB).toFixed(0)} MiB (the embedding table stays float32)`);

const memory = [1, 2, 4].map((workers) => {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'measure', String(workers)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { openMs: number; rssMiB: number };
  console.log(`${workers} worker${workers > 1 ? 's' : ''}: opened in ${r.openMs.toFixed(0)} ms, resident ${r.rssMiB.toFixed(0)} MiB after a job`);
  return { workers, ...r };
});
const perWorkerMiB = (memory[2]!.rssMiB - memory[0]!.rssMiB) / 3;
console.log(`+${perWorkerMiB.toFixed(1)} MiB per worker beyond the first (the weights: ${((4 * params) / MIB).toFixed(0)} MiB)`);

const out = new URL('./results/marian.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(2), model: { dir: DIR, parameters: params }, openMs, speed, int8, weightsMiB: { float32: f32Bytes / MIB, int8: int8Bytes / MIB }, memory, perWorkerMiB }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
