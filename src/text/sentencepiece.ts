/**
 * SentencePiece tokenization, as the `sentencepiece` library (0.1.97, the
 * oracle of test/text/sentencepiece.test.ts) encodes and decodes: the format
 * Marian/opus-mt, T5 and NLLB ship their vocabularies in.
 *
 *   text → UTF-8 → normalize (normalizer.ts) → model (segment.ts: unigram,
 *   BPE, char or word) → unknown runs merged, or split into <0xNN> byte
 *   pieces with byte fallback → ids
 *
 * All of it runs on UTF-8 bytes, as the library does, so byte lengths (the
 * user-defined bonus, unknown runs, byte fallback) agree. A JavaScript string
 * is encoded with TextEncoder, which writes each lone surrogate as U+FFFD
 * (the library cannot be given one); bytes may also be passed directly, and
 * malformed UTF-8 in them becomes one U+FFFD per bad byte, as in the library.
 */
import { readFileSync } from 'node:fs';
import { HibikiError, badInput, modelFormat } from '../errors.js';
import { ByteBuffer, Normalizer, REPLACEMENT_CHAR, SPACE_SYMBOL, validCharLen } from './normalizer.js';
import { type ModelProto, ModelType, PieceType, parseModelProto } from './sentencepiece-model.js';
import { type Segment, type Vocab, encodeBpe, encodeChar, encodeUnigram, encodeWord, scoreRange } from './segment.js';
import { ByteTrie } from './trie.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // U+FEFF is text here, not a byte order mark

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** The segmentation algorithms of SentencePiece's model types. */
export type SentencePieceModelType = 'unigram' | 'bpe' | 'word' | 'char';
const MODEL_TYPE_NAMES: Record<ModelType, SentencePieceModelType> = {
  [ModelType.UNIGRAM]: 'unigram', [ModelType.BPE]: 'bpe', [ModelType.WORD]: 'word', [ModelType.CHAR]: 'char',
};

/**
 * A SentencePiece tokenizer loaded from a `.model` file (SentencePiece.load):
 * the pieces and ids the `sentencepiece` library gives, for unigram, BPE,
 * word and char models.
 */
export class SentencePiece {
  /** The model's segmentation algorithm. */
  readonly modelType: SentencePieceModelType;
  /** Ids of the special pieces, -1 when the model has none (as the library's unk_id() … pad_id()). */
  readonly unkId: number;
  /** The beginning-of-sentence id, or -1. */
  readonly bosId: number;
  /** The end-of-sentence id, or -1. */
  readonly eosId: number;
  /** The padding id, or -1. */
  readonly padId: number;

  private readonly pieces: string[];
  private readonly vocab: Vocab;
  private readonly normalIds = new Map<string, number>();
  private readonly reservedIds = new Map<string, number>(); // CONTROL, UNKNOWN and BYTE pieces
  private readonly reserved = new ByteTrie();
  private readonly byteIds: Int32Array | undefined; // byte → id of <0xNN>, with byte fallback
  private readonly normalizer: Normalizer;
  private readonly denormalizer: Normalizer | undefined;
  private readonly segment: (text: Uint8Array) => Segment[];
  private readonly unkSurface: Uint8Array;
  private readonly pieceTexts: Array<{ bytes: Uint8Array; leadingSpace: boolean } | undefined> = [];
  private readonly stripLeadingSpace: boolean;

