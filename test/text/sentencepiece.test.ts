import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { Rng } from '../../src/runtime/rng.js';
import { SentencePiece } from '../../src/text/sentencepiece.js';

// Written by tools/fixtures_sentencepiece.py from Debian's sentencepiece 0.1.97.
const DIR = join(import.meta.dirname, '..', 'fixtures', 'sentencepiece');

type Input = { text: string } | { units: number[] } | { bytes: string };
interface ModelExpectations {
  file: string;
  vocab_size: number;
  ids: { unk: number; bos: number; eos: number; pad: number };
  pieces: string[];
  encode: [ids: number[], pieces: string[], decoded: string][];
  decode: [ids: number[], text: string][];
  piece_to_id: [piece: string, id: number][];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  format_version: number;
  inputs: Input[];
  models: Record<string, ModelExpectations>;
};

function inputOf(input: Input): string | Uint8Array {
  if ('text' in input) return input.text;
  if ('units' in input) return String.fromCharCode(...input.units);
  return Uint8Array.from(Buffer.from(input.bytes, 'hex'));
}

const describeInput = (input: Input) => JSON.stringify(input).slice(0, 80);

describe('SentencePiece against the sentencepiece library', () => {
  it('reads the fixture format it was written for', () => {
    expect(expected.format_version).toBe(1);
    expect(Object.keys(expected.models).length).toBeGreaterThanOrEqual(10);
  });

  for (const [name, want] of Object.entries(expected.models)) {
    describe(name, () => {
      const sp = SentencePiece.load(join(DIR, want.file));

      it('has the same vocabulary and special ids', () => {
        expect(sp.vocabSize).toBe(want.vocab_size);
        expect({ unk: sp.unkId, bos: sp.bosId, eos: sp.eosId, pad: sp.padId }).toEqual(want.ids);
        expect(Array.from({ length: sp.vocabSize }, (_, id) => sp.idToPiece(id))).toEqual(want.pieces);
        for (const [piece, id] of want.piece_to_id) expect(sp.pieceToId(piece), piece).toBe(id);
        want.pieces.forEach((piece, id) => expect(sp.pieceToId(piece)).toBe(id));
      });

      it('encodes every input to the same ids and pieces', () => {
        const mismatches: string[] = [];
        expected.inputs.forEach((input, i) => {
          const [ids, pieces] = want.encode[i]!;
          const text = inputOf(input);
          const gotPieces = sp.encodeAsPieces(text);
          const gotIds = sp.encode(text);
          if (JSON.stringify(gotIds) !== JSON.stringify(ids) || JSON.stringify(gotPieces) !== JSON.stringify(pieces)) {
            mismatches.push(`${describeInput(input)}\n  got  ${JSON.stringify(gotPieces)} ${JSON.stringify(gotIds)}\n  want ${JSON.stringify(pieces)} ${JSON.stringify(ids)}`);
          }
        });
        expect(mismatches.join('\n')).toBe('');
      });

      it('decodes the encoded ids to the same text', () => {
        const mismatches: string[] = [];
        expected.inputs.forEach((input, i) => {
          const [ids, , decoded] = want.encode[i]!;
          const got = sp.decode(ids);
          if (got !== decoded) mismatches.push(`${describeInput(input)}: got ${JSON.stringify(got)}, want ${JSON.stringify(decoded)}`);
        });
        expect(mismatches.join('\n')).toBe('');
      });

      it('decodes chosen id lists (control, unknown, byte pieces, the whole vocabulary) to the same text', () => {
        for (const [ids, text] of want.decode) expect(sp.decode(ids), JSON.stringify(ids)).toBe(text);
      });
    });
  }
});

describe('SentencePiece API', () => {
  const sp = SentencePiece.load(join(DIR, 'unigram_nfkc.model'));

  it('decodePieces inverts encodeAsPieces', () => {
    const pieces = sp.encodeAsPieces('The cat eats an apple.');
    expect(pieces).toEqual(['▁Th', 'e', '▁ca', 't', '▁e', 'ats', '▁an', '▁apple', '.']);
    expect(sp.decodePieces(pieces)).toBe('The cat eats an apple.');
  });

  it('decodePieces keeps text that is not a piece as it is (the library answers the same)', () => {
    expect(sp.decodePieces(['▁x', '▁▁', 'zzq', '<unk>', '<s>', '▁a'])).toBe('▁x  zzq ⁇  a');
    expect(sp.decodePieces(['▁▁', 'a'])).toBe(' a');
  });

  it('rejects ids outside the vocabulary', () => {
    for (const id of [-1, sp.vocabSize, 1.5, Number.NaN]) {
      expect(() => sp.decode([id])).toThrow(HibikiError);
      expect(() => sp.idToPiece(id)).toThrow(/outside the vocabulary/);
    }
  });

  it('reports the model type', () => {
    expect(sp.modelType).toBe('unigram');
    expect(SentencePiece.load(join(DIR, 'bpe_bytes.model')).modelType).toBe('bpe');
  });
});

