// npm run bench:queue — distributed translation through BullMQ on a private
// redis-server (Debian's redis-server must be installed), on this machine:
//  - the local pool of 2 threads on the held-out set (the baseline);
//  - the same job through the queue with 1 worker process of 2 threads and
//    with 2 worker processes of 1 thread each, at several shard sizes;
//  - the queue's overheads, from jobs of one-line shards on 1 worker process
//    of 2 threads: per job (a one-shard job's round trip, connecting
//    included, less the line's time on a local pool of the same threads) and
//    per extra shard ((a 41-shard job − a 1-shard job) / 40; the line itself
//    takes the local time above, two at once).
// Each figure is the best of a few rounds. Writes bench/results/queue.json.
import { fileURLToPath } from 'node:url';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { readLines } from '../src/cli/translate.js';
import { modelContentHash } from '../src/io/model-dir.js';
import { Translator } from '../src/tasks/translator.js';
import { runOnQueue } from '../src/queue/producer.js';
import { parseQueueUrl } from '../src/queue/redis.js';
import { type TranslateShard, type TranslateShardResult, planTranslateShards } from '../src/queue/translate.js';
import { startRedis } from '../test/helpers/redis.js';
import { bestMs } from './rounds.js';

const ROUNDS = 3;
const MODEL = fileURLToPath(new URL('../models/translate-en-ja', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SHARD_TOKENS = [512, 2048, 8192];
const SEARCH = { beam: 1, nBest: 1, lengthPenalty: 1, maxBatchTokens: 4096 };

const lines = readLines(fileURLToPath(new URL('../samples/test.en', import.meta.url)));
const redis = await startRedis();
const spawned: ChildProcess[] = [];
// Whatever happens, no worker process or redis-server outlives the bench.
process.on('exit', () => {
  for (const child of spawned) child.kill('SIGKILL');
  try {
    process.kill(redis.pid, 'SIGKILL');
  } catch {
    // already stopped
  }
});
const url = parseQueueUrl(redis.url);
const model = modelContentHash(MODEL);
console.log(formatSystemLine(systemInfo(2)));
console.log(`${lines.length} sentences of samples/test.en, greedy; redis-server on loopback`);

const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
/** Median ms of `n` calls made one after another. */
async function medianMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}
const ONE_LINE = [lines[0]!];
const LATENCY_CALLS = 40;

const translator = await Translator.open(MODEL, { workers: 2 });
const reference = (await translator.translate(lines, SEARCH)).translations.map((t) => t?.text);
const localMs = await bestMs(ROUNDS, () => translator.translate(lines, SEARCH));
const localLineMs = await medianMs(LATENCY_CALLS, () => translator.translate(ONE_LINE, SEARCH));
await translator.close();
console.log(`local pool, 2 threads: ${(lines.length / (localMs / 1000)).toFixed(1)} sentences/s`);

/** `hibiki worker` processes, resolved once each serves the queue. */
async function startWorkers(processes: number, threads: number): Promise<ChildProcess[]> {
  return Promise.all(Array.from({ length: processes }, () => new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--queue', redis.url, '--model', MODEL, '--workers', String(threads)],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    spawned.push(child);
    let log = '';
    child.stderr!.on('data', (d) => {
      log += d;
      if (/serving the translate queue/.test(log)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${log}`)));
  })));
}

let round = 0;
async function queued(shards: TranslateShard[], want = reference): Promise<void> {
  // A fresh job key each round, so no round finds the last one's results.
  const run = await runOnQueue<TranslateShard, TranslateShardResult>({
    url, kind: 'translate', jobKey: `${String(round++).padStart(8, '0')}${model}`, model, modelName: 'translate-en-ja', log: () => {},
  }, shards.map((data) => ({ data, items: data.lines.length })));
  const out = run.results.flatMap((r) => r!.translations.map((t) => t?.text));
  if (run.failures.length || out.some((t, i) => t !== want[i])) throw new Error('the queue translated differently from the local pool');
  await run.remove();
}
let overheadMsPerShard = NaN;
let overheadMsPerJob = NaN;

const rows = [];
for (const [processes, threads] of [[1, 2], [2, 1]] as const) {
  const workers = await startWorkers(processes, threads);
  for (const shardTokens of SHARD_TOKENS) {
    const shards = planTranslateShards(lines, MODEL, shardTokens, SEARCH);
    const ms = await bestMs(ROUNDS, () => queued(shards));
    const row = { processes, threads, shardTokens, shards: shards.length, sentencesPerS: lines.length / (ms / 1000), overLocal: localMs / ms };
    rows.push(row);
    console.log(`${processes} worker process${processes > 1 ? 'es' : ''} × ${threads} thread${threads > 1 ? 's' : ''}, ` +
      `${String(shardTokens).padStart(4)} tokens/shard (${String(shards.length).padStart(3)} shards): ${row.sentencesPerS.toFixed(1)} sentences/s, ` +
      `${row.overLocal.toFixed(2)}× the local pool`);
  }
  if (processes === 1) {
    const one = planTranslateShards(ONE_LINE, MODEL, 8192, SEARCH);
    const many = Array.from({ length: 41 }, () => one[0]!);
    const oneMs = await medianMs(LATENCY_CALLS, () => queued(one, reference.slice(0, 1)));
    const manyMs = await medianMs(9, () => queued(many, many.map(() => reference[0])));
    overheadMsPerJob = oneMs - localLineMs;
    overheadMsPerShard = (manyMs - oneMs) / 40;
    console.log(`a job of one one-line shard: ${oneMs.toFixed(1)} ms through the queue (the line alone: ${localLineMs.toFixed(1)} ms locally) → ` +
      `${overheadMsPerJob.toFixed(1)} ms per job; 41 such shards: ${manyMs.toFixed(1)} ms → ${overheadMsPerShard.toFixed(1)} ms per extra shard`);
  }
  for (const w of workers) w.kill('SIGTERM');
}
await redis.stop();

const out = new URL('./results/queue.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({
  version: 1, date: new Date().toISOString(), system: systemInfo(2), sentences: lines.length,
  local: { sentencesPerS: lines.length / (localMs / 1000), oneLineMs: localLineMs }, queue: rows, overheadMsPerJob, overheadMsPerShard,
}, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
process.exit(0);
