// npm run bench:peers — hibiki against the engines a user would pick instead, on the same models,
// weights and inputs, in one run:
//   - onnxruntime-web 1.30 (WASM SIMD; 1 and 2 threads);
//   - TensorFlow.js 4.22 on its wasm backend (XNNPACK): every case but the Transformer, written in
//     TF.js ops (bench/peers/tfjs-models.ts);
//   - onnxruntime-node 1.30 (native: the ceiling, not the target);
//   - PyTorch (Debian's python3-torch with OpenBLAS, eager or traced and frozen, whichever is faster;
//     PYTHON overrides the interpreter);
//   - for the face detector, face-api 1.7.15 itself on TF.js wasm against the shipped model.
// Needs the peers (cd bench/peers && npm ci) and the exported models (tools/export_peers.py).
// Every engine runs each case in a process of its own (bench/peers/run.ts, tools/peers_torch.py):
// outputs are checked against PyTorch's (1e-3) before any time is taken, and the process's peak
// resident memory is that engine's for that model. The whole sweep runs PEERS_ROUNDS times (default
// 2, about 25 minutes, plus about 25 for the Marian rows); PEERS_CASES=marian_ (prefixes, comma-separated)
// runs only some cases. Prints one table; writes bench/results/peers.json.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';

interface Row { engine: string; threads: number; case: string; ms: number; perSecond: number; tokensPerSecond?: number; maxError: number; rssMiB: number }

const MODELS = fileURLToPath(new URL('./peers/models/', import.meta.url));
const ORDER = ['sgemm_256', 'sgemm_512', 'sgemm_1024', 'mobilenet_v2', 'densenet121', 'wavenet', 'wavenet_step', 'mha', 'transformer', 'transformer_greedy',
  'marian_greedy_b1', 'marian_greedy_b16', 'marian_beam4_b1', 'marian_beam4_b16'];
if (!existsSync(MODELS)) throw new Error('no bench/peers/models: run tools/export_peers.py first (and cd bench/peers && npm ci)');
// The face detector needs no export: it is the shipped model against face-api itself (TF.js wasm).
// (models/marian/ is the Marian cases' shared model directory, not a case.)
const cases = ORDER.filter((c) => existsSync(`${MODELS}${c}/io.safetensors`))
  .concat(readdirSync(MODELS).filter((c) => !ORDER.includes(c) && existsSync(`${MODELS}${c}/io.safetensors`)), 'face_detector');
const isMarian = (name: string) => name.startsWith('marian_');
// PEERS_CASES=marian_,sgemm runs only the cases whose names start with one of those prefixes.
const only = process.env.PEERS_CASES?.split(',').filter(Boolean);
if (only) cases.splice(0, cases.length, ...cases.filter((c) => only.some((prefix) => c.startsWith(prefix))));
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

/** Engine × threads, per case kind. hibiki's 2-thread figure is two workers' throughput (run.ts). */
function configs(name: string): Array<[string, number]> {
  // No ONNX of face-api's network exists to give onnxruntime; TF.js is the engine it ships for.
  if (name === 'face_detector') return [['hibiki', 1], ['hibiki', 2], ['tfjs-wasm', 1]];
  // Marian at opus-mt's size: one thread each (a decoding step's small GEMMs do not split well), no TF.js port.
  // hibiki-int8 is the same model with its Linear weights int8 (issue 26's moonshot: against ort-node).
  if (isMarian(name)) return [['hibiki', 1], ['hibiki-int8', 1], ['ort-web', 1], ['ort-node', 1]];
  const sgemm = name.startsWith('sgemm');
  const tfjs = sgemm || ['mobilenet_v2', 'densenet121', 'mha', 'wavenet'].includes(name);
  return [
    ['hibiki', 1], ...(sgemm ? [] : [['hibiki', 2] as [string, number]]),
    ['ort-web', 1], ['ort-web', 2], ...(tfjs ? [['tfjs-wasm', 1] as [string, number]] : []), ['ort-node', 1], ['pytorch', 1],
  ];
}

function measure(engine: string, threads: number, name: string): Row | string {
  const r = engine === 'pytorch'
    ? spawnSync(PYTHON, [fileURLToPath(new URL('../tools/peers_torch.py', import.meta.url)), name, String(threads)],
      { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: OPENBLAS } })
    : spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./peers/run.ts', import.meta.url)), engine, String(threads), name], { encoding: 'utf8' });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return `${engine} ×${threads} on ${name}: ${(r.stderr || r.error?.message || 'failed').trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-3).join(' ')}`;
  return JSON.parse(line) as Row;
}

// Every row is measured once per round, the rounds one whole sweep apart (minutes): this VM slows
// down in bursts of seconds, which can cover all four timing windows of one process but not every
// round. A row keeps its fastest round, its highest peak memory and its largest error.
const ROUNDS = Number(process.env.PEERS_ROUNDS ?? 2);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`PEERS_ROUNDS must be a whole number of rounds, 1 or more; got "${process.env.PEERS_ROUNDS}"`);
console.log(formatSystemLine(systemInfo(2)));
const rows: Row[] = [];
const problems: string[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const name of cases) {
    for (const [engine, threads] of configs(name)) {
      const r = measure(engine, threads, name);
      if (typeof r === 'string') {
        problems.push(`round ${round}: ${r}`);
        console.log(`  ${r}`);
        continue;
      }
      console.log(`  round ${round} ${name} ${engine} ×${threads}: ${r.ms.toFixed(2)} ms, ${r.rssMiB.toFixed(0)} MiB peak, error ${r.maxError.toExponential(1)}`);
      const seen = rows.find((o) => o.case === r.case && o.engine === r.engine && o.threads === r.threads);
      if (!seen) {
        rows.push(r);
        continue;
      }
      if (r.ms < seen.ms) Object.assign(seen, { ms: r.ms, perSecond: r.perSecond, tokensPerSecond: r.tokensPerSecond });
      seen.rssMiB = Math.max(seen.rssMiB, r.rssMiB);
      seen.maxError = Math.max(seen.maxError, r.maxError);
    }
  }
}

