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
 * §1–4 run on transformer.ts's Transformer: this file reads the config into
 * its TransformerConfig, the checkpoint into its TransformerWeights (positions
 * as a table, the output Linear with final_logits_bias as its bias), and adds
 * transformers' search (§5). So a batch runs as there: sentences packed row
 * after row with no padding (a sentence's numbers do not depend on the batch
 * around it, as transformers' padded batch computes them up to rounding), and
 * a decoder step in buffers made once per search.
 */
import { type GeneratedSequence, hfBeamSearch, hfGreedySearch } from '../decode/hf-beam.js';
import type { RowLogSumExp } from '../decode/hf-logits.js';
import { type GenerationRequest, type HfGenerationConfig, parseGenerationConfig, sequenceLimit, withRequest } from '../decode/hf-config.js';
import type { Hypothesis } from '../decode/search.js';
import { badInput, modelFormat } from '../errors.js';
import { type ModelDir, readModelDir } from '../io/model-dir.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import { type Embedding, tiedTable } from '../nn/embedding.js';
import { type Vector, loadLinear, storeLinearWeight, vector } from '../nn/linear.js';
import { type Activation, logSumExpRows } from '../runtime/ops/activation.js';
import { isInt8 } from '../runtime/ops/quant.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import {
  type Encoded, type LayerNames, type SourceItem, type TransformerConfig, type TransformerWeights, Transformer, TranslationBatch, loadLayers,
  translationMacs,
} from './transformer.js';

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

/**
 * The network as transformer.ts's config: post-norm, Marian's activation,
 * fixed positions, no final norms; the decoder's start token as its bos.
 */
