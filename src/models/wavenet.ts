/**
 * WaveNet (van den Oord et al., 2016): waveform generation one sample at a
 * time, each a distribution over μ-law classes given all earlier samples.
 *
 * Per layer: dilated causal conv (K taps, dilation d) of the residual stream
 * → + bias + global conditioning → tanh(filter) · σ(gate) → 1×1 residual
 * (added to the layer's input) and 1×1 skip. Skips summed → ReLU → 1×1 →
 * ReLU → 1×1 → logits. tools/wavenet_torch.py is the same network in PyTorch.
 *
 * Two ways to run it, tested against each other and against PyTorch:
 *  - `logits`: teacher-forced over a whole class sequence (scoring, parity),
 *    each layer one causal convolution over time;
 *  - `generate`: incremental, B streams stepping together. Each layer keeps a
 *    queue of its past inputs (nn/causal-conv.ts), so a new sample costs
 *    O(layers), not O(receptive field): the taps at t − d are read from the
 *    queue instead of recomputed.
 *
 * Shapes: B streams, T samples, R residual, D dilation (gate) and S skip
 * channels, C_l local feature channels, L layers.
 */
import { badInput, modelFormat } from '../errors.js';
import { muLawDecode, muLawEncode } from '../io/mulaw.js';
import { midiToHz } from '../metrics/pitch.js';
import type { ModelDir } from '../io/model-dir.js';
import { RowSampler } from '../decode/sample.js';
import {
  type CausalConv, type CausalConvQueue, type CausalConvStepOptions, causalConv, causalConvQueue, causalConvStep, loadCausalConv,
} from '../nn/causal-conv.js';
import {
  type Linear, type Vector, copyInto, linear, linearInto, loadLinear, lookupInto, lookupRowInto, vector, vectorTensor,
} from '../nn/linear.js';
import { activation, add, gatedTanh } from '../runtime/ops/activation.js';
import { Rng } from '../runtime/rng.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

/** The network's hyperparameters, conditioning and sample rate, from config.json. */
export interface WaveNetConfig {
  sampleRate: number;
  /** μ-law classes (μ = classes − 1). */
  classes: number;
  residual: number;
  dilationChannels: number;
  skip: number;
  kernelSize: number;
  /** One dilation per layer: the cycle repeated `stacks` times. */
  dilations: number[];
  /** Global conditioning classes (0 = unconditioned), and their names (e.g. MIDI pitches). */
  globalClasses: number;
  globalLabels: string[];
  globalName: string;
  /** Local conditioning: feature channels per frame (0 = none), and samples per frame. */
  localChannels: number;
  localHop: number;
  /**
   * Local features hibiki computes itself when a request brings none (config.json
   * "local_condition_features"): 'time_since_onset' is the note clock, see timeSinceOnset().
   */
  localFeatures?: LocalFeatures;
  /**
   * The lowest sampling temperature that keeps the model audible (config.json "min_temperature",
   * default 0): below it a model may fall into silence, every sample one value, and requests are refused.
   * A note that starts from a pitch prompt has a period to continue (the piano's fell silent at no
   * temperature measured), so for a model with one the floor holds only for requests started from
   * silence (prompt: false).
   */
  minTemperature: number;
  /**
   * The min-p a request samples with unless it names its own (config.json "min_p", default 0: every
   * class may be drawn), for a model with a pitch prompt only when the note starts from it. See
   * requestMinP.
   */
  minP: number;
  /**
   * A note's prompt (config.json "pitch_prompt", models conditioned on "midi_pitch" only): this many
   * samples of a sine at the requested pitch and amplitude, fed to the network as if it had played
   * them before the note's first sample, and not part of the output. See pitchPrompt().
   */
  pitchPrompt?: { samples: number; amplitude: number };
}

/** One stream to generate. */
export interface GenerateRequest {
  samples: number;
  /** Global condition class index (required when the model is conditioned). */
  condition?: number;
  /** 0 = greedy; 1 = the model's distribution. */
  temperature: number;
  /**
   * Min-p sampling: the classes less likely than minP times the likeliest are never drawn (0 keeps
   * every class; as Hugging Face's min_p, applied after the temperature). Default: see requestMinP.
   */
  minP?: number;
  seed: number;
  /** false: start from silence, without the model's pitch prompt (where its config.json has one). Default true. */
  prompt?: boolean;
  /**
   * Local conditioning features [frames, channels], frames ≥ samples / hop (models with local
   * conditioning); optional where the model names features hibiki computes (localFeatures).
   */
  local?: Float32Array;
}