  /** Reads a `.model` file. */
  static load(file: string): SentencePiece {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new HibikiError('E_IO', `${file}: cannot read the SentencePiece model (${(e as Error).message})`, { cause: e });
    }
    return new SentencePiece(bytes, file);
  }

  /** A model from the bytes of a `.model` file; `name` names it in errors. */
  constructor(bytes: Uint8Array, name = 'SentencePiece model') {
    const proto = parseModelProto(bytes, name);
    const { pieces, trainerSpec } = proto;
    this.modelType = MODEL_TYPE_NAMES[trainerSpec.modelType];
    this.pieces = pieces.map((p) => p.piece);

    // ModelInterface::InitializePieces: the same checks, the same two maps.
    const types = new Uint8Array(pieces.length);
    const scores = new Float32Array(pieces.length);
    const normal = new ByteTrie();
    const userDefined = new ByteTrie();
    let unkId = -1;
    const byteIds = trainerSpec.byteFallback ? new Int32Array(256).fill(-1) : undefined;
    pieces.forEach((p, id) => {
      types[id] = p.type;
      scores[id] = p.score;
      const isNormal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      const ids = isNormal ? this.normalIds : this.reservedIds;
      if (ids.has(p.piece)) throw modelFormat(name, `piece ${JSON.stringify(p.piece)} is defined twice (ids ${ids.get(p.piece)} and ${id})`);
      ids.set(p.piece, id);
      (isNormal ? normal : this.reserved).insert(p.bytes, id);
      if (p.type === PieceType.USER_DEFINED) userDefined.insert(p.bytes, id);
      if (p.type === PieceType.UNKNOWN) {
        if (unkId >= 0) throw modelFormat(name, `two unknown pieces (ids ${unkId} and ${id})`);
        unkId = id;
      }
      if (p.type === PieceType.BYTE) {
        const m = BYTE_PIECE.exec(p.piece);
        if (!byteIds) throw modelFormat(name, `byte piece ${p.piece} (id ${id}) although byte_fallback is false`);
        if (!m) throw modelFormat(name, `byte piece ${JSON.stringify(p.piece)} (id ${id}) is not <0xNN>`);
        byteIds[parseInt(m[1]!, 16)] = id;
      }
    });
    if (unkId < 0) throw modelFormat(name, 'the model has no unknown piece (type UNKNOWN)');
    if (byteIds && byteIds.includes(-1)) throw modelFormat(name, 'byte_fallback is set but the model does not have all 256 <0xNN> byte pieces');
    if (trainerSpec.modelType === ModelType.UNIGRAM && normal.size === 0) throw modelFormat(name, 'the unigram model has no normal pieces');
    this.byteIds = byteIds;

    this.vocab = {
      types, scores, normal, unkId,
      userDefined: userDefined.size > 0 ? userDefined : undefined,
      pieceToId: (text, b, e) => {
        const reserved = this.reserved.get(text, b, e);
        if (reserved >= 0) return reserved;
        const id = normal.get(text, b, e);
        return id >= 0 ? id : unkId;
      },
      treatWhitespaceAsSuffix: trainerSpec.treatWhitespaceAsSuffix,
      allowWhitespaceOnlyPieces: trainerSpec.allowWhitespaceOnlyPieces,
    };
    this.segment = this.segmenter(trainerSpec.modelType);

    this.normalizer = new Normalizer(proto.normalizerSpec, trainerSpec.treatWhitespaceAsSuffix, this.vocab.userDefined, name);
    this.denormalizer = denormalizerOf(proto, name);
    this.unkSurface = encoder.encode(trainerSpec.unkSurface);
    const { addDummyPrefix, removeExtraWhitespaces } = proto.normalizerSpec;
    this.stripLeadingSpace = addDummyPrefix || removeExtraWhitespaces;

    const special = (piece: string, type: PieceType) => {
      const id = this.pieceToId(piece);
      return types[id] === type ? id : -1;
    };
    this.unkId = special(trainerSpec.unkPiece, PieceType.UNKNOWN);
    this.bosId = special(trainerSpec.bosPiece, PieceType.CONTROL);
    this.eosId = special(trainerSpec.eosPiece, PieceType.CONTROL);
    this.padId = special(trainerSpec.padPiece, PieceType.CONTROL);
  }

  private segmenter(type: ModelType): (text: Uint8Array) => Segment[] {
    const vocab = this.vocab;
    switch (type) {
      case ModelType.UNIGRAM: {
        const { minScore, maxScore } = scoreRange(vocab);
        return (text) => encodeUnigram(vocab, text, minScore, maxScore);
      }
      case ModelType.BPE: return (text) => encodeBpe(vocab, text);
      case ModelType.CHAR: return (text) => encodeChar(vocab, text);
      case ModelType.WORD: return (text) => encodeWord(vocab, text);
    }
  }

  /** Number of pieces; ids are 0 … vocabSize − 1. */
  get vocabSize(): number {
    return this.pieces.length;
  }

  /** The piece of an id (E_BAD_INPUT outside 0 … vocabSize − 1). */
  idToPiece(id: number): string {
    this.checkId(id, 'idToPiece');
    return this.pieces[id]!;
  }

  /** The id of a piece; the unknown id for text that is not a piece. */
  pieceToId(piece: string): number {
    return this.reservedIds.get(piece) ?? this.normalIds.get(piece) ?? this.vocab.unkId;
  }

  /** Whether an id is a control piece (bos, eos, pad…), which decodes to nothing. */
  isControl(id: number): boolean {
    return this.vocab.types[id] === PieceType.CONTROL;
  }

  /** Whether an id is the unknown piece. */
  isUnknown(id: number): boolean {
    return this.vocab.types[id] === PieceType.UNKNOWN;
  }

  /** Whether an id is a byte-fallback piece (`<0x41>`). */
  isByte(id: number): boolean {
    return this.vocab.types[id] === PieceType.BYTE;
  }

  /** Whether an id is a piece the model marks unused, which encoding never gives. */
  isUnused(id: number): boolean {
    return this.vocab.types[id] === PieceType.UNUSED;
  }

  /** The ids of `text` (a string, or UTF-8 bytes). */
  encode(text: string | Uint8Array): number[] {
    return this.encodeSpans(text).spans.map(([, , id]) => id);
  }

  /** The pieces of `text`: unknown runs appear as their normalized text, byte fallback as <0xNN>. */
  encodeAsPieces(text: string | Uint8Array): string[] {
    const { normalized, spans } = this.encodeSpans(text);
    // A span the model matched (a byte piece too) is its piece's text; only unknown runs are decoded from the normalized bytes.
    return spans.map(([begin, end, id]) => (this.isUnknown(id) ? decoder.decode(normalized.subarray(begin, end)) : this.pieces[id]!));
  }

  /** SentencePieceProcessor::Encode and PopulateSentencePieceText, as spans of the normalized text. */
  private encodeSpans(text: string | Uint8Array): { normalized: Uint8Array; spans: Segment[] } {
    const normalized = this.normalizer.normalize(typeof text === 'string' ? encoder.encode(text) : text);
    const spans: Segment[] = [];
    let prevUnknown = false;
    for (const segment of this.segment(normalized)) {
      const [begin, end, id] = segment;
      const unknown = this.isUnknown(id);
      if (unknown && this.byteIds) {
        for (let i = begin; i < end; i++) spans.push([i, i + 1, this.byteIds[normalized[i]!]!]);
      } else if (unknown && prevUnknown) {
        // A run of unknown characters is one unknown piece, so a decoder can copy it whole.
        spans[spans.length - 1]![1] = end;
      } else {
        spans.push(segment);
      }
      prevUnknown = unknown;
    }
    return { normalized, spans };
  }

  /** The text of `ids`; throws E_BAD_INPUT for an id outside the vocabulary, as the library does. */
  decode(ids: readonly number[]): string {
    return this.decodePieces(ids.map((id) => {
      this.checkId(id, 'decode');
      return this.pieces[id]!;
    }));
  }

  /**
   * SentencePieceProcessor::Decode: control pieces vanish, ▁ becomes a space
   * and the leading one goes, runs of byte pieces are reassembled into UTF-8
   * (each byte that is not part of a character becomes U+FFFD), the unknown
   * piece prints as the model's unk_surface (" ⁇ "), and text that is not a
   * piece is kept as it is.
   */
  decodePieces(pieces: readonly string[]): string {
    const text = new ByteBuffer();
    let byteRun: number[] = [];
    const flushBytes = () => {
      const bytes = Uint8Array.from(byteRun);
      for (let pos = 0; pos < bytes.length; ) {
        const length = validCharLen(bytes, pos, bytes.length);
        text.push(length === 0 ? REPLACEMENT_CHAR : bytes.subarray(pos, pos + length));
        pos += Math.max(length, 1);
      }
      byteRun = [];
    };
    for (const piece of pieces) {
      const id = this.pieceToId(piece);
      if (this.isByte(id)) {
        byteRun.push(parseInt(BYTE_PIECE.exec(piece)![1]!, 16));
        continue;
      }
      flushBytes();
      if (this.isControl(id)) continue;
      if (this.isUnknown(id)) {
        text.push(piece === this.pieces[id] ? this.unkSurface : encoder.encode(piece));
        continue;
      }
      const { bytes, leadingSpace } = this.pieceText(id);
      text.push(text.length === 0 && this.stripLeadingSpace && leadingSpace ? bytes.subarray(1) : bytes);
    }
    flushBytes();
    const out = text.bytes();
    return decoder.decode(this.denormalizer ? this.denormalizer.normalize(out) : out);
  }

  /** A normal piece's UTF-8 with ▁ as spaces, and whether it began with ▁; made once per piece (decoding runs per sentence). */
  private pieceText(id: number): { bytes: Uint8Array; leadingSpace: boolean } {
    let found = this.pieceTexts[id];
    if (!found) {
      const bytes = encoder.encode(this.pieces[id]!);
      found = this.pieceTexts[id] = { bytes: replaceSpaceSymbols(bytes), leadingSpace: startsWith(bytes, SPACE_SYMBOL) };
    }
    return found;
  }

  private checkId(id: number, what: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) {
      throw badInput(`${what}: id ${id} is outside the vocabulary [0, ${this.pieces.length})`);
    }
  }
}

function denormalizerOf(proto: ModelProto, name: string): Normalizer | undefined {
  const spec = proto.denormalizerSpec;
  if (!spec || spec.precompiledCharsmap.length === 0) return undefined;
  return new Normalizer(spec, false, undefined, name, 'denormalizer_spec');
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** ▁ → space. */
function replaceSpaceSymbols(bytes: Uint8Array): Uint8Array {
  const out = new ByteBuffer();
  let run = 0;
  for (let i = 0; i + SPACE_SYMBOL.length <= bytes.length; i++) {
    if (!startsWith(bytes.subarray(i), SPACE_SYMBOL)) continue;
    out.push(bytes.subarray(run, i));
    out.push(new Uint8Array([0x20]));
    i += SPACE_SYMBOL.length - 1;
    run = i + 1;
  }
  out.push(bytes.subarray(run));
  return out.bytes();
}
