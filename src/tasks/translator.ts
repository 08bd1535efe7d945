/**
 * Text in, text out: a translation model directory run in this thread
 * (Engine) or across workers (Pool). Two kinds of directory: hibiki's own
 * Transformer with its SentencePiece tokenizers, and Hugging Face Marian
 * (opus-mt) directories as people download them, with transformers'
 * MarianTokenizer and generation settings. Tokenizing stays in the calling
 * thread; the workers see token ids.
 */
import { join } from 'node:path';
import { HibikiError, badInput } from '../errors.js';
import type { ItemFailure, Progress } from '../pool/job.js';
import type { Pool } from '../pool/pool.js';
import { SentencePiece } from '../text/sentencepiece.js';
import { type GenerationRequest, parseGenerationConfig } from '../decode/hf-config.js';
import { existsSync } from 'node:fs';
import { readJsonObject, readModelConfig } from '../io/model-dir.js';
import { type MarianConfig, parseMarianConfig } from '../models/marian.js';
import { type SearchRequest, type TransformerConfig, parseTransformerConfig, unpackHypotheses } from '../models/transformer.js';
import { MarianTokenizer } from '../text/marian-tokenizer.js';
import { DEFAULT_MODELS } from './defaults.js';
import { type OpenOptions, type Runner, closeRunner, kindOf, onlyResult, openRunner, poolOf } from './runner.js';

/**
 * How `translate` decodes (beam, nBest, lengthPenalty… of SearchRequest) and
 * batches; and the call's signal and progress.
 */
export interface TranslateOptions extends SearchRequest {
  /** Source tokens per batch a worker decodes together (default 4096). */
  maxBatchTokens?: number;
  /**
   * Cancels the call: it rejects with an `AbortError` (code E_ABORTED) whose
   * `cause` is the signal's reason.
   */
  signal?: AbortSignal;
  /** Called as lines finish, for progress bars. */
  onProgress?: (progress: Progress) => void;
}

/** One line translated: the best text and every hypothesis asked for. */
export interface Translation {
  /** The best hypothesis. */
  text: string;
  /** All hypotheses asked for (nBest), best first, with their scores (logprob / length^α). */
  hypotheses: { text: string; score: number; logprob: number }[];
}

/** What `translate` gives back for an array of lines. */
export interface TranslateResult {
  /** One per input line, in order; undefined where the line failed. */
  translations: Array<Translation | undefined>;
  /** The lines that failed, by index, each with its error. */
  failures: ItemFailure[];
}

/** How a model's text becomes token ids and back, and what its pool items carry. */
interface TranslationCodec {
  /** Source token ids for a line, ending with the end-of-sentence id. */
  encode(text: string): number[];
  /** The text of output token ids (special tokens dropped). */
  decode(ids: readonly number[]): string;
  /** A pool item: the source ids and the search asked for, in the model's own terms. */
  item(source: number[], search: SearchRequest, batchTokens: number | undefined): Record<string, unknown>;
}

/**
 * A translation model directory, open to translate lines: hibiki's own
 * Transformer with its SentencePiece tokenizers, or a Hugging Face Marian
 * (opus-mt) directory, whose decoding defaults are its generation_config.json
 * (`beam`, `nBest`, `lengthPenalty` and `maxLength` override them).
 *
 * @example
 * const translator = await Translator.open(); // models/translate-en-ja
 * const { text } = await translator.translate('The cat is small.');
 * await translator.close();
 */
export class Translator {
  private constructor(
    /** The model directory. */
    readonly dir: string,
    /** The model's config.json, parsed: a hibiki Transformer's, or a Marian one's. */
    readonly config: TransformerConfig | MarianConfig,
    /** The SentencePiece model of the source language. */
    readonly source: SentencePiece,
    /** The SentencePiece model of the target language. */
    readonly target: SentencePiece,
    private readonly codec: TranslationCodec,
    private readonly runner: Runner,
  ) {}

  /** Opens a model directory (the shipped translator by default); `workers` 0 runs in this thread, more starts a worker pool. */
  static async open(dir: string = DEFAULT_MODELS.translator, options: OpenOptions = {}): Promise<Translator> {
    const file = `${dir}/config.json`;
    const { config: json, runner } = await openRunner(dir, ['transformer', 'marian'], 'a translation model (transformer or marian)', options);
    try {
      if (json.architecture === 'marian') {
        const config = parseMarianConfig(file, json);
        const tokenizer = MarianTokenizer.load(dir);
        return new Translator(dir, config, tokenizer.source, tokenizer.target, marianCodec(tokenizer), runner);
      }
      const config = parseTransformerConfig(file, json);
      if (!config.sourceTokenizer || !config.targetTokenizer) {
        throw new HibikiError('E_MODEL_FORMAT', `${file}: "source_tokenizer" and "target_tokenizer" must name the SentencePiece models`);
      }
      const source = SentencePiece.load(join(dir, config.sourceTokenizer));
      const target = SentencePiece.load(join(dir, config.targetTokenizer));
      return new Translator(dir, config, source, target, transformerCodec(source, target, config.eosId), runner);
    } catch (e) {
      await closeRunner(runner);
      throw e;
    }
  }

  /** Source token ids for a line: its pieces, then the end of sentence. */
  encode(text: string): number[] {
    return this.codec.encode(text);
  }