/** The local features hibiki can compute for a model, by config.json name. */
export type LocalFeatures = 'time_since_onset';

/** Channels of each computed feature set. */
const LOCAL_FEATURE_CHANNELS: Record<LocalFeatures, number> = { time_since_onset: 4 };

/** The note clock's ramp reaches 1 here (seconds) and stays: the training notes were 6 s long. */
const CLOCK_HORIZON = 6;

/**
 * The note clock, frames × 4 channels: for frame f, with t = f · hop / sampleRate the seconds from
 * the onset (frame 0) to its first sample,
 *   [1, exp(−t / 0.25), exp(−t / 1.5), min(t, 6) / 6].
 * The first channel says the note is on (training's silence before the onset had all four at 0);
 * the exponentials tell the attack from the early and late decay; the ramp says how far in.
 * tools/wavenet_torch.py time_since_onset() is the same, computed in float64 and rounded to float32.
 */
export function timeSinceOnset(frames: number, hop: number, sampleRate: number): Float32Array {
  const out = new Float32Array(frames * 4);
  for (let f = 0; f < frames; f++) {
    const t = (f * hop) / sampleRate;
    out.set([1, Math.exp(-t / 0.25), Math.exp(-t / 1.5), Math.min(t, CLOCK_HORIZON) / CLOCK_HORIZON], f * 4);
  }
  return out;
}

/** A request's local features: its own, or those the model computes for `samples` samples (undefined for neither). */
function localFeaturesOf(c: WaveNetConfig, local: Float32Array | undefined, samples: number): Float32Array | undefined {
  if (local !== undefined || c.localFeatures === undefined) return local;
  return timeSinceOnset(Math.ceil(samples / c.localHop), c.localHop, c.sampleRate);
}

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

/** The global condition name of a model conditioned on pitch: its labels are MIDI note numbers, and it may have a pitch prompt. */
export const MIDI_PITCH = 'midi_pitch';

/** E_BAD_INPUT, prefixed with `where`, unless `prompt` is left out or a boolean. */
export function checkPrompt(prompt: unknown, where: string): void {
  if (prompt !== undefined && typeof prompt !== 'boolean') throw badInput(`${where}prompt must be true or false, got ${JSON.stringify(prompt)}`);
}

/**
 * A request's prompt as μ-law classes: `samples` of amp · sin(2π · f0 · n / sampleRate), f0 the
 * equal-tempered frequency of the MIDI pitch. The network starts its note from a period it can
 * continue: from silence, a sampled piano note took 100–300 ms to find one, and YIN found none in
 * the first 0.25 s of 37 of 100 held-out notes (docs/generate.md).
 */
export function pitchPrompt(c: WaveNetConfig, midiPitch: number): Int32Array {
  const { samples, amplitude } = c.pitchPrompt!;
  const hz = midiToHz(midiPitch);
  return muLawEncode(Float64Array.from({ length: samples }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / c.sampleRate)), c.classes);
}

