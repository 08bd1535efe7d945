/**
 * Marian translation models (opus-mt) in the Hugging Face layout, computing
 * what transformers' MarianMTModel computes (modeling_marian.py), so that a
 * directory downloaded from the Hugging Face hub runs as it is:
 *
 *   config.json (model_type "marian"), generation_config.json when present,
 *   model.safetensors, source.spm / target.spm / vocab.json (the tokenizer,
 *   src/text/marian-tokenizer.ts).
 *
 * The network (Junczys-Dowmunt et al., 2018; Vaswani et al., 2017, post-norm):
 *
 *  §1 embeddings: token embedding × √d_model (scale_embedding) + a fixed
 *     sinusoid, positions from 0, in Marian's layout: the sines in the first
 *     half of the vector, the cosines in the second (not interleaved);
 *  §2 encoder layer: x = LN(x + SelfAttn(x)); x = LN(x + fc2(act(fc1(x))));
 *  §3 decoder layer: x = LN(x + MaskedSelfAttn(x)); x = LN(x + CrossAttn(x,
 *     encoder)); x = LN(x + fc2(act(fc1(x))));
 *  §4 logits = x · Eᵀ + final_logits_bias, E the decoder embeddings when
 *     tie_word_embeddings (the checkpoint has no lm_head.weight then), else
 *     lm_head.weight;
 *  §5 generation as transformers' generate() (src/decode/hf-beam.ts):
 *     decoding starts from decoder_start_token_id (the pad id), bad_words_ids
 *     (the pad) never produced, the end forced at the last allowed step.
 *
 * No final layer norm on either stack and no embedding layer norm: Marian
 * has neither. One embedding table (model.shared) serves both sides when
 * share_encoder_decoder_embeddings, else the encoder and decoder have their
 * own (and the decoder its own vocabulary, decoder_vocab_size).
 *
 * How a batch runs, and the incremental decoder, are as in transformer.ts:
 * sentences packed row after row with no padding (so a sentence's numbers do
 * not depend on the batch around it, as transformers' padded batch computes
 * them up to rounding), and a decoder step in buffers made once per search.
 */
