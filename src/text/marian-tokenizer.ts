/**
 * The tokenizer of a Hugging Face Marian (opus-mt) directory, as
 * transformers' MarianTokenizer encodes and decodes:
 *
 *   encode: text → split around the special tokens' text (</s>, <unk>, <pad>
 *   and any added special token stay whole) → each chunk: a leading language
 *   code (">>fra<<") kept whole, the rest → source.spm pieces → ids through
 *   vocab.json (a piece it lacks → the <unk> id) → then </s>.
 *
 *   decode: ids → pieces through the target vocabulary (target_vocab.json
 *   when tokenizer_config.json says the vocabularies are separate, else
 *   vocab.json) → special tokens dropped → target.spm's detokenisation,
 *   ▁ → space, trimmed.
 *
 * SentencePiece ids are not Marian ids: the spm files only segment and
 * detokenise, vocab.json numbers the pieces. Moses punctuation normalisation,
 * which transformers applies only when sacremoses is installed, is not
 * applied (the reference fixtures were made without it).
 */
import { join } from 'node:path';
import { HibikiError, badInput, modelFormat } from '../errors.js';
import { readJsonObject } from '../io/model-dir.js';
import { SentencePiece } from './sentencepiece.js';

/** The files of a Marian directory the tokenizer reads. */
export const MARIAN_TOKENIZER_FILES = {
  sourceSpm: 'source.spm',
  targetSpm: 'target.spm',
  vocab: 'vocab.json',
  targetVocab: 'target_vocab.json',
  config: 'tokenizer_config.json',
} as const;

const SPACE_SYMBOL = '\u2581';

/** vocab.json: piece → id, every id a distinct whole number. */
function readVocab(path: string): Map<string, number> {
  const json = readJsonObject(path, 'the Marian vocabulary');
  const vocab = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [piece, id] of Object.entries(json)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw modelFormat(path, `${JSON.stringify(piece)} has id ${JSON.stringify(id)}, expected a whole number ≥ 0`);
    const other = seen.get(id as number);
    if (other !== undefined) throw modelFormat(path, `${JSON.stringify(piece)} and ${JSON.stringify(other)} both have id ${id}`);
    seen.set(id as number, piece);
    vocab.set(piece, id as number);
  }
  return vocab;
}

/** What a MarianTokenizer is made of. */
export interface MarianTokenizerOptions {
  /** Piece → id for the source side (vocab.json). */
  vocab: Map<string, number>;
  /** Piece → id for the target side; the source's when the vocabularies are shared. */
  targetVocab?: Map<string, number>;
  source: SentencePiece;
  target: SentencePiece;
  unkToken?: string;
  eosToken?: string;
  padToken?: string;
  /** Further special tokens (tokenizer_config.json's additional and added special tokens). */
  specialTokens?: readonly string[];
}

/** transformers' MarianTokenizer: source text to encoder ids, output ids to target text. */
export class MarianTokenizer {
  /** The <unk> id: what a piece vocab.json lacks becomes. */
  readonly unkId: number;
  /** The </s> id, appended to every encoded text. */
  readonly eosId: number;
  /** -1 when the vocabulary has no pad token. */
  readonly padId: number;
  private readonly vocab: Map<string, number>;
  private readonly targetPieces: Map<number, string>;
  /** source.spm: segments source text. */
  readonly source: SentencePiece;
  /** target.spm: detokenises output pieces. */
  readonly target: SentencePiece;
  /** Every special token's text: kept whole when encoding, dropped when decoding. */
  private readonly special: ReadonlySet<string>;
  /** The special tokens longest first, for leftmost-longest splitting. */
  private readonly splitOrder: readonly string[];
  /** The first characters of the special tokens: splitSpecial tries them only where one stands. */
  private readonly specialStarts: ReadonlySet<string>;

