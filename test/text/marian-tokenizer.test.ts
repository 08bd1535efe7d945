import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { MarianTokenizer } from '../../src/text/marian-tokenizer.js';

// transformers 5.17's MarianTokenizer output for every source: see test/fixtures/marian/shared-swish/README.md.
const DIR = join(import.meta.dirname, '..', 'fixtures', 'marian', 'shared-swish');

interface Case {
  source: string;
  input_ids: number[];
  source_pieces: string[];
  greedy_ids: number[];
  greedy_text: string;
  beam4_ids: number[][];
  beam4_texts: string[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  cases: Case[];
  batched_beam4_first8: { sources: string[]; ids: number[][]; texts: string[] };
};

describe('MarianTokenizer against transformers', () => {
  const tokenizer = MarianTokenizer.load(DIR);

  it('reads the special ids from vocab.json', () => {
    expect([tokenizer.eosId, tokenizer.unkId, tokenizer.padId]).toEqual([0, 1, 666]);
  });

  it.each(expected.cases.map((c) => [JSON.stringify(c.source).slice(0, 40), c] as const))('encodes %s', (_, c) => {
    expect(tokenizer.tokenize(c.source)).toEqual(c.source_pieces);
    expect(tokenizer.encode(c.source)).toEqual(c.input_ids);
  });

  it('maps a piece vocab.json lacks to <unk> (the fixture has such sources)', () => {
    const withUnknown = expected.cases.filter((c) => c.input_ids.includes(tokenizer.unkId));
    expect(withUnknown.length).toBeGreaterThanOrEqual(3);
  });

  it('decodes every greedy and beam output, and the padded batch, to transformers\' text', () => {
    for (const c of expected.cases) {
      expect(tokenizer.decode(c.greedy_ids)).toBe(c.greedy_text);
      c.beam4_ids.forEach((ids, k) => expect(tokenizer.decode(ids)).toBe(c.beam4_texts[k]));
    }
    const batch = expected.batched_beam4_first8;
    batch.ids.forEach((ids, i) => expect(tokenizer.decode(ids)).toBe(batch.texts[i]));
  });

  it('keeps special tokens and a leading language code whole when encoding, and drops specials when decoding', () => {
    expect(tokenizer.tokenize('a</s>b')).toEqual([...tokenizer.tokenize('a'), '</s>', ...tokenizer.tokenize('b')]);
    expect(tokenizer.tokenize('>>jpn<< I')).toEqual(['>>jpn<<', ...tokenizer.tokenize(' I')]);
    expect(tokenizer.decode([666, 1, 0])).toBe('');
  });

  it('refuses ids outside the target vocabulary and input that is not a string', () => {
    expect(() => tokenizer.decode([667])).toThrow(/667 is not in the target vocabulary/);
    expect(() => tokenizer.encode(5 as unknown as string)).toThrow(HibikiError);
  });
});

describe('MarianTokenizer directories', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hibiki-marian-tok-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const copy = (name: string) => {
    const dir = join(tmp, name);
    cpSync(DIR, dir, { recursive: true });
    return dir;
  };

  it.each(['source.spm', 'target.spm', 'vocab.json'])('names a missing %s', (file) => {
    const dir = copy(`missing-${file}`);
    rmSync(join(dir, file));
    expect(() => MarianTokenizer.load(dir)).toThrow(expect.objectContaining({ code: 'E_IO', message: expect.stringContaining(file) }));
  });

  it('reads target_vocab.json when the vocabularies are separate, and names it when it is missing', () => {
    const dir = copy('separate');
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, separate_vocabs: true }));
    expect(() => MarianTokenizer.load(dir)).toThrow(expect.objectContaining({ code: 'E_IO', message: expect.stringContaining('target_vocab.json') }));
    // A target vocabulary that numbers the pieces differently: decoding follows it, encoding does not.
    const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
    const swapped = { ...vocab, '\u2581wa': vocab['\u2581ga']!, '\u2581ga': vocab['\u2581wa']! };
    writeFileSync(join(dir, 'target_vocab.json'), JSON.stringify(swapped));
    const tokenizer = MarianTokenizer.load(dir);
    expect(tokenizer.decode([vocab['\u2581wa']!])).toBe('ga');
    expect(tokenizer.encode('I')).toEqual(MarianTokenizer.load(DIR).encode('I'));
  });

  it('refuses a vocab.json that gives two pieces one id', () => {
    const dir = copy('duplicate');
    const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ ...vocab, extra: 5 }));
    expect(() => MarianTokenizer.load(dir)).toThrow(expect.objectContaining({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/both have id 5/) }));
  });
});
