/**
 * How a translation model directory's text becomes token ids and back: hibiki's
 * Transformer with the SentencePiece models its config.json names, or a Hugging
 * Face Marian directory with transformers' MarianTokenizer. The Translator opens
 * one in the calling thread (its encode/decode), and every pool worker opens its
 * own to tokenize the lines it translates, so tokenizing spreads over the cores.
 */
import { join } from 'node:path';
import { HibikiError } from '../errors.js';
import { MarianTokenizer } from '../text/marian-tokenizer.js';
import { SentencePiece } from '../text/sentencepiece.js';
import { parseMarianConfig } from './marian.js';
import { parseTransformerConfig } from './transformer.js';

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
    parseMarianConfig(file, config);
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
    throw new HibikiError('E_MODEL_FORMAT', `${file}: "source_tokenizer" and "target_tokenizer" must name the SentencePiece models`);
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
