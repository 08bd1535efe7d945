/**
 * WaveNet generation for a Node program: a model directory opened once, run
 * in this thread (`workers: 0`, the default) or across a worker pool, and
 * asked for clips by length, condition, temperature and seed. The same seed
 * gives the same clip on any worker count.
 *
 *   const generator = await Generator.open();             // models/wavenet-piano
 *   const { clips } = await generator.generate({ seconds: 2, condition: '60', count: 4 });
 *   writeFileSync('note.wav', generator.wav(clips[0]!));
 */
import { badInput } from '../errors.js';
import { type WavFormat, encodeWav } from '../io/wav.js';
import type { ItemFailure, Progress } from '../pool/job.js';
import type { Pool } from '../pool/pool.js';
import { type GenerateRequest, MIDI_PITCH, type WaveNetConfig, checkMinP, checkPrompt, checkTemperature, parseWaveNetConfig } from '../models/wavenet.js';
import { midiToNoteName, noteNameToMidi } from '../metrics/pitch.js';
import { DEFAULT_MODELS, GENERATE_DEFAULTS, MAX_SECONDS } from './defaults.js';
import { type OpenOptions, type Runner, closeRunner, openRunner, poolOf } from './runner.js';


/**
 * What `generate` makes: how long, how many, under which condition, how
 * random; and the call's signal and progress.
 */
export interface GenerateOptions {
  /** Length of each clip (above 0, at most MAX_SECONDS). */
  seconds: number;
  /** Clips to generate together (default 1); clip i uses seed + i. */
  count?: number;
  /**
   * A label of the model's global condition (e.g. a MIDI pitch "60"; for a
   * `midi_pitch` model a note name such as "C4" too); default the middle one.
   */
  condition?: string;
  /** 0 = greedy; default 0.9. */
  temperature?: number;
  /**
   * Min-p sampling, 0 to 1: never draw a class less likely than minP times the likeliest (0 keeps
   * every class); default the model's (config.json "min_p"), 0 for a note started from silence.
   */
  minP?: number;
  /** Seed of the first clip (default 1); the same seed gives the same clip on any worker count. */
  seed?: number;
  /** false: start each clip from silence, without the model's pitch prompt (config.json "pitch_prompt"). Default true. */
  prompt?: boolean;
  /**
   * Cancels the call: it rejects with an `AbortError` (code E_ABORTED) whose
   * `cause` is the signal's reason.
   */
  signal?: AbortSignal;
  /** Called as samples are generated, for progress bars. */
  onProgress?: (progress: Progress) => void;
}

/** What `generate` and `run` give back: the clips, the failures, the requests they came from. */
export interface GenerateResult {
  /** One per clip, in order; undefined where the clip failed. */
  clips: Array<Float32Array | undefined>;
  /** The clips that failed, by index, each with its error. */
  failures: ItemFailure[];
  /** The requests the clips came from (their seeds and condition index). */
  requests: GenerateRequest[];
}

/**
 * A WaveNet model directory, open to generate audio clips.
 *
 * @example
 * const generator = await Generator.open(); // models/wavenet-piano
 * const { clips } = await generator.generate({ seconds: 2, condition: '60', count: 4 });
 * writeFileSync('note.wav', generator.wav(clips[0]!));
 * await generator.close();
 */
export class Generator {
  private constructor(
    /** The model directory. */
    readonly dir: string,
    /** The model's config.json, parsed. */
    readonly config: WaveNetConfig,
    private readonly runner: Runner,
  ) {}

  /**
   * Opens a WaveNet model directory (the shipped piano by default): `workers` 0
   * (the default) runs in this thread, more starts a worker pool. E_BAD_INPUT
   * for a directory of another architecture.
   */
  static async open(dir: string = DEFAULT_MODELS.generator, options: OpenOptions = {}): Promise<Generator> {
    const { config, runner } = await openRunner(dir, ['wavenet'], 'a wavenet', options);
    return new Generator(dir, parseWaveNetConfig(`${dir}/config.json`, config), runner);
  }