describe('SentencePiece on bad files', () => {
  const good = readFileSync(join(DIR, 'unigram_identity.model'));

  function codeOf(bytes: Uint8Array): string {
    try {
      new SentencePiece(bytes, 'bad.model');
    } catch (e) {
      if (!(e instanceof HibikiError)) throw e;
      expect(e.message.startsWith('bad.model: ')).toBe(true);
      return e.code;
    }
    return 'loaded';
  }

  it('a truncated model is E_MODEL_FORMAT at every cut that breaks it', () => {
    const outcomes = new Map<string, number>();
    for (let cut = 0; cut < good.length; cut += 7) {
      const code = codeOf(good.subarray(0, cut));
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    }
    // A cut between two whole fields is still a valid (smaller) message; any other cut must fail cleanly.
    expect([...outcomes.keys()].filter((c) => c !== 'E_MODEL_FORMAT' && c !== 'loaded')).toEqual([]);
    expect(outcomes.get('E_MODEL_FORMAT')).toBeGreaterThan(good.length / 7 / 2);
  });

  it('garbage, text and empty files are E_MODEL_FORMAT', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rng.next() * 400) }, () => Math.floor(rng.next() * 256));
      expect(codeOf(bytes)).toBe('E_MODEL_FORMAT');
    }
    expect(codeOf(new Uint8Array(0))).toBe('E_MODEL_FORMAT');
    expect(codeOf(new TextEncoder().encode('{"not": "a model"}\n'))).toBe('E_MODEL_FORMAT');
  });

  it('says what is wrong', () => {
    expect(() => new SentencePiece(new Uint8Array(0), 'empty.model')).toThrow('empty.model: not a SentencePiece model: it has no pieces');
    // field 1 (pieces) with wire type varint
    expect(() => new SentencePiece(Uint8Array.of(0x08, 0x01), 'x.model')).toThrow(/pieces\[0\] has wire type 0, expected 2/);
    // one piece "a" of type NORMAL: no unknown piece
    expect(() => new SentencePiece(Uint8Array.of(0x0a, 0x03, 0x0a, 0x01, 0x61), 'x.model')).toThrow(/no unknown piece/);
    expect(() => SentencePiece.load(join(DIR, 'missing.model'))).toThrow(/cannot read/);
  });

  it('flipping bytes of a real model never throws anything but a HibikiError, and never hangs', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(good);
      for (let k = 0; k < 3; k++) bytes[Math.floor(rng.next() * bytes.length)] = Math.floor(rng.next() * 256);
      const code = codeOf(bytes);
      if (code === 'loaded') new SentencePiece(bytes).encode('The cat eats an apple.');
    }
  });
});

describe('SentencePiece never throws on any text', () => {
  const models = ['unigram_nfkc', 'bpe_bytes', 'unigram_suffix', 'word_identity'].map((n) => SentencePiece.load(join(DIR, `${n}.model`)));
  const alphabet = [
    ' ', ' ', '\t', '\n', 'a', 'e', 'k', 'T', '.', '▁', 'é', 'e\u0301', 'ß', 'ﬁ', 'Ⅻ', 'ｈ', 'ｶﾞ', '東', 'あ', '😀', '👨\u200d👩',
    '\u0000', '\u0007', '\u200b', '\u202e', '\ud800', '\udfff', '\ufffd', 'ا', 'ש', '<sep>', '§', '<0x41>', '\u0301',
  ];

  it('encodes and decodes a few thousand random strings', () => {
    const rng = new Rng(2024);
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(rng.next() * 24);
      let text = '';
      for (let k = 0; k < length; k++) {
        text += rng.next() < 0.2 ? String.fromCharCode(Math.floor(rng.next() * 0x10000)) : alphabet[Math.floor(rng.next() * alphabet.length)]!;
      }
      const sp = models[i % models.length]!;
      const ids = sp.encode(text);
      expect(ids.every((id) => id >= 0 && id < sp.vocabSize)).toBe(true);
      expect(sp.encodeAsPieces(text).length).toBe(ids.length);
      expect(typeof sp.decode(ids)).toBe('string');
    }
  });

  it('handles long inputs', () => {
    const sp = models[0]!;
    expect(sp.encode(' '.repeat(100_000))).toEqual([]);
    expect(sp.decode(sp.encode('ab '.repeat(20_000)))).toBe('ab '.repeat(20_000).trim());
  });
});