const find = (name: string, engine: string, threads = 1) => rows.find((r) => r.case === name && r.engine === engine && r.threads === threads);
const cell = (name: string, engine: string, threads = 1) => {
  const ours = find(name, 'hibiki', threads);
  const theirs = find(name, engine, threads);
  if (!theirs) return '—';
  return ours ? `${theirs.ms.toFixed(2)} (${(theirs.ms / ours.ms).toFixed(2)}×)` : theirs.ms.toFixed(2);
};
const gflops = (name: string, ms: number) => (name.startsWith('sgemm') ? ` = ${((2 * Number(name.split('_')[1]) ** 3) / ms / 1e6).toFixed(1)} GFLOP/s` : '');

const tableCases = cases.filter((c) => !isMarian(c));
if (tableCases.length) {
  console.log(`\none thread: ms, the best of ${ROUNDS} rounds of four windows' medians (peer ÷ hibiki: above 1× hibiki is faster); peak resident MiB hibiki / onnxruntime-web`);
  console.log('wavenet_step: 1,000 samples generated one at a time; transformer_greedy: 8 sentences decoded greedily (32 tokens)\n');
  console.log('| case | hibiki | onnxruntime-web | TF.js wasm | onnxruntime-node | PyTorch | memory hibiki / ort-web |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
}
for (const name of tableCases) {
  const ours = find(name, 'hibiki');
  const web = find(name, 'ort-web');
  const memory = ours && web ? `${ours.rssMiB.toFixed(0)} / ${web.rssMiB.toFixed(0)}` : '—';
  console.log(`| ${name} | ${ours ? `${ours.ms.toFixed(2)}${gflops(name, ours.ms)}` : '—'} | ${cell(name, 'ort-web')} | ${cell(name, 'tfjs-wasm')} | ${cell(name, 'ort-node')} | ${cell(name, 'pytorch')} | ${memory} |`);
}
const marian = cases.filter(isMarian);
if (marian.length) {
  console.log('\nMarian at opus-mt-en-de\'s size (d 512, 6 + 6 layers, vocabulary 58,101; random weights, sources of 8–32 tokens), up to 32 new tokens,');
  console.log('one thread, onnxruntime as transformers.js runs it (encoder, decoder, decoder with past), the same searches: tokens/s (hibiki ÷ peer)\n');
  console.log('hibiki int8: tokens/s (÷ hibiki float32; ÷ onnxruntime-node), and the tokens that differ from PyTorch\'s float32\n');
  console.log('| case | hibiki | hibiki int8 | onnxruntime-web | onnxruntime-node | memory hibiki / int8 / ort-web / ort-node |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const tokens = (r: Row | undefined, ours: Row | undefined) => (!r ? '—' : `${r.tokensPerSecond!.toFixed(1)}${ours && r !== ours ? ` (${(ours.tokensPerSecond! / r.tokensPerSecond!).toFixed(2)}×)` : ''}`);
  const over = (a: Row | undefined, b: Row | undefined) => (a && b ? `${(a.tokensPerSecond! / b.tokensPerSecond!).toFixed(2)}×` : '—');
  for (const name of marian) {
    const [ours, int8, web, native] = ['hibiki', 'hibiki-int8', 'ort-web', 'ort-node'].map((e) => find(name, e));
    const int8Cell = int8 ? `${int8.tokensPerSecond!.toFixed(1)} (${over(int8, ours)}; ${over(int8, native)}; ${int8.maxError} differ)` : '—';
    console.log(`| ${name} | ${tokens(ours, ours)} | ${int8Cell} | ${tokens(web, ours)} | ${tokens(native, ours)} | ${[ours, int8, web, native].map((r) => (r ? r.rssMiB.toFixed(0) : '—')).join(' / ')} |`);
  }
}
if (rows.some((r) => r.engine === 'hibiki' && r.threads === 2)) {
  console.log('\ntwo threads: ms per input (hibiki: 2 workers over 8 inputs; the peers: 2 intra-op threads)\n');
  console.log('| case | hibiki ×2 (vs its ×1) | onnxruntime-web ×2 |');
  console.log('| --- | ---: | ---: |');
}
for (const name of cases) {
  const two = find(name, 'hibiki', 2);
  const one = find(name, 'hibiki');
  if (!two) continue;
  console.log(`| ${name} | ${two.ms.toFixed(2)} (${one ? (one.ms / two.ms).toFixed(2) : '?'}×) | ${cell(name, 'ort-web', 2)} |`);
}
if (problems.length) console.log(`\nnot measured:\n${problems.map((p) => `  ${p}`).join('\n')}`);

// A partial run (PEERS_CASES) writes beside the full table, not over it.
const out = new URL(only ? `./results/peers-${only.join('-').replace(/[^\w-]/g, '')}.json` : './results/peers.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(2), rounds: ROUNDS, rows, problems }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
