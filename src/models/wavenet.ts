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
 *    queue of its past inputs, so a new sample costs O(layers), not
 *    O(receptive field): the taps at t − d are read from the queue instead
 *    of recomputed. The queue starts zeroed, which is exactly the zero
 *    padding the causal convolution sees before t = 0.
 */
import { badInput, modelFormat } from '../errors.js';
import { muLawDecode } from '../io/mulaw.js';
import type { ModelDir } from '../io/model-dir.js';
import { sampleCategorical } from '../decode/sample.js';
import { ACTIVATION_CODES, activation, gatedTanh } from '../runtime/ops/activation.js';
import { type PackedCausalConv1d, causalConv1d, causalConv1dGated, packCausalConv1dWeight } from '../runtime/ops/conv.js';
import { type PackedMatrix, gemm, packMatrixValues } from '../runtime/ops/gemm.js';
import { Rng } from '../runtime/rng.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';

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
}

interface Layer {
  /** The dilated conv for the whole-sequence path: packed [K·R, 2D]. */
  conv: PackedCausalConv1d;
  /** The same weights one tap at a time for the incremental path: K packed [R, 2D]. */
  taps: PackedMatrix[];
  convBias: number; // [2D]
  residual: PackedMatrix; // D → R
  residualBias: number; // [R]
  skip: PackedMatrix; // D → S
  skipBias: number; // [S]
  /** Local features → the conv's output: C_l → 2D (absent without local conditioning). */
  local?: PackedMatrix;
}

/** The weights, as addresses in linear memory (shareable with workers). */
export interface WaveNetLayout extends ModelLayout {
  architecture: 'wavenet';
  config: WaveNetConfig;
  embed: number; // [classes, R]
  condition: number; // [globalClasses, layers · 2D], or 0
  layers: Layer[];
  out1: PackedMatrix; // S → S
  out1Bias: number;
  out2: PackedMatrix; // S → classes
  out2Bias: number;
}