export function marianTransformerConfig(c: MarianConfig): TransformerConfig {
  return {
    srcVocab: c.vocabSize, tgtVocab: c.targetVocab, d: c.d,
    heads: c.encoderHeads, dFF: c.encoderFFN, decoderHeads: c.decoderHeads, decoderFF: c.decoderFFN,
    encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers,
    activation: c.activation, norm: 'post', positions: 'sinusoidal', maxPositions: c.maxPositions,
    scaleEmbeddings: c.scaleEmbedding, tieOutput: c.tieWordEmbeddings, eps: c.eps,
    bosId: c.decoderStartId, eosId: c.eosId, padId: c.padId,
    // generate() takes its limits from generation_config.json; Transformer.search's default would be maxPositions.
    maxLengthRatio: 0, maxLengthOffset: c.maxPositions,
  };
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/** §2–3 transformers' names of a layer's tensors (MarianMTModel's under `model.`, MarianModel's without). */
const marianNames = (p: string): LayerNames => ({
  encoder: `${p}encoder.layers`, decoder: `${p}decoder.layers`, selfAttention: 'self_attn', crossAttention: 'encoder_attn',
  projections: ['q_proj', 'k_proj', 'v_proj', 'out_proj'], ff: ['fc1', 'fc2'],
  encoderNorms: ['self_attn_layer_norm', 'final_layer_norm'],
  decoderNorms: ['self_attn_layer_norm', 'encoder_attn_layer_norm', 'final_layer_norm'],
});

/**
 * The Transformer's weights from a Marian checkpoint, with config.json as
 * read here and the directory's generation settings: plain data a worker
 * attaches to in a shared memory.
 */
export interface MarianWeights extends TransformerWeights {
  architecture: 'marian';
  /** config.json's Marian settings, as parseMarianConfig reads them. */
  marian: MarianConfig;
  /** The directory's generation settings: what generate() does without a request's overrides. */
  generation: HfGenerationConfig;
}

/**
 * Reads a Marian directory's weights into `rt`'s memory. Tensor names are
 * MarianMTModel's (`model.` + …, `final_logits_bias`, `lm_head.weight`), or
 * MarianModel's without the `model.` prefix.
 */
export function loadMarianWeights(rt: Runtime, model: ModelDir): MarianWeights {
  const file = `${model.dir}/config.json`;
  const marian = parseMarianConfig(file, model.config);
  const generation = parseGenerationConfig(model.generation ? `${model.dir}/generation_config.json` : file, model.generation, model.config);
  const config = marianTransformerConfig(marian);
  const w = model.weights;
  const p = [...w.tensors.keys()].some((name) => name.startsWith('model.')) ? 'model.' : '';
  const { d } = config;
  const int8 = model.quantize === 'int8';
  const { encoder, decoder } = loadLayers(rt, w, config, marianNames(p), { int8 });
  const { source, target } = embeddingTables(w, p, marian);
  // §1 A checkpoint may carry the position tables (older conversions saved them); they hold the same sinusoids.
  let sinusoids: Vector | undefined;
  const positions = (stack: string) => {
    const name = `${p}${stack}.embed_positions.weight`;
    if (w.tensors.has(name)) return vector(rt, w.floats(name, [marian.maxPositions, d]));
    return (sinusoids ??= vector(rt, marianPositions(marian.maxPositions, d)));
  };
  const scale = marian.scaleEmbedding ? Math.fround(Math.sqrt(d)) : 1;
  // §4 The output projection and final_logits_bias (absent from some checkpoints: zeros, as transformers initialises it).
  const bias = w.tensors.has('final_logits_bias') ? w.floats('final_logits_bias', [1, marian.targetVocab]) : new Float32Array(marian.targetVocab);
  const weight = marian.tieWordEmbeddings
    ? storeLinearWeight(rt, target, [marian.targetVocab, d], { int8 })
    : loadLinear(rt, w, 'lm_head', [marian.targetVocab, d], { int8 }).weight;
  // A tied table is looked up where the float output projection holds it (opus-mt's: 113 MiB held once, not
  // twice); an int8 projection cannot serve as the table, which stays float.
  const table = (values: Float32Array): Pick<Embedding, 'table' | 'layout'> =>
    (marian.tieWordEmbeddings && values === target && !isInt8(weight) ? tiedTable(rt, weight) : { table: vector(rt, values), layout: 'rows' });
  const sourceTable = table(source);
  const srcEmbed: Embedding = { ...sourceTable, positions: positions('encoder'), d, scale };
  const tgtEmbed: Embedding = { ...(target === source ? sourceTable : table(target)), positions: positions('decoder'), d, scale };
  return {
    architecture: 'marian', dir: model.dir, config, marian, generation, srcEmbed, tgtEmbed, encoder, decoder,
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
// §2–4 Forward: transformer.ts's Transformer; §5 generation
// ---------------------------------------------------------------------------

/**
 * A Marian model in a runtime's memory: transformer.ts's Transformer over
 * Marian's weights (encode, the decoder whole-sequence and step by step),
 * and generate() as transformers' search.
 */
export class Marian {
  /** The network. */
  readonly transformer: Transformer;

  /** The model over weights loaded (loadMarianWeights) or attached to in `rt`'s memory. */
  constructor(
    private readonly rt: Runtime,
    /** The weights: plain data a worker can be sent. */
    readonly layout: MarianWeights,
  ) {
    this.transformer = new Transformer(rt, layout);
  }

  /** The network's settings (config.json). */
  get config(): MarianConfig {
    return this.layout.marian;
  }

  /** The directory's generation settings (generation_config.json over config.json). */
  get generation(): HfGenerationConfig {
    return this.layout.generation;
  }

  /** §2 The encoder over source ids (each ending with eos), in the current scope: Transformer.encode. */
  encode(sentences: readonly ArrayLike<number>[]): Encoded {
    return this.transformer.encode(sentences);
  }

  /** §3–4 Teacher-forced logits [T_b, targetVocab] per (source, target) pair, targets starting with the decoder start: Transformer.forward. */
  forward(sources: readonly ArrayLike<number>[], targets: readonly ArrayLike<number>[]): Float32Array[] {
    return this.transformer.forward(sources, targets);
  }

  /** §3–4 The same logits [T, targetVocab] for one pair, the decoder fed one step at a time: Transformer.logits. */
  logits(source: ArrayLike<number>, target: ArrayLike<number>): Float32Array {
    return this.transformer.logits(source, target);
  }

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
   * §5 Translates sentences of source ids (each ending with eos) together, as
   * transformers' generate(): greedy for one beam, beam search otherwise;
   * numReturnSequences sequences per sentence, best first, each starting with
   * the decoder start token. `step` is called after every decoder step.
   */
  generate(sentences: readonly ArrayLike<number>[], request: GenerationRequest = {}, step?: () => void): GeneratedSequence[][] {
    const settings = this.settings(request);
    const K = settings.numBeams;
    sentences.forEach((s, i) => this.transformer.checkTokens(s, this.config.vocabSize, `sentence ${i}`));
    if (sentences.length === 0) return [];
    return this.rt.scope(() => {
      const decoder = this.transformer.stepDecoder(this.encode(sentences), K, settings.maxLength - 1);
      // Each step's log-sum-exp of every 58k-wide row runs in the kernel (the logits are in the runtime's memory).
      const rowLogSumExp: RowLogSumExp = (logits, rows, V, out) => logSumExpRows(this.rt, logits, rows, V, out);
      if (K === 1) return hfGreedySearch(decoder, sentences.length, settings, step, rowLogSumExp).map((s) => [s]);
      return hfBeamSearch(decoder, sentences.length, settings, step, rowLogSumExp);
    });
  }
}

// ---------------------------------------------------------------------------
// The pool's batch model
// ---------------------------------------------------------------------------

/** Multiply–adds to translate a sentence of `src` tokens into `tgt` tokens (greedy), for sharding. */
export function marianMacs(c: MarianConfig, src: number, tgt: number): number {
  return translationMacs(marianTransformerConfig(c), src, tgt);
}

/** One sentence to translate, as the pool carries it: source ids (ending with eos) and the request's generation overrides. */
export interface MarianItem extends SourceItem, GenerationRequest {}

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

/** Marian as the pool runs it (transformer.ts's TranslationBatch), with transformers' search and the directory's generation settings. */
export class MarianBatch extends TranslationBatch<MarianItem> {
  /** The name config.json's model_type "marian" maps to. */
  readonly architecture = 'marian';
  /** The model the items run on. */
  readonly model: Marian;

  /** The batch model over weights in `rt`'s memory. */
  constructor(rt: Runtime, readonly layout: MarianWeights) {
    const model = new Marian(rt, layout);
    super(model.transformer);
    this.model = model;
  }

  /** Settings generate() accepts, or E_BAD_INPUT naming `where`. */
  protected checkSettings(r: MarianItem & { source: number[] }, where: string): void {
    try {
      this.model.settings(r);
    } catch (e) {
      throw badInput(`${where}: ${(e as Error).message}`);
    }
  }

  protected settingsKey(r: MarianItem): string {
    return JSON.stringify(this.model.settings(r));
  }

  /** Each sentence's sequences as packHypotheses writes them: tokens between the decoder start and the end, logprob, score. */
  protected translate(sources: number[][], settings: MarianItem, step: () => void): Hypothesis[][] {
    const eos = this.model.generation.eosTokenIds;
    return this.model.generate(sources, settings, step).map((sequences) => sequences.map((s) => toHypothesis(s, eos)));
  }

  /** Multiply–adds of a greedy translation of 1.2× the source's length, times the beams. */
  protected sourceCost(n: number, item: MarianItem): number {
    return marianMacs(this.model.config, n, Math.ceil(n * 1.2)) * this.model.settings(item).numBeams;
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