export function parseWaveNetConfig(file: string, c: Record<string, unknown>): WaveNetConfig {
  for (const key of ['sample_rate', 'quantization_channels', 'residual_channels', 'dilation_channels', 'skip_channels', 'kernel_size', 'stacks']) {
    if (!positiveInt(c[key])) throw modelFormat(file, `"${key}" must be a positive integer, got ${JSON.stringify(c[key])}`);
  }
  const cycle = c.dilation_cycle;
  if (!Array.isArray(cycle) || cycle.length === 0 || !cycle.every(positiveInt)) {
    throw modelFormat(file, `"dilation_cycle" must list positive integers, got ${JSON.stringify(cycle)}`);
  }
  const globalClasses = (c.global_condition_classes ?? 0) as number;
  if (!Number.isSafeInteger(globalClasses) || globalClasses < 0) {
    throw modelFormat(file, `"global_condition_classes" must be a whole number, got ${JSON.stringify(globalClasses)}`);
  }
  const labels = (c.global_condition_labels ?? Array.from({ length: globalClasses }, (_, i) => String(i))) as unknown;
  if (!Array.isArray(labels) || labels.length !== globalClasses || !labels.every((l) => typeof l === 'string')) {
    throw modelFormat(file, `"global_condition_labels" must list ${globalClasses} strings`);
  }
  const minTemperature = (c.min_temperature ?? 0) as number;
  if (typeof minTemperature !== 'number' || !(minTemperature >= 0 && minTemperature <= MAX_TEMPERATURE)) {
    throw modelFormat(file, `"min_temperature" must be a number from 0 to ${MAX_TEMPERATURE}, got ${JSON.stringify(c.min_temperature)}`);
  }
  const minP = (c.min_p ?? 0) as number;
  if (!isMinP(minP)) throw modelFormat(file, `"min_p" must be a number from 0 to 1, got ${JSON.stringify(c.min_p)}`);
  const localChannels = (c.local_condition_channels ?? 0) as number;
  const localHop = (c.local_condition_hop ?? 1) as number;
  if (!Number.isSafeInteger(localChannels) || localChannels < 0 || !positiveInt(localHop)) {
    throw modelFormat(file, '"local_condition_channels" must be a whole number and "local_condition_hop" a positive one');
  }
  const localFeatures = c.local_condition_features as LocalFeatures | undefined;
  if (localFeatures !== undefined) {
    if (typeof localFeatures !== 'string' || !Object.hasOwn(LOCAL_FEATURE_CHANNELS, localFeatures)) {
      throw modelFormat(file, `"local_condition_features" must be one of ${Object.keys(LOCAL_FEATURE_CHANNELS).join(', ')}, got ${JSON.stringify(localFeatures)}`);
    }
    const channels = LOCAL_FEATURE_CHANNELS[localFeatures];
    if (localChannels !== channels) throw modelFormat(file, `"local_condition_features" "${localFeatures}" has ${channels} channels, but "local_condition_channels" is ${localChannels}`);
  }
  const prompt = c.pitch_prompt as { samples?: unknown; amplitude?: unknown } | undefined;
  if (prompt !== undefined) {
    const hop = localChannels ? localHop : 1;
    if (c.global_condition_name !== MIDI_PITCH || !(labels as string[]).every((l) => /^\d+$/.test(l))) {
      throw modelFormat(file, '"pitch_prompt" needs a model conditioned on "midi_pitch", with MIDI note numbers as its labels');
    }
    if (typeof prompt !== 'object' || prompt === null || !positiveInt(prompt.samples) || (prompt.samples as number) % hop !== 0 ||
      typeof prompt.amplitude !== 'number' || !(prompt.amplitude > 0 && prompt.amplitude <= 1)) {
      throw modelFormat(file, `"pitch_prompt" must be {"samples": a positive multiple of ${hop} (the local hop), "amplitude": above 0, at most 1}, got ${JSON.stringify(prompt)}`);
    }
  }
  const mu = c.mu ?? (c.quantization_channels as number) - 1;
  if (mu !== (c.quantization_channels as number) - 1) throw modelFormat(file, `"mu" must be quantization_channels − 1`);
  return {
    sampleRate: c.sample_rate as number,
    classes: c.quantization_channels as number,
    residual: c.residual_channels as number,
    dilationChannels: c.dilation_channels as number,
    skip: c.skip_channels as number,
    kernelSize: c.kernel_size as number,
    dilations: Array.from({ length: c.stacks as number }, () => cycle as number[]).flat(),
    globalClasses,
    globalLabels: labels as string[],
    globalName: typeof c.global_condition_name === 'string' ? c.global_condition_name : 'condition',
    localChannels,
    localHop,
    ...(localFeatures ? { localFeatures } : {}),
    minTemperature,
    minP,
    ...(prompt ? { pitchPrompt: { samples: prompt.samples as number, amplitude: prompt.amplitude as number } } : {}),
  };
}

/** Samples of past context one output depends on. */
export function receptiveField(c: WaveNetConfig): number {
  return (c.kernelSize - 1) * c.dilations.reduce((a, b) => a + b, 0) + 1;
}

/** Multiply–adds per generated sample and stream: for sharding and for the bench's FLOP counts. */
export function macsPerSample(c: WaveNetConfig): number {
  const D = c.dilationChannels;
  const perLayer = (c.kernelSize * c.residual + c.localChannels) * 2 * D + D * c.residual + D * c.skip;
  return c.dilations.length * perLayer + c.skip * c.skip + c.skip * c.classes;
}

/** The longest clip one request may ask for, in seconds of audio (an hour). */
export const MAX_SECONDS = 3600;

/**
 * E_BAD_INPUT, prefixed with `where`, unless `t` is a temperature the model samples at: from 0 to
 * MAX_TEMPERATURE, and for a note started from silence (no pitch prompt: the model has none, or
 * `prompt` is false) from its min_temperature (0 unless its config.json says otherwise).
 */
