// npm run bench:pool — the worker pool on this machine:
//  - throughput of a CPU-bound job (an MLP of 1024-wide layers: a stack of
//    GEMMs) in process and with 1 and 2 workers, best of alternating rounds;
//  - resident memory with 1, 2 and 4 workers on models of 20 and 80 MB of
//    weights: each extra worker may add its scratch, never another copy, so
//    the cost of a worker must not depend on the size of the weights.
// Writes bench/results/pool.json. Random weights: speed and memory do not
// depend on their values.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { Engine } from '../src/pool/engine.js';
import { Pool } from '../src/pool/pool.js';
import { Rng } from '../src/runtime/rng.js';

if (process.argv[2] === 'measure') {
  const [modelDir, workers] = process.argv.slice(3) as [string, string];
  const pool = await Pool.open(modelDir, { workers: Number(workers) });
  const features = (pool.model.layout as unknown as { config: { sizes: number[] } }).config.sizes[0]!;
  const rows = new Rng(6).uniform(8 * features);
  await pool.run(Array.from({ length: 256 }, () => rows));
  (globalThis as { gc?: () => void }).gc?.();
  console.log(process.memoryUsage().rss / 2 ** 20);
  await pool.close();
  process.exit(0);
}

const SIZES = [1024, 1024, 1024, 1024, 1024, 1024];
const ITEMS = 512;
const ROWS_PER_ITEM = 8;
const ROUNDS = 5;
const MIB = 2 ** 20;

function makeModel(sizes: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-pool-bench-'));
  const rng = new Rng(11);
  const tensors = sizes.slice(1).flatMap((out, i) => [
    { name: `layers.${i}.weight`, shape: [out, sizes[i]!], data: rng.uniform(out * sizes[i]!, -0.05, 0.05) },
    { name: `layers.${i}.bias`, shape: [out], data: rng.uniform(out, -0.05, 0.05) },
  ]);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architecture: 'mlp', sizes, activation: 'relu' }));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

const dir = makeModel(SIZES);
const rng = new Rng(5);
const items = Array.from({ length: ITEMS }, () => rng.uniform(ROWS_PER_ITEM * SIZES[0]!));
const flops = 2 * ITEMS * ROWS_PER_ITEM * SIZES.slice(1).reduce((sum, out, i) => sum + out * SIZES[i]!, 0);
console.log(formatSystemLine(systemInfo(2)));

// Throughput: in process, 1 worker, 2 workers, alternating rounds, best round of each.
const engine = Engine.open(dir);
const pools = [await Pool.open(dir, { workers: 1 }), await Pool.open(dir, { workers: 2 })] as const;
const runners: Array<[string, () => Promise<unknown>]> = [
  ['in process', () => engine.run(items)],
  ['1 worker', () => pools[0].run(items)],
  ['2 workers', () => pools[1].run(items)],
];
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of runners) {
    const started = performance.now();
    const r = (await run()) as { failures: unknown[] };
    const ms = performance.now() - started;
    if (r.failures.length) throw new Error(`${name}: ${JSON.stringify(r.failures[0])}`);
    best.set(name, Math.min(best.get(name) ?? Infinity, ms));
  }
}
await Promise.all(pools.map((p) => p.close()));
const throughput = Object.fromEntries(
  [...best].map(([name, ms]) => [name, { ms, itemsPerSecond: (ITEMS / ms) * 1000, gflops: flops / ms / 1e6 }]),
);
for (const [name, t] of Object.entries(throughput)) {
  console.log(`${name.padEnd(11)} ${t.ms.toFixed(1).padStart(8)} ms  ${t.itemsPerSecond.toFixed(0).padStart(6)} items/s  ${t.gflops.toFixed(1).padStart(6)} GFLOP/s`);
}
const speedup = best.get('1 worker')! / best.get('2 workers')!;
console.log(`2 workers / 1 worker: ${speedup.toFixed(2)}× (target ≥ 1.8×: ${speedup >= 1.8 ? 'met' : 'MISSED'})`);

// Memory: each configuration in a fresh process (a process keeps memory it
// has freed, so successive pools in one process would measure each other),
// after one job so every worker has attached to the weights and used its
// scratch.
function residentMiB(modelDir: string, workers: number): number {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'measure', modelDir, String(workers)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return Number(child.stdout.trim());
}
const memory: Array<{ weightsMiB: number; workers: number; rssMiB: number }> = [];
const perWorkerMiB: Record<string, number> = {};
for (const sizes of [SIZES, SIZES.map((s) => 2 * s)]) {
  const modelDir = sizes === SIZES ? dir : makeModel(sizes);
  const weightsMiB = (4 * sizes.slice(1).reduce((n, out, i) => n + out * (sizes[i]! + 1), 0)) / MIB;
  const rss = [1, 2, 4].map((workers) => residentMiB(modelDir, workers));
  rss.forEach((rssMiB, k) => memory.push({ weightsMiB, workers: [1, 2, 4][k]!, rssMiB }));
  const perWorker = (rss[2]! - rss[0]!) / 3;
  perWorkerMiB[weightsMiB.toFixed(0)] = perWorker;
  console.log(`weights ${weightsMiB.toFixed(1)} MiB: resident ${rss.map((r) => r.toFixed(0)).join(' / ')} MiB with 1 / 2 / 4 workers; +${perWorker.toFixed(1)} MiB per worker`);
  if (modelDir !== dir) rmSync(modelDir, { recursive: true });
}

rmSync(dir, { recursive: true });
const out = new URL('./results/pool.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
const report = { version: 1, date: new Date().toISOString(), system: systemInfo(2), model: { sizes: SIZES, items: ITEMS, rowsPerItem: ROWS_PER_ITEM }, throughput, speedup, memory, perWorkerMiB };
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
