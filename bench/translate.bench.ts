// npm run bench:translate — translation speed of the shipped models, in one run.
// The default, models/translate-en-es (a Marian directory), on the 10–20-word
// sentences of its evaluation sets (test/fixtures/en-es), through Translator in
// this thread (tokenizing included, as a user runs it): greedy one line at a time
// and all lines in one call, and beam 4 (the directory's setting) one at a time.
// The toy English → Japanese Transformer on its held-out sentences (samples/test.en):
//  - sentences/s and target tokens/s for greedy and beam 4, at batch 1 and
//    batch 32, one thread;
//  - the same job on a pool of 1 and of 2 workers (batch 32);
//  - PyTorch eager on the same weights, token ids and searches
//    (tools/translate_bench.py, one thread, OpenBLAS), when Debian's
//    python3-torch is installed.
// Each figure is the best of a few rounds. Writes bench/results/translate.json.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { bestMs } from './rounds.js';
import { readLines } from '../src/cli/translate.js';
import { readModelDir } from '../src/io/model-dir.js';
import { loadModel } from '../src/models/index.js';
import type { TransformerBatch, TranslateItem } from '../src/models/transformer.js';
import { DEFAULT_MODELS } from '../src/tasks/defaults.js';
import { Translator } from '../src/tasks/translator.js';
import { Pool } from '../src/pool/pool.js';
import { Runtime } from '../src/runtime/runtime.js';

const ROUNDS = 3;
const MODEL = fileURLToPath(new URL('../models/translate-en-ja', import.meta.url));
const SENTENCES = 128;

const best = (fn: () => unknown | Promise<unknown>) => bestMs(ROUNDS, fn);

const translator = await Translator.open(MODEL, { workers: 0 });
const sources = readLines(fileURLToPath(new URL('../samples/test.en', import.meta.url))).slice(0, SENTENCES).map((l) => translator.encode(l));
await translator.close();
const model = (loadModel(Runtime.create(), readModelDir(MODEL)) as TransformerBatch).model;
const runs = [{ beam: 1, batch: 1 }, { beam: 1, batch: 32 }, { beam: 4, batch: 1 }, { beam: 4, batch: 32 }];

function hibiki(beam: number, batch: number) {
  let tokens = 0;
  for (let i = 0; i < sources.length; i += batch) {
    for (const h of model.search(sources.slice(i, i + batch), { beam })) tokens += h[0]!.tokens.length;
  }
  return tokens;
}

function pytorchEager() {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-translate-bench-'));
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ sentences: sources, runs }));
  const r = spawnSync('/usr/bin/python3', [fileURLToPath(new URL('../tools/translate_bench.py', import.meta.url)), MODEL, join(dir, 'job.json')], {
    encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread' },
  });
  rmSync(dir, { recursive: true });
  if (r.status !== 0) {
    console.log(`PyTorch eager: not measured (${r.stderr.trim().split('\n').pop()})`);
    return undefined;
  }
  return JSON.parse(r.stdout) as { torch: string; results: { beam: number; batch: number; sentences_per_s: number; tokens_per_s: number }[] };
}

console.log(formatSystemLine(systemInfo(1)));
console.log(`${SENTENCES} sentences of samples/test.en, ${sources.reduce((a, s) => a + s.length, 0)} source tokens`);
const torch = pytorchEager();
const results = [];
for (const { beam, batch } of runs) {
  let tokens = 0;
  const ms = await best(() => { tokens = hibiki(beam, batch); });
  const theirs = torch?.results.find((r) => r.beam === beam && r.batch === batch);
  const row = {
    beam, batch, sentencesPerS: SENTENCES / (ms / 1000), tokensPerS: tokens / (ms / 1000),
    pytorchSentencesPerS: theirs?.sentences_per_s ?? null,
    overPytorch: theirs ? SENTENCES / (ms / 1000) / theirs.sentences_per_s : null,
  };
  results.push(row);
  console.log(`${beam === 1 ? 'greedy ' : `beam ${beam}`}, batch ${String(batch).padStart(2)}, one thread: ${row.sentencesPerS.toFixed(1)} sentences/s, ${row.tokensPerS.toFixed(0)} tokens/s` +
    (theirs ? ` | PyTorch eager ${theirs.sentences_per_s.toFixed(1)} sentences/s → hibiki ${row.overPytorch!.toFixed(2)}×` : ''));
}

/** The default translator: sentences/s through Translator, one thread. */
async function defaultModel() {
  const fixture = (name: string) => readLines(fileURLToPath(new URL(`../test/fixtures/en-es/${name}`, import.meta.url)));
  const lines = [...fixture('packages.en'), ...fixture('general.en')].filter((l) => {
    const words = l.split(/\s+/).filter(Boolean).length;
    return words >= 10 && words <= 20;
  });
  const translator = await Translator.open(DEFAULT_MODELS.translator, { workers: 0 });
  const words = lines.reduce((n, l) => n + l.split(/\s+/).filter(Boolean).length, 0);
  console.log(`${DEFAULT_MODELS.translator}: ${lines.length} sentences of 10–20 words (mean ${(words / lines.length).toFixed(1)}) from test/fixtures/en-es`);
  const rows = [];
  for (const [search, beam, together] of [['greedy, one line at a time', 1, false], ['greedy, all lines in one call', 1, true], ['beam 4, one line at a time', 4, false]] as const) {
    const ms = await best(async () => {
      if (together) await translator.translate(lines, { beam });
      else for (const line of lines) await translator.translate(line, { beam });
    });
    rows.push({ search, sentencesPerS: lines.length / (ms / 1000) });
    console.log(`  ${search}, one thread: ${rows.at(-1)!.sentencesPerS.toFixed(1)} sentences/s`);
  }
  await translator.close();
  return { model: 'models/translate-en-es', sentences: lines.length, meanWords: words / lines.length, rows };
}
const enEs = await defaultModel();

const pooled: Record<string, number> = {};
for (const workers of [1, 2]) {
  const pool = await Pool.open(MODEL, { workers });
  // Enough sentences that two workers each get several batches of about 32.
  const items: TranslateItem[] = [...sources, ...sources, ...sources, ...sources].map((source) => ({ source, batchTokens: 32 * 12 }));
  const ms = await best(() => pool.run(items));
  await pool.close();
  pooled[workers] = items.length / (ms / 1000);
  console.log(`greedy, pool of ${workers} worker${workers > 1 ? 's' : ''}: ${pooled[workers]!.toFixed(1)} sentences/s`);
}
console.log(`two workers over one: ${(pooled[2]! / pooled[1]!).toFixed(2)}×`);

const out = new URL('./results/translate.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(2), torch: torch?.torch ?? null, defaultModel: enEs, results,
  pool: { oneWorker: pooled[1], twoWorkers: pooled[2], scaling: pooled[2]! / pooled[1]! } }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