/** One stream to generate. */
export interface GenerateRequest {
  samples: number;
  /** Global condition class index (required when the model is conditioned). */
  condition?: number;
  /** 0 = greedy; 1 = the model's distribution. */
  temperature: number;
  seed: number;
  /** Local conditioning features [frames, channels], frames ≥ samples / hop (models with local conditioning). */
  local?: Float32Array;
}

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

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
  const localChannels = (c.local_condition_channels ?? 0) as number;
  const localHop = (c.local_condition_hop ?? 1) as number;
  if (!Number.isSafeInteger(localChannels) || localChannels < 0 || !positiveInt(localHop)) {
    throw modelFormat(file, '"local_condition_channels" must be a whole number and "local_condition_hop" a positive one');
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

/** Samples per time tile of `logits`: a tile's activations through all layers stay in L2. */
const TILE = 256;

/** The longest clip one request may ask for, in seconds of audio (an hour). */
export const MAX_SECONDS = 3600;

export class WaveNet implements BatchModel<GenerateRequest> {
  readonly architecture = 'wavenet';
  // Streams of a job are usually equal and step faster together (one GEMM
  // for B streams): one shard per worker.
  readonly shardsPerWorker = 1;
  constructor(
    private readonly rt: Runtime,
    readonly layout: WaveNetLayout,
  ) {}

  get config(): WaveNetConfig {
    return this.layout.config;
  }

  private bias(ptr: number, n: number): Tensor {
    return new Tensor(this.rt.heap, ptr, [n]);
  }

  /** The per-layer conv bias plus the condition's embedding row: [2D] into `out`. */
  private layerBias(layer: number, condition: number | undefined, out: number): void {
    const { dilationChannels: D, dilations } = this.config;
    const { kernels } = this.rt;
    const convBias = this.layout.layers[layer]!.convBias;
    if (condition === undefined || !this.layout.condition) {
      kernels.f32_copy_rows(1, 2 * D, convBias, 2 * D, out, 2 * D);
    } else {
      const row = this.layout.condition + (condition * dilations.length + layer) * 2 * D * 4;
      kernels.f32_add(2 * D, convBias, row, out);
    }
  }

  /** Checks local features: present iff the model takes them, long enough for `samples`, finite. */
  private checkLocal(local: Float32Array | undefined, samples: number, where: string): void {
    const { localChannels: C, localHop: hop } = this.config;
    if (C === 0) {
      if (local !== undefined) throw badInput(`${where}: this model takes no local conditioning`);
      return;
    }
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
   * Teacher-forced logits [T, classes] for a class sequence (x[t] predicts t + 1).
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
    const { rt, layout } = this;
    const c = this.config;
    const T = x.length;
    for (let t = 0; t < T; t++) {
      if (!(x[t]! >= 0 && x[t]! < c.classes)) throw badInput(`logits: x[${t}] = ${x[t]} is not a class below ${c.classes}`);
    }
    const { residual: R, skip: S, classes: Q } = c;
    const L = layout.layers.length;
    const logits = out ?? new Float32Array(T * Q);
    return rt.scope(() => {
      const reach = c.dilations.map((d) => (c.kernelSize - 1) * d);
      // inputs[i]: layer i's input for the tile's samples, after its reach[i] samples of history: (reach + TILE, R)
      const inputs = reach.map((n) => rt.tensor([n + TILE, R]));
      const skips = rt.empty([TILE, S]);
      const biases = layout.layers.map((_, i) => {
        const b = rt.empty([2 * c.dilationChannels]);
        this.layerBias(i, condition, b.ptr);
        return b;
      });
      // Local features repeated `hop` times, to sample rate: (T, C_l)
      const localUp = local ? rt.tensor([T, c.localChannels], upsample(local, c.localChannels, c.localHop, T)) : undefined;
      const rows = (t: Tensor, from: number, n: number, width: number) => new Tensor(rt.heap, t.ptr + from * width * 4, [n, width]);
      for (let t0 = 0; t0 < T; t0 += TILE) {
        const n = Math.min(TILE, T - t0);
        const first = inputs[0]!;
        for (let t = 0; t < n; t++) {
          rt.kernels.f32_copy_rows(1, R, layout.embed + x[t0 + t]! * R * 4, R, first.ptr + (reach[0]! + t) * R * 4, R);
        }
        rt.heap.f32(skips.ptr, n * S).fill(0);
        for (let i = 0; i < L; i++) {
          rt.scope(() => {
            const layer = layout.layers[i]!;
            const h = rows(inputs[i]!, 0, reach[i]! + n, R); // history and tile
            const conv = { dilation: c.dilations[i]!, bias: biases[i]!, history: reach[i]! };
            let g: Tensor; // (n, D)
            if (localUp && layer.local) {
              const z = causalConv1d(rt, h, layer.conv, conv); // (n, 2D)
              gemm(rt, rows(localUp, t0, n, c.localChannels), layer.local, { out: z, accumulate: true });
              g = gatedTanh(rt, z);
            } else {
              g = causalConv1dGated(rt, h, layer.conv, conv); // z stays in cache
            }
            if (i + 1 < L) {
              // the next layer's input: this layer's input plus the residual branch
              const next = rows(inputs[i + 1]!, reach[i + 1]!, n, R);
              rt.kernels.f32_copy_rows(n, R, h.ptr + reach[i]! * R * 4, R, next.ptr, R);
              gemm(rt, g, layer.residual, { bias: this.bias(layer.residualBias, R), out: next, accumulate: true });
            }
            gemm(rt, g, layer.skip, { bias: this.bias(layer.skipBias, S), out: rows(skips, 0, n, S), accumulate: true });
          });
        }
        rt.scope(() => {
          const s = rows(skips, 0, n, S);
          activation(rt, s, 'relu', s);
          const o1 = gemm(rt, s, layout.out1, { bias: this.bias(layout.out1Bias, S), activation: 'relu' }); // (n, S)
          const out = gemm(rt, o1, layout.out2, { bias: this.bias(layout.out2Bias, Q) }); // (n, classes)
          logits.set(rt.heap.f32(out.ptr, n * Q), t0 * Q);
        });
        // Keep each layer's last reach[i] inputs as the next tile's history.
        inputs.forEach((buffer, i) => {
          if (reach[i]! > 0) rt.heap.f32(buffer.ptr, (reach[i]! + n) * R).copyWithin(0, n * R, (reach[i]! + n) * R);
        });
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
    const { rt, layout } = this;
    const k = rt.kernels;
    const c = this.config;
    const B = requests.length;
    const { residual: R, dilationChannels: D, skip: S, classes: Q, kernelSize: K } = c;
    const L = layout.layers.length;
    const T = Math.max(0, ...requests.map((r) => r.samples));
    const out = requests.map((r) => new Int32Array(r.samples));
    return rt.scope(() => {
      const ptr = (floats: number) => rt.scratch(floats);
      const h = ptr(B * R); // (B, R) the residual stream
      const z = ptr(B * 2 * D); // (B, 2D)
      const g = ptr(B * D); // (B, D)
      const skips = ptr(B * S); // (B, S)
      const o1 = ptr(B * S); // (B, S)
      const logits = ptr(B * Q); // (B, classes)
      // Per layer: B rows of bias (conv bias + each stream's condition), and the queue of past inputs.
      const biases = ptr(L * B * 2 * D); // (L, B, 2D)
      const queueLength = c.dilations.map((d) => (K - 1) * d);
      const queues = queueLength.map((n) => {
        const q = ptr(n * B * R); // (n, B, R): slot t mod n holds the layer's input at t
        rt.heap.f32(q, n * B * R).fill(0);
        return q;
      });
      requests.forEach((r, b) => {
        for (let i = 0; i < L; i++) this.layerBias(i, r.condition, biases + (i * B + b) * 2 * D * 4);
      });
      const rngs = requests.map((r) => new Rng(r.seed));
      // Each stream's local features in linear memory, and one row of them per stream per step.
      const C = c.localChannels;
      const locals = C ? requests.map((r) => rt.tensor([r.local!.length / C, C], r.local!).ptr) : [];
      const localRows = C ? ptr(B * C) : 0; // (B, C_l)
      const classes = new Int32Array(B).fill(Q >> 1); // silence
      // Made once: no allocation inside the per-sample loop.
      const logitsView = rt.heap.f32(logits, B * Q);
      const skipsView = rt.heap.f32(skips, B * S);
      const cdf = new Float64Array(Q);
      let done = 0; // samples generated since the last step() report
      const rowBytes = R * 4;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) k.f32_copy_rows(1, R, layout.embed + classes[b]! * rowBytes, R, h + b * rowBytes, R);
        const frame = Math.floor(t / c.localHop);
        for (let b = 0; C && b < B; b++) {
          // A stream past its own length keeps stepping with the others; its features stop at its last frame.
          const f = Math.min(frame, requests[b]!.local!.length / C - 1);
          k.f32_copy_rows(1, C, locals[b]! + f * C * 4, C, localRows + b * C * 4, C);
        }
        skipsView.fill(0);
        for (let i = 0; i < L; i++) {
          const layer = layout.layers[i]!;
          const d = c.dilations[i]!;
          k.f32_copy_rows(1, B * 2 * D, biases + i * B * 2 * D * 4, B * 2 * D, z, B * 2 * D);
          if (C) k.f32_gemm_packed(B, 2 * D, C, localRows, C, layer.local!.ptr, z, 2 * D, 0, 0, 1);
          // Tap j sees the input (K − 1 − j)·d samples back: the queue, or h itself for the last tap.
          for (let j = 0; j < K; j++) {
            const back = (K - 1 - j) * d;
            const src = back === 0 ? h : queues[i]! + (((t - back) % queueLength[i]! + queueLength[i]!) % queueLength[i]!) * B * rowBytes;
            const tap = layer.taps[j]!;
            k.f32_gemm_packed(B, 2 * D, R, src, R, tap.ptr, z, 2 * D, 0, 0, 1);
          }
          if (K > 1) k.f32_copy_rows(1, B * R, h, B * R, queues[i]! + (t % queueLength[i]!) * B * rowBytes, B * R);
          k.f32_gated_tanh(B, D, z, g);
          k.f32_gemm_packed(B, R, D, g, D, layer.residual.ptr, h, R, layer.residualBias, 0, 1);
          k.f32_gemm_packed(B, S, D, g, D, layer.skip.ptr, skips, S, layer.skipBias, 0, 1);
        }
        k.f32_activation(B * S, skips, skips, ACTIVATION_CODES.relu);
        k.f32_gemm_packed(B, S, S, skips, S, layout.out1.ptr, o1, S, layout.out1Bias, ACTIVATION_CODES.relu, 0);
        k.f32_gemm_packed(B, Q, S, o1, S, layout.out2.ptr, logits, Q, layout.out2Bias, 0, 0);
        for (let b = 0; b < B; b++) {
          if (t >= requests[b]!.samples) continue;
          const r = requests[b]!;
          classes[b] = sampleCategorical(logitsView.subarray(b * Q, (b + 1) * Q), r.temperature, rngs[b], cdf);
          out[b]![t] = classes[b]!;
          done++;
        }
        if ((t + 1) % 256 === 0) {
          step(done);
          done = 0;
        }
      }
      step(done);
      return out;
    });
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
    if (typeof r.temperature !== 'number' || !(r.temperature >= 0 && r.temperature <= 10)) {
      throw badInput(`${where}: temperature must be from 0 to 10, got ${r.temperature}`);
    }
    if (!Number.isSafeInteger(r.seed)) throw badInput(`${where}: seed must be a whole number, got ${r.seed}`);
    this.checkCondition(r.condition, where);
    this.checkLocal(r.local, r.samples!, where);
  }

  cost(item: GenerateRequest): number {
    return item.samples * macsPerSample(this.config);
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
    const c = parseWaveNetConfig(`${model.dir}/config.json`, model.config);
    const w = model.weights;
    const { residual: R, dilationChannels: D, skip: S, classes: Q, kernelSize: K } = c;
    const vector = (name: string, n: number) => rt.tensor([n], w.floats(name, [n])).ptr;
    const matrix = (name: string, out: number, inp: number) =>
      packMatrixValues(rt, w.floats(name, [out, inp, 1]), [out, inp], { transposed: true });
    const embed = rt.tensor([Q, R], w.floats('embed.weight', [Q, R])).ptr;
    const condition = c.globalClasses
      ? rt.tensor([c.globalClasses, c.dilations.length * 2 * D], w.floats('condition.weight', [c.globalClasses, c.dilations.length * 2 * D])).ptr
      : 0;
    const layers = c.dilations.map((_, i): Layer => {
      const convWeight = w.floats(`layers.${i}.conv.weight`, [2 * D, R, K]);
      const taps = Array.from({ length: K }, (_, j) => {
        const tap = new Float32Array(2 * D * R); // [2D, R] of tap j
        for (let o = 0; o < 2 * D; o++) for (let r = 0; r < R; r++) tap[o * R + r] = convWeight[(o * R + r) * K + j]!;
        return packMatrixValues(rt, tap, [2 * D, R], { transposed: true });
      });
      return {
        conv: packCausalConv1dWeight(rt, convWeight, [2 * D, R, K]),
        taps,
        convBias: vector(`layers.${i}.conv.bias`, 2 * D),
        residual: matrix(`layers.${i}.residual.weight`, R, D),
        residualBias: vector(`layers.${i}.residual.bias`, R),
        skip: matrix(`layers.${i}.skip.weight`, S, D),
        skipBias: vector(`layers.${i}.skip.bias`, S),
        ...(c.localChannels ? { local: matrix(`layers.${i}.local.weight`, 2 * D, c.localChannels) } : {}),
      };
    });
    return new WaveNet(rt, {
      architecture: 'wavenet',
      config: c,
      embed,
      condition,
      layers,
      out1: matrix('out1.weight', S, S),
      out1Bias: vector('out1.bias', S),
      out2: matrix('out2.weight', Q, S),
      out2Bias: vector('out2.bias', Q),
    });
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new WaveNet(rt, layout as WaveNetLayout);
  },
};
