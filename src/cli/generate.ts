import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { formatSystemLine, systemInfo } from '../runtime/system.js';
import { HibikiError } from '../errors.js';
import { type WavFormat, writeWav } from '../io/wav.js';
import { type GenerateResult, Generator } from '../tasks/generator.js';
import { DEFAULT_MODELS, MAX_SECONDS } from '../tasks/defaults.js';
import type { GenerateRequest } from '../models/wavenet.js';
import type { Progress } from '../pool/job.js';
import { type GenerateShard, type GenerateShardResult, decodeClip, planGenerateShards } from '../queue/generate.js';
import { parseNumber } from './options.js';
import { type QueuedOutcome, queueFlag, removeQueuedJob, runQueuedJob } from './queue.js';

interface GenerateFlags {
  model: string;
  seconds: number;
  count: number;
  condition?: string;
  temperature: number;
  seed: number;
  out: string;
  workers?: number;
  format: WavFormat;
  verbose?: boolean;
  queue?: string;
  shardSeconds: number;
  attempts: number;
}

/** out.wav for one file; out-1.wav, out-2.wav, … for several. */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const ext = extname(out) || '.wav';
  const stem = extname(out) ? out.slice(0, -ext.length) : out;
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}

/** `hibiki generate`: WaveNet audio to WAV files, streams sharded across the worker pool. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate audio with a WaveNet model and write WAV files')
    .option('-m, --model <dir>', 'model directory', DEFAULT_MODELS.generator)
    .option('-s, --seconds <s>', 'seconds of audio per file', parseNumber('--seconds', 0.001, MAX_SECONDS), 2)
    .option('-n, --count <n>', 'number of files (streams generated together)', parseNumber('--count', 1, 1000), 1)
    .option('-c, --condition <label>', 'global condition, e.g. a MIDI pitch for the piano model (default: the middle one)')
    .option('-t, --temperature <t>', 'sampling temperature (0 = greedy)', parseNumber('--temperature', 0, 10), 0.9)
    .option('--seed <k>', 'random seed (file i uses seed + i)', parseNumber('--seed', 0, 2 ** 31), 1)
    .option('-o, --out <path>', 'output WAV file (with --count, -1, -2, … before the extension)', 'generated.wav')
    .option('-w, --workers <n>', 'worker threads (default: one per core, at most one per file; 0 = in process)', parseNumber('--workers', 0, 256))
    .option('--format <format>', 'pcm16 (16-bit PCM) or f32 (32-bit float)', 'pcm16')
    .option('-v, --verbose', 'print the system line')
    .option('-q, --queue <url>', 'run on the hibiki workers of this Redis queue (redis://HOST:PORT) instead of here')
    .option('--shard-seconds <s>', 'with --queue: seconds of audio per shard (one queue job; at least one file)', parseNumber('--shard-seconds', 0.001, 1e6), 8)
    .option('--attempts <n>', 'with --queue: runs of a shard before it fails for good', parseNumber('--attempts', 1, 100), 3)
    .action(async (flags: GenerateFlags) => {
      const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });
      if (!Number.isInteger(flags.count)) usage(`--count must be a whole number, got ${flags.count}`);
      if (!Number.isInteger(flags.seed)) usage(`--seed must be a whole number, got ${flags.seed}`);
      if (flags.format !== 'pcm16' && flags.format !== 'f32') usage(`--format must be pcm16 or f32, got "${flags.format}"`);
      // Checked before any work, so a bad path costs nothing and leaves nothing behind.
      const outDir = dirname(flags.out);
      let writable = '';
      try {
        if (!statSync(outDir).isDirectory()) writable = `${outDir} is not a directory`;
        else accessSync(outDir, constants.W_OK);
      } catch (e) {
        writable = (e as Error).message;
      }
      if (writable) usage(`cannot write ${flags.out}: ${writable}`);
      const queueUrl = queueFlag(flags.queue, usage);

      // With --queue the model only plans the requests here; the queue's workers run them.
      const workers = queueUrl ? 0 : flags.workers ?? Math.min(flags.count, os.availableParallelism());
      const asked = { seconds: flags.seconds, count: flags.count, condition: flags.condition, temperature: flags.temperature, seed: flags.seed };
      const message = (e: unknown) => (e instanceof HibikiError ? e.message : String(e));
      let generator: Generator;
      let requests: GenerateRequest[];
      try {
        generator = await Generator.open(flags.model, { workers });
      } catch (e) {
        return usage(`--model: ${message(e)}`);
      }
      try {
        requests = generator.requests(asked);
      } catch (e) {
        await generator.close();
        return usage(message(e));
      }
      const config = generator.config;
      const condition = requests[0]!.condition;
      const samples = requests[0]!.samples;
      if (flags.verbose) console.error(formatSystemLine(systemInfo(workers)));

      let clips: Array<Float32Array | undefined>;
      let failures: Array<{ index: number; message: string }>;
      let queued: QueuedOutcome<Float32Array> | undefined;
      if (queueUrl) {
        await generator.close();
        queued = await runQueuedJob<GenerateShard, GenerateShardResult, Float32Array>({
          url: queueUrl, kind: 'generate', modelDir: flags.model, attempts: flags.attempts, unit: 'files',
          options: { shardSeconds: flags.shardSeconds }, content: [JSON.stringify(requests)],
          shards: planGenerateShards(requests, config.sampleRate, flags.shardSeconds), sizeOf: (s) => s.requests.length,
          unpack: (r) => ({ outputs: r.clips.map((c) => (c === null ? null : decodeClip(c))), failures: r.failures }),
        });
        ({ outputs: clips, failures } = queued);
        for (const line of queued.failedShards) console.error(line);
        if (queued.failed) process.exitCode = 1;
      } else {
        const bar = new SingleBar({
          format: '{bar} {percentage}% | {value}/{total} samples | {rate} samples/s | {rtf}× real time | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(samples * flags.count, 0, { rate: 0, rtf: '0.00' });
        const onProgress = (p: Progress) =>
          bar.update(p.units, { rate: Math.round(p.rate), rtf: (p.rate / config.sampleRate).toFixed(2) });
        let result: GenerateResult;
        try {
          result = await generator.generate({ ...asked, onProgress });
        } finally {
          await generator.close();
        }
        bar.stop();
        clips = result.clips;
        failures = result.failures.map((f) => ({ index: f.index, message: f.error.message }));
      }

      const paths = outputPaths(flags.out, flags.count);
      const label = condition === undefined ? '' : ` ${config.globalName}=${config.globalLabels[condition]}`;
      clips.forEach((audio, i) => {
        if (!audio) return;
        writeWav(paths[i]!, audio, config.sampleRate, flags.format,
          `${flags.model}${label} temperature=${flags.temperature} seed=${requests[i]!.seed}`);
        console.log(`${paths[i]}: ${(audio.length / config.sampleRate).toFixed(2)} s at ${config.sampleRate} Hz${label}`);
      });
      for (const f of failures) console.error(`${paths[f.index]}: ${f.message}`);
      if (failures.length) process.exitCode = 1;
      // The files are written: a queued job's shards can go, unless a failed shard is left for a rerun to retry.
      if (queued && !queued.failedShards.length) await removeQueuedJob(queued);
    });
}
