// npm run bench:scaling — how the library's task classes scale with workers, and what
// caps them: the work left on the calling thread (Amdahl's law).
//
// For translate (Translator, the default model, lines of text), generate (Generator,
// clips of the default WaveNet), detect (Detector, JPEG/PNG bytes) and classify
// (Classifier, PNG bytes), on pools of SCALING_WORKERS workers (default "1,2"; on a
// 16-core machine "1,2,4,8,16"; SCALING_TASKS=generate,detect runs only those), at least 4
// rounds and 3 s (at most 20 rounds):
//  - items per second (the fastest round);
//  - calling-thread ms per item: the main thread's busy time during the call
//    (performance.eventLoopUtilization: tokenizing, reading image headers, messages),
//  - worker ms per item: the time the workers' tasks took (Pool.stats.workerMs),
//    each the least over the rounds, apart: on a shared VM noise only adds time, and the
//    calling thread's busy time counts the moments it was runnable but descheduled,
//  - the speed-up those two allow at 16 and 64 workers: (c + w) / (c + w / n).
// Writes bench/results/scaling.json.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import type { Pool } from '../src/pool/pool.js';
import { Generator } from '../src/tasks/generator.js';
import { Translator } from '../src/tasks/translator.js';
import { Classifier, Detector } from '../src/tasks/vision.js';

const WORKERS = (process.env.SCALING_WORKERS ?? '1,2').split(',').map(Number);
const ONLY = process.env.SCALING_TASKS?.split(','); // e.g. "generate,detect"; default all
// At least 4 rounds, and more while they take under 3 s in all: a round of generate
// is 0.15-0.3 s, and its fastest of 4 moved by 10 % between runs.
const MIN_ROUNDS = 4;
const MIN_MS = 3000;
const MAX_ROUNDS = 20;
const file = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)));

interface Task {
  name: string;
  unit: string;
  items: number;
  /** The final table's measure, when it is not items/s: its name and items/s × scale (generate: × real time). */
  table?: { measure: string; scale: number };
  open: (workers: number) => Promise<{ pool?: Pool; close(): Promise<void> }>;
  run: (opened: never) => Promise<unknown>;
}

const sentences = file('test/fixtures/en-es/general.en').toString('utf8').split('\n').filter(Boolean);
const photos = ['astronaut.png', 'camera.png', 'astronaut-camera.jpg'].map((n) => file(`samples/images/${n}`));
const digits = Array.from({ length: 10 }, (_, d) => file(`samples/images/digits/${d}-32px.png`));

const tasks: Task[] = [
  {
    name: 'translate', unit: 'sentences', items: 400,
    open: (workers) => Translator.open(undefined, { workers }),
    run: (t: Translator) => t.translate([...sentences, ...sentences], { beam: 1 }),
  },
  {
    name: 'generate', unit: 'clips of 0.25 s', items: 16, table: { measure: '× real time', scale: 0.25 },
    open: (workers) => Generator.open(undefined, { workers }),
    // From silence: the pitch prompt's 400 steps would be a fifth more work on clips this short, and the
    // figures would not compare with the runs before it.
    run: (g: Generator) => g.generate({ seconds: 0.25, condition: '60', count: 16, seed: 1, prompt: false }),
  },
  {
    name: 'detect', unit: 'photos', items: 12,
    open: (workers) => Detector.open(undefined, { workers }),
    run: (d: Detector) => d.detect(Array.from({ length: 12 }, (_, i) => photos[i % photos.length]!)),
  },
  {
    name: 'classify', unit: 'digit pictures', items: 2000,
    open: (workers) => Classifier.open(undefined, { workers }),
    run: (c: Classifier) => c.classify(Array.from({ length: 2000 }, (_, i) => digits[i % digits.length]!)),
  },
] as Task[];

console.log(formatSystemLine(systemInfo(Math.max(...WORKERS))));
const results = [];
for (const task of tasks.filter((t) => !ONLY || ONLY.includes(t.name))) {
  for (const workers of WORKERS) {
    const opened = await task.open(workers);
    const pool = opened.pool!;
    await task.run(opened as never); // warm: every worker compiled and attached
    const best = { ms: Infinity, callingMs: Infinity, workerMs: Infinity };
    const began = performance.now();
    for (let r = 0; r < MAX_ROUNDS && (r < MIN_ROUNDS || performance.now() - began < MIN_MS); r++) {
      const workerBefore = pool.stats.workerMs;
      const loop = performance.eventLoopUtilization();
      const started = performance.now();
      await task.run(opened as never);
      best.ms = Math.min(best.ms, performance.now() - started);
      best.callingMs = Math.min(best.callingMs, performance.eventLoopUtilization(loop).active);
      best.workerMs = Math.min(best.workerMs, pool.stats.workerMs - workerBefore);
    }
    await opened.close();
    const c = best.callingMs / task.items;
    const w = best.workerMs / task.items;
    const bound = (n: number) => (c + w) / (c + w / n);
    const row = {
      task: task.name, workers, itemsPerS: task.items / (best.ms / 1000), callingMsPerItem: c, workerMsPerItem: w,
      boundAt16: bound(16), boundAt64: bound(64),
    };
    results.push(row);
    console.log(`${task.name}, ${workers} worker${workers > 1 ? 's' : ''}: ${row.itemsPerS.toFixed(1)} ${task.unit}/s; per item ${c.toFixed(3)} ms on the calling thread, ` +
      `${w.toFixed(3)} ms in a worker → at most ${row.boundAt16.toFixed(1)}× at 16 workers, ${row.boundAt64.toFixed(1)}× at 64`);
  }
  const rows = results.filter((r) => r.task === task.name);
  if (rows.length > 1) console.log(`${task.name}: ${rows.at(-1)!.workers} workers over 1: ${(rows.at(-1)!.itemsPerS / rows[0]!.itemsPerS).toFixed(2)}×`);
}

// The README's table (issue 26 asks for 1–16 workers on a 16-core machine): a row per task,
// a column per worker count, the last with its speed-up over one worker.
console.log(`\n| workers | ${WORKERS.join(' | ')} |\n| --- |${WORKERS.map(() => ' ---: |').join('')}`);
for (const task of tasks) {
  const rows = results.filter((r) => r.task === task.name);
  if (!rows.length) continue;
  const scale = task.table?.scale ?? 1;
  const cells = rows.map((r, i) => {
    const value = (r.itemsPerS * scale).toLocaleString('en-US', { maximumFractionDigits: r.itemsPerS * scale < 100 ? 1 : 0 });
    return i === rows.length - 1 && i > 0 ? `${value} (${(r.itemsPerS / rows[0]!.itemsPerS).toFixed(1)}×)` : value;
  });
  console.log(`| ${task.name}, ${task.table?.measure ?? `${task.unit}/s`} | ${cells.join(' | ')} |`);
}

const out = new URL('./results/scaling.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(Math.max(...WORKERS)), results }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
