// npm run bench:builds — the relaxed-SIMD kernel build against the SIMD128 one
// (src/runtime/wasm.ts), in one run: each build measured in a process of its
// own (HIBIKI_SIMD), alternating, BUILDS_ROUNDS times (default 2); each row
// is the best of its rounds, so a noisy minute on this 2-core VM costs
// neither build.
//
// Rows, all on one thread: SGEMM 512 and attention (B1 H8 T128 D64) from the
// kernel registry; whole models through the library, in process: the face
// detector (SSD MobileNet v1, 3 sample photos), the shapes U-Net (4 samples),
// the digits DenseNet (100 pictures), the piano WaveNet (one stream, 0.5 s)
// and the English → Spanish Marian translator (20 sentences, greedy).
// Where tools/export_peers.py has written bench/peers/models, also the model
// rows of bench:peers that issue 26 names (MobileNet v2 and DenseNet-121 at
// 224², the WaveNet teacher-forced over 16,000 samples, MHA, the Transformer)
// and their decoding cases (wavenet_step, transformer_greedy), each run by
// bench/peers/run.ts, which checks the outputs against PyTorch's first.
// Issue 26's targets: SGEMM 512 ≥ 1.5×, the model rows ≥ 1.25×.
// Writes bench/results/builds.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchKernels } from '../src/kernels/bench.js';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { Generator } from '../src/tasks/generator.js';
import { Translator } from '../src/tasks/translator.js';
import { Classifier, Detector, Segmenter } from '../src/tasks/vision.js';
import { bestMs } from './rounds.js';

const BUILDS = ['simd128', 'relaxed'] as const;
const ROUNDS = Number(process.env.BUILDS_ROUNDS ?? 2);
const TARGETS: Record<string, number> = {
  'gemm 512×512×512': 1.5, 'face detector, 3 photos': 1.25, 'shapes U-Net, 4 pictures': 1.25, 'digits DenseNet, 100 pictures': 1.25,
  'piano WaveNet, 0.5 s': 1.25, 'attention B1 H8 Tq128 Tk128 D64 Dv64': 1.25, 'Marian en → es, 20 sentences greedy': 1.25,
  'peers mobilenet_v2': 1.25, 'peers densenet121': 1.25, 'peers wavenet': 1.25, 'peers mha': 1.25, 'peers transformer': 1.25,
};
const PEER_CASES = ['mobilenet_v2', 'densenet121', 'wavenet', 'wavenet_step', 'mha', 'transformer', 'transformer_greedy']
  .filter((name) => existsSync(fileURLToPath(new URL(`./peers/models/${name}/io.safetensors`, import.meta.url))));

/** One bench:peers case on hibiki, one thread, on `build`: its time in ms (run.ts's best of four medians). */
function peerMs(name: string, build: string): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./peers/run.ts', import.meta.url)), 'hibiki', '1', name], {
    encoding: 'utf8', env: { ...process.env, HIBIKI_SIMD: build },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`bench:peers' ${name} on ${build} failed: ${r.stderr}`);
  return (JSON.parse(line) as { ms: number }).ms;
}

/** The child: every row once on this process's build, as one JSON line {build, rows: {name: ms}}. */
async function child(): Promise<void> {
  const rows: Record<string, number> = {};
  const kernels = benchKernels({ filter: /gemm 512×512×512$|attention B1 H8 Tq128 Tk128 D64 Dv64$/, timeMs: 500, reference: false });
  for (const row of kernels.rows) rows[row.problem] = row.ms;
  const file = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)));
  const photos = ['astronaut.png', 'camera.png', 'astronaut-camera.jpg'].map((n) => file(`samples/images/${n}`));
  const shapes = [0, 1, 2, 3].map((i) => file(`samples/images/shapes/shapes-${i}.png`));
  const digits = Array.from({ length: 100 }, (_, i) => file(`samples/images/digits/${i % 10}-32px.png`));
  const sentences = file('test/fixtures/en-es/general.en').toString('utf8').split('\n').filter(Boolean).slice(0, 20);
  const detector = await Detector.open();
  rows['face detector, 3 photos'] = await bestMs(3, () => detector.detect(photos));
  const segmenter = await Segmenter.open();
  rows['shapes U-Net, 4 pictures'] = await bestMs(5, () => segmenter.segment(shapes));
  const classifier = await Classifier.open();
  rows['digits DenseNet, 100 pictures'] = await bestMs(5, () => classifier.classify(digits));
  const generator = await Generator.open();
  rows['piano WaveNet, 0.5 s'] = await bestMs(3, () => generator.generate({ seconds: 0.5, condition: '60' }));
  const translator = await Translator.open();
  rows['Marian en → es, 20 sentences greedy'] = await bestMs(3, () => translator.translate(sentences, { beam: 1 }));
  for (const opened of [detector, segmenter, classifier, generator, translator]) await opened.close();
  console.log(JSON.stringify({ build: systemInfo(1).kernels, rows }));
}

async function main(): Promise<void> {
  console.log(formatSystemLine(systemInfo(1)));
  if (PEER_CASES.length === 0) console.log('(no bench/peers/models: run tools/export_peers.py for the bench:peers model rows)');
  const best: Record<string, Record<string, number>> = { simd128: {}, relaxed: {} };
  for (let round = 0; round < ROUNDS; round++) {
    for (const build of BUILDS) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], {
        encoding: 'utf8', env: { ...process.env, HIBIKI_SIMD: build },
      });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`the ${build} run failed: ${r.stderr}`);
      const out = JSON.parse(line) as { build: string; rows: Record<string, number> };
      if (out.build !== build) throw new Error(`asked for ${build}, ran ${out.build}`);
      for (const [name, ms] of Object.entries(out.rows)) best[build]![name] = Math.min(best[build]![name] ?? Infinity, ms);
      for (const name of PEER_CASES) best[build]![`peers ${name}`] = Math.min(best[build]![`peers ${name}`] ?? Infinity, peerMs(name, build));
    }
  }
  const rows = Object.keys(best.simd128!).map((name) => {
    const ratio = best.simd128![name]! / best.relaxed![name]!;
    const target = TARGETS[name];
    return { name, simd128Ms: best.simd128![name]!, relaxedMs: best.relaxed![name]!, ratio, target, met: target === undefined ? undefined : ratio >= target };
  });
  console.log(`| row | SIMD128 ms | relaxed ms | relaxed faster by | target |\n| --- | ---: | ---: | ---: | --- |`);
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.simd128Ms.toFixed(2)} | ${r.relaxedMs.toFixed(2)} | ${r.ratio.toFixed(2)}× | ${r.target ? `≥ ${r.target}×: ${r.met ? 'met' : 'MISSED'}` : ''} |`);
  }
  const out = new URL('./results/builds.json', import.meta.url);
  mkdirSync(new URL('.', out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(1), rounds: ROUNDS, rows }, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(out)}`);
}

if (process.argv.includes('--child')) await child();
else await main();
