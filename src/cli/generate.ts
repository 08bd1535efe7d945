import os from 'node:os';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { formatSystemLine, systemInfo } from '../runtime/system.js';
import { HibikiError } from '../errors.js';
import { type WavFormat, encodeWav } from '../io/wav.js';
import { type GenerateResult, Generator } from '../tasks/generator.js';
import { DEFAULT_MODELS, MAX_SECONDS } from '../tasks/defaults.js';
import { type GenerateRequest, MIDI_PITCH, requestMinP } from '../models/wavenet.js';
import { midiToNoteName } from '../metrics/pitch.js';
import type { Progress } from '../pool/job.js';
import { type GenerateShard, type GenerateShardResult, decodeClip, planGenerateShards } from '../queue/generate.js';
import { EXIT, dataError, usage } from './exit.js';
import { STDIO, writeOutput } from './files.js';
import { checkOutputFile } from './paths.js';
import { addHiddenAlias, attemptsOption, modelOption, parseChoice, parseNumber, queueOption, quietOption, workersOption } from './options.js';
import { progressBar } from './progress.js';
import { type QueuedOutcome, queueFlag, removeQueuedJob, runQueuedJob } from './queue.js';

const FORMATS: readonly WavFormat[] = ['pcm16', 'f32'];

interface GenerateFlags {
  model: string;
  seconds: number;
  count: number;
  condition?: string;
  temperature: number;
  /** Absent: the model's (config.json "min_p"). */
  minP?: number;
  seed: number;
  /** false with --no-prompt. */
  prompt: boolean;
  output: string;
  workers?: number;
  format: WavFormat;
  verbose?: boolean;
  quiet?: boolean;
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
  const command = program
    .command('generate')
    .description('generate audio with a WaveNet model and write WAV files')
    .addOption(modelOption(DEFAULT_MODELS.generator))
    .option('-s, --seconds <s>', 'seconds of audio per file', parseNumber('--seconds', 0.001, MAX_SECONDS), 2)
    .option('-n, --count <n>', 'number of files (streams generated together)', parseNumber('--count', 1, 1000, true), 1)
    .option('-c, --condition <label>', 'global condition, e.g. a MIDI pitch for the piano model: 60 or a note name, C4 (default: the middle one)')
    .option('-t, --temperature <t>', 'sampling temperature (0 = greedy)', parseNumber('--temperature', 0, 10), 0.9)
    .option('--min-p <p>', "min-p sampling: never draw a sample less likely than p times the likeliest (0 = any; default: the model's, 0.3 for the piano, 0 with --no-prompt)", parseNumber('--min-p', 0, 1))
    .option('--seed <k>', 'random seed (file i uses seed + i)', parseNumber('--seed', 0, 2 ** 31, true), 1)
    .option('--no-prompt', "start each note from silence, without the model's pitch prompt (a short sine at the pitch, fed before the first sample)")
    .option('-o, --output <path>', "output WAV file (with --count, -1, -2, … before the extension; '-' = stdout, one file only)", 'generated.wav')
    .addOption(workersOption('default: one per core, at most one per file; 0 = in process'))
    .option('--format <format>', `${FORMATS.join(' (16-bit PCM) or ')} (32-bit float)`, parseChoice('--format', FORMATS), 'pcm16')
    .option('-v, --verbose', 'print the system line')
    .addOption(quietOption())
    .addOption(queueOption())
    .option('--shard-seconds <s>', 'with --queue: seconds of audio per shard (one queue job; at least one file)', parseNumber('--shard-seconds', 0.001, 1e6), 8)
    .addOption(attemptsOption())
    .action(async (flags: GenerateFlags) => {
      const toStdout = flags.output === STDIO;
      if (toStdout && flags.count > 1) usage(`-o - writes one WAV file to stdout; with --count ${flags.count} give a file name (NAME-1.wav, NAME-2.wav, …)`);
      const queueUrl = queueFlag(flags.queue);
      // Checked before any work, so a bad path costs nothing and leaves nothing behind.
      const paths = outputPaths(flags.output, flags.count);
      for (const path of paths) checkOutputFile('--output', path);

      // With --queue the model only plans the requests here; the queue's workers run them.
      const workers = queueUrl ? 0 : flags.workers ?? Math.min(flags.count, os.availableParallelism());
      const asked = { seconds: flags.seconds, count: flags.count, condition: flags.condition, temperature: flags.temperature, minP: flags.minP, seed: flags.seed, prompt: flags.prompt };
      let generator: Generator;
      let requests: GenerateRequest[];
      try {
        generator = await Generator.open(flags.model, { workers });
      } catch (e) {
        throw dataError('--model', e);
      }
      try {
        requests = generator.requests(asked);
      } catch (e) {
        await generator.close();
        // What the model refuses here is a flag's value (an unknown --condition, too many --seconds).
        if (e instanceof HibikiError) usage(e.message);
        throw e;
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
          url: queueUrl, kind: 'generate', modelDir: flags.model, attempts: flags.attempts, unit: 'files', quiet: flags.quiet,
          options: { shardSeconds: flags.shardSeconds }, content: [JSON.stringify(requests)],
          shards: planGenerateShards(requests, config.sampleRate, flags.shardSeconds), sizeOf: (s) => s.requests.length,
          unpack: (r) => ({ outputs: r.clips.map((c) => (c === null ? null : decodeClip(c))), failures: r.failures }),
        });
        ({ outputs: clips, failures } = queued);
        for (const line of queued.failedShards) console.error(line);
      } else {
        const bar = progressBar('{bar} {percentage}% | {value}/{total} samples | {rate} samples/s | {rtf}× real time | ETA {eta_formatted}', flags.quiet);
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

      const named = condition === undefined ? '' : config.globalLabels[condition]!;
      // A pitch is said as a musician reads it too: midi_pitch=60 (C4).
      const note = config.globalName === MIDI_PITCH && /^\d+$/.test(named) ? ` (${midiToNoteName(Number(named))})` : '';
      const label = condition === undefined ? '' : ` ${config.globalName}=${named}${note}`;
      for (const [i, audio] of clips.entries()) {
        if (!audio) continue;
        const { temperature, seed } = requests[i]!;
        const comment = `${flags.model}${label} temperature=${temperature} min_p=${requestMinP(config, requests[i]!)} seed=${seed}`;
        await writeOutput(paths[i]!, encodeWav(audio, config.sampleRate, flags.format, comment), 'WAV file');
        // With the WAV on stdout, what was written is said on stderr.
        (toStdout ? console.error : console.log)(`${toStdout ? 'stdout' : paths[i]}: ${(audio.length / config.sampleRate).toFixed(2)} s at ${config.sampleRate} Hz${label}`);
        // Greedy decoding can settle on one class for ever: the file is written, but say what it holds.
        if (audio.length > 1 && audio.every((v) => v === audio[0])) {
          console.error(`warning: ${toStdout ? 'stdout' : paths[i]} is silent (every sample is ${audio[0]!.toFixed(4)})${temperature < 0.75 ? `: sampled this cold (--temperature ${temperature}), a WaveNet can fall into silence; try a higher --temperature` : ''}`);
        }
      }
      for (const f of failures) console.error(`${paths[f.index]}: ${f.message}`);
      if (failures.length || queued?.failed) process.exitCode = EXIT.failure;
      // The files are written: a queued job's shards can go, unless a failed shard is left for a rerun to retry.
      if (queued && !queued.failedShards.length) await removeQueuedJob(queued);
    });
  // Until 0.1: -o was --out.
  addHiddenAlias(command, '--out <path>', 'output');
}