export function checkTemperature(t: unknown, config: WaveNetConfig, where: string, prompt?: boolean): void {
  if (typeof t !== 'number' || !(t >= 0 && t <= MAX_TEMPERATURE)) throw badInput(`${where}temperature must be from 0 to ${MAX_TEMPERATURE}, got ${t}`);
  const prompted = config.pitchPrompt !== undefined && prompt !== false;
  if (t < config.minTemperature && !prompted) {
    throw badInput(`${where}temperature ${t} is below ${config.minTemperature}, this model's min_temperature: sampled colder, its notes fall ` +
      `into silence (every sample one value); use ${config.minTemperature} to ${MAX_TEMPERATURE}` +
      (config.pitchPrompt ? ', or its pitch prompt (leave prompt on), which keeps a note sounding at any temperature' : ''));
  }
}

/**
 * The min-p request `r` samples with: its own, else the model's (config.json "min_p"), except for a
 * note a model with a pitch prompt starts from silence (prompt: false), which draws from every class.
 * For the piano, min-p cuts the hiss after the prompt: a few unlikely samples in a row knock a note
 * off its period. From silence it is what starts the note: with 0.3 notes hissed longer before they
 * found their pitch (70 hiss windows against 54 in 100 held-out notes), and some never left silence
 * (6 of 100 at temperature 0.3, against none; docs/generate.md).
 */
export function requestMinP(c: WaveNetConfig, r: Pick<GenerateRequest, 'minP' | 'prompt'>): number {
  return r.minP ?? (c.pitchPrompt && r.prompt === false ? 0 : c.minP);
}

/** E_BAD_INPUT, prefixed with `where`, unless `p` is absent or a min-p: a number from 0 to 1. */
export function checkMinP(p: unknown, where: string): void {
  if (p !== undefined && !isMinP(p)) throw badInput(`${where}minP must be a number from 0 to 1, got ${JSON.stringify(p)}`);
}

function isMinP(p: unknown): p is number {
  return typeof p === 'number' && p >= 0 && p <= 1;
}

/** The highest sampling temperature a request may ask for (1 = the model's distribution, 0 = greedy). */
export const MAX_TEMPERATURE = 10;

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/** One residual layer. */
export interface WaveNetLayer {
  conv: CausalConv; // R → 2D, K taps d apart: filter half, gate half
  residual: Linear; // D → R
  skip: Linear; // D → S
  /** Local features → the conv's output, no bias (absent without local conditioning). */
  local?: Linear; // C_l → 2D
}

/** The weights in linear memory: plain data and addresses, so a worker attaches to them. */
export interface WaveNetWeights extends ModelLayout {
  architecture: 'wavenet';
  config: WaveNetConfig;
  embed: Vector; // (classes, R): a sample's class → the residual stream
  /** Per global condition class, a bias for every layer's conv (absent when unconditioned). */
  condition?: Vector; // (globalClasses, L · 2D)
  layers: WaveNetLayer[];
  out1: Linear; // S → S
  out2: Linear; // S → classes
}

function loadWeights(rt: Runtime, model: ModelDir): WaveNetWeights {
  const c = parseWaveNetConfig(`${model.dir}/config.json`, model.config);
  const file = model.weights;
  const { residual: R, dilationChannels: D, skip: S, classes: Q, kernelSize: K, globalClasses: G, localChannels: Cl } = c;
  const L = c.dilations.length;
  const table = (name: string, shape: [number, number]) => vector(rt, file.floats(name, shape));
  return {
    architecture: 'wavenet',
    config: c,
    embed: table('embed.weight', [Q, R]),
    ...(G ? { condition: table('condition.weight', [G, L * 2 * D]) } : {}),
    layers: c.dilations.map((dilation, i): WaveNetLayer => ({
      conv: loadCausalConv(rt, file, `layers.${i}.conv`, { dilation, shape: [2 * D, R, K] }),
      residual: loadLinear(rt, file, `layers.${i}.residual`, [R, D]),
      skip: loadLinear(rt, file, `layers.${i}.skip`, [S, D]),
      ...(Cl ? { local: loadLinear(rt, file, `layers.${i}.local`, [2 * D, Cl]) } : {}),
    })),
    out1: loadLinear(rt, file, 'out1', [S, S]),
    out2: loadLinear(rt, file, 'out2', [Q, S]),
  };
}

