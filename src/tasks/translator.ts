/**
 * Text in, text out: a translation model directory run in this thread
 * (Engine) or across workers (Pool). Two kinds of directory: hibiki's own
 * Transformer with its SentencePiece tokenizers, and Hugging Face Marian
 * (opus-mt) directories as people download them, with transformers'
 * MarianTokenizer and generation settings. On a pool the workers tokenize
 * (the lines go to them as text, the translations come back as text); in
 * this thread the Translator's own tokenizers do.
 */
import { join } from 'node:path';
import { HibikiError, badInput } from '../errors.js';
import type { ItemFailure, Progress } from '../pool/job.js';
import type { Pool } from '../pool/pool.js';
import type { SentencePiece } from '../text/sentencepiece.js';
import { type GenerationRequest, parseGenerationConfig } from '../decode/hf-config.js';
import { existsSync } from 'node:fs';
import { readJsonObject, readModelConfig } from '../io/model-dir.js';
import { type MarianConfig, parseMarianConfig } from '../models/marian.js';
import {
  type SearchRequest, type TransformerConfig, type TranslationCodec, openTranslationCodec, parseTransformerConfig, unpackHypotheses,
} from '../models/transformer.js';
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

/** The search asked for, in a model's own terms: what its items carry besides the line. */
type SearchSettings = (search: SearchRequest) => object;

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
    private readonly settings: SearchSettings,
    private readonly runner: Runner,
  ) {}

  /** Opens a model directory (the shipped translator by default); `workers` 0 runs in this thread, more starts a worker pool. */
  static async open(dir: string = DEFAULT_MODELS.translator, options: OpenOptions = {}): Promise<Translator> {
    const file = `${dir}/config.json`;
    const { config: json, runner } = await openRunner(dir, ['transformer', 'marian'], 'a translation model (transformer or marian)', options);
    try {
      const marian = json.architecture === 'marian';
      const config = marian ? parseMarianConfig(file, json) : parseTransformerConfig(file, json);
      const codec = openTranslationCodec(dir, json);
      return new Translator(dir, config, codec.source, codec.target, codec, marian ? marianSettings : (search) => ({ ...search }), runner);
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
    const settings = { ...this.settings(search), ...(maxBatchTokens ? { batchTokens: maxBatchTokens } : {}) };
    // A pool's workers tokenize the lines they translate; in this thread the model takes token ids.
    const onPool = this.pool !== undefined;
    texts.forEach((text, i) => {
      if (typeof text !== 'string') {
        failures.push({ index: i, error: badInput(`line ${i + 1}: expected a string, got ${kindOf(text)}`) });
      } else if (text.trim() === '') {
        translations[i] = { text: '', hypotheses: [{ text: '', score: 0, logprob: 0 }] };
      } else {
        indices.push(i);
        items.push(onPool ? { text, ...settings } : { source: this.encode(text), ...settings });
      }
    });
    const result = await this.runner.run(items, { signal, onProgress });
    result.outputs.forEach((packed, k) => {
      if (!packed) return;
      const hypotheses = unpackHypotheses(packed).map((h) => ({ text: h.text ?? this.decode(h.tokens), score: h.score, logprob: h.logprob }));
      translations[indices[k]!] = { text: hypotheses[0]?.text ?? '', hypotheses };
    });
    for (const f of result.failures) {
      const line = indices[f.index]!;
      // The model numbered its items (or, tokenizing in a worker, called it "line"); the caller knows them as lines.
      failures.push({ index: line, error: new HibikiError(f.error.code, `line ${line + 1}: ${f.error.message.replace(/^(item \d+|line): /, '')}`, { cause: f.error }) });
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

/**
 * Marian: a request's search settings become transformers' generation
 * overrides (beam → num_beams, nBest → num_return_sequences, maxLength →
 * max_new_tokens); what it leaves out is the model's generation_config.json.
 */
function marianSettings(search: SearchRequest): GenerationRequest {
  return {
    ...(search.beam !== undefined ? { numBeams: search.beam } : {}),
    ...(search.nBest !== undefined ? { numReturnSequences: search.nBest } : {}),
    ...(search.lengthPenalty !== undefined ? { lengthPenalty: search.lengthPenalty } : {}),
    ...(search.maxLength !== undefined ? { maxNewTokens: search.maxLength } : {}),
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
