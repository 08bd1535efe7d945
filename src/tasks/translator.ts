/**
 * Text in, text out: a Transformer model directory with its SentencePiece
 * tokenizers, run in this thread (Engine) or across workers (Pool).
 * Tokenizing stays in the calling thread; the workers see token ids.
 */
import { join } from 'node:path';
import { HibikiError, badInput } from '../errors.js';
import type { ItemFailure, Progress } from '../pool/job.js';
import type { Pool } from '../pool/pool.js';
import { SentencePiece } from '../text/sentencepiece.js';
import { type SearchRequest, type TransformerConfig, type TranslateItem, parseTransformerConfig, unpackHypotheses } from '../models/transformer.js';
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

/**
 * A translation model directory (a Transformer with its SentencePiece
 * tokenizers), open to translate lines.
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
    /** The model's config.json, parsed. */
    readonly config: TransformerConfig,
    /** The tokenizer of the source language. */
    readonly source: SentencePiece,
    /** The tokenizer of the target language. */
    readonly target: SentencePiece,
    private readonly runner: Runner,
  ) {}

  /** Opens a model directory (the shipped translator by default); `workers` 0 runs in this thread, more starts a worker pool. */
  static async open(dir: string = DEFAULT_MODELS.translator, options: OpenOptions = {}): Promise<Translator> {
    const file = `${dir}/config.json`;
    const { config: json, runner } = await openRunner(dir, ['transformer'], 'a transformer', options);
    const config = parseTransformerConfig(file, json);
    if (!config.sourceTokenizer || !config.targetTokenizer) {
      throw new HibikiError('E_MODEL_FORMAT', `${file}: "source_tokenizer" and "target_tokenizer" must name the SentencePiece models`);
    }
    const source = SentencePiece.load(join(dir, config.sourceTokenizer));
    const target = SentencePiece.load(join(dir, config.targetTokenizer));
    return new Translator(dir, config, source, target, runner);
  }

  /** Source token ids for a line: its pieces, then eos. */
  encode(text: string): number[] {
    return [...this.source.encode(text), this.config.eosId];
  }

  /** The text of target token ids. */
  decode(ids: readonly number[]): string {
    return this.target.decode(ids);
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
    const items: TranslateItem[] = [];
    texts.forEach((text, i) => {
      if (typeof text !== 'string') {
        failures.push({ index: i, error: badInput(`line ${i + 1}: expected a string, got ${kindOf(text)}`) });
      } else if (text.trim() === '') {
        translations[i] = { text: '', hypotheses: [{ text: '', score: 0, logprob: 0 }] };
      } else {
        indices.push(i);
        items.push({ source: this.encode(text), ...search, ...(maxBatchTokens ? { batchTokens: maxBatchTokens } : {}) });
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
