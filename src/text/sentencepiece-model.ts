/**
 * The SentencePiece `.model` file: a serialized `sentencepiece.ModelProto`
 * (proto2), as sentencepiece 0.1.97's `sentencepiece_model.proto` defines it.
 * Only the fields that change encoding or decoding are kept; the rest (the
 * training corpus settings, self-test data) are skipped.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { HibikiError, modelFormat } from '../errors.js';

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** `TrainerSpec.ModelType`. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;
export type ModelType = (typeof ModelType)[keyof typeof ModelType];

export interface Piece {
  piece: string;
  bytes: Uint8Array; // the piece in UTF-8, as the file stores it
  score: number; // a float32 value
  type: PieceType;
}

export interface TrainerSpec {
  modelType: ModelType;
  treatWhitespaceAsSuffix: boolean;
  allowWhitespaceOnlyPieces: boolean;
  byteFallback: boolean;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  unkSurface: string;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array; // empty: no rule, text is copied as is
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface ModelProto {
  pieces: Piece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  denormalizerSpec: NormalizerSpec | undefined;
}

// Field numbers of sentencepiece_model.proto.
const MODEL = { pieces: 1, trainerSpec: 2, normalizerSpec: 3, denormalizerSpec: 5 } as const;
const PIECE = { piece: 1, score: 2, type: 3 } as const;
const TRAINER = {
  modelType: 3, treatWhitespaceAsSuffix: 24, allowWhitespaceOnlyPieces: 26, byteFallback: 35,
  unkSurface: 44, unkPiece: 45, bosPiece: 46, eosPiece: 47, padPiece: 48,
} as const;
const NORMALIZER = { name: 1, precompiledCharsmap: 2, addDummyPrefix: 3, removeExtraWhitespaces: 4, escapeWhitespaces: 5 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads one message: `onField` is called for every field with the reader
 * positioned at its value and returns true when it consumed the value;
 * anything else is skipped by wire type, as protobuf parsers do.
 */
function readMessage(
  file: string, what: string, bytes: Uint8Array,
  onField: (field: number, wire: WireType, r: BinaryReader) => boolean,
): void {
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) {
      const [field, wire] = r.tag();
      if (!onField(field, wire, r)) r.skip(wire, field);
    }
  } catch (e) {
    if (e instanceof HibikiError) throw e;
    throw modelFormat(file, `not a SentencePiece model: ${what} is not a valid protobuf message (${(e as Error).message} at byte ${r.pos})`);
  }
}

/** A typed field reader: checks the wire type before reading, so a wrong type names the field. */
function field(file: string, where: string, wire: WireType, want: WireType): void {
  if (wire !== want) {
    throw modelFormat(file, `${where} has wire type ${wire}, expected ${want} (not a SentencePiece model?)`);
  }
}

function text(file: string, where: string, r: BinaryReader): string {
  try {
    return utf8.decode(r.bytes());
  } catch {
    throw modelFormat(file, `${where} is not valid UTF-8`);
  }
}

function readPiece(file: string, index: number, bytes: Uint8Array): Piece {
  const where = `pieces[${index}]`;
  let piece: Uint8Array | undefined;
  let score = 0;
  let type: number = PieceType.NORMAL;
  readMessage(file, where, bytes, (f, wire, r) => {
    switch (f) {
      case PIECE.piece: field(file, `${where}.piece`, wire, WireType.LengthDelimited); piece = r.bytes(); return true;
      case PIECE.score: field(file, `${where}.score`, wire, WireType.Bit32); score = r.float(); return true;
      case PIECE.type: field(file, `${where}.type`, wire, WireType.Varint); type = r.int32(); return true;
      default: return false;
    }
  });
  if (piece === undefined || piece.length === 0) throw modelFormat(file, `${where} has no piece text (a piece must not be empty)`);
  if (piece.includes(0)) throw modelFormat(file, `${where} contains a NUL byte`);
  if (type < PieceType.NORMAL || type > PieceType.BYTE) throw modelFormat(file, `${where} has unknown type ${type}`);
  let str: string;
  try {
    str = utf8.decode(piece);
  } catch {
    throw modelFormat(file, `${where} is not valid UTF-8`);
  }
  return { piece: str, bytes: piece, score, type: type as PieceType };
}