/** Layer `layer`'s conv bias plus the condition's bias for it, into `out` (2D). */
function layerBias(rt: Runtime, w: WaveNetWeights, layer: number, condition: number | undefined, out: Tensor): Tensor {
  const bias = vectorTensor(rt, w.layers[layer]!.conv.bias); // (2D)
  if (condition === undefined || !w.condition) {
    copyInto(rt, bias, out);
    return out;
  }
  const L = w.layers.length;
  const rows = vectorTensor(rt, w.condition).reshape([w.config.globalClasses * L, bias.size]); // (globalClasses · L, 2D)
  return add(rt, bias, rows.rows(condition * L + layer, 1).reshape([bias.size]), out);
}

// ---------------------------------------------------------------------------
// State of incremental generation
// ---------------------------------------------------------------------------

/** The activations of one step of B streams and each layer's memory of the past: made once per generate call. */
export interface WaveNetState {
  h: Tensor; // (B, R) the residual stream: the last sample's embedding, then each layer's output added
  z: Tensor; // (B, 2D) a layer's conv output before the gate: filter half, gate half
  g: Tensor; // (B, D) tanh(filter) ⊙ σ(gate)
  skips: Tensor; // (B, S) the layers' skip outputs summed
  o1: Tensor; // (B, S)
  logits: Tensor; // (B, classes)
  biases: Tensor[]; // per layer: (B, 2D) its conv bias plus each stream's condition
  queues: CausalConvQueue[]; // per layer: (K − 1)·d slots of (B, R), its inputs before t
  locals: Vector[]; // per stream: (frames, C_l) its local features (none without local conditioning)
  localRows?: Tensor; // (B, C_l) each stream's features in this frame
  /** Per layer: (B, 2D) biases plus the local features' projection, made once per frame (absent without local conditioning). */
  frameBiases: Tensor[];
  /** The conv step's options: z already holds the bias, the gated unit goes to g. */
  convStep: CausalConvStepOptions;
  // Views for JavaScript, made after the last allocation (a memory.grow would detach them):
  skipValues: Float32Array; // (B·S) skips, zeroed before each step
}

function createState(rt: Runtime, w: WaveNetWeights, requests: readonly GenerateRequest[]): WaveNetState {
  const { residual: R, dilationChannels: D, skip: S, classes: Q, localChannels: Cl } = w.config;
  const B = requests.length;
  const g = rt.empty([B, D]);
  const skips = rt.empty([B, S]);
  const logits = rt.empty([B, Q]);
  const biases = w.layers.map((_, i) => {
    const rows = rt.empty([B, 2 * D]); // (B, 2D)
    requests.forEach((r, b) => layerBias(rt, w, i, r.condition, rows.rows(b, 1).reshape([2 * D])));
    return rows;
  });
  // One object literal with every field, so that every state has the same shape for the JIT.
  return {
    h: rt.empty([B, R]),
    z: rt.empty([B, 2 * D]),
    g,
    skips,
    o1: rt.empty([B, S]),
    logits,
    biases,
    queues: w.layers.map((layer) => causalConvQueue(rt, layer.conv, B)),
    locals: Cl ? requests.map((r) => vector(rt, localFeaturesOf(w.config, r.local, r.samples)!)) : [],
    localRows: Cl ? rt.empty([B, Cl]) : undefined,
    frameBiases: Cl ? w.layers.map(() => rt.empty([B, 2 * D])) : [],
    convStep: { accumulate: true, gate: g },
    skipValues: skips.data,
  };
}

// ---------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------

// Option objects made once: the per-sample loop allocates nothing.
const NONE = {};
const RELU = { activation: 'relu' } as const;
const ACCUMULATE = { accumulate: true } as const;

/** The output stack: skips summed (n, S) → ReLU → 1×1 → ReLU → 1×1 → logits (n, classes). Overwrites skips. */
function head(rt: Runtime, w: WaveNetWeights, skips: Tensor, o1: Tensor, logits: Tensor): void {
  activation(rt, skips, 'relu', skips);
  linearInto(rt, w.out1, skips, o1, RELU); // (n, S)
  linearInto(rt, w.out2, o1, logits, NONE); // (n, classes)
}

/**
 * A new frame of local features (s.localRows) for every stream: each layer's biases plus their
 * projection, which the frame's steps start from (the features are constant over a frame).
 */
function frameStep(rt: Runtime, w: WaveNetWeights, s: WaveNetState): void {
  for (let i = 0; i < w.layers.length; i++) {
    copyInto(rt, s.biases[i]!, s.frameBiases[i]!);
    linearInto(rt, w.layers[i]!.local!, s.localRows!, s.frameBiases[i]!, ACCUMULATE); // (B, 2D)
  }
}

