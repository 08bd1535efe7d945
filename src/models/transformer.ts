/**
 * The encoder–decoder Transformer (Vaswani et al., 2017) for translation.
 * tools/transformer_torch.py is the same network in PyTorch. Hugging Face
 * Marian checkpoints run on it too (models/marian.ts reads their config and
 * weight names into the types here).
 *
 * Encoder layer: self-attention → Add & Norm → feed-forward → Add & Norm.
 * Decoder layer: masked self-attention, encoder–decoder attention and
 * feed-forward, each with Add & Norm. Post-norm (the paper) or pre-norm
 * (normalise each sublayer's input, one final norm per stack).
 *
 * How a batch runs: sentences are packed row after row with no padding, so
 * every GEMM runs over all the batch's tokens at once while attention runs
 * per sentence over that sentence's own keys. A GEMM row does not depend on
 * the other rows (the kernels keep one k order whatever the batch), so a
 * sentence gives bit-identical logits alone and inside any batch.
 *
 * Decoding is incremental: each decoder layer keeps a cache of its
 * self-attention keys and values, the encoder–decoder keys and values are
 * computed once per sentence (`encode`), and a step runs in buffers made
 * once per search (`TransformerState`), allocating nothing.
 *
 * The file reads in the order the data flows: config, weights, state, then
 * the forward passes (encoder, whole-sequence decoder, one decoder step) and
 * the searches over them; the pool's batch model closes it.
 */
import { join } from 'node:path';
import { type Hypothesis, type StepDecoder, beamSearch, greedySearch } from '../decode/search.js';
import { HibikiError, badInput, modelFormat } from '../errors.js';
import { type ModelDir, readModelConfig } from '../io/model-dir.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import {
  type CrossAttention, type KeyValueCache, type KeysValues, type MultiHeadAttention, attentionBuffers, crossAttention, keyValueCache,
  keysValues, packedOffsets, reorderCache, selfAttention, stepBuffers, stepCrossAttention, stepSelfAttention,
} from '../nn/attention.js';
import { type Embedding, embedInto, tiedTable } from '../nn/embedding.js';
import {
  type Linear, type LinearLoadOptions, linear, linearInto, loadFusedLinear, loadLinear, storeLinearWeight, vector,
} from '../nn/linear.js';
import { type LayerNorm, layerNormInto, loadLayerNorm } from '../nn/norm.js';
import type { Activation } from '../runtime/ops/activation.js';
import { isInt8 } from '../runtime/ops/quant.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { MarianTokenizer } from '../text/marian-tokenizer.js';
import { SentencePiece } from '../text/sentencepiece.js';

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

/** The network's hyperparameters and token ids, from config.json (snake_case there, camelCase here). */
export interface TransformerConfig {
  srcVocab: number;
  tgtVocab: number;
  d: number;
  heads: number;
  dFF: number;
  /** The decoder's heads and feed-forward width where they differ from the encoder's (Hugging Face configs allow it). */
  decoderHeads?: number;
  decoderFF?: number;
  encoderLayers: number;
  decoderLayers: number;
  /** parseTransformerConfig reads relu or gelu; Hugging Face configs name others (swish = silu, models/marian.ts). */
  activation: Activation;
  norm: 'post' | 'pre';
  positions: 'sinusoidal' | 'learned';
  maxPositions: number;
  scaleEmbeddings: boolean;
  tieOutput: boolean;
  eps: number;
  bosId: number;
  eosId: number;
  padId: number;
  /** Tokenizer files in the model directory (SentencePiece .model), when the model has them. */
  sourceTokenizer?: string;
  targetTokenizer?: string;
  /** Default longest output: ratio · source tokens + offset (capped by maxPositions). */
  maxLengthRatio: number;
  maxLengthOffset: number;
}

/** config.json's integer fields, their names here and the defaults (the paper's base model; vocabularies have none). */
const INTEGERS: Record<string, [string, number | undefined]> = {
  src_vocab_size: ['srcVocab', undefined], tgt_vocab_size: ['tgtVocab', undefined], d_model: ['d', 512], heads: ['heads', 8],
  d_ff: ['dFF', 2048], encoder_layers: ['encoderLayers', 6], decoder_layers: ['decoderLayers', 6], max_positions: ['maxPositions', 512],
};

/**
 * The largest value each of them may take: beyond these the tables would not
 * fit in WebAssembly's 4 GiB (a huge max_positions was a RangeError stack
 * trace from the position table), so the config is refused instead.
 */
const INTEGER_LIMITS: Record<string, number> = {
  src_vocab_size: 1 << 20, tgt_vocab_size: 1 << 20, d_model: 16384, heads: 1024,
  d_ff: 65536, encoder_layers: 256, decoder_layers: 256, max_positions: 65536,
};

