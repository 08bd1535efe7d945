/**
 * The encoder–decoder Transformer (Vaswani et al., 2017) for translation.
 * tools/transformer_torch.py is the same network in PyTorch.
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
 * self-attention keys and values, and the encoder–decoder keys and values
 * are computed once per sentence (`encode`).
 */
import { type Hypothesis, type StepDecoder, beamSearch, greedySearch } from '../decode/search.js';
import { badInput, modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import { ACTIVATION_CODES } from '../runtime/ops/activation.js';
import { type PackedMatrix, packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { type HeadBlocks, attendRows, gatherHeads, headBlocks } from '../nn/attention.js';

export interface TransformerConfig {
  srcVocab: number;
  tgtVocab: number;
  d: number;
  heads: number;
  dFF: number;
  encoderLayers: number;
  decoderLayers: number;
  activation: 'relu' | 'gelu';
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

export interface Norm {
  gamma: number;
  beta: number;
}

export interface FeedForward {
  w1: PackedMatrix; // d → dFF
  b1: number;
  w2: PackedMatrix; // dFF → d
  b2: number;
}

export interface EncoderLayer {
  qkv: PackedMatrix; // d → 3d: the three projections in one GEMM
  qkvBias: number;
  o: PackedMatrix;
  oBias: number;
  norm1: Norm;
  ff: FeedForward;
  norm2: Norm;
}

export interface DecoderLayer extends EncoderLayer {
  crossQ: PackedMatrix; // d → d
  crossQBias: number;
  crossKv: PackedMatrix; // d → 2d, applied to the encoder output once per sentence
  crossKvBias: number;
  crossO: PackedMatrix;
  crossOBias: number;
  norm3: Norm;
}

/** The weights, as addresses in linear memory (shareable with workers). */
export interface TransformerLayout {
  architecture: 'transformer';
  config: TransformerConfig;
  srcEmbed: number; // [srcVocab, d]
  tgtEmbed: number; // [tgtVocab, d]
  srcPositions: number; // [maxPositions, d]
  tgtPositions: number;
  encoder: EncoderLayer[];
  decoder: DecoderLayer[];
  encoderNorm?: Norm;
  decoderNorm?: Norm;
  output: PackedMatrix; // d → tgtVocab (the target embedding, transposed, when tied)
  [key: string]: unknown;
}

/** A batch's encoder output, ready for decoding: cross-attention keys and values per layer. */
export interface Encoded {
  /** Source lengths (tokens, with the final eos). */
  lengths: number[];
  /** Row offset of each sentence in the packed rows. */
  offsets: number[];
  /** Per decoder layer: K and V, sentence b's block at offsets[b]·d laid out [H, S_b, dk]. */
  crossK: number[];
  crossV: number[];
}

/** The decoder's state for R rows (sentences, or sentences × beams): self-attention caches. */
export interface DecoderState {
  readonly rows: number;
  /** Which encoded sentence each row attends to. */
  readonly source: Int32Array;
  /** Longest sequence the caches hold. */
  readonly capacity: number;
  /** Tokens fed so far (the position of the next one). */
  position: number;
  /** Per layer, caches [R, H, capacity, dk]; a second set to reorder into. */
  cacheK: number[];
  cacheV: number[];
  spareK: number[];
  spareV: number[];
}

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

/** config.json's integer fields, their names here and the defaults (the paper's base model; vocabularies have none). */
const INTEGERS: Record<string, [string, number | undefined]> = {
  src_vocab_size: ['srcVocab', undefined], tgt_vocab_size: ['tgtVocab', undefined], d_model: ['d', 512], heads: ['heads', 8],
  d_ff: ['dFF', 2048], encoder_layers: ['encoderLayers', 6], decoder_layers: ['decoderLayers', 6], max_positions: ['maxPositions', 512],
};

export function parseTransformerConfig(file: string, c: Record<string, unknown>): TransformerConfig {
  const out: Record<string, unknown> = {};
  for (const [key, [name, fallback]] of Object.entries(INTEGERS)) {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw modelFormat(file, `"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
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

/** Multiply–adds to translate a sentence of `src` tokens into `tgt` tokens (greedy), for sharding. */
export function translationMacs(c: TransformerConfig, src: number, tgt: number): number {
  const dense = 4 * c.d * c.d + 2 * c.d * c.dFF;
  const encoder = c.encoderLayers * src * (dense + 2 * src * c.d);
  const decoder = c.decoderLayers * tgt * (dense + 2 * c.d * c.d + 2 * (src + tgt) * c.d) + c.decoderLayers * src * 2 * c.d * c.d;
  return encoder + decoder + tgt * c.d * c.tgtVocab;
}

export class Transformer {
  private readonly scale: number;
  private readonly dk: number;

  constructor(
    private readonly rt: Runtime,
    readonly layout: TransformerLayout,
  ) {
    this.dk = layout.config.d / layout.config.heads;
    this.scale = 1 / Math.sqrt(this.dk);
  }

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

  /** x[r] = embed[token r] · √d + positions[position r], rows written at `out`. */
  private embed(
    table: number, vocab: number, positions: number, tokens: ArrayLike<number>, position: (r: number) => number, out: number,
  ): void {
    const { d, scaleEmbeddings, maxPositions } = this.config;
    const heap = this.rt.heap;
    const s = scaleEmbeddings ? Math.fround(Math.sqrt(d)) : 1;
    // Three views per call, none per token: this runs every decoder step.
    const x = heap.f32(out, tokens.length * d);
    const e = heap.f32(table, vocab * d);
    const p = heap.f32(positions, maxPositions * d);
    for (let r = 0; r < tokens.length; r++) {
      const eRow = tokens[r]! * d;
      const pRow = position(r) * d;
      for (let i = 0; i < d; i++) x[r * d + i] = Math.fround(e[eRow + i]! * s) + p[pRow + i]!;
    }
  }

  private layerNorm(rows: number, x: number, norm: Norm, out: number): void {
    this.rt.kernels.f32_layernorm(rows, this.config.d, x, norm.gamma, norm.beta, this.config.eps, out);
  }

  /** x += W2 · act(W1 · h + b1) + b2 over `rows` rows (h may be x itself). */
  private feedForward(rows: number, h: number, ff: FeedForward, x: number, hidden: number): void {
    const { d, dFF, activation } = this.config;
    const k = this.rt.kernels;
    k.f32_gemm_packed(rows, dFF, d, h, d, ff.w1.ptr, hidden, dFF, ff.b1, ACTIVATION_CODES[activation], 0);
    k.f32_gemm_packed(rows, d, dFF, hidden, dFF, ff.w2.ptr, x, d, ff.b2, 0, 1);
  }

  /**
   * The end of every layer: x += attended · Wo + bo (the last attention's
   * output projection), then the feed-forward sublayer, with Add & Norm
   * around both. Post-norm normalises x with `attentionNorm` after the
   * attention and `ffNorm` after the feed-forward; pre-norm feeds the
   * feed-forward `ffNorm`(x) through `h`.
   */
  private closeLayer(
    rows: number, attended: number, o: PackedMatrix, oBias: number, attentionNorm: Norm, ffNorm: Norm, ff: FeedForward,
    x: number, h: number, hidden: number,
  ): void {
    const { d } = this.config;
    this.rt.kernels.f32_gemm_packed(rows, d, d, attended, d, o.ptr, x, d, oBias, 0, 1);
    if (this.config.norm === 'pre') {
      this.layerNorm(rows, x, ffNorm, h);
      this.feedForward(rows, h, ff, x, hidden);
    } else {
      this.layerNorm(rows, x, attentionNorm, x);
      this.feedForward(rows, x, ff, x, hidden);
      this.layerNorm(rows, x, ffNorm, x);
    }
  }

  /** Self-attention of each sentence over its own rows of qkv [N, 3d] into attended [N, d]. */
  private selfAttend(blocks: HeadBlocks, qkv: number, attended: number, lengths: readonly number[], offsets: readonly number[], causal: boolean): void {
    const { d } = this.config;
    lengths.forEach((T, b) => {
      const rows = qkv + offsets[b]! * 3 * d * 4;
      attendRows(this.rt, blocks, T, { ptr: rows, stride: 3 * d }, T,
        { k: { ptr: rows + d * 4, stride: 3 * d }, v: { ptr: rows + 2 * d * 4, stride: 3 * d } },
        { ptr: attended + offsets[b]! * d * 4, stride: d }, this.scale, causal);
    });
  }

  /**
   * Runs the encoder over a batch of sentences (token ids, each ending with
   * eos) and computes every decoder layer's cross-attention keys and values.
   * Allocates in the runtime's current scope; the caller releases it.
   */
  encode(sentences: readonly ArrayLike<number>[]): Encoded {
    const { rt, layout } = this;
    const c = this.config;
    const k = rt.kernels;
    const { d, heads: H } = c;
    const dk = this.dk;
    sentences.forEach((s, i) => this.checkTokens(s, c.srcVocab, `sentence ${i}`));
    const lengths = sentences.map((s) => s.length);
    const offsets = lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
    const N = lengths.reduce((a, b) => a + b, 0);
    const Smax = Math.max(...lengths);
    const f = (n: number) => rt.scratch(n);
    const x = f(N * d);
    const tokens = sentences.flatMap((s) => Array.from(s));
    const positionOf = new Int32Array(N);
    sentences.forEach((s, b) => { for (let i = 0; i < s.length; i++) positionOf[offsets[b]! + i] = i; });
    this.embed(layout.srcEmbed, c.srcVocab, layout.srcPositions, tokens, (r) => positionOf[r]!, x);
    const mark = rt.heap.mark();
    const h = f(N * d); // the normalised input of a sublayer (pre-norm)
    const qkv = f(N * 3 * d);
    const attended = f(N * d);
    const hidden = f(N * c.dFF);
    const blocks = headBlocks(rt, H, dk, Smax, Smax);
    const pre = c.norm === 'pre';
    for (const layer of layout.encoder) {
      const input = pre ? h : x;
      if (pre) this.layerNorm(N, x, layer.norm1, h);
      k.f32_gemm_packed(N, 3 * d, d, input, d, layer.qkv.ptr, qkv, 3 * d, layer.qkvBias, 0, 0);
      this.selfAttend(blocks, qkv, attended, lengths, offsets, false);
      this.closeLayer(N, attended, layer.o, layer.oBias, layer.norm1, layer.norm2, layer.ff, x, h, hidden);
    }
    if (layout.encoderNorm) this.layerNorm(N, x, layout.encoderNorm, x);
    rt.heap.release(mark);
    // Cross-attention keys and values, per decoder layer and sentence, in [H, S, dk] blocks.
    const crossK: number[] = [];
    const crossV: number[] = [];
    for (let l = 0; l < layout.decoder.length; l++) {
      crossK.push(f(N * d));
      crossV.push(f(N * d));
    }
    const inner = rt.heap.mark();
    const kv = f(N * 2 * d);
    layout.decoder.forEach((layer, l) => {
      k.f32_gemm_packed(N, 2 * d, d, x, d, layer.crossKv.ptr, kv, 2 * d, layer.crossKvBias, 0, 0);
      sentences.forEach((_, b) => {
        const rows = kv + offsets[b]! * 2 * d * 4;
        gatherHeads(rt, H, dk, lengths[b]!, rows, 2 * d, crossK[l]! + offsets[b]! * d * 4);
        gatherHeads(rt, H, dk, lengths[b]!, rows + d * 4, 2 * d, crossV[l]! + offsets[b]! * d * 4);
      });
    });
    rt.heap.release(inner);
    return { lengths, offsets, crossK, crossV };
  }

  /** Caches for `rows` decoder rows, row r attending to encoded sentence source[r]. */
  startDecoder(source: ArrayLike<number>, capacity: number): DecoderState {
    const { rt } = this;
    const { d, decoderLayers: L } = this.config;
    const R = source.length;
    const cap = Math.min(capacity, this.config.maxPositions);
    const alloc = () => Array.from({ length: L }, () => rt.scratch(R * cap * d));
    return { rows: R, source: Int32Array.from(source), capacity: cap, position: 0,
      cacheK: alloc(), cacheV: alloc(), spareK: alloc(), spareV: alloc() };
  }

  /**
   * Feeds one token per row at the state's position; writes logits [R, tgtVocab]
   * at `logits`. Allocates only inside its own scope.
   */
  step(encoded: Encoded, state: DecoderState, tokens: ArrayLike<number>, logits: number): void {
    const { rt, layout } = this;
    const c = this.config;
    const k = rt.kernels;
    const { d, heads: H } = c;
    const dk = this.dk;
    const R = state.rows;
    const t = state.position;
    if (t >= state.capacity) throw badInput(`decoder step: position ${t} is past the ${state.capacity} positions the caches hold`);
    if (tokens.length !== R) throw badInput(`decoder step: ${tokens.length} tokens for ${R} rows`);
    rt.scope(() => {
      const f = (n: number) => rt.scratch(n);
      const x = f(R * d);
      this.embed(layout.tgtEmbed, c.tgtVocab, layout.tgtPositions, tokens, () => t, x);
      const h = f(R * d);
      const qkv = f(R * 3 * d);
      const q = f(R * d);
      const attended = f(R * d);
      const hidden = f(R * c.dFF);
      const maxSource = Math.max(t + 1, ...encoded.lengths);
      const scratch = f(k.f32_attention_scratch_size(1, maxSource, dk, dk));
      const pre = c.norm === 'pre';
      const headBytes = state.capacity * dk * 4;
      layout.decoder.forEach((layer, l) => {
        // Masked self-attention: this position's key and value join the cache, the query sees them all.
        if (pre) this.layerNorm(R, x, layer.norm1, h);
        k.f32_gemm_packed(R, 3 * d, d, pre ? h : x, d, layer.qkv.ptr, qkv, 3 * d, layer.qkvBias, 0, 0);
        for (let r = 0; r < R; r++) {
          const row = qkv + r * 3 * d * 4;
          for (let hd = 0; hd < H; hd++) {
            const slot = (r * H + hd) * headBytes;
            k.f32_copy_rows(1, dk, row + (d + hd * dk) * 4, dk, state.cacheK[l]! + slot + t * dk * 4, dk);
            k.f32_copy_rows(1, dk, row + (2 * d + hd * dk) * 4, dk, state.cacheV[l]! + slot + t * dk * 4, dk);
            k.f32_attention(1, 1, 1, t + 1, dk, dk, row + hd * dk * 4, state.cacheK[l]! + slot, state.cacheV[l]! + slot,
              attended + (r * d + hd * dk) * 4, this.scale, 0, 0, scratch);
          }
        }
        k.f32_gemm_packed(R, d, d, attended, d, layer.o.ptr, x, d, layer.oBias, 0, 1);
        if (pre) this.layerNorm(R, x, layer.norm2, h);
        else this.layerNorm(R, x, layer.norm1, x);
        // Encoder–decoder attention over the row's own source sentence.
        k.f32_gemm_packed(R, d, d, pre ? h : x, d, layer.crossQ.ptr, q, d, layer.crossQBias, 0, 0);
        for (let r = 0; r < R; r++) {
          const b = state.source[r]!;
          const S = encoded.lengths[b]!;
          const block = encoded.offsets[b]! * d * 4;
          for (let hd = 0; hd < H; hd++) {
            const head = block + hd * S * dk * 4;
            k.f32_attention(1, 1, 1, S, dk, dk, q + (r * d + hd * dk) * 4, encoded.crossK[l]! + head, encoded.crossV[l]! + head,
              attended + (r * d + hd * dk) * 4, this.scale, 0, 0, scratch);
          }
        }
        this.closeLayer(R, attended, layer.crossO, layer.crossOBias, layer.norm2, layer.norm3, layer.ff, x, h, hidden);
      });
      if (layout.decoderNorm) this.layerNorm(R, x, layout.decoderNorm, x);
      k.f32_gemm_packed(R, c.tgtVocab, d, x, d, layout.output.ptr, logits, c.tgtVocab, 0, 0, 0);
    });
    state.position++;
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
    const c = this.config;
    const k = rt.kernels;
    const { d, heads: H, tgtVocab: V } = c;
    const dk = this.dk;
    if (targets.length !== encoded.lengths.length) throw badInput(`decodeAll: ${targets.length} targets for ${encoded.lengths.length} encoded sentences`);
    targets.forEach((t, i) => this.checkTokens(t, V, `target ${i}`));
    const lengths = targets.map((t) => t.length);
    const offsets = lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
    const N = lengths.reduce((a, b) => a + b, 0);
    const Tmax = Math.max(...lengths);
    const Smax = Math.max(...encoded.lengths);
    return rt.scope(() => {
      const f = (n: number) => rt.scratch(n);
      const x = f(N * d);
      const positionOf = new Int32Array(N);
      targets.forEach((t, b) => { for (let i = 0; i < t.length; i++) positionOf[offsets[b]! + i] = i; });
      this.embed(layout.tgtEmbed, V, layout.tgtPositions, targets.flatMap((t) => Array.from(t)), (r) => positionOf[r]!, x);
      const h = f(N * d);
      const qkv = f(N * 3 * d);
      const q = f(N * d);
      const attended = f(N * d);
      const hidden = f(N * c.dFF);
      const blocks = headBlocks(rt, H, dk, Tmax, Math.max(Tmax, Smax));
      const pre = c.norm === 'pre';
      layout.decoder.forEach((layer, l) => {
        if (pre) this.layerNorm(N, x, layer.norm1, h);
        k.f32_gemm_packed(N, 3 * d, d, pre ? h : x, d, layer.qkv.ptr, qkv, 3 * d, layer.qkvBias, 0, 0);
        this.selfAttend(blocks, qkv, attended, lengths, offsets, true);
        k.f32_gemm_packed(N, d, d, attended, d, layer.o.ptr, x, d, layer.oBias, 0, 1);
        if (pre) this.layerNorm(N, x, layer.norm2, h);
        else this.layerNorm(N, x, layer.norm1, x);
        k.f32_gemm_packed(N, d, d, pre ? h : x, d, layer.crossQ.ptr, q, d, layer.crossQBias, 0, 0);
        lengths.forEach((T, b) => {
          const block = encoded.offsets[b]! * d * 4; // this sentence's [H, S, dk] keys and values
          attendRows(rt, blocks, T, { ptr: q + offsets[b]! * d * 4, stride: d }, encoded.lengths[b]!,
            { kBlocks: encoded.crossK[l]! + block, vBlocks: encoded.crossV[l]! + block }, { ptr: attended + offsets[b]! * d * 4, stride: d }, this.scale);
        });
        this.closeLayer(N, attended, layer.crossO, layer.crossOBias, layer.norm2, layer.norm3, layer.ff, x, h, hidden);
      });
      if (layout.decoderNorm) this.layerNorm(N, x, layout.decoderNorm, x);
      const logits = f(N * V);
      k.f32_gemm_packed(N, V, d, x, d, layout.output.ptr, logits, V, 0, 0, 0);
      return targets.map((_, b) => rt.heap.f32(logits + offsets[b]! * V * 4, lengths[b]! * V).slice());
    });
  }

  /** encode + decodeAll: teacher-forced logits [T_b, tgtVocab] for each (source, target) pair. */
  forward(sources: readonly ArrayLike<number>[], targets: readonly ArrayLike<number>[]): Float32Array[] {
    return this.rt.scope(() => this.decodeAll(this.encode(sources), targets));
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
      const encoded = this.encode(sentences);
      const source = Int32Array.from({ length: sentences.length * K }, (_, r) => Math.floor(r / K));
      const state = this.startDecoder(source, Math.max(...maxLength));
      const logits = rt.scratch(source.length * c.tgtVocab);
      const decoder: StepDecoder = {
        vocab: c.tgtVocab,
        step: (tokens) => {
          this.step(encoded, state, tokens, logits);
          return rt.heap.f32(logits, source.length * c.tgtVocab);
        },
        reorder: (parent) => this.reorder(state, parent),
      };
      const options = { bos: c.bosId, eos: c.eosId, maxLength };
      if (K === 1 && (request.nBest ?? 1) === 1) return greedySearch(decoder, options, step).map((h) => [h]);
      return beamSearch(decoder, { ...options, beam: K, lengthPenalty: request.lengthPenalty, nBest: request.nBest }, step);
    });
  }

  /** Row r of the caches becomes what row parent[r] held (beam search keeps its best continuations). */
  reorder(state: DecoderState, parent: ArrayLike<number>): void {
    const { heads: H, decoderLayers: L } = this.config;
    const k = this.rt.kernels;
    const dk = this.dk;
    const used = state.position * dk; // floats per head in use
    const headFloats = state.capacity * dk;
    for (let l = 0; l < L; l++) {
      for (let r = 0; r < state.rows; r++) {
        const p = parent[r]!;
        for (let hd = 0; hd < H; hd++) {
          const to = (r * H + hd) * headFloats * 4;
          const from = (p * H + hd) * headFloats * 4;
          k.f32_copy_rows(1, used, state.cacheK[l]! + from, used, state.spareK[l]! + to, used);
          k.f32_copy_rows(1, used, state.cacheV[l]! + from, used, state.spareV[l]! + to, used);
        }
      }
      [state.cacheK[l], state.spareK[l]] = [state.spareK[l]!, state.cacheK[l]!];
      [state.cacheV[l], state.spareV[l]] = [state.spareV[l]!, state.cacheV[l]!];
    }
  }

  /**
   * Teacher-forced logits [T, tgtVocab] for one sentence pair: the decoder
   * fed `target` (starting with bos) one step at a time. For scoring and
   * parity with the PyTorch model's whole-sequence forward.
   */
  logits(source: ArrayLike<number>, target: ArrayLike<number>): Float32Array {
    const { rt } = this;
    this.checkTokens(target, this.config.tgtVocab, 'target');
    return rt.scope(() => {
      const encoded = this.encode([source]);
      const V = this.config.tgtVocab;
      const state = this.startDecoder([0], target.length);
      const out = new Float32Array(target.length * V);
      const logits = rt.scratch(V);
      for (let t = 0; t < target.length; t++) {
        this.step(encoded, state, [target[t]!], logits);
        out.set(rt.heap.f32(logits, V), t * V);
      }
      return out;
    });
  }
}

/** Reads a Transformer's weights into `rt`'s memory: projections packed for GEMM, Q/K/V fused. */
export function loadTransformer(rt: Runtime, model: ModelDir): Transformer {
  const c = parseTransformerConfig(`${model.dir}/config.json`, model.config);
  const w = model.weights;
  const { d, dFF } = c;
  const vector = (name: string, n: number) => rt.tensor([n], w.floats(name, [n])).ptr;
  const linear = (name: string, out: number, inp: number) =>
    packMatrixValues(rt, w.floats(`${name}.weight`, [out, inp]), [out, inp], { transposed: true });
  // Several Linear layers side by side: one [Σout, in] weight and one bias.
  const fused = (names: string[]) => {
    const weight = new Float32Array(names.length * d * d);
    const bias = new Float32Array(names.length * d);
    names.forEach((n, i) => {
      weight.set(w.floats(`${n}.weight`, [d, d]), i * d * d);
      bias.set(w.floats(`${n}.bias`, [d]), i * d);
    });
    return { m: packMatrixValues(rt, weight, [names.length * d, d], { transposed: true }), bias: rt.tensor([names.length * d], bias).ptr };
  };
  const norm = (name: string): Norm => ({ gamma: vector(`${name}.weight`, d), beta: vector(`${name}.bias`, d) });
  const ff = (p: string): FeedForward => ({
    w1: linear(`${p}.ff.linear1`, dFF, d), b1: vector(`${p}.ff.linear1.bias`, dFF),
    w2: linear(`${p}.ff.linear2`, d, dFF), b2: vector(`${p}.ff.linear2.bias`, d),
  });
  const selfAttention = (p: string) => {
    const qkv = fused([`${p}.self_attn.q`, `${p}.self_attn.k`, `${p}.self_attn.v`]);
    return { qkv: qkv.m, qkvBias: qkv.bias, o: linear(`${p}.self_attn.o`, d, d), oBias: vector(`${p}.self_attn.o.bias`, d) };
  };
  const encoder = Array.from({ length: c.encoderLayers }, (_, i): EncoderLayer => {
    const p = `encoder.layers.${i}`;
    return { ...selfAttention(p), norm1: norm(`${p}.norm1`), ff: ff(p), norm2: norm(`${p}.norm2`) };
  });
  const decoder = Array.from({ length: c.decoderLayers }, (_, i): DecoderLayer => {
    const p = `decoder.layers.${i}`;
    const kv = fused([`${p}.cross_attn.k`, `${p}.cross_attn.v`]);
    return {
      ...selfAttention(p), norm1: norm(`${p}.norm1`), ff: ff(p), norm2: norm(`${p}.norm2`), norm3: norm(`${p}.norm3`),
      crossQ: linear(`${p}.cross_attn.q`, d, d), crossQBias: vector(`${p}.cross_attn.q.bias`, d),
      crossKv: kv.m, crossKvBias: kv.bias,
      crossO: linear(`${p}.cross_attn.o`, d, d), crossOBias: vector(`${p}.cross_attn.o.bias`, d),
    };
  });
  const tgtEmbedValues = w.floats('decoder.embed.weight', [c.tgtVocab, d]);
  const sinusoids = c.positions === 'sinusoidal' ? rt.tensor([c.maxPositions, d], sinusoidalPositions(c.maxPositions, d)).ptr : 0;
  const positions = (stack: string) =>
    sinusoids || rt.tensor([c.maxPositions, d], w.floats(`${stack}.positions.weight`, [c.maxPositions, d])).ptr;
  const layout: TransformerLayout = {
    architecture: 'transformer',
    config: c,
    srcEmbed: rt.tensor([c.srcVocab, d], w.floats('encoder.embed.weight', [c.srcVocab, d])).ptr,
    tgtEmbed: rt.tensor([c.tgtVocab, d], tgtEmbedValues).ptr,
    srcPositions: positions('encoder'),
    tgtPositions: positions('decoder'),
    encoder,
    decoder,
    ...(c.norm === 'pre' ? { encoderNorm: norm('encoder.norm'), decoderNorm: norm('decoder.norm') } : {}),
    output: c.tieOutput
      ? packMatrixValues(rt, tgtEmbedValues, [c.tgtVocab, d], { transposed: true })
      : packMatrixValues(rt, w.floats('output.weight', [c.tgtVocab, d]), [c.tgtVocab, d], { transposed: true }),
  };
  return new Transformer(rt, layout);
}

/** One sentence to translate, as the pool carries it: source ids (ending with eos) and the search. */
export interface TranslateItem extends SearchRequest {
  source: number[];
  /** Sentences of a shard run in batches of at most this many source tokens (default 4096). */
  batchTokens?: number;
}

/** Hypotheses as one f32 array (outputs travel back from workers as buffers): [n, (length, logprob, score, …tokens) × n]. */
export function packHypotheses(hyps: readonly Hypothesis[]): Float32Array {
  const out = new Float32Array(1 + hyps.reduce((a, h) => a + 3 + h.tokens.length, 0));
  let i = 0;
  out[i++] = hyps.length;
  for (const h of hyps) {
    out.set([h.tokens.length, h.logprob, h.score, ...h.tokens], i);
    i += 3 + h.tokens.length;
  }
  return out;
}

export function unpackHypotheses(packed: Float32Array): Hypothesis[] {
  const hyps: Hypothesis[] = [];
  let i = 1;
  for (let n = 0; n < packed[0]!; n++) {
    const length = packed[i]!;
    hyps.push({ logprob: packed[i + 1]!, score: packed[i + 2]!, tokens: Array.from(packed.subarray(i + 3, i + 3 + length)) });
    i += 3 + length;
  }
  return hyps;
}

/** The Transformer as the pool runs it: a shard's sentences sorted by length and decoded in token-bounded batches. */
export class TransformerBatch implements BatchModel<TranslateItem> {
  readonly architecture = 'transformer';
  readonly model: Transformer;

  constructor(rt: Runtime, readonly layout: TransformerLayout) {
    this.model = new Transformer(rt, layout);
  }

  check(item: unknown, where: string): asserts item is TranslateItem {
    if (typeof item !== 'object' || item === null || !Array.isArray((item as TranslateItem).source)) {
      throw badInput(`${where}: expected { source: token ids, … }`);
    }
    const r = item as TranslateItem;
    this.model.checkTokens(r.source, this.model.config.srcVocab, `${where}: source`);
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
    if (r.batchTokens !== undefined && !(Number.isSafeInteger(r.batchTokens) && r.batchTokens >= 1)) {
      throw badInput(`${where}: batchTokens must be a whole number ≥ 1, got ${r.batchTokens}`);
    }
  }

  cost(item: TranslateItem): number {
    const n = item.source.length;
    return translationMacs(this.model.config, n, Math.ceil(n * 1.2)) * (item.beam ?? 1);
  }

  units(): number {
    return 1;
  }

  run(items: readonly TranslateItem[], step: (units?: number) => void): Float32Array[] {
    const out = new Array<Float32Array>(items.length);
    // Same search settings together, then by length so a batch wastes few steps on finished rows.
    const key = (r: TranslateItem) => `${r.beam ?? 1}/${r.nBest ?? 1}/${r.lengthPenalty ?? 1}/${r.maxLength ?? ''}`;
    const order = items.map((_, i) => i).sort((a, b) =>
      key(items[a]!).localeCompare(key(items[b]!)) || items[a]!.source.length - items[b]!.source.length || a - b);
    for (let start = 0; start < order.length;) {
      const first = items[order[start]!]!;
      const limit = first.batchTokens ?? 4096;
      let end = start + 1;
      let tokens = first.source.length;
      while (end < order.length && key(items[order[end]!]!) === key(first) && tokens + items[order[end]!]!.source.length <= limit) {
        tokens += items[order[end]!]!.source.length;
        end++;
      }
      const batch = order.slice(start, end);
      const hyps = this.model.search(batch.map((i) => items[i]!.source), first, () => step(0));
      batch.forEach((i, j) => { out[i] = packHypotheses(hyps[j]!); });
      step(batch.length);
      start = end;
    }
    return out;
  }
}

export const transformer: Architecture = {
  name: 'transformer',
  load(rt: Runtime, model: ModelDir): BatchModel {
    return new TransformerBatch(rt, loadTransformer(rt, model).layout);
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new TransformerBatch(rt, layout as TransformerLayout);
  },
};