/** One sample for every stream: s.h holds each one's last sample embedded → s.logits. */
function forwardStep(rt: Runtime, w: WaveNetWeights, s: WaveNetState, t: number): void {
  s.skipValues.fill(0);
  for (let i = 0; i < w.layers.length; i++) {
    const layer = w.layers[i]!;
    // (B, 2D): the sum starts from the bias, each stream's condition and (with local features) this frame's projection
    copyInto(rt, layer.local ? s.frameBiases[i]! : s.biases[i]!, s.z);
    causalConvStep(rt, layer.conv, s.queues[i]!, t, s.h, s.z, s.convStep); // z (B, 2D), g (B, D)
    linearInto(rt, layer.residual, s.g, s.h, ACCUMULATE); // (B, R)
    linearInto(rt, layer.skip, s.g, s.skips, ACCUMULATE); // (B, S)
  }
  head(rt, w, s.skips, s.o1, s.logits);
}

const NO_PROMPT = new Int32Array(0);

/** Samples per time tile of `logits`: a tile's activations through all layers stay in L2. */
const TILE = 256;

export class WaveNet implements BatchModel<GenerateRequest> {
  readonly architecture = 'wavenet';
  // Streams of a job are usually equal and step faster together (one GEMM
  // for B streams): one shard per worker.
  readonly shardsPerWorker = 1;
  /** Pitch prompts by condition, made on first use. */
  private readonly prompts = new Map<number, Int32Array>();
  constructor(
    private readonly rt: Runtime,
    readonly weights: WaveNetWeights,
  ) {}

  /** What a worker attaches to (BatchModel). */
  get layout(): WaveNetWeights {
    return this.weights;
  }

  get config(): WaveNetConfig {
    return this.weights.config;
  }

  /**
   * Checks local features: present iff the model takes them (they may be left out where it computes
   * its own), long enough for `samples`, finite.
   */
  private checkLocal(local: Float32Array | undefined, samples: number, where: string): void {
    const { localChannels: C, localHop: hop } = this.config;
    if (C === 0) {
      if (local !== undefined) throw badInput(`${where}: this model takes no local conditioning`);
      return;
    }
    if (local === undefined && this.config.localFeatures !== undefined) return;
    const frames = Math.ceil(samples / hop);
    if (!(local instanceof Float32Array) || local.length < frames * C || local.length % C !== 0) {
      throw badInput(`${where}: local must be a Float32Array of at least ${frames} frames × ${C} channels (hop ${hop}), got ${local instanceof Float32Array ? local.length : typeof local} values`);
    }
    if (!local.every(Number.isFinite)) throw badInput(`${where}: local features must be finite numbers`);
  }

  private checkCondition(condition: number | undefined, where: string): void {
    const { globalClasses, globalLabels } = this.config;
    if (globalClasses === 0) {
      if (condition !== undefined) throw badInput(`${where}: this model takes no condition`);
    } else if (condition === undefined || !Number.isSafeInteger(condition) || condition < 0 || condition >= globalClasses) {
      throw badInput(`${where}: condition must be one of the model's ${globalClasses} classes (${globalLabels.join(', ')}), got ${condition}`);
    }
  }

