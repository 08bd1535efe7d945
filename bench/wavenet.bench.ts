// npm run bench:wavenet — WaveNet generation speed on this machine, for the
// shipped model and a reference-size one (30 layers, 64 residual, 128 skip,
// 256 classes, 16 kHz; random weights, made here):
//  - real-time factor (audio seconds per wall second) of one stream, one thread;
//  - fast (queues) against naive (recomputing the receptive field per sample);
//  - 8 streams batched on one thread, and on two workers (aggregate);
//  - PyTorch eager running the same incremental algorithm on the same weights
//    (tools/wavenet_bench.py, one thread, OpenBLAS), when Debian's
//    python3-torch is installed.
// Each figure is the best of a few rounds. Writes bench/results/wavenet.json.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { bestMs } from './rounds.js';
import { readModelDir } from '../src/io/model-dir.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { loadModel } from '../src/models/index.js';
import { type GenerateRequest, type WaveNet, macsPerSample, receptiveField } from '../src/models/wavenet.js';
import { Pool } from '../src/pool/pool.js';
import { Rng } from '../src/runtime/rng.js';
import { Runtime } from '../src/runtime/runtime.js';

const ROUNDS = 3;
const SHIPPED = fileURLToPath(new URL('../models/wavenet-piano', import.meta.url));

function makeReferenceModel(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-wavenet-ref-'));
  const R = 64, D = 64, S = 128, Q = 256, K = 2;
  const cycle = Array.from({ length: 10 }, (_, i) => 2 ** i);
  const layers = 3 * cycle.length;
  const config = {
    architecture: 'wavenet', format_version: 1, sample_rate: 16000, quantization_channels: Q, mu: Q - 1,
    residual_channels: R, dilation_channels: D, skip_channels: S, kernel_size: K, dilation_cycle: cycle, stacks: 3,
    global_condition_classes: 0,
  };
  const rng = new Rng(3);
  const t = (name: string, shape: number[], fanIn: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, shape, data: rng.uniform(n, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)) };
  };
  const tensors = [t('embed.weight', [Q, R], 1)];
  for (let i = 0; i < layers; i++) {
    tensors.push(t(`layers.${i}.conv.weight`, [2 * D, R, K], R * K), t(`layers.${i}.conv.bias`, [2 * D], R * K));
    tensors.push(t(`layers.${i}.residual.weight`, [R, D, 1], D), t(`layers.${i}.residual.bias`, [R], D));
    tensors.push(t(`layers.${i}.skip.weight`, [S, D, 1], D), t(`layers.${i}.skip.bias`, [S], D));
  }
  tensors.push(t('out1.weight', [S, S, 1], S), t('out1.bias', [S], S), t('out2.weight', [Q, S, 1], S), t('out2.bias', [Q], S));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

const best = (fn: () => unknown | Promise<unknown>) => bestMs(ROUNDS, fn);

function pytorchEager(dir: string, samples: number): { realTimeFactor: number; msPerSample: number; engine: string } | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const r = spawnSync('/usr/bin/python3', [fileURLToPath(new URL('../tools/wavenet_bench.py', import.meta.url)), dir, '--samples', String(samples)], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread' },
  });
  if (r.status !== 0) {
    console.log(`PyTorch eager: not measured (${r.stderr.trim().split('\n').pop()})`);
    return undefined;
  }
  return JSON.parse(r.stdout);
}

async function benchModel(name: string, dir: string) {
  const rt = Runtime.create();
  const model = loadModel(rt, readModelDir(dir)) as WaveNet;
  const c = model.config;
  const condition = c.globalClasses ? c.globalClasses >> 1 : undefined;
  // From silence (no pitch prompt) and every class drawable (no min-p): every step is an output sample, drawn
  // from the whole softmax, as in the PyTorch loop it is compared with.
  const request = (samples: number, seed: number): GenerateRequest => ({ samples, condition, temperature: 0.9, minP: 0, seed, prompt: false });
  const seconds = 1;
  const samples = seconds * c.sampleRate;

  const oneMs = await best(() => model.generate([request(samples, 1)]));
  const batchMs = await best(() => model.generate(Array.from({ length: 8 }, (_, i) => request(samples, i))));
  // Naive: each new sample recomputes the whole causal stack over its receptive field.
  const rf = receptiveField(c);
  const window = Int32Array.from({ length: rf }, () => c.classes >> 1);
  const naiveMs = await best(() => model.logits(window, condition));
  const pool = await Pool.open(dir, { workers: 2 });
  const poolMs = await best(() => pool.run(Array.from({ length: 8 }, (_, i) => request(samples, i))));
  await pool.close();
  const torch = pytorchEager(dir, Math.min(samples, 4000));

  const rtf = (streams: number, ms: number) => (streams * seconds) / (ms / 1000);
  const result = {
    model: name,
    sampleRate: c.sampleRate,
    layers: c.dilations.length,
    receptiveField: rf,
    gflopPerAudioSecond: (2 * macsPerSample(c) * c.sampleRate) / 1e9,
    oneStreamOneThread: { realTimeFactor: rtf(1, oneMs), msPerSample: oneMs / samples },
    naiveMsPerSample: naiveMs,
    fastOverNaive: naiveMs / (oneMs / samples),
    batch8OneThread: { realTimeFactor: rtf(8, batchMs) },
    batch8TwoWorkers: { realTimeFactor: rtf(8, poolMs) },
    pytorchEager: torch ?? null,
    overPytorch: torch ? rtf(1, oneMs) / torch.realTimeFactor : null,
  };
  console.log(`${name}: ${result.layers} layers, ${c.sampleRate} Hz, receptive field ${rf} samples, ${result.gflopPerAudioSecond.toFixed(2)} GFLOP per audio second`);
  console.log(`  one stream, one thread:  ${result.oneStreamOneThread.realTimeFactor.toFixed(2)}× real time (${(result.oneStreamOneThread.msPerSample * 1000).toFixed(1)} µs/sample)`);
  console.log(`  fast over naive:         ${result.fastOverNaive.toFixed(0)}× (naive ${naiveMs.toFixed(2)} ms/sample)`);
  console.log(`  8 streams, one thread:   ${result.batch8OneThread.realTimeFactor.toFixed(2)}× real time aggregate`);
  console.log(`  8 streams, two workers:  ${result.batch8TwoWorkers.realTimeFactor.toFixed(2)}× real time aggregate`);
  if (torch) console.log(`  PyTorch eager, 1 stream: ${torch.realTimeFactor.toFixed(3)}× real time → hibiki ${result.overPytorch!.toFixed(1)}× faster`);
  return result;
}

console.log(formatSystemLine(systemInfo(1)));
const results = [];
if (existsSync(join(SHIPPED, 'model.safetensors'))) results.push(await benchModel('shipped (models/wavenet-piano)', SHIPPED));
const reference = makeReferenceModel();
results.push(await benchModel('reference (30 layers, 64/128 channels, 16 kHz)', reference));
rmSync(reference, { recursive: true });

const out = new URL('./results/wavenet.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(2), results }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