  /** Reads a Marian directory's tokenizer files; a missing file is E_IO naming it. */
  static load(dir: string): MarianTokenizer {
    const f = MARIAN_TOKENIZER_FILES;
    const configPath = join(dir, f.config);
    let config: Record<string, unknown> = {};
    try {
      config = readJsonObject(configPath, 'the tokenizer settings');
    } catch (e) {
      // tokenizer_config.json is optional: transformers' defaults apply without it.
      if (!(e instanceof HibikiError && e.code === 'E_IO')) throw e;
    }
    const token = (key: string, fallback: string): string => {
      const v = config[key] ?? fallback;
      const text = typeof v === 'object' && v !== null ? (v as { content?: unknown }).content : v;
      if (typeof text !== 'string' || text === '') throw modelFormat(configPath, `"${key}" must be a token string, got ${JSON.stringify(v)}`);
      return text;
    };
    const separate = config.separate_vocabs ?? false;
    if (typeof separate !== 'boolean') throw modelFormat(configPath, `"separate_vocabs" must be true or false, got ${JSON.stringify(separate)}`);
    const specialTokens: string[] = [];
    const additional = config.additional_special_tokens ?? [];
    if (!Array.isArray(additional)) throw modelFormat(configPath, '"additional_special_tokens" must be a list');
    for (const t of additional) specialTokens.push(typeof t === 'string' ? t : String((t as { content?: unknown })?.content));
    const added = config.added_tokens_decoder ?? {};
    if (typeof added !== 'object' || added === null) throw modelFormat(configPath, '"added_tokens_decoder" must be an object');
    for (const t of Object.values(added as Record<string, { content?: unknown; special?: unknown }>)) {
      if (t?.special === true && typeof t.content === 'string') specialTokens.push(t.content);
    }
    const vocab = readVocab(join(dir, f.vocab));
    return new MarianTokenizer({
      vocab,
      targetVocab: separate ? readVocab(join(dir, f.targetVocab)) : undefined,
      source: SentencePiece.load(join(dir, f.sourceSpm)),
      target: SentencePiece.load(join(dir, f.targetSpm)),
      unkToken: token('unk_token', '<unk>'),
      eosToken: token('eos_token', '</s>'),
      padToken: token('pad_token', '<pad>'),
      specialTokens,
    });
  }

  /** A tokenizer over vocabularies and SentencePiece models already read (MarianTokenizer.load reads a directory's). */
  constructor(options: MarianTokenizerOptions) {
    const { vocab, source, target } = options;
    const unk = options.unkToken ?? '<unk>';
    const eos = options.eosToken ?? '</s>';
    const pad = options.padToken ?? '<pad>';
    const unkId = vocab.get(unk);
    const eosId = vocab.get(eos);
    if (unkId === undefined) throw badInput(`MarianTokenizer: the unknown token ${JSON.stringify(unk)} is not in the vocabulary`);
    if (eosId === undefined) throw badInput(`MarianTokenizer: the end-of-sentence token ${JSON.stringify(eos)} is not in the vocabulary`);
    this.unkId = unkId;
    this.eosId = eosId;
    this.padId = vocab.get(pad) ?? -1;
    this.vocab = vocab;
    this.targetPieces = new Map([...(options.targetVocab ?? vocab)].map(([piece, id]) => [id, piece]));
    this.source = source;
    this.target = target;
    this.special = new Set([unk, eos, pad, ...(options.specialTokens ?? [])]);
    this.splitOrder = [...this.special].sort((a, b) => b.length - a.length);
    this.specialStarts = new Set(this.splitOrder.map((t) => t[0]!));
  }

  /** The source ids of `text`, ending with </s>: the encoder's input. */
  encode(text: string): number[] {
    return [...this.tokenize(text).map((piece) => this.vocab.get(piece) ?? this.unkId), this.eosId];
  }

  /** The source pieces of `text` (special tokens and a language code as they are), without the final </s>. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw badInput(`MarianTokenizer: expected a string, got ${text === null ? 'null' : typeof text}`);
    return this.splitSpecial(text).flatMap(([chunk, special]) => (special ? [chunk] : this.tokenizeChunk(chunk)));
  }

  /** A language code such as ">>fra<<" at the start stays one piece; the rest goes through source.spm. */
  private tokenizeChunk(text: string): string[] {
    const end = text.startsWith('>>') ? text.indexOf('<<') : -1;
    if (end < 0) return this.source.encodeAsPieces(text);
    return [text.slice(0, end + 2), ...this.source.encodeAsPieces(text.slice(end + 2))];
  }

  /** The text split around special tokens' text, leftmost-longest; empty chunks dropped. */
  private splitSpecial(text: string): [chunk: string, special: boolean][] {
    const out: [string, boolean][] = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      const hit = this.specialStarts.has(text[i]!) ? this.splitOrder.find((t) => text.startsWith(t, i)) : undefined;
      if (!hit) {
        i++;
        continue;
      }
      if (i > start) out.push([text.slice(start, i), false]);
      out.push([hit, true]);
      i += hit.length;
      start = i;
    }
    if (start < text.length) out.push([text.slice(start), false]);
    return out;
  }

  /** The target pieces of `ids` (output ids → target vocabulary), special tokens included. */
  pieces(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const piece = this.targetPieces.get(id);
      if (piece === undefined) throw badInput(`MarianTokenizer: id ${id} is not in the target vocabulary`);
      return piece;
    });
  }

  /** The text of output ids: special tokens (pad, eos, unk…) skipped, then target.spm's detokenisation. */
  decode(ids: readonly number[]): string {
    const kept = this.pieces(ids).filter((piece) => !this.special.has(piece));
    return this.target.decodePieces(kept).replaceAll(SPACE_SYMBOL, ' ').trim();
  }

  /** Whether `id` is a special token of the target side (skipped by decode). */
  isSpecial(id: number): boolean {
    const piece = this.targetPieces.get(id);
    return piece !== undefined && this.special.has(piece);
  }
}