  /**
   * Teacher-forced logits [T, classes] for a class sequence (x[t] predicts t + 1). Without `local`,
   * a model with computed features gets them as generation does: x[0] is the input before the note's
   * first sample (silence, when generating), so x[t] carries the features of sample t.
   *
   * Runs in time tiles of TILE samples through all the layers, so a tile's residual stream, gate
   * and skip sum stay in cache from the first layer to the logits; layer by layer over the whole
   * sequence they made several round trips to memory per layer (the stream alone is T·R floats).
   * Each layer keeps the (K − 1)·d inputs before the tile, the history its causal conv reads; it
   * starts zeroed, which is the conv's zero padding before t = 0.
   *
   * `out` (T·classes floats) receives the logits instead of a new array. Scoring many sequences
   * into one reused array matters with several workers: they are threads of one process, and
   * a fresh 16 MB array per call (T = 16,000) costs page faults and unmaps that stall every
   * thread of the process (two workers scaled 1.4× with fresh arrays, 1.9× reusing one).
   */
  logits(x: Int32Array, condition?: number, local?: Float32Array, out?: Float32Array): Float32Array {
    this.checkCondition(condition, 'logits');
    this.checkLocal(local, x.length, 'logits');
    if (out !== undefined && !(out instanceof Float32Array && out.length === x.length * this.config.classes)) {
      throw badInput(`logits: out must be a Float32Array of T·classes = ${x.length}·${this.config.classes} floats, got ${out instanceof Float32Array ? out.length : typeof out}`);
    }
    const { rt, weights: w } = this;
    const c = this.config;
    const T = x.length;
    local = localFeaturesOf(c, local, T);
    for (let t = 0; t < T; t++) {
      if (!(x[t]! >= 0 && x[t]! < c.classes)) throw badInput(`logits: x[${t}] = ${x[t]} is not a class below ${c.classes}`);
    }
    const { residual: R, dilationChannels: D, skip: S, classes: Q, localChannels: Cl } = c;
    const L = w.layers.length;
    const logits = out ?? new Float32Array(T * Q);
    return rt.scope(() => {
      const reach = w.layers.map(({ conv }) => (conv.kernelSize - 1) * conv.dilation);
      // Per layer: its input, reach[i] samples of history then the tile; zeroed, the padding before t = 0.
      const inputs = reach.map((n) => rt.tensor([n + TILE, R])); // (reach + TILE, R)
      const skips = rt.empty([TILE, S]); // (TILE, S) the tile's skips summed
      const o1 = rt.empty([TILE, S]); // (TILE, S)
      const tileLogits = rt.empty([TILE, Q]); // (TILE, classes)
      const biases = w.layers.map((_, i) => layerBias(rt, w, i, condition, rt.empty([2 * D]))); // per layer: (2D)
      const localUp = local ? rt.tensor([T, Cl], upsample(local, Cl, c.localHop, T)) : undefined; // (T, C_l) at sample rate
      for (let t0 = 0; t0 < T; t0 += TILE) {
        const n = Math.min(TILE, T - t0);
        lookupInto(rt, w.embed, x.subarray(t0, t0 + n), inputs[0]!.rows(reach[0]!, n)); // (n, R)
        const s = skips.rows(0, n); // (n, S)
        s.data.fill(0);
        for (let i = 0; i < L; i++) {
          rt.scope(() => {
            const layer = w.layers[i]!;
            const h = inputs[i]!.rows(0, reach[i]! + n); // (reach + n, R) history and tile
            const conv = { history: reach[i]!, bias: biases[i]! };
            let g: Tensor; // (n, D)
            if (localUp && layer.local) {
              const z = causalConv(rt, layer.conv, h, conv); // (n, 2D)
              linear(rt, layer.local, localUp.rows(t0, n), { out: z, accumulate: true });
              g = gatedTanh(rt, z);
            } else {
              g = causalConv(rt, layer.conv, h, { ...conv, gated: true }); // z stays in cache
            }
            if (i + 1 < L) {
              // the next layer's input: this layer's input plus the residual branch
              const next = inputs[i + 1]!.rows(reach[i + 1]!, n); // (n, R)
              copyInto(rt, h.rows(reach[i]!, n), next);
              linear(rt, layer.residual, g, { out: next, accumulate: true });
            }
            linear(rt, layer.skip, g, { out: s, accumulate: true });
          });
        }
        const tile = tileLogits.rows(0, n); // (n, classes)
        head(rt, w, s, o1.rows(0, n), tile);
        logits.set(tile.data, t0 * Q);
        // Keep each layer's last reach[i] inputs as the next tile's history.
        inputs.forEach((buffer, i) => copyInto(rt, buffer.rows(n, reach[i]!), buffer.rows(0, reach[i]!)));
      }
      return logits;
    });
  }