/** Reads and checks a config.json object; E_MODEL_FORMAT naming `file` and the field that is wrong. */
export function parseTransformerConfig(file: string, c: Record<string, unknown>): TransformerConfig {
  const out: Record<string, unknown> = {};
  for (const [key, [name, fallback]] of Object.entries(INTEGERS)) {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > INTEGER_LIMITS[key]!) {
      throw modelFormat(file, `"${key}" must be a whole number from 1 to ${INTEGER_LIMITS[key]}, got ${JSON.stringify(v)}`);
    }
    out[name] = v;
  }
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const v = c[key] ?? fallback;
    if (!values.includes(v as T)) throw modelFormat(file, `"${key}" must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') throw modelFormat(file, `"${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const id = (key: string, vocab: number): number => {
    const v = c[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= vocab) {
      throw modelFormat(file, `"${key}" must be a token id below the vocabulary size ${vocab}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const positive = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw modelFormat(file, `"${key}" must be a number ≥ 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const file_ = (key: string): string | undefined => {
    const v = c[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.includes('/') || v.includes('\\')) throw modelFormat(file, `"${key}" must be a file name in the model directory, got ${JSON.stringify(v)}`);
    return v;
  };
  const config = out as unknown as TransformerConfig;
  if (config.d % config.heads !== 0) throw modelFormat(file, `"d_model" ${config.d} is not divisible by "heads" ${config.heads}`);
  const tableBytes = 4 * config.d * (config.srcVocab + config.tgtVocab + 2 * config.maxPositions);
  if (tableBytes > 2 ** 31) {
    throw modelFormat(file, `its embedding and position tables alone would take ${(tableBytes / 2 ** 30).toFixed(1)} GiB (d_model × (vocabularies + 2 · max_positions) floats); WebAssembly memory holds 4 GiB`);
  }
  Object.assign(config, {
    activation: oneOf('activation', ['relu', 'gelu'], 'relu'),
    norm: oneOf('norm', ['post', 'pre'], 'post'),
    positions: oneOf('positions', ['sinusoidal', 'learned'], 'sinusoidal'),
    scaleEmbeddings: flag('scale_embeddings', true),
    tieOutput: flag('tie_output', true),
    eps: positive('layer_norm_eps', 1e-5),
    bosId: id('bos_id', config.tgtVocab),
    eosId: id('eos_id', config.tgtVocab),
    padId: id('pad_id', Math.min(config.srcVocab, config.tgtVocab)),
    sourceTokenizer: file_('source_tokenizer'),
    targetTokenizer: file_('target_tokenizer'),
    maxLengthRatio: positive('max_length_ratio', 2),
    maxLengthOffset: positive('max_length_offset', 10),
  });
  return config;
}

/** PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(…): float64, rounded once, as the PyTorch side. */
export function sinusoidalPositions(n: number, d: number): Float32Array {
  const pe = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / 10000 ** (i / d);
      pe[p * d + i] = Math.sin(angle);
      if (i + 1 < d) pe[p * d + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/** Re-exported: src/index.ts names it TransformerNorm. */
export type { LayerNorm } from '../nn/norm.js';

/** The position-wise feed-forward sublayer: linear2(act(linear1(x))). */
export interface FeedForward {
  linear1: Linear; // d → dFF, followed by the config's activation
  linear2: Linear; // dFF → d
}

/** One encoder layer: self-attention and feed-forward, each with its Add & Norm. */
export interface EncoderLayer {
  selfAttention: MultiHeadAttention; // d → d, Q, K and V in one d → 3d projection
  norm1: LayerNorm; // (d)
  ff: FeedForward;
  norm2: LayerNorm; // (d)
}

/** One decoder layer: masked self-attention, encoder–decoder attention and feed-forward, each with its Add & Norm. */
export interface DecoderLayer extends EncoderLayer {
  crossAttention: CrossAttention; // queries d → d, keys and values d → 2d over the encoder output
  norm3: LayerNorm; // (d)
}

/**
 * The weights, as plain data and addresses in linear memory, so a worker
 * attaches to the same weights in a shared memory.
 */
export interface TransformerWeights {
  /** The registry's name: 'transformer', or 'marian' for a Hugging Face checkpoint (models/marian.ts). */
  architecture: string;
  config: TransformerConfig;
  srcEmbed: Embedding; // table (srcVocab, d), positions (maxPositions, d)
  tgtEmbed: Embedding; // table (tgtVocab, d), positions (maxPositions, d)
  encoder: EncoderLayer[];
  decoder: DecoderLayer[];
  encoderNorm?: LayerNorm; // (d), pre-norm only
  decoderNorm?: LayerNorm; // (d), pre-norm only
  output: Linear; // d → tgtVocab: the target embedding, transposed, when tied
  /** The model directory the weights were read from: where a pool worker finds the tokenizers for text items. */
  dir?: string;
  [key: string]: unknown;
}

/** @deprecated The old name of TransformerWeights, kept for src/index.ts's public API. */
export type TransformerLayout = TransformerWeights;

/**
 * The tensor names of a checkpoint's layers: layer i of a stack is
 * `${stack}.${i}`, its attention projections `${layer}.${attention}.${q|k|v|o}`.
 * hibiki's own below; Hugging Face's in models/marian.ts.
 */
export interface LayerNames {
  encoder: string;
  decoder: string;
  selfAttention: string;
  crossAttention: string;
  projections: readonly [q: string, k: string, v: string, o: string];
  ff: readonly [linear1: string, linear2: string];
  /** An encoder layer's norms after self-attention and feed-forward. */
  encoderNorms: readonly [norm1: string, norm2: string];
  /** A decoder layer's norms after self-attention, cross-attention and feed-forward. */
  decoderNorms: readonly [norm1: string, norm2: string, norm3: string];
}

const HIBIKI_NAMES: LayerNames = {
  encoder: 'encoder.layers', decoder: 'decoder.layers', selfAttention: 'self_attn', crossAttention: 'cross_attn',
  projections: ['q', 'k', 'v', 'o'], ff: ['ff.linear1', 'ff.linear2'], encoderNorms: ['norm1', 'norm2'], decoderNorms: ['norm1', 'norm2', 'norm3'],
};

/** Reads both stacks' layers into `rt`'s memory: projections packed for GEMM, Q/K/V fused. */
export function loadLayers(
  rt: Runtime, w: SafeTensorsFile, c: TransformerConfig, names: LayerNames, options: LinearLoadOptions = {},
): { encoder: EncoderLayer[]; decoder: DecoderLayer[] } {
  const { d } = c;
  const [q, k, v, o] = names.projections;
  const norm = (name: string) => loadLayerNorm(rt, w, name, d, c.eps);
  // Several d → d Linear layers over one input as one GEMM: [q | k | v] or [k | v] in each output row.
  const fused = (tensors: string[]): Linear => {
    const layer = loadFusedLinear(rt, w, tensors, d, options);
    if (layer.weight.N !== tensors.length * d) throw modelFormat(w.file, `${tensors.join(', ')} must each have a weight [${d}, ${d}]`);
    return layer;
  };
  const ff = (p: string, dFF: number): FeedForward => ({
    linear1: loadLinear(rt, w, `${p}.${names.ff[0]}`, [dFF, d], options),
    linear2: loadLinear(rt, w, `${p}.${names.ff[1]}`, [d, dFF], options),
  });
  const selfAttention = (p: string, heads: number): MultiHeadAttention => ({
    heads,
    qkv: fused([q, k, v].map((n) => `${p}.${names.selfAttention}.${n}`)),
    o: loadLinear(rt, w, `${p}.${names.selfAttention}.${o}`, [d, d], options),
  });
  const [e1, e2] = names.encoderNorms;
  const encoder = Array.from({ length: c.encoderLayers }, (_, i): EncoderLayer => {
    const p = `${names.encoder}.${i}`;
    return { selfAttention: selfAttention(p, c.heads), norm1: norm(`${p}.${e1}`), ff: ff(p, c.dFF), norm2: norm(`${p}.${e2}`) };
  });
  const [d1, d2, d3] = names.decoderNorms;
  const heads = c.decoderHeads ?? c.heads;
  const decoder = Array.from({ length: c.decoderLayers }, (_, i): DecoderLayer => {
    const p = `${names.decoder}.${i}`;
    const cross = `${p}.${names.crossAttention}`;
    return {
      selfAttention: selfAttention(p, heads), norm1: norm(`${p}.${d1}`),
      crossAttention: {
        heads, q: loadLinear(rt, w, `${cross}.${q}`, [d, d], options), kv: fused([`${cross}.${k}`, `${cross}.${v}`]), o: loadLinear(rt, w, `${cross}.${o}`, [d, d], options),
      },
      norm2: norm(`${p}.${d2}`), ff: ff(p, c.decoderFF ?? c.dFF), norm3: norm(`${p}.${d3}`),
    };
  });
  return { encoder, decoder };
}

/** Reads a Transformer's weights (hibiki's names) into `rt`'s memory. */
function loadWeights(rt: Runtime, model: ModelDir): TransformerWeights {
  const c = parseTransformerConfig(`${model.dir}/config.json`, model.config);
  const w = model.weights;
  const { d } = c;
  const int8 = model.quantize === 'int8';
  const { encoder, decoder } = loadLayers(rt, w, c, HIBIKI_NAMES, { int8 });
  const norm = (name: string) => loadLayerNorm(rt, w, name, d, c.eps);
  const sinusoids = c.positions === 'sinusoidal' ? vector(rt, sinusoidalPositions(c.maxPositions, d)) : undefined;
  const embedding = (stack: string, table: Pick<Embedding, 'table' | 'layout'>): Embedding => ({
    ...table,
    positions: sinusoids ?? vector(rt, w.floats(`${stack}.positions.weight`, [c.maxPositions, d])),
    d,
    scale: c.scaleEmbeddings ? Math.fround(Math.sqrt(d)) : 1,
  });
  const tgtTable = w.floats('decoder.embed.weight', [c.tgtVocab, d]);
  const output: Linear = c.tieOutput
    ? { weight: storeLinearWeight(rt, tgtTable, [c.tgtVocab, d], { int8 }) }
    : loadLinear(rt, w, 'output', [c.tgtVocab, d], { int8 });
  // A tied target table is looked up where the float output projection holds it (held once); int8 keeps a float table.
  const tgtEmbed = embedding('decoder', c.tieOutput && !isInt8(output.weight) ? tiedTable(rt, output.weight) : { table: vector(rt, tgtTable) });
  return {
    architecture: 'transformer',
    dir: model.dir,
    config: c,
    srcEmbed: embedding('encoder', { table: vector(rt, w.floats('encoder.embed.weight', [c.srcVocab, d])) }),
    tgtEmbed,
    encoder,
    decoder,
    ...(c.norm === 'pre' ? { encoderNorm: norm('encoder.norm'), decoderNorm: norm('decoder.norm') } : {}),
    output,
  };
}

/** Reads a Transformer from a model directory into `rt`'s memory. */
export function loadTransformer(rt: Runtime, model: ModelDir): Transformer {
  return new Transformer(rt, loadWeights(rt, model));
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/** A batch's encoder output, ready for decoding. */
export interface Encoded {
  /** Source lengths (tokens, with the final eos). */
  lengths: number[]; // (B)
  /** First row of each sentence in the packed rows. */
  offsets: number[]; // (B)
  /** The encoder's output, sentence b's at rows offsets[b] … (transformers' encoder_last_hidden_state without padding). */
  memory: Tensor; // (N, d)
  /** Per decoder layer: cross-attention's keys and values, (N, d) each, sentence b's rows as blocks (H, S_b, dk). */
  cross: KeysValues[];
}

/**
 * The decoder's state for R rows (sentences, or sentences × beams): the
 * self-attention caches, and every buffer a step works in, made once by
 * `startDecoder` so that `step` allocates nothing.
 */
export interface TransformerState {
  readonly rows: number; // R
  /** Which encoded sentence each row attends to. */
  readonly source: Int32Array; // (R)
  /** Longest sequence the caches hold. */
  readonly capacity: number;
  /** Tokens fed so far (the position of the next one). */
  position: number;
  readonly caches: KeyValueCache[]; // per decoder layer: k, v (R, H, capacity, dk), and a spare pair to reorder into
  readonly x: Tensor; // (R, d): the residual stream
  readonly h: Tensor; // (R, d): a sublayer's normalised input (pre-norm)
  readonly qkv: Tensor; // (R, 3d): self-attention's projections
  readonly q: Tensor; // (R, d): cross-attention's queries
  readonly attended: Tensor; // (R, d): the heads' outputs, before the output projection
  readonly scratch: Tensor; // the attention kernel's work area: one query over up to maxPositions keys
  readonly hidden: Tensor; // (R, decoder dFF): the feed-forward's inner activations
  readonly logits: Tensor; // (R, tgtVocab): the step's output
}

/** @deprecated The old name of TransformerState, kept for src/index.ts's public API. */
export type DecoderState = TransformerState;

// ---------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------

/** How to search for translations: greedy or beam, how many hypotheses, how long. */
export interface SearchRequest {
  /** 1 = greedy decoding (default); more = beam search. */
  beam?: number;
  /** α in logprob / length^α for ranking beam hypotheses (default 1). */
  lengthPenalty?: number;
  /** Hypotheses per sentence, best first (default 1, at most beam). */
  nBest?: number;
  /** Longest output in tokens including eos; default ratio · source length + offset from the config. */
  maxLength?: number;
}

/** x += sublayer(x): the residual add's options, one object for every call so a step allocates none. */
const RESIDUAL = { accumulate: true } as const;

/** Row r's position within its sentence, for packed sentences of `lengths`. */
function positionsOf(lengths: readonly number[]): Int32Array {
  const positions = new Int32Array(lengths.reduce((a, b) => a + b, 0));
  let row = 0;
  for (const T of lengths) for (let i = 0; i < T; i++) positions[row++] = i;
  return positions;
}

/**
 * A loaded Transformer over its weights in a runtime's memory: encode a batch,
 * step the decoder with its KV caches (`startDecoder`, `step`, `reorder`),
 * score given translations (`forward`, `logits`) or search (`search`).
 */
export class Transformer {
  private readonly pre: boolean;
  private readonly activation: { readonly activation: Activation };
  /** Each stack's heads and feed-forward width. */
  private readonly encoderSizes: { readonly heads: number; readonly dFF: number };
  private readonly decoderSizes: { readonly heads: number; readonly dFF: number };

  constructor(
    private readonly rt: Runtime,
    /** The weights (plain data, shareable with workers). */
    readonly layout: TransformerWeights,
  ) {
    this.pre = layout.config.norm === 'pre';
    this.activation = { activation: layout.config.activation };
    const c = layout.config;
    this.encoderSizes = { heads: c.heads, dFF: c.dFF };
    this.decoderSizes = { heads: c.decoderHeads ?? c.heads, dFF: c.decoderFF ?? c.dFF };
  }

  /** The hyperparameters the weights were loaded with. */
  get config(): TransformerConfig {
    return this.layout.config;
  }

  /** Checks token ids: whole numbers below `vocab`, 1 to maxPositions of them. */
  checkTokens(ids: ArrayLike<number>, vocab: number, where: string): void {
    if (ids.length < 1 || ids.length > this.config.maxPositions) {
      throw badInput(`${where}: ${ids.length} tokens; the model takes 1 to ${this.config.maxPositions}`);
    }
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!Number.isSafeInteger(t) || t < 0 || t >= vocab) throw badInput(`${where}: token ${i} is ${t}, not an id below ${vocab}`);
    }
  }

  /** A sublayer's input: norm(x) in h for pre-norm, x itself for post-norm. */
  private before(norm: LayerNorm, x: Tensor, h: Tensor): Tensor {
    if (!this.pre) return x;
    layerNormInto(this.rt, norm, x, h);
    return h;
  }

  /** After a sublayer's residual add: post-norm normalises x in place. */
  private after(norm: LayerNorm, x: Tensor): void {
    if (!this.pre) layerNormInto(this.rt, norm, x, x);
  }

  /** x += linear2(act(linear1(input))) over x's rows, through hidden (rows, dFF). */
  private feedForward(ff: FeedForward, input: Tensor, x: Tensor, hidden: Tensor): void {
    linearInto(this.rt, ff.linear1, input, hidden, this.activation); // (rows, dFF)
    linearInto(this.rt, ff.linear2, hidden, x, RESIDUAL); // (rows, d)
  }

  /**
   * Runs the encoder over a batch of sentences (token ids, each ending with
   * eos) and computes every decoder layer's cross-attention keys and values.
   * Allocates in the runtime's current scope; the caller releases it.
   */
  encode(sentences: readonly ArrayLike<number>[]): Encoded {
    const { rt, layout } = this;
    const { d, srcVocab } = this.config;
    const { heads, dFF } = this.encoderSizes;
    if (sentences.length === 0) throw badInput('encode: no sentences');
    sentences.forEach((s, i) => this.checkTokens(s, srcVocab, `sentence ${i}`));
    const lengths = sentences.map((s) => s.length);
    const N = lengths.reduce((a, b) => a + b, 0);
    const x = rt.empty([N, d]); // (N, d): the sentences' rows, packed
    embedInto(rt, layout.srcEmbed, sentences.flatMap((s) => Array.from(s)), positionsOf(lengths), x);
    rt.scope(() => {
      const h = rt.empty([N, d]); // (N, d)
      const hidden = rt.empty([N, dFF]); // (N, dFF)
      const S = Math.max(...lengths);
      const buffers = attentionBuffers(rt, { rows: N, d, heads, maxQueries: S, maxKeys: S });
      for (const layer of layout.encoder) {
        selfAttention(rt, layer.selfAttention, this.before(layer.norm1, x, h), x, buffers, { lengths, accumulate: true }); // x += (N, d)
        this.after(layer.norm1, x);
        this.feedForward(layer.ff, this.before(layer.norm2, x, h), x, hidden);
        this.after(layer.norm2, x);
      }
      if (layout.encoderNorm) layerNormInto(rt, layout.encoderNorm, x, x);
    });
    const cross = layout.decoder.map((layer) => keysValues(rt, layer.crossAttention, x, { lengths })); // per layer (N, d) twice
    return { lengths, offsets: packedOffsets(lengths), memory: x, cross };
  }

  /**
   * The teacher-forced decoder over whole target sequences (each starting
   * with bos), every position at once: masked self-attention over the
   * sentence's own targets, then encoder–decoder attention, as PyTorch's
   * forward computes it; what scoring a given translation needs. Gives
   * logits [T_b, tgtVocab] per sentence, target b attending to encoded
   * sentence b.
   */
  decodeAll(encoded: Encoded, targets: readonly ArrayLike<number>[]): Float32Array[] {
    const { rt, layout } = this;
    const { d, tgtVocab } = this.config;
    const { heads, dFF } = this.decoderSizes;
    if (targets.length !== encoded.lengths.length) throw badInput(`decodeAll: ${targets.length} targets for ${encoded.lengths.length} encoded sentences`);
    targets.forEach((t, i) => this.checkTokens(t, tgtVocab, `target ${i}`));
    const lengths = targets.map((t) => t.length);
    const N = lengths.reduce((a, b) => a + b, 0);
    const T = Math.max(...lengths);
    return rt.scope(() => {
      const x = rt.empty([N, d]); // (N, d): the targets' rows, packed
      embedInto(rt, layout.tgtEmbed, targets.flatMap((t) => Array.from(t)), positionsOf(lengths), x);
      const h = rt.empty([N, d]); // (N, d)
      const hidden = rt.empty([N, dFF]); // (N, dFF)
      const buffers = attentionBuffers(rt, { rows: N, d, heads, maxQueries: T, maxKeys: Math.max(T, ...encoded.lengths) });
      layout.decoder.forEach((layer, l) => {
        selfAttention(rt, layer.selfAttention, this.before(layer.norm1, x, h), x, buffers, { lengths, causal: true, accumulate: true });
        this.after(layer.norm1, x);
        crossAttention(rt, layer.crossAttention, this.before(layer.norm2, x, h), x, encoded.cross[l]!, buffers, { lengths, accumulate: true });
        this.after(layer.norm2, x);
        this.feedForward(layer.ff, this.before(layer.norm3, x, h), x, hidden);
        this.after(layer.norm3, x);
      });
      if (layout.decoderNorm) layerNormInto(rt, layout.decoderNorm, x, x);
      const logits = linear(rt, layout.output, x); // (N, tgtVocab)
      return packedOffsets(lengths).map((first, b) => logits.rows(first, lengths[b]!).toArray());
    });
  }

  /** encode + decodeAll: teacher-forced logits [T_b, tgtVocab] for each (source, target) pair. */
  forward(sources: readonly ArrayLike<number>[], targets: readonly ArrayLike<number>[]): Float32Array[] {
    return this.rt.scope(() => this.decodeAll(this.encode(sources), targets));
  }

  /** The state for `rows` decoder rows, row r attending to encoded sentence source[r]; in the current scope. */
  startDecoder(source: ArrayLike<number>, capacity: number): TransformerState {
    const { rt } = this;
    const { d, tgtVocab, maxPositions } = this.config;
    const { heads, dFF } = this.decoderSizes;
    const R = source.length;
    const cap = Math.min(capacity, maxPositions);
    return {
      rows: R,
      source: Int32Array.from(source),
      capacity: cap,
      position: 0,
      caches: this.layout.decoder.map(() => keyValueCache(rt, { rows: R, d, heads, capacity: cap })),
      x: rt.empty([R, d]),
      h: rt.empty([R, d]),
      // Sources and targets are at most maxPositions tokens: the most keys a query sees.
      ...stepBuffers(rt, { rows: R, d, heads, maxKeys: maxPositions }),
      hidden: rt.empty([R, dFF]),
      logits: rt.empty([R, tgtVocab]),
    };
  }

  /** Feeds one token per row at the state's position; the logits (R, tgtVocab) land in state.logits. */
  step(encoded: Encoded, state: TransformerState, tokens: ArrayLike<number>): void {
    const { rt, layout } = this;
    const { x, h, hidden } = state;
    const t = state.position;
    if (t >= state.capacity) throw badInput(`decoder step: position ${t} is past the ${state.capacity} positions the caches hold`);
    if (tokens.length !== state.rows) throw badInput(`decoder step: ${tokens.length} tokens for ${state.rows} rows`);
    embedInto(rt, layout.tgtEmbed, tokens, t, x); // (R, d)
    for (let l = 0; l < layout.decoder.length; l++) {
      const layer = layout.decoder[l]!;
      // Masked self-attention: this position's key and value join the cache, the query sees them all.
      stepSelfAttention(rt, layer.selfAttention, this.before(layer.norm1, x, h), x, state.caches[l]!, t, state, RESIDUAL); // x += (R, d)
      this.after(layer.norm1, x);
      // Encoder–decoder attention over the row's own source sentence.
      stepCrossAttention(rt, layer.crossAttention, this.before(layer.norm2, x, h), x, encoded.cross[l]!, state.source, state, RESIDUAL);
      this.after(layer.norm2, x);
      this.feedForward(layer.ff, this.before(layer.norm3, x, h), x, hidden);
      this.after(layer.norm3, x);
    }
    if (layout.decoderNorm) layerNormInto(rt, layout.decoderNorm, x, x);
    linearInto(rt, layout.output, x, state.logits); // (R, tgtVocab)
    state.position++;
  }

  /** Row r of the caches becomes what row parent[r] held (beam search keeps its best continuations). */
  reorder(state: TransformerState, parent: ArrayLike<number>): void {
    for (const cache of state.caches) reorderCache(this.rt, cache, parent, state.position);
  }

  /**
   * Teacher-forced logits [T, tgtVocab] for one sentence pair: the decoder
   * fed `target` (starting with bos) one step at a time. For scoring and
   * parity with the PyTorch model's whole-sequence forward.
   */
  logits(source: ArrayLike<number>, target: ArrayLike<number>): Float32Array {
    const { rt } = this;
    const V = this.config.tgtVocab;
    this.checkTokens(target, V, 'target');
    return rt.scope(() => {
      const encoded = this.encode([source]);
      const state = this.startDecoder([0], target.length);
      const out = new Float32Array(target.length * V);
      for (let t = 0; t < target.length; t++) {
        this.step(encoded, state, [target[t]!]);
        out.set(state.logits.data, t * V);
      }
      return out;
    });
  }

  // -------------------------------------------------------------------------
  // Search
  // -------------------------------------------------------------------------

  /**
   * The decoder as the searches (decode/) drive it: K rows per encoded
   * sentence (its beams), caches for `capacity` positions; in the current scope.
   */
  stepDecoder(encoded: Encoded, K: number, capacity: number): StepDecoder {
    const source = Int32Array.from({ length: encoded.lengths.length * K }, (_, r) => Math.floor(r / K));
    const state = this.startDecoder(source, capacity);
    return {
      vocab: this.config.tgtVocab,
      step: (tokens) => {
        this.step(encoded, state, tokens);
        return state.logits.data;
      },
      reorder: (parent) => this.reorder(state, parent),
    };
  }

  /** The longest output allowed for a source of `sourceLength` tokens. */
  maxLength(sourceLength: number, request: SearchRequest = {}): number {
    const c = this.config;
    const limit = request.maxLength ?? Math.floor(c.maxLengthRatio * sourceLength + c.maxLengthOffset);
    if (!Number.isSafeInteger(limit) || limit < 1) throw badInput(`maxLength must be a whole number ≥ 1, got ${request.maxLength}`);
    return Math.min(limit, c.maxPositions);
  }

  /**
   * Translates sentences of source token ids (each ending with eos) together:
   * greedy for beam 1, beam search otherwise; `nBest` hypotheses per sentence.
   * `step` is called after every decoder step.
   */
  search(sentences: readonly ArrayLike<number>[], request: SearchRequest = {}, step?: () => void): Hypothesis[][] {
    const { rt } = this;
    const c = this.config;
    const K = request.beam ?? 1;
    if (!Number.isSafeInteger(K) || K < 1 || K > 64) throw badInput(`beam must be a whole number from 1 to 64, got ${request.beam}`);
    const maxLength = sentences.map((s) => this.maxLength(s.length, request));
    if (sentences.length === 0) return [];
    return rt.scope(() => {
      const decoder = this.stepDecoder(this.encode(sentences), K, Math.max(...maxLength));
      const options = { bos: c.bosId, eos: c.eosId, maxLength };
      if (K === 1 && (request.nBest ?? 1) === 1) return greedySearch(decoder, options, step).map((h) => [h]);
      return beamSearch(decoder, { ...options, beam: K, lengthPenalty: request.lengthPenalty, nBest: request.nBest }, step);
    });
  }
}

// ---------------------------------------------------------------------------
// The pool's batch model
// ---------------------------------------------------------------------------

/** Multiply–adds to translate a sentence of `src` tokens into `tgt` tokens (greedy), for sharding. */
export function translationMacs(c: TransformerConfig, src: number, tgt: number): number {
  const attention = 4 * c.d * c.d;
  const encoder = c.encoderLayers * src * (attention + 2 * c.d * c.dFF + 2 * src * c.d);
  const decoder = c.decoderLayers * tgt * (2 * attention + 2 * c.d * (c.decoderFF ?? c.dFF) + 2 * (src + tgt) * c.d) + c.decoderLayers * src * 2 * c.d * c.d;
  return encoder + decoder + tgt * c.d * c.tgtVocab;
}

/**
 * One sentence to translate, as the pool carries it: source ids (ending with
 * eos), or the line's text, which the worker tokenizes with the model
 * directory's tokenizers (and gives back each hypothesis's text too); the
 * search settings come with it.
 */
export interface SourceItem {
  source?: number[];
  text?: string;
  /** Sentences of a shard run in batches of at most this many source tokens (default 4096). */
  batchTokens?: number;
}

/** One sentence to translate with hibiki's search settings. */
export interface TranslateItem extends SourceItem, SearchRequest {}

/** A hypothesis as it comes back from the pool: with its text when the item was text. */
export interface PackedHypothesis extends Hypothesis {
  text?: string;
}

/**
 * Hypotheses as one f32 array (outputs travel back from workers as buffers):
 * [n, (length, logprob, score, …tokens) × n], then, when `texts` are given,
 * (characters, …UTF-16 code units) × n (code units are below 2¹⁶, exact in f32).
 */
export function packHypotheses(hyps: readonly Hypothesis[], texts?: readonly string[]): Float32Array {
  const textLength = texts ? texts.reduce((a, t) => a + 1 + t.length, 0) : 0;
  const out = new Float32Array(1 + hyps.reduce((a, h) => a + 3 + h.tokens.length, 0) + textLength);
  let i = 0;
  out[i++] = hyps.length;
  for (const h of hyps) {
    out.set([h.tokens.length, h.logprob, h.score, ...h.tokens], i);
    i += 3 + h.tokens.length;
  }
  for (const t of texts ?? []) {
    out[i++] = t.length;
    for (let k = 0; k < t.length; k++) out[i++] = t.charCodeAt(k);
  }
  return out;
}

export function unpackHypotheses(packed: Float32Array): PackedHypothesis[] {
  const hyps: PackedHypothesis[] = [];
  let i = 1;
  for (let n = 0; n < packed[0]!; n++) {
    const length = packed[i]!;
    hyps.push({ logprob: packed[i + 1]!, score: packed[i + 2]!, tokens: Array.from(packed.subarray(i + 3, i + 3 + length)) });
    i += 3 + length;
  }
  for (const h of i < packed.length ? hyps : []) {
    const length = packed[i]!;
    h.text = String.fromCharCode(...packed.subarray(i + 1, i + 1 + length));
    i += 1 + length;
  }
  return hyps;
}

// How a translation directory's text becomes token ids and back: hibiki's
// Transformer with the SentencePiece models its config.json names, or a
// Hugging Face Marian directory with transformers' MarianTokenizer. The
// Translator opens one in the calling thread (its encode/decode), and every
// pool worker opens its own to tokenize the lines it translates.

/** A model's tokenizers: text to source ids, output ids to text. */
export interface TranslationCodec {
  /** The SentencePiece model of the source language. */
  readonly source: SentencePiece;
  /** The SentencePiece model of the target language. */
  readonly target: SentencePiece;
  /** Source token ids for a line, ending with the end-of-sentence id. */
  encode(text: string): number[];
  /** The text of output token ids (special tokens dropped). */
  decode(ids: readonly number[]): string;
}

/**
 * The tokenizers of the translation model directory `dir` whose config.json is
 * `config`; E_MODEL_FORMAT when a hibiki Transformer's config does not name them.
 */
export function openTranslationCodec(dir: string, config: Record<string, unknown>): TranslationCodec {
  const file = `${dir}/config.json`;
  if (config.architecture === 'marian') {
    const tokenizer = MarianTokenizer.load(dir);
    return {
      source: tokenizer.source,
      target: tokenizer.target,
      encode: (text) => tokenizer.encode(text),
      decode: (ids) => tokenizer.decode(ids),
    };
  }
  const c = parseTransformerConfig(file, config);
  if (!c.sourceTokenizer || !c.targetTokenizer) {
    throw modelFormat(file, '"source_tokenizer" and "target_tokenizer" must name the SentencePiece models');
  }
  const source = SentencePiece.load(join(dir, c.sourceTokenizer));
  const target = SentencePiece.load(join(dir, c.targetTokenizer));
  return {
    source,
    target,
    encode: (text) => [...source.encode(text), c.eosId],
    decode: (ids) => target.decode(ids),
  };
}

/** Characters per token a text item is priced at before it is tokenized (sharding only). */
const CHARS_PER_TOKEN = 4;

/**
 * A Transformer as the pool runs it, whichever search drives it (hibiki's
 * below, transformers' in models/marian.ts): a shard's sentences grouped by
 * search settings, sorted by length and decoded in token-bounded batches.
 * Text items are tokenized here, in the worker: the calling thread only
 * hands the lines over.
 */
export abstract class TranslationBatch<T extends SourceItem> implements BatchModel<T> {
  abstract readonly architecture: string;
  abstract readonly layout: TransformerWeights;
  private textCodec: TranslationCodec | HibikiError | undefined;

  constructor(readonly transformer: Transformer) {}

  /** E_BAD_INPUT naming `where` unless the item's settings can run (a source, a batchTokens checked before and after). */
  protected abstract checkSettings(item: T & { source: number[] }, where: string): void;
  /** Items with the same key run in one batch. */
  protected abstract settingsKey(item: T): string;
  /** A batch's sources translated with `settings`: each one's hypotheses. */
  protected abstract translate(sources: number[][], settings: T, step: () => void): Hypothesis[][];
  /** The relative cost of a source of `tokens` tokens with the item's settings. */
  protected abstract sourceCost(tokens: number, item: T): number;

  /**
   * E_BAD_INPUT naming `where` unless `item` is { source: ids below the source
   * vocabulary, or text: a string; batchTokens; settings the search accepts }.
   * A text's length in tokens is checked where it is tokenized.
   */
  check(item: unknown, where: string): asserts item is T {
    const r = item as T;
    if (typeof item !== 'object' || item === null || !(Array.isArray(r.source) || typeof r.text === 'string')) {
      throw badInput(`${where}: expected { source: token ids, … } or { text: a line, … }`);
    }
    // Token ids when an item has both, as run() takes them.
    if (Array.isArray(r.source)) this.checkSource(r as T & { source: number[] }, where);
    else this.checkSettings({ ...r, source: [] }, where);
    if (r.batchTokens !== undefined && !(Number.isSafeInteger(r.batchTokens) && r.batchTokens >= 1)) {
      throw badInput(`${where}: batchTokens must be a whole number ≥ 1, got ${r.batchTokens}`);
    }
  }

  private checkSource(r: T & { source: number[] }, where: string): void {
    this.transformer.checkTokens(r.source, this.transformer.config.srcVocab, `${where}: source`);
    this.checkSettings(r, where);
  }

  cost(item: T): number {
    return this.sourceCost(item.source?.length ?? Math.ceil((item.text ?? '').length / CHARS_PER_TOKEN) + 1, item);
  }

  /** Progress counts sentences. */
  units(): number {
    return 1;
  }

  /**
   * The model directory's tokenizers, opened the first time a text item comes;
   * E_BAD_INPUT (for that item) when they cannot be, saying why.
   */
  private codec(): TranslationCodec {
    if (!this.textCodec) {
      const dir = this.layout.dir;
      try {
        if (!dir) throw new Error('the model was not read from a directory');
        this.textCodec = openTranslationCodec(dir, readModelConfig(dir));
      } catch (e) {
        this.textCodec = badInput(`a line of text needs the model directory's tokenizers (${(e as Error).message}); give token ids ({ source }) instead`);
      }
    }
    if (this.textCodec instanceof HibikiError) throw this.textCodec;
    return this.textCodec;
  }

  /** translate() of a batch, split in halves while it does not fit the scratch memory. */
  private translateInMemory(sources: number[][], settings: T, step: () => void): Hypothesis[][] {
    return translateInHalves((part) => this.translate(part, settings, step), sources);
  }

  run(items: readonly T[], step: (units?: number) => void): Float32Array[] {
    const out = new Array<Float32Array>(items.length);
    // A text item's source is checked as a source item's is, once tokenized (the pool runs a shard
    // that fails E_BAD_INPUT again in halves, until the bad line fails alone).
    const sources = items.map((r) => {
      if (r.source) return r.source;
      const source = this.codec().encode(r.text!);
      this.checkSource({ ...r, source }, 'line'); // (the pool knows the item's number; the worker does not)
      return source;
    });
    // Same settings together, then by length so a batch wastes few steps on finished rows.
    const keys = items.map((r) => this.settingsKey(r));
    const order = items.map((_, i) => i).sort((a, b) =>
      keys[a]!.localeCompare(keys[b]!) || sources[a]!.length - sources[b]!.length || a - b);
    for (let start = 0; start < order.length;) {
      const first = items[order[start]!]!;
      const limit = first.batchTokens ?? 4096;
      let end = start + 1;
      let tokens = sources[order[start]!]!.length;
      while (end < order.length && keys[order[end]!] === keys[order[start]!] && tokens + sources[order[end]!]!.length <= limit) {
        tokens += sources[order[end]!]!.length;
        end++;
      }
      const batch = order.slice(start, end);
      const found = this.translateInMemory(batch.map((i) => sources[i]!), first, () => step(0));
      batch.forEach((i, j) => {
        const hyps = found[j]!;
        out[i] = packHypotheses(hyps, items[i]!.source ? undefined : hyps.map((h) => this.codec().decode(h.tokens)));
      });
      step(batch.length);
      start = end;
    }
    return out;
  }
}

/**
 * translate(), in halves where a batch's search outgrows this heap's scratch
 * region (E_RESOURCE): its step buffers grow with sentences × beams × the
 * length limit (an opus-mt model's 512), which batchTokens does not bound.
 * A sentence's output does not depend on the batch it runs in, so halving
 * changes nothing but the memory.
 */
export function translateInHalves<T>(translate: (sources: number[][]) => T[], sources: number[][]): T[] {
  try {
    return translate(sources);
  } catch (e) {
    if (sources.length < 2 || !(e instanceof HibikiError && e.code === 'E_RESOURCE')) throw e;
    const half = sources.length >> 1;
    return [...translateInHalves(translate, sources.slice(0, half)), ...translateInHalves(translate, sources.slice(half))];
  }
}

/** hibiki's Transformer with its own search (beam, nBest, lengthPenalty, maxLength). */
export class TransformerBatch extends TranslationBatch<TranslateItem> {
  readonly architecture = 'transformer';

  constructor(rt: Runtime, readonly layout: TransformerWeights) {
    super(new Transformer(rt, layout));
  }

  /** The model the items run on. */
  get model(): Transformer {
    return this.transformer;
  }

  protected checkSettings(r: TranslateItem & { source: number[] }, where: string): void {
    this.model.maxLength(r.source.length, r);
    if (r.beam !== undefined && !(Number.isSafeInteger(r.beam) && r.beam >= 1 && r.beam <= 64)) {
      throw badInput(`${where}: beam must be a whole number from 1 to 64, got ${r.beam}`);
    }
    if (r.nBest !== undefined && !(Number.isSafeInteger(r.nBest) && r.nBest >= 1 && r.nBest <= (r.beam ?? 1))) {
      throw badInput(`${where}: nBest must be from 1 to the beam size, got ${r.nBest}`);
    }
    if (r.lengthPenalty !== undefined && !(r.lengthPenalty >= 0 && Number.isFinite(r.lengthPenalty))) {
      throw badInput(`${where}: lengthPenalty must be a number ≥ 0, got ${r.lengthPenalty}`);
    }
  }

  protected settingsKey(r: TranslateItem): string {
    return `${r.beam ?? 1}/${r.nBest ?? 1}/${r.lengthPenalty ?? 1}/${r.maxLength ?? ''}`;
  }

  protected translate(sources: number[][], settings: TranslateItem, step: () => void): Hypothesis[][] {
    return this.model.search(sources, settings, step);
  }

  protected sourceCost(n: number, item: TranslateItem): number {
    return translationMacs(this.model.config, n, Math.ceil(n * 1.2)) * (item.beam ?? 1);
  }
}

export const transformer: Architecture = {
  name: 'transformer',
  load(rt: Runtime, model: ModelDir): BatchModel {
    return new TransformerBatch(rt, loadTransformer(rt, model).layout);
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new TransformerBatch(rt, layout as TransformerWeights);
  },
};