import { type GeneratedSequence, hfBeamSearch, hfGreedySearch } from '../decode/hf-beam.js';
import { type GenerationRequest, type HfGenerationConfig, parseGenerationConfig, sequenceLimit, withRequest } from '../decode/hf-config.js';
import type { Hypothesis, StepDecoder } from '../decode/search.js';
import { badInput, modelFormat } from '../errors.js';
import { type ModelDir, readModelDir } from '../io/model-dir.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import {
  type CrossAttention, type KeyValueCache, type KeysValues, type MultiHeadAttention, attentionBuffers, crossAttention, keyValueCache,
  keysValues, packedOffsets, reorderCache, selfAttention, stepBuffers, stepCrossAttention, stepSelfAttention,
} from '../nn/attention.js';
import { type Embedding, embedInto } from '../nn/embedding.js';
import { type Linear, type Vector, linear, linearInto, loadFusedLinear, loadLinear, vector } from '../nn/linear.js';
import { type LayerNorm, layerNormInto, loadLayerNorm } from '../nn/norm.js';
import type { Activation } from '../runtime/ops/activation.js';
import { packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { packHypotheses } from './transformer.js';

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

/** config.json's Marian settings, named as here (transformers' names in the comments where they differ). */
export interface MarianConfig {
  /** Source vocabulary (vocab_size); the target's too when the embeddings are shared. */
  vocabSize: number;
  /** Target vocabulary: vocab_size when shared, else decoder_vocab_size. */
  targetVocab: number;
  d: number; // d_model
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFFN: number; // encoder_ffn_dim
  decoderFFN: number; // decoder_ffn_dim
  activation: Activation;
  scaleEmbedding: boolean;
  /** Rows of the position table: the longest source, and the most decoder positions. */
  maxPositions: number;
  shareEmbeddings: boolean;
  tieWordEmbeddings: boolean;
  eps: number;
  padId: number;
  eosId: number;
  decoderStartId: number;
}

/** transformers' ACT2FN names of the activations the kernels compute. */
const ACTIVATIONS: Record<string, Activation> = { swish: 'silu', silu: 'silu', relu: 'relu', gelu: 'gelu', tanh: 'tanh', sigmoid: 'sigmoid', relu6: 'relu6' };

/** Settings of related architectures (BART, FSMT…) that change the network; Marian has them off. */
const MUST_BE_OFF = ['normalize_before', 'normalize_embedding', 'add_final_layer_norm', 'layernorm_embedding', 'scale_attention'];

/** Reads config.json's Marian fields (transformers' MarianConfig defaults where it has them); E_MODEL_FORMAT naming `file` and the field. */
export function parseMarianConfig(file: string, c: Record<string, unknown>): MarianConfig {
  const whole = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw modelFormat(file, `"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') throw modelFormat(file, `"${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  for (const key of MUST_BE_OFF) {
    if (c[key] !== undefined && c[key] !== false) throw modelFormat(file, `"${key}": ${JSON.stringify(c[key])} is not supported (Marian is post-norm, without embedding or final layer norms)`);
  }
  const actName = c.activation_function ?? 'gelu';
  const activation = typeof actName === 'string' && Object.hasOwn(ACTIVATIONS, actName) ? ACTIVATIONS[actName]! : undefined;
  if (!activation) throw modelFormat(file, `"activation_function" ${JSON.stringify(actName)} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  const vocabSize = whole('vocab_size');
  const shareEmbeddings = flag('share_encoder_decoder_embeddings', true);
  const targetVocab = shareEmbeddings ? vocabSize : whole('decoder_vocab_size', vocabSize);
  const id = (key: string, vocab: number, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= vocab) {
      throw modelFormat(file, `"${key}" must be a token id below the vocabulary size ${vocab}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const padId = id('pad_token_id', Math.min(vocabSize, targetVocab));
  const config: MarianConfig = {
    vocabSize,
    targetVocab,
    d: whole('d_model', 1024),
    encoderLayers: whole('encoder_layers', 12),
    decoderLayers: whole('decoder_layers', 12),
    encoderHeads: whole('encoder_attention_heads', 16),
    decoderHeads: whole('decoder_attention_heads', 16),
    encoderFFN: whole('encoder_ffn_dim', 4096),
    decoderFFN: whole('decoder_ffn_dim', 4096),
    activation,
    scaleEmbedding: flag('scale_embedding', false),
    maxPositions: whole('max_position_embeddings', 1024),
    shareEmbeddings,
    tieWordEmbeddings: flag('tie_word_embeddings', true),
    eps: 1e-5, // nn.LayerNorm's default: Marian's config has no field for it
    padId,
    eosId: id('eos_token_id', targetVocab),
    // Marian starts decoding from the pad id.
    decoderStartId: id('decoder_start_token_id', targetVocab, padId),
  };
  for (const [side, heads] of [['encoder', config.encoderHeads], ['decoder', config.decoderHeads]] as const) {
    if (config.d % heads !== 0) throw modelFormat(file, `"d_model" ${config.d} is not divisible by "${side}_attention_heads" ${heads}`);
  }
  return config;
}

/**
 * §1 Marian's fixed positions (n, d), float64 rounded once as transformers'
 * numpy code: column j < ⌈d/2⌉ is sin(p / 10000^(2j/d)), column ⌈d/2⌉ + j is
 * cos(p / 10000^(2j/d)): not interleaved as in the paper.
 */
export function marianPositions(n: number, d: number): Float32Array {
  const half = Math.ceil(d / 2);
  const pe = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < half; j++) {
      const angle = p / 10000 ** ((2 * j) / d);
      pe[p * d + j] = Math.sin(angle);
      if (half + j < d) pe[p * d + half + j] = Math.cos(angle);
    }
  }
  return pe;
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/** The position-wise feed-forward sublayer: fc2(act(fc1(x))). */
export interface MarianFeedForward {
  fc1: Linear; // d → ffn, followed by the config's activation
  fc2: Linear; // ffn → d
}

/** §2 One encoder layer (`encoder.layers.i`). */
export interface MarianEncoderLayer {
  selfAttention: MultiHeadAttention; // q_proj, k_proj, v_proj fused d → 3d; out_proj d → d
  selfAttentionNorm: LayerNorm; // self_attn_layer_norm (d)
  ff: MarianFeedForward;
  finalNorm: LayerNorm; // final_layer_norm (d)
}

/** §3 One decoder layer (`decoder.layers.i`): the encoder layer's parts and the encoder–decoder attention. */
export interface MarianDecoderLayer extends MarianEncoderLayer {
  crossAttention: CrossAttention; // encoder_attn: q_proj d → d, k_proj and v_proj fused d → 2d over the encoder output, out_proj
  crossAttentionNorm: LayerNorm; // encoder_attn_layer_norm (d)
}

/** The weights, as plain data and addresses in linear memory, so a worker attaches to the same weights in a shared memory. */
export interface MarianWeights {
  architecture: 'marian';
  config: MarianConfig;
  /** The directory's generation settings: what generate() does without a request's overrides. */
  generation: HfGenerationConfig;
  srcEmbed: Embedding; // table (vocabSize, d), positions (maxPositions, d)
  tgtEmbed: Embedding; // table (targetVocab, d): the source's when shared; positions (maxPositions, d)
  encoder: MarianEncoderLayer[];
  decoder: MarianDecoderLayer[];
  output: Linear; // d → targetVocab: the decoder embeddings transposed when tied, bias final_logits_bias
  [key: string]: unknown;
}

/**
 * Reads a Marian directory's weights into `rt`'s memory. Tensor names are
 * MarianMTModel's (`model.` + …, `final_logits_bias`, `lm_head.weight`), or
 * MarianModel's without the `model.` prefix.
 */
export function loadMarianWeights(rt: Runtime, model: ModelDir): MarianWeights {
  const file = `${model.dir}/config.json`;
  const c = parseMarianConfig(file, model.config);
  const generation = parseGenerationConfig(model.generation ? `${model.dir}/generation_config.json` : file, model.generation, model.config);
  const w = model.weights;
  const p = [...w.tensors.keys()].some((name) => name.startsWith('model.')) ? 'model.' : '';
  const { d } = c;
  const norm = (name: string) => loadLayerNorm(rt, w, name, d, c.eps);
  const ff = (prefix: string, ffn: number): MarianFeedForward => ({
    fc1: loadLinear(rt, w, `${prefix}.fc1`, [ffn, d]),
    fc2: loadLinear(rt, w, `${prefix}.fc2`, [d, ffn]),
  });
  // Several d → d projections over one input as one GEMM: [q | k | v] or [k | v] in each output row.
  const fused = (names: string[]): Linear => {
    const layer = loadFusedLinear(rt, w, names, d);
    if (layer.weight.N !== names.length * d) throw modelFormat(w.file, `${names.join(', ')} must each have a weight [${d}, ${d}]`);
    return layer;
  };
  const selfAttention = (prefix: string, heads: number): MultiHeadAttention => ({
    heads,
    qkv: fused(['q_proj', 'k_proj', 'v_proj'].map((n) => `${prefix}.self_attn.${n}`)),
    o: loadLinear(rt, w, `${prefix}.self_attn.out_proj`, [d, d]),
  });
  const encoder = Array.from({ length: c.encoderLayers }, (_, i): MarianEncoderLayer => {
    const prefix = `${p}encoder.layers.${i}`;
    return {
      selfAttention: selfAttention(prefix, c.encoderHeads), selfAttentionNorm: norm(`${prefix}.self_attn_layer_norm`),
      ff: ff(prefix, c.encoderFFN), finalNorm: norm(`${prefix}.final_layer_norm`),
    };
  });
  const decoder = Array.from({ length: c.decoderLayers }, (_, i): MarianDecoderLayer => {
    const prefix = `${p}decoder.layers.${i}`;
    return {
      selfAttention: selfAttention(prefix, c.decoderHeads), selfAttentionNorm: norm(`${prefix}.self_attn_layer_norm`),
      crossAttention: {
        heads: c.decoderHeads,
        q: loadLinear(rt, w, `${prefix}.encoder_attn.q_proj`, [d, d]),
        kv: fused([`${prefix}.encoder_attn.k_proj`, `${prefix}.encoder_attn.v_proj`]),
        o: loadLinear(rt, w, `${prefix}.encoder_attn.out_proj`, [d, d]),
      },
      crossAttentionNorm: norm(`${prefix}.encoder_attn_layer_norm`),
      ff: ff(prefix, c.decoderFFN), finalNorm: norm(`${prefix}.final_layer_norm`),
    };
  });
  const { source, target } = embeddingTables(w, p, c);
  // §1 A checkpoint may carry the position tables (older conversions saved them); they hold the same sinusoids.
  let sinusoids: Vector | undefined;
  const positions = (stack: string) => {
    const name = `${p}${stack}.embed_positions.weight`;
    if (w.tensors.has(name)) return vector(rt, w.floats(name, [c.maxPositions, d]));
    return (sinusoids ??= vector(rt, marianPositions(c.maxPositions, d)));
  };
  const scale = c.scaleEmbedding ? Math.fround(Math.sqrt(d)) : 1;
  const sourceTable = vector(rt, source);
  const srcEmbed: Embedding = { table: sourceTable, positions: positions('encoder'), d, scale };
  const tgtEmbed: Embedding = { table: target === source ? sourceTable : vector(rt, target), positions: positions('decoder'), d, scale };
  // §4 The output projection and final_logits_bias (absent from some checkpoints: zeros, as transformers initialises it).
  const bias = w.tensors.has('final_logits_bias') ? w.floats('final_logits_bias', [1, c.targetVocab]) : new Float32Array(c.targetVocab);
  const weight = c.tieWordEmbeddings
    ? packMatrixValues(rt, target, [c.targetVocab, d], { transposed: true })
    : loadLinear(rt, w, 'lm_head', [c.targetVocab, d]).weight;
  return {
    architecture: 'marian', config: c, generation, srcEmbed, tgtEmbed, encoder, decoder,
    output: { weight, bias: vector(rt, bias) },
  };
}

/** §1 The source and target embedding tables: one shared table (the same array twice), or each stack's own. */
function embeddingTables(w: SafeTensorsFile, p: string, c: MarianConfig): { source: Float32Array; target: Float32Array } {
  const shape = (vocab: number) => [vocab, c.d];
  if (c.shareEmbeddings) {
    // transformers ties model.shared to both stacks' embed_tokens; a checkpoint stores one of them.
    const name = [`${p}shared.weight`, `${p}encoder.embed_tokens.weight`, `${p}decoder.embed_tokens.weight`].find((n) => w.tensors.has(n)) ?? `${p}shared.weight`;
    const table = w.floats(name, shape(c.vocabSize), 'config.json "vocab_size" and "d_model"');
    return { source: table, target: table };
  }
  return {
    source: w.floats(`${p}encoder.embed_tokens.weight`, shape(c.vocabSize), 'config.json "vocab_size" and "d_model"'),
    target: w.floats(`${p}decoder.embed_tokens.weight`, shape(c.targetVocab), 'config.json "decoder_vocab_size" and "d_model"'),
  };
}

/** Reads a Marian directory (a path, or one already read) into `rt`'s memory. */
export function loadMarian(rt: Runtime, dir: string | ModelDir): Marian {
  return new Marian(rt, loadMarianWeights(rt, typeof dir === 'string' ? readModelDir(dir) : dir));
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/** A batch's encoder output, ready for decoding. */
export interface MarianEncoded {
  /** Source lengths (tokens, with the final eos). */
  lengths: number[]; // (B)
  /** First row of each sentence in the packed rows. */
  offsets: number[]; // (B)
  /** The encoder's last hidden states, sentence b's at rows offsets[b] …: transformers' encoder_last_hidden_state without padding. */
  memory: Tensor; // (N, d)
  /** Per decoder layer: cross-attention's keys and values, (N, d) each, sentence b's rows as blocks (H, S_b, dk). */
  cross: KeysValues[];
}

/**
 * The decoder's state for R rows (sentences, or sentences × beams): the
 * self-attention caches and every buffer a step works in, made once by
 * `startDecoder` so that `step` allocates nothing.
 */
export interface MarianState {
  readonly rows: number; // R
  /** Which encoded sentence each row attends to. */
  readonly source: Int32Array; // (R)
  /** Positions the caches hold. */
  readonly capacity: number;
  /** Tokens fed so far (the position of the next one). */
  position: number;
  readonly caches: KeyValueCache[]; // per decoder layer: k, v (R, H, capacity, dk), and a spare pair to reorder into
  readonly x: Tensor; // (R, d): the residual stream
  readonly qkv: Tensor; // (R, 3d): self-attention's projections
  readonly q: Tensor; // (R, d): cross-attention's queries
  readonly attended: Tensor; // (R, d): the heads' outputs, before the output projection
  readonly scratch: Tensor; // the attention kernel's work area: one query over up to maxPositions keys
  readonly hidden: Tensor; // (R, decoderFFN): the feed-forward's inner activations
  readonly logits: Tensor; // (R, targetVocab): the step's output
}

// ---------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------

/** x += sublayer(x): the residual add's options, one object for every call so a step allocates none. */
const RESIDUAL = { accumulate: true } as const;

/** Row r's position within its sentence, for packed sentences of `lengths`. */
function positionsOf(lengths: readonly number[]): Int32Array {
  const positions = new Int32Array(lengths.reduce((a, b) => a + b, 0));
  let row = 0;
  for (const T of lengths) for (let i = 0; i < T; i++) positions[row++] = i;
  return positions;
}

/** A Marian model in a runtime's memory: the encoder, the decoder (whole-sequence and step by step) and generate(). */
export class Marian {
  private readonly activation: { readonly activation: Activation };

  /** The model over weights loaded (loadMarianWeights) or attached to in `rt`'s memory. */
  constructor(
    private readonly rt: Runtime,
    /** The weights: plain data a worker can be sent. */
    readonly layout: MarianWeights,
  ) {
    this.activation = { activation: layout.config.activation };
  }

  /** The network's settings (config.json). */
  get config(): MarianConfig {
    return this.layout.config;
  }

  /** The directory's generation settings (generation_config.json over config.json). */
  get generation(): HfGenerationConfig {
    return this.layout.generation;
  }

  /** Checks token ids: whole numbers below `vocab`, 1 to maxPositions of them (E_BAD_INPUT naming `where`). */
  checkTokens(ids: ArrayLike<number>, vocab: number, where: string): void {
    if (ids.length < 1 || ids.length > this.config.maxPositions) {
      throw badInput(`${where}: ${ids.length} tokens; the model takes 1 to ${this.config.maxPositions}`);
    }
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!Number.isSafeInteger(t) || t < 0 || t >= vocab) throw badInput(`${where}: token ${i} is ${t}, not an id below ${vocab}`);
    }
  }

  /** x = LN(x + fc2(act(fc1(x)))) over x's rows, through hidden (rows, ffn). */
  private feedForward(layer: MarianEncoderLayer, x: Tensor, hidden: Tensor): void {
    linearInto(this.rt, layer.ff.fc1, x, hidden, this.activation); // (rows, ffn)
    linearInto(this.rt, layer.ff.fc2, hidden, x, RESIDUAL); // (rows, d)
    layerNormInto(this.rt, layer.finalNorm, x, x);
  }

  /**
   * §2 Runs the encoder over a batch of sentences (token ids, each ending
   * with eos) and computes every decoder layer's cross-attention keys and
   * values. Allocates in the runtime's current scope; the caller releases it.
   */
  encode(sentences: readonly ArrayLike<number>[]): MarianEncoded {
    const { rt, layout } = this;
    const { d, encoderHeads, encoderFFN, vocabSize } = this.config;
    if (sentences.length === 0) throw badInput('encode: no sentences');
    sentences.forEach((s, i) => this.checkTokens(s, vocabSize, `sentence ${i}`));
    const lengths = sentences.map((s) => s.length);
    const N = lengths.reduce((a, b) => a + b, 0);
    const x = rt.empty([N, d]); // (N, d): the sentences' rows, packed
    embedInto(rt, layout.srcEmbed, sentences.flatMap((s) => Array.from(s)), positionsOf(lengths), x);
    rt.scope(() => {
      const hidden = rt.empty([N, encoderFFN]); // (N, ffn)
      const S = Math.max(...lengths);
      const buffers = attentionBuffers(rt, { rows: N, d, heads: encoderHeads, maxQueries: S, maxKeys: S });
      for (const layer of layout.encoder) {
        selfAttention(rt, layer.selfAttention, x, x, buffers, { lengths, accumulate: true }); // x += (N, d)
        layerNormInto(rt, layer.selfAttentionNorm, x, x);
        this.feedForward(layer, x, hidden);
      }
    });
    const cross = layout.decoder.map((layer) => keysValues(rt, layer.crossAttention, x, { lengths })); // per layer (N, d) twice
    return { lengths, offsets: packedOffsets(lengths), memory: x, cross };
  }

  /**
   * §3–4 The teacher-forced decoder over whole target sequences (each
   * starting with the decoder start token), every position at once, as
   * transformers' forward(decoder_input_ids=…) computes it: logits
   * [T_b, targetVocab] per sentence, target b attending to encoded sentence b.
   */
  decodeAll(encoded: MarianEncoded, targets: readonly ArrayLike<number>[]): Float32Array[] {
    const { rt, layout } = this;
    const { d, decoderHeads, decoderFFN, targetVocab } = this.config;
    if (targets.length !== encoded.lengths.length) throw badInput(`decodeAll: ${targets.length} targets for ${encoded.lengths.length} encoded sentences`);
    targets.forEach((t, i) => this.checkTokens(t, targetVocab, `target ${i}`));
    const lengths = targets.map((t) => t.length);
    const N = lengths.reduce((a, b) => a + b, 0);
    const T = Math.max(...lengths);
    return rt.scope(() => {
      const x = rt.empty([N, d]); // (N, d): the targets' rows, packed
      embedInto(rt, layout.tgtEmbed, targets.flatMap((t) => Array.from(t)), positionsOf(lengths), x);
      const hidden = rt.empty([N, decoderFFN]); // (N, ffn)
      const buffers = attentionBuffers(rt, { rows: N, d, heads: decoderHeads, maxQueries: T, maxKeys: Math.max(T, ...encoded.lengths) });
      layout.decoder.forEach((layer, l) => {
        selfAttention(rt, layer.selfAttention, x, x, buffers, { lengths, causal: true, accumulate: true }); // x += (N, d)
        layerNormInto(rt, layer.selfAttentionNorm, x, x);
        crossAttention(rt, layer.crossAttention, x, x, encoded.cross[l]!, buffers, { lengths, accumulate: true });
        layerNormInto(rt, layer.crossAttentionNorm, x, x);
        this.feedForward(layer, x, hidden);
      });
      const logits = linear(rt, layout.output, x); // (N, targetVocab)
      return packedOffsets(lengths).map((first, b) => logits.rows(first, lengths[b]!).toArray());
    });
  }

  /** encode + decodeAll: teacher-forced logits [T_b, targetVocab] for each (source, target) pair. */
  forward(sources: readonly ArrayLike<number>[], targets: readonly ArrayLike<number>[]): Float32Array[] {
    return this.rt.scope(() => this.decodeAll(this.encode(sources), targets));
  }

  /** The state for `rows` decoder rows, row r attending to encoded sentence source[r]; in the current scope. */
  startDecoder(source: ArrayLike<number>, capacity: number): MarianState {
    const { rt } = this;
    const { d, decoderHeads, decoderFFN, targetVocab, maxPositions } = this.config;
    const R = source.length;
    const cap = Math.min(capacity, maxPositions);
    return {
      rows: R,
      source: Int32Array.from(source),
      capacity: cap,
      position: 0,
      caches: this.layout.decoder.map(() => keyValueCache(rt, { rows: R, d, heads: decoderHeads, capacity: cap })),
      x: rt.empty([R, d]),
      // Sources and targets are at most maxPositions tokens: the most keys a query sees.
      ...stepBuffers(rt, { rows: R, d, heads: decoderHeads, maxKeys: maxPositions }),
      hidden: rt.empty([R, decoderFFN]),
      logits: rt.empty([R, targetVocab]),
    };
  }

  /** §3–4 Feeds one token per row at the state's position; the logits (R, targetVocab) land in state.logits. */
  step(encoded: MarianEncoded, state: MarianState, tokens: ArrayLike<number>): void {
    const { rt, layout } = this;
    const { x, hidden } = state;
    const t = state.position;
    if (t >= state.capacity) throw badInput(`decoder step: position ${t} is past the ${state.capacity} positions the caches hold`);
    if (tokens.length !== state.rows) throw badInput(`decoder step: ${tokens.length} tokens for ${state.rows} rows`);
    embedInto(rt, layout.tgtEmbed, tokens, t, x); // (R, d)
    for (let l = 0; l < layout.decoder.length; l++) {
      const layer = layout.decoder[l]!;
      // Masked self-attention: this position's key and value join the cache, the query sees them all.
      stepSelfAttention(rt, layer.selfAttention, x, x, state.caches[l]!, t, state, RESIDUAL); // x += (R, d)
      layerNormInto(rt, layer.selfAttentionNorm, x, x);
      // Encoder–decoder attention over the row's own source sentence.
      stepCrossAttention(rt, layer.crossAttention, x, x, encoded.cross[l]!, state.source, state, RESIDUAL);
      layerNormInto(rt, layer.crossAttentionNorm, x, x);
      this.feedForward(layer, x, hidden);
    }
    linearInto(rt, layout.output, x, state.logits); // (R, targetVocab)
    state.position++;
  }

  /** Row r of the caches becomes what row parent[r] held (beam search keeps its best continuations). */
  reorder(state: MarianState, parent: ArrayLike<number>): void {
    for (const cache of state.caches) reorderCache(this.rt, cache, parent, state.position);
  }

  /**
   * Teacher-forced logits [T, targetVocab] for one sentence pair, the decoder
   * fed `target` (starting with the decoder start) one step at a time: the
   * incremental path, for parity with the whole-sequence forward.
   */
  logits(source: ArrayLike<number>, target: ArrayLike<number>): Float32Array {
    const { rt } = this;
    const V = this.config.targetVocab;
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
  // §5 Generation
  // -------------------------------------------------------------------------

  /**
   * The settings a request runs with: the directory's, the request's
   * overrides on top, and the sequence limit capped at maxPositions + 1
   * tokens (the decoder has a position for each but the last).
   */
  settings(request: GenerationRequest = {}): HfGenerationConfig {
    const settings = withRequest(this.generation, request);
    const limit = Math.min(sequenceLimit(settings), this.config.maxPositions + 1);
    const { maxNewTokens: _, ...rest } = settings;
    return { ...rest, maxLength: limit };
  }

  /**
   * Translates sentences of source ids (each ending with eos) together, as
   * transformers' generate(): greedy for one beam, beam search otherwise;
   * numReturnSequences sequences per sentence, best first, each starting with
   * the decoder start token. `step` is called after every decoder step.
   */
  generate(sentences: readonly ArrayLike<number>[], request: GenerationRequest = {}, step?: () => void): GeneratedSequence[][] {
    const { rt } = this;
    const settings = this.settings(request);
    const K = settings.numBeams;
    sentences.forEach((s, i) => this.checkTokens(s, this.config.vocabSize, `sentence ${i}`));
    if (sentences.length === 0) return [];
    return rt.scope(() => {
      const encoded = this.encode(sentences);
      const source = Int32Array.from({ length: sentences.length * K }, (_, r) => Math.floor(r / K));
      const state = this.startDecoder(source, settings.maxLength - 1);
      const decoder: StepDecoder = {
        vocab: this.config.targetVocab,
        step: (tokens) => {
          this.step(encoded, state, tokens);
          return state.logits.data;
        },
        reorder: (parent) => this.reorder(state, parent),
      };
      if (K === 1) return hfGreedySearch(decoder, sentences.length, settings, step).map((s) => [s]);
      return hfBeamSearch(decoder, sentences.length, settings, step);
    });
  }
}

// ---------------------------------------------------------------------------
// The pool's batch model
// ---------------------------------------------------------------------------

/** Multiply–adds to translate a sentence of `src` tokens into `tgt` tokens (greedy), for sharding. */
export function marianMacs(c: MarianConfig, src: number, tgt: number): number {
  const attention = 4 * c.d * c.d;
  const encoder = c.encoderLayers * src * (attention + 2 * c.d * c.encoderFFN + 2 * src * c.d);
  const decoder = c.decoderLayers * tgt * (2 * attention + 2 * c.d * c.decoderFFN + 2 * (src + tgt) * c.d) + c.decoderLayers * src * 2 * c.d * c.d;
  return encoder + decoder + tgt * c.d * c.targetVocab;
}

/** One sentence to translate, as the pool carries it: source ids (ending with eos) and the request's generation overrides. */
export interface MarianItem extends GenerationRequest {
  source: number[];
  /** Sentences of a shard run in batches of at most this many source tokens (default 4096). */
  batchTokens?: number;
}

/**
 * A generated sequence as the pool's translation output carries it
 * (transformer.ts's Hypothesis, packed by packHypotheses): the tokens
 * between the decoder start and the end token.
 */
export function toHypothesis(sequence: GeneratedSequence, eosIds: readonly number[]): Hypothesis {
  const { ids } = sequence;
  const end = eosIds.includes(ids[ids.length - 1]!) && ids.length > 1 ? ids.length - 1 : ids.length;
  return { tokens: ids.slice(1, end), logprob: sequence.logprob, score: sequence.score };
}

/** Marian as the pool runs it: a shard's sentences grouped by settings, sorted by length, decoded in token-bounded batches. */
export class MarianBatch implements BatchModel<MarianItem> {
  /** The name config.json's model_type "marian" maps to. */
  readonly architecture = 'marian';
  /** The model the items run on. */
  readonly model: Marian;

  /** The batch model over weights in `rt`'s memory. */
  constructor(rt: Runtime, readonly layout: MarianWeights) {
    this.model = new Marian(rt, layout);
  }

  /** E_BAD_INPUT naming `where` unless `item` is { source: ids below the vocabulary, and settings generate() accepts }. */
  check(item: unknown, where: string): asserts item is MarianItem {
    if (typeof item !== 'object' || item === null || !Array.isArray((item as MarianItem).source)) {
      throw badInput(`${where}: expected { source: token ids, … }`);
    }
    const r = item as MarianItem;
    this.model.checkTokens(r.source, this.model.config.vocabSize, `${where}: source`);
    try {
      this.model.settings(r);
    } catch (e) {
      throw badInput(`${where}: ${(e as Error).message}`);
    }
    if (r.batchTokens !== undefined && !(Number.isSafeInteger(r.batchTokens) && r.batchTokens >= 1)) {
      throw badInput(`${where}: batchTokens must be a whole number ≥ 1, got ${r.batchTokens}`);
    }
  }

  /** Multiply–adds of a greedy translation of 1.2× the source's length, times the beams. */
  cost(item: MarianItem): number {
    const n = item.source.length;
    return marianMacs(this.model.config, n, Math.ceil(n * 1.2)) * this.model.settings(item).numBeams;
  }

  /** Progress counts sentences. */
  units(): number {
    return 1;
  }

  /** Each item's sequences as packHypotheses writes them: tokens between the decoder start and the end, logprob, score. */
  run(items: readonly MarianItem[], step: (units?: number) => void): Float32Array[] {
    const out = new Array<Float32Array>(items.length);
    const eos = this.model.generation.eosTokenIds;
    // Same settings together, then by length so a batch wastes few steps on finished rows.
    const key = (r: MarianItem) => JSON.stringify(this.model.settings(r));
    const keys = items.map(key);
    const order = items.map((_, i) => i).sort((a, b) =>
      keys[a]!.localeCompare(keys[b]!) || items[a]!.source.length - items[b]!.source.length || a - b);
    for (let start = 0; start < order.length;) {
      const first = items[order[start]!]!;
      const limit = first.batchTokens ?? 4096;
      let end = start + 1;
      let tokens = first.source.length;
      while (end < order.length && keys[order[end]!] === keys[order[start]!] && tokens + items[order[end]!]!.source.length <= limit) {
        tokens += items[order[end]!]!.source.length;
        end++;
      }
      const batch = order.slice(start, end);
      const sequences = this.model.generate(batch.map((i) => items[i]!.source), first, () => step(0));
      batch.forEach((i, j) => { out[i] = packHypotheses(sequences[j]!.map((s) => toHypothesis(s, eos))); });
      step(batch.length);
      start = end;
    }
    return out;
  }
}

/** The `marian` architecture of the registry (models/index.ts): a Hugging Face directory with model_type "marian". */
export const marian: Architecture = {
  name: 'marian',
  load(rt: Runtime, model: ModelDir): BatchModel {
    return new MarianBatch(rt, loadMarianWeights(rt, model));
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new MarianBatch(rt, layout as MarianWeights);
  },
};
