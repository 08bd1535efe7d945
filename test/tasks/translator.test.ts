// The shipped translation model: its tokenizers against Debian's sentencepiece,
// its network against PyTorch, and its quality on the held-out set.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/cli/translate.js';
import { HibikiError } from '../../src/errors.js';
import { readModelDir } from '../../src/io/model-dir.js';
import { corpusBleu } from '../../src/metrics/bleu.js';
import { loadTransformer } from '../../src/models/transformer.js';
import { Translator } from '../../src/tasks/translator.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { SentencePiece } from '../../src/text/sentencepiece.js';
import { expectClose } from '../helpers/compare.js';

const MODEL = fileURLToPath(new URL('../../models/translate-en-ja/', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

describe('models/translate-en-ja', () => {
  it('tokenizes the whole held-out set exactly as Debian’s sentencepiece', () => {
    const expected = fixture('translate-en-ja-tokens.json') as { en: number[][]; ja: number[][] };
    for (const [side, file] of [['en', 'source.spm'], ['ja', 'target.spm']] as const) {
      const sp = SentencePiece.load(`${MODEL}/${file}`);
      const lines = readLines(`${SAMPLES}/test.${side}`);
      expect(lines.map((l) => sp.encode(l))).toEqual(expected[side]);
      expect(lines.map((l) => sp.decode(sp.encode(l)))).toEqual(lines);
    }
  });

  it('gives PyTorch’s logits, greedy tokens and beam hypotheses', () => {
    const parity = fixture('translate-en-ja-parity.json');
    const model = loadTransformer(Runtime.create(), readModelDir(MODEL));
    for (const pair of parity.pairs) {
      expectClose(model.logits(parity.sources[pair.source], pair.target), Float32Array.from(pair.logits), 1e-4);
    }
    const greedy = model.search(parity.sources, {});
    expect(greedy.map((h) => h[0]!.tokens)).toEqual(parity.greedy.map((g: { tokens: number[] }) => g.tokens));
    const beam = model.search(parity.sources, { beam: 3, nBest: 2 });
    expect(beam.map((hs) => hs.map((h) => h.tokens))).toEqual(parity.beam.map((hs: { tokens: number[] }[]) => hs.map((h) => h.tokens)));
  });

  it('one line in gives one Translation, an array the result per line; anything else is E_BAD_INPUT naming what was expected', async () => {
    const translator = await Translator.open(MODEL, { workers: 0 });
    const one = await translator.translate('The cat is small.');
    expect(one.text).toBe('neko wa chiisai desu.');
    expect(one.hypotheses.map((h) => h.text)).toEqual(['neko wa chiisai desu.']);
    const many = await translator.translate(['The cat is small.', '  ']);
    expect(many).toEqual({ translations: [one, { text: '', hypotheses: [{ text: '', score: 0, logprob: 0 }] }], failures: [] });
    expect(await translator.translate('')).toEqual({ text: '', hypotheses: [{ text: '', score: 0, logprob: 0 }] });
    for (const [input, got] of [[42, 'a number'], [null, 'null'], [undefined, 'undefined'], [{ text: 'x' }, 'an object']] as const) {
      const error = await (translator.translate as (input: unknown) => Promise<unknown>)(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HibikiError);
      expect(error).toMatchObject({ code: 'E_BAD_INPUT', message: `translate expects a string or an array of strings, got ${got}` });
    }
    const mixed = await translator.translate(['The cat is small.', 7 as unknown as string]);
    expect(mixed.translations[0]).toEqual(one);
    expect(mixed.failures.map((f) => [f.index, f.error.code, f.error.message])).toEqual([[1, 'E_BAD_INPUT', 'line 2: expected a string, got a number']]);
    const error = await translator.translate('The cat is small.', { signal: AbortSignal.abort('stop') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED', cause: 'stop' });
  });

  it('line-numbering: a line the model refuses is named by its line number from 1, and only by that', async () => {
    // It used to read "line 2: item 1: …" here, "item 0" on the queue and "line 1: item 0" over HTTP.
    const translator = await Translator.open(MODEL, { workers: 0 });
    const { translations, failures } = await translator.translate(['the cat sees a small dog.', 'dog '.repeat(2000)]);
    expect(translations[0]?.text.length).toBeGreaterThan(0);
    expect(failures.map((f) => [f.index, f.error.code, f.error.message.replace(/\d+ tokens/, 'N tokens')]))
      .toEqual([[1, 'E_BAD_INPUT', `line 2: source: N tokens; the model takes 1 to ${translator.config.maxPositions}`]]);
  });

  it('translates the held-out set at BLEU ≥ 90 greedily, and no worse with beam 4', async () => {
    const sources = readLines(`${SAMPLES}/test.en`);
    const refs = readLines(`${SAMPLES}/test.ja`);
    const translator = await Translator.open(MODEL, { workers: 0 });
    try {
      const greedy = await translator.translate(sources);
      const beam = await translator.translate(sources, { beam: 4 });
      const bleu = (r: typeof greedy) => corpusBleu(r.translations.map((t) => t!.text), [refs]).score;
      expect(greedy.failures).toEqual([]);
      expect(bleu(greedy)).toBeGreaterThanOrEqual(90);
      expect(bleu(beam)).toBeGreaterThanOrEqual(bleu(greedy));
    } finally {
      await translator.close();
    }
  }, 300_000);
});