  /** The text of target token ids. */
  decode(ids: readonly number[]): string {
    return this.codec.decode(ids);
  }

  /**
   * Translates one line, or an array of lines.
   *
   * One string in gives its {@link Translation}, and the promise rejects if
   * that line fails. An array in gives a {@link TranslateResult}: one
   * translation per line, in order, `undefined` where a line failed, with the
   * failures listed apart while the other lines complete. Blank lines
   * translate to blank lines without running the model.
   *
   * A value that is neither a string nor an array rejects with E_BAD_INPUT; a
   * cancelled call rejects with an `AbortError` (code E_ABORTED, `cause` the
   * signal's reason).
   *
   * @example
   * const { text } = await translator.translate('The cat is small.');
   * const { translations, failures } = await translator.translate(lines, { beam: 4 });
   */
  translate(text: string, options?: TranslateOptions): Promise<Translation>;
  /** Translates lines: one translation per line, in order, and the lines that failed. */
  translate(texts: readonly string[], options?: TranslateOptions): Promise<TranslateResult>;
  async translate(input: string | readonly string[], options: TranslateOptions = {}): Promise<Translation | TranslateResult> {
    if (typeof input === 'string') {
      const { translations, failures } = await this.translateLines([input], options);
      return onlyResult(translations, failures);
    }
    if (!Array.isArray(input)) throw badInput(`translate expects a string or an array of strings, got ${kindOf(input)}`);
    return this.translateLines(input, options);
  }

  private async translateLines(texts: readonly string[], options: TranslateOptions): Promise<TranslateResult> {
    const { signal, onProgress, maxBatchTokens, ...search } = options;
    const translations: Array<Translation | undefined> = texts.map(() => undefined);
    const failures: ItemFailure[] = [];
    const indices: number[] = [];
    const items: Array<Record<string, unknown>> = [];
    texts.forEach((text, i) => {
      if (typeof text !== 'string') {
        failures.push({ index: i, error: badInput(`line ${i + 1}: expected a string, got ${kindOf(text)}`) });
      } else if (text.trim() === '') {
        translations[i] = { text: '', hypotheses: [{ text: '', score: 0, logprob: 0 }] };
      } else {
        indices.push(i);
        items.push(this.codec.item(this.encode(text), search, maxBatchTokens));
      }
    });
    const result = await this.runner.run(items, { signal, onProgress });
    result.outputs.forEach((packed, k) => {
      if (!packed) return;
      const hypotheses = unpackHypotheses(packed).map((h) => ({ text: this.decode(h.tokens), score: h.score, logprob: h.logprob }));
      translations[indices[k]!] = { text: hypotheses[0]?.text ?? '', hypotheses };
    });
    for (const f of result.failures) {
      const line = indices[f.index]!;
      // The model numbered its items; the caller knows them as lines.
      failures.push({ index: line, error: new HibikiError(f.error.code, `line ${line + 1}: ${f.error.message.replace(/^item \d+: /, '')}`, { cause: f.error }) });
    }
    failures.sort((a, b) => a.index - b.index);
    return { translations, failures };
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

/** hibiki's Transformer: SentencePiece pieces then eos; its items carry the SearchRequest as is. */
function transformerCodec(source: SentencePiece, target: SentencePiece, eosId: number): TranslationCodec {
  return {
    encode: (text) => [...source.encode(text), eosId],
    decode: (ids) => target.decode(ids),
    item: (ids, search, batchTokens) => ({ source: ids, ...search, ...(batchTokens ? { batchTokens } : {}) }),
  };
}

/**
 * Marian: transformers' MarianTokenizer; a request's search settings become
 * generation overrides (beam → num_beams, nBest → num_return_sequences,
 * maxLength → max_new_tokens), and what it leaves out is the model's
 * generation_config.json.
 */
function marianCodec(tokenizer: MarianTokenizer): TranslationCodec {
  return {
    encode: (text) => tokenizer.encode(text),
    decode: (ids) => tokenizer.decode(ids),
    item: (ids, search, batchTokens) => {
      const request: GenerationRequest = {
        ...(search.beam !== undefined ? { numBeams: search.beam } : {}),
        ...(search.nBest !== undefined ? { numReturnSequences: search.nBest } : {}),
        ...(search.lengthPenalty !== undefined ? { lengthPenalty: search.lengthPenalty } : {}),
        ...(search.maxLength !== undefined ? { maxNewTokens: search.maxLength } : {}),
      };
      return { source: ids, ...request, ...(batchTokens ? { batchTokens } : {}) };
    },
  };
}

/**
 * The search a model directory decodes with when the caller does not say:
 * greedy, one hypothesis, α = 1 for hibiki's Transformer; a Marian
 * directory's generation_config.json (num_beams, num_return_sequences,
 * length_penalty), as transformers' generate() does. Reads config files only.
 */
export function defaultSearch(dir: string): { beam: number; nBest: number; lengthPenalty: number } {
  const config = readModelConfig(dir);
  if (config.architecture !== 'marian') return { beam: 1, nBest: 1, lengthPenalty: 1 };
  const path = join(dir, 'generation_config.json');
  const generation = existsSync(path) ? readJsonObject(path, 'the generation settings') : undefined;
  const g = parseGenerationConfig(generation ? path : join(dir, 'config.json'), generation, config);
  return { beam: g.numBeams, nBest: g.numReturnSequences, lengthPenalty: g.lengthPenalty };
}