  /**
   * The index of a condition label; the middle one when none is given. A
   * model conditioned on `midi_pitch` also takes note names (C4 for 60,
   * F#3, Bb4), as a musician would type them. E_BAD_INPUT naming the labels
   * otherwise.
   */
  conditionIndex(label: string | undefined): number | undefined {
    const c = this.config;
    if (c.globalClasses === 0) {
      if (label !== undefined) throw badInput('this model takes no condition');
      return undefined;
    }
    if (label === undefined) return c.globalClasses >> 1;
    let index = c.globalLabels.indexOf(label);
    const pitched = c.globalName === MIDI_PITCH;
    const midi = pitched && index < 0 ? noteNameToMidi(label) : undefined;
    if (midi !== undefined) index = c.globalLabels.indexOf(String(midi));
    if (index >= 0) return index;
    if (!pitched) throw badInput(`unknown condition "${label}" (${c.globalName}: ${c.globalLabels.join(', ')})`);
    const pitches = c.globalLabels.map(Number);
    const span = pitches.every((p, i) => p === pitches[0]! + i)
      ? `${pitches[0]}–${pitches.at(-1)} (${midiToNoteName(pitches[0]!)} to ${midiToNoteName(pitches.at(-1)!)})`
      : c.globalLabels.join(', ');
    throw badInput(`unknown condition "${label}"${midi === undefined ? '' : ` (MIDI ${midi})`}: this model plays the MIDI pitches ${span}; ` +
      'give one as a number or a note name such as C4 (middle C), F#3 or Bb4');
  }

  /** The requests `generate` runs: checked before any work starts. */
  requests(options: GenerateOptions): GenerateRequest[] {
    const { seconds, count = GENERATE_DEFAULTS.count, temperature = GENERATE_DEFAULTS.temperature, seed = GENERATE_DEFAULTS.seed } = options;
    if (!(seconds > 0 && seconds <= MAX_SECONDS)) throw badInput(`seconds must be above 0 and at most ${MAX_SECONDS}, got ${seconds}`);
    if (!Number.isSafeInteger(count) || count < 1 || count > GENERATE_DEFAULTS.maxCount) throw badInput(`count must be a whole number from 1 to ${GENERATE_DEFAULTS.maxCount}, got ${count}`);
    checkPrompt(options.prompt, '');
    checkTemperature(temperature, this.config, '', options.prompt);
    checkMinP(options.minP, '');
    if (!Number.isSafeInteger(seed) || seed < 0) throw badInput(`seed must be a whole number ≥ 0, got ${seed}`);
    const condition = this.conditionIndex(options.condition);
    const prompt = options.prompt === false ? { prompt: false } : {};
    const minP = options.minP === undefined ? {} : { minP: options.minP };
    const samples = Math.max(1, Math.round(seconds * this.config.sampleRate));
    return Array.from({ length: count }, (_, i) => ({ samples, condition, temperature, ...minP, seed: seed + i, ...prompt }));
  }

  /**
   * Generates `count` clips (clip i with seed + i). The options are checked
   * before any work (E_BAD_INPUT naming the value); a clip that fails is
   * undefined in `clips` and listed in `failures`; a cancelled call rejects
   * with an `AbortError`.
   */
  async generate(options: GenerateOptions): Promise<GenerateResult> {
    return this.run(this.requests(options), options);
  }

  /**
   * Runs requests as `requests()` makes them, e.g. a shard of a job planned
   * on another machine; each is checked by the model, and a bad one fails alone.
   */
  async run(requests: readonly GenerateRequest[], options: Pick<GenerateOptions, 'signal' | 'onProgress'> = {}): Promise<GenerateResult> {
    const { outputs, failures } = await this.runner.run(requests, { signal: options.signal, onProgress: options.onProgress });
    return { clips: outputs, failures, requests: [...requests] };
  }

  /** A clip as WAV bytes (16-bit PCM by default). */
  wav(clip: Float32Array, format: WavFormat = 'pcm16', comment?: string): Uint8Array {
    return encodeWav(clip, this.config.sampleRate, format, comment);
  }

  /** The worker pool, when the model runs on one (for its stats and threads). */
  get pool(): Pool | undefined {
    return poolOf(this.runner);
  }

  /** Stops the workers, if any. */
  async close(): Promise<void> {
    await closeRunner(this.runner);
  }
}