function readTrainerSpec(file: string, bytes: Uint8Array): TrainerSpec {
  const spec: TrainerSpec = {
    modelType: ModelType.UNIGRAM, treatWhitespaceAsSuffix: false, allowWhitespaceOnlyPieces: false, byteFallback: false,
    unkPiece: '<unk>', bosPiece: '<s>', eosPiece: '</s>', padPiece: '<pad>', unkSurface: ' \u2047 ',
  };
  const bool = (name: string, wire: WireType, r: BinaryReader) => {
    field(file, `trainer_spec.${name}`, wire, WireType.Varint);
    return r.bool();
  };
  const str = (name: string, wire: WireType, r: BinaryReader) => {
    field(file, `trainer_spec.${name}`, wire, WireType.LengthDelimited);
    return text(file, `trainer_spec.${name}`, r);
  };
  readMessage(file, 'trainer_spec', bytes, (f, wire, r) => {
    switch (f) {
      case TRAINER.modelType: {
        field(file, 'trainer_spec.model_type', wire, WireType.Varint);
        const t = r.int32();
        if (t < ModelType.UNIGRAM || t > ModelType.CHAR) throw modelFormat(file, `trainer_spec.model_type ${t} is unknown`);
        spec.modelType = t as ModelType;
        return true;
      }
      case TRAINER.treatWhitespaceAsSuffix: spec.treatWhitespaceAsSuffix = bool('treat_whitespace_as_suffix', wire, r); return true;
      case TRAINER.allowWhitespaceOnlyPieces: spec.allowWhitespaceOnlyPieces = bool('allow_whitespace_only_pieces', wire, r); return true;
      case TRAINER.byteFallback: spec.byteFallback = bool('byte_fallback', wire, r); return true;
      case TRAINER.unkSurface: spec.unkSurface = str('unk_surface', wire, r); return true;
      // An empty piece name means the default (ModelInterface::unk_piece() and friends).
      case TRAINER.unkPiece: spec.unkPiece = str('unk_piece', wire, r) || '<unk>'; return true;
      case TRAINER.bosPiece: spec.bosPiece = str('bos_piece', wire, r) || '<s>'; return true;
      case TRAINER.eosPiece: spec.eosPiece = str('eos_piece', wire, r) || '</s>'; return true;
      case TRAINER.padPiece: spec.padPiece = str('pad_piece', wire, r) || '<pad>'; return true;
      default: return false;
    }
  });
  return spec;
}

function readNormalizerSpec(file: string, what: string, bytes: Uint8Array): NormalizerSpec {
  const spec: NormalizerSpec = {
    name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true,
  };
  const bool = (name: string, wire: WireType, r: BinaryReader) => {
    field(file, `${what}.${name}`, wire, WireType.Varint);
    return r.bool();
  };
  readMessage(file, what, bytes, (f, wire, r) => {
    switch (f) {
      case NORMALIZER.name:
        field(file, `${what}.name`, wire, WireType.LengthDelimited);
        spec.name = text(file, `${what}.name`, r);
        return true;
      case NORMALIZER.precompiledCharsmap:
        field(file, `${what}.precompiled_charsmap`, wire, WireType.LengthDelimited);
        spec.precompiledCharsmap = r.bytes();
        return true;
      case NORMALIZER.addDummyPrefix: spec.addDummyPrefix = bool('add_dummy_prefix', wire, r); return true;
      case NORMALIZER.removeExtraWhitespaces: spec.removeExtraWhitespaces = bool('remove_extra_whitespaces', wire, r); return true;
      case NORMALIZER.escapeWhitespaces: spec.escapeWhitespaces = bool('escape_whitespaces', wire, r); return true;
      default: return false;
    }
  });
  return spec;
}

/** Parses a serialized ModelProto; `file` names it in errors. */
export function parseModelProto(bytes: Uint8Array, file: string): ModelProto {
  const pieces: Piece[] = [];
  let trainer: Uint8Array | undefined;
  let normalizer: Uint8Array | undefined;
  let denormalizer: Uint8Array | undefined;
  readMessage(file, 'the file', bytes, (f, wire, r) => {
    const sub = (name: string) => {
      field(file, name, wire, WireType.LengthDelimited);
      return r.bytes();
    };
    switch (f) {
      case MODEL.pieces: pieces.push(readPiece(file, pieces.length, sub(`pieces[${pieces.length}]`))); return true;
      // proto2 merges repeated occurrences of a singular message; models never repeat them.
      case MODEL.trainerSpec: trainer = sub('trainer_spec'); return true;
      case MODEL.normalizerSpec: normalizer = sub('normalizer_spec'); return true;
      case MODEL.denormalizerSpec: denormalizer = sub('denormalizer_spec'); return true;
      default: return false;
    }
  });
  if (pieces.length === 0) throw modelFormat(file, 'not a SentencePiece model: it has no pieces');
  return {
    pieces,
    trainerSpec: readTrainerSpec(file, trainer ?? new Uint8Array(0)),
    normalizerSpec: readNormalizerSpec(file, 'normalizer_spec', normalizer ?? new Uint8Array(0)),
    denormalizerSpec: denormalizer && readNormalizerSpec(file, 'denormalizer_spec', denormalizer),
  };
}
