import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { formatSystemLine, systemInfo } from '../bench/system.js';
import { type ModelDir, readModelDir } from '../io/model-dir.js';
import { type WavFormat, writeWav } from '../io/wav.js';
import { type GenerateRequest, parseWaveNetConfig } from '../models/wavenet.js';
import { Engine } from '../pool/engine.js';
import type { Progress, RunResult } from '../pool/job.js';
import { Pool } from '../pool/pool.js';
import { parseNumber } from './options.js';

/** The model `hibiki generate` uses when --model is not given. */
export const DEFAULT_WAVENET = new URL('../../models/wavenet-piano', import.meta.url).pathname;

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
    .option('-m, --model <dir>', 'model directory', DEFAULT_WAVENET)
    .option('-s, --seconds <s>', 'seconds of audio per file', parseNumber('--seconds', 0.001, 3600), 2)
    .option('-n, --count <n>', 'number of files (streams generated together)', parseNumber('--count', 1, 1000), 1)
    .option('-c, --condition <label>', 'global condition, e.g. a MIDI pitch for the piano model (default: the middle one)')
    .option('-t, --temperature <t>', 'sampling temperature (0 = greedy)', parseNumber('--temperature', 0, 10), 0.9)
    .option('--seed <k>', 'random seed (file i uses seed + i)', parseNumber('--seed', 0, 2 ** 31), 1)
    .option('-o, --out <path>', 'output WAV file (with --count, -1, -2, … before the extension)', 'generated.wav')
    .option('-w, --workers <n>', 'worker threads (default: one per core, at most one per file; 0 = in process)', parseNumber('--workers', 0, 256))
    .option('--format <format>', 'pcm16 (16-bit PCM) or f32 (32-bit float)', 'pcm16')
    .option('-v, --verbose', 'print the system line')
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

      let model: ModelDir;
      try {
        model = readModelDir(flags.model);
      } catch (e) {
        return usage(`--model: ${(e as Error).message}`);
      }
      if (model.config.architecture !== 'wavenet') usage(`${flags.model} is a ${model.config.architecture} model, not a wavenet`);
      const config = parseWaveNetConfig(`${flags.model}/config.json`, model.config);
      let condition: number | undefined;
      if (config.globalClasses > 0) {
        const label = flags.condition ?? config.globalLabels[config.globalClasses >> 1]!;
        condition = config.globalLabels.indexOf(label);
        if (condition < 0) usage(`unknown --condition "${label}" (${config.globalName}: ${config.globalLabels.join(', ')})`);
      } else if (flags.condition !== undefined) {
        usage(`this model takes no --condition`);
      }
      const samples = Math.max(1, Math.round(flags.seconds * config.sampleRate));
      const requests: GenerateRequest[] = Array.from({ length: flags.count }, (_, i) => ({
        samples, condition, temperature: flags.temperature, seed: flags.seed + i,
      }));
      const workers = flags.workers ?? Math.min(flags.count, os.availableParallelism());
      if (flags.verbose) console.error(formatSystemLine(systemInfo(workers)));

      const bar = new SingleBar({
        format: '{bar} {percentage}% | {value}/{total} samples | {rate} samples/s | {rtf}× real time | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
      });
      bar.start(samples * flags.count, 0, { rate: 0, rtf: '0.00' });
      const onProgress = (p: Progress) =>
        bar.update(p.units, { rate: Math.round(p.rate), rtf: (p.rate / config.sampleRate).toFixed(2) });
      let result: RunResult;
      if (workers === 0) {
        result = await Engine.open(flags.model).run(requests, { onProgress });
      } else {
        const pool = await Pool.open(flags.model, { workers });
        try {
          result = await pool.run(requests, { onProgress });
        } finally {
          await pool.close();
        }
      }
      bar.stop();

      const paths = outputPaths(flags.out, flags.count);
      const label = condition === undefined ? '' : ` ${config.globalName}=${config.globalLabels[condition]}`;
      result.outputs.forEach((audio, i) => {
        if (!audio) return;
        writeWav(paths[i]!, audio, config.sampleRate, flags.format,
          `${flags.model}${label} temperature=${flags.temperature} seed=${requests[i]!.seed}`);
        console.log(`${paths[i]}: ${(audio.length / config.sampleRate).toFixed(2)} s at ${config.sampleRate} Hz${label}`);
      });
      for (const f of result.failures) console.error(`${paths[f.index]}: ${f.error.message}`);
      if (result.failures.length) process.exitCode = 1;
    });
}