  /**
   * Generates B streams together from silence: each step one GEMM per tap
   * and 1×1 per layer over B rows. Returns each stream's μ-law classes.
   * `step(n)` is called every few hundred samples with the samples done.
   */
  generateClasses(requests: readonly GenerateRequest[], step: (units?: number) => void = () => {}): Int32Array[] {
    const { rt, weights: w } = this;
    const { classes: Q, localChannels: Cl, localHop } = this.config;
    const B = requests.length;
    // Stream b's prompt is fed at steps 0 … P_b − 1 and its sample t drawn at step P_b + t.
    const prompts = requests.map((r) => this.promptOf(r));
    const T = Math.max(0, ...requests.map((r, b) => prompts[b]!.length + r.samples));
    const out = requests.map((r) => new Int32Array(r.samples));
    return rt.scope(() => {
      const s = createState(rt, w, requests);
      const rngs = requests.map((r) => new Rng(r.seed));
      const sampler = new RowSampler(rt, B, Q);
      requests.forEach((r, b) => {
        sampler.temperatures[b] = r.temperature;
        sampler.minP[b] = requestMinP(this.config, r);
      });
      // A stream past its own length keeps stepping with the others; its features stop at its last frame.
      const lastFrame = s.locals.map((features) => features.length / Cl - 1);
      const classes = new Int32Array(B).fill(Q >> 1); // each stream's last sample: silence at first
      let done = 0; // samples generated since the last step() report
      for (let k = 0; k < T; k++) {
        lookupInto(rt, w.embed, classes, s.h); // (B, R)
        if (Cl && k % localHop === 0) {
          // Prompts are whole frames (parseWaveNetConfig), so every stream's frames begin at this step;
          // a prompt runs on its note's first frame.
          for (let b = 0; b < B; b++) {
            const frame = Math.max(0, Math.floor((k - prompts[b]!.length) / localHop));
            lookupRowInto(rt, s.locals[b]!, Math.min(frame, lastFrame[b]!), s.localRows!, b); // (B, C_l)
          }
          frameStep(rt, w, s);
        }
        forwardStep(rt, w, s, k); // s.logits (B, classes)
        // One uniform number per stream drawing a sample, in stream order, as sampleCategorical draws them.
        for (let b = 0; b < B; b++) {
          const r = requests[b]!;
          const t = k - prompts[b]!.length;
          sampler.u[b] = t < 0 || t >= r.samples ? -1 : r.temperature > 0 ? rngs[b]!.next() : 0;
        }
        const drawn = sampler.draw(s.logits); // (B)
        for (let b = 0; b < B; b++) {
          const prompt = prompts[b]!;
          const t = k - prompt.length;
          if (t < 0) {
            classes[b] = prompt[k]!; // the next input: the prompt's sample k
          } else if (t < requests[b]!.samples) {
            classes[b] = drawn[b]!;
            out[b]![t] = classes[b]!;
            done++;
          }
        }
        if ((k + 1) % 256 === 0) {
          step(done);
          done = 0;
        }
      }
      step(done);
      return out;
    });
  }

  /** The μ-law classes fed before a request's first sample: its pitch prompt, or none. */
  promptOf(r: GenerateRequest): Int32Array {
    const c = this.config;
    if (!c.pitchPrompt || r.prompt === false) return NO_PROMPT;
    let prompt = this.prompts.get(r.condition!);
    if (!prompt) this.prompts.set(r.condition!, (prompt = pitchPrompt(c, Number(c.globalLabels[r.condition!]))));
    return prompt;
  }

  /** Generates audio in [−1, 1] for each request. */
  generate(requests: readonly GenerateRequest[], step?: (units?: number) => void): Float32Array[] {
    return this.generateClasses(requests, step).map((x) => muLawDecode(x, this.config.classes));
  }

  check(item: unknown, where: string): asserts item is GenerateRequest {
    if (typeof item !== 'object' || item === null) throw badInput(`${where}: expected a generation request object`);
    const r = item as Partial<GenerateRequest>;
    const max = MAX_SECONDS * this.config.sampleRate;
    if (!Number.isSafeInteger(r.samples) || r.samples! < 1 || r.samples! > max) {
      throw badInput(`${where}: samples must be a whole number from 1 to ${max} (${MAX_SECONDS} s), got ${r.samples}`);
    }
    checkPrompt(r.prompt, `${where}: `);
    checkTemperature(r.temperature, this.config, `${where}: `, r.prompt);
    checkMinP(r.minP, `${where}: `);
    if (!Number.isSafeInteger(r.seed)) throw badInput(`${where}: seed must be a whole number, got ${r.seed}`);
    this.checkCondition(r.condition, where);
    this.checkLocal(r.local, r.samples!, where);
  }

  cost(item: GenerateRequest): number {
    return (this.promptOf(item).length + item.samples) * macsPerSample(this.config);
  }

  units(item: GenerateRequest): number {
    return item.samples;
  }

  run(items: readonly GenerateRequest[], step: (units?: number) => void): Float32Array[] {
    return this.generate(items, step);
  }
}

/** Frame-rate features [frames, C] repeated `hop` times: [T, C]. */
function upsample(local: Float32Array, C: number, hop: number, T: number): Float32Array {
  const out = new Float32Array(T * C);
  for (let t = 0; t < T; t++) out.set(local.subarray(Math.floor(t / hop) * C, Math.floor(t / hop) * C + C), t * C);
  return out;
}

export const wavenet: Architecture = {
  name: 'wavenet',
  load(rt: Runtime, model: ModelDir): BatchModel {
    return new WaveNet(rt, loadWeights(rt, model));
  },
  attach(rt: Runtime, weights: ModelLayout): BatchModel {
    return new WaveNet(rt, weights as WaveNetWeights);
  },
};
