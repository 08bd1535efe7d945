import { describe, expect, it } from 'vitest';
import { type ChrfOptions, corpusChrf, sentenceChrf } from '../../src/metrics/chrf.js';
import { expectError } from '../helpers/errors.js';
import { hibikiOptions, sacrebleuCases } from '../helpers/sacrebleu.js';

const SCORE_TOL = 1e-9;
const cases = sacrebleuCases();

describe('chrF / chrF++ against sacreBLEU 2.6.0', () => {
  it('corpus scores for word order 0/2 × whitespace × eps smoothing × lowercase (and other orders, betas): score, name, signature, line', () => {
    const grid = new Set(cases.chrf_corpus.map((c) => JSON.stringify(c.options)));
    expect(grid.size).toBeGreaterThanOrEqual(20);
    let worst = 0;
    for (const [i, c] of cases.chrf_corpus.entries()) {
      const { hypotheses, references } = cases.corpora[c.corpus]!;
      const what = `chrf_corpus[${i}] ${c.corpus} ${JSON.stringify(c.options)}`;
      const got = corpusChrf(hypotheses, references, hibikiOptions<ChrfOptions>(c.options));
      worst = Math.max(worst, Math.abs(got.score - c.expected.score));
      expect(Math.abs(got.score - c.expected.score), `${what}: ${got.score} vs ${c.expected.score}`).toBeLessThanOrEqual(SCORE_TOL);
      expect(got.name, what).toBe(c.expected.name);
      expect(got.signature, what).toBe(c.expected.signature);
      expect(got.format(), what).toBe(c.expected.line);
    }
    // No log or exp in chrF: the same operations in the same order give the same bits.
    expect(worst).toBe(0);
  });

  it('sentence scores', () => {
    for (const [i, c] of cases.chrf_sentence.entries()) {
      const got = sentenceChrf(c.hypothesis, c.references, hibikiOptions<ChrfOptions>(c.options));
      expect(got.score, `chrf_sentence[${i}] ${JSON.stringify(c.options)}`).toBe(c.expected.score);
    }
  });

  it('gives sacreBLEU\'s bootstrap interval (float32 statistics replayed)', () => {
    const { corpus, cases: bootstrapCases } = cases.bootstrap;
    const chrfCases = bootstrapCases.filter((b) => b.metric === 'CHRF');
    expect(chrfCases.length).toBe(2);
    for (const c of chrfCases) {
      const got = corpusChrf(corpus.hypotheses, corpus.references, {
        ...hibikiOptions<ChrfOptions>(c.options), bootstrap: c.n_bootstrap, seed: c.seed,
      });
      expect(got.confidence!.mean, `mean seed ${c.seed}`).toBe(c.expected.mean);
      expect(got.confidence!.ci, `ci seed ${c.seed}`).toBe(c.expected.ci);
      expect(got.format({ signature: true })).toBe(c.expected.line);
      expect(got.toJSON(3)).toBe(c.expected.json);
    }
  });
});

describe('chrF errors', () => {
  it('refuses bad orders and mismatched streams', () => {
    expectError(() => corpusChrf(['a'], [['a']], { charOrder: 0, wordOrder: 0 }), 'E_BAD_INPUT', /charOrder \+ wordOrder must be at least 1/);
    expectError(() => corpusChrf(['a'], [['a']], { wordOrder: 1.5 }), 'E_BAD_INPUT', /wordOrder must be a whole number ≥ 0, got 1\.5/);
    expectError(() => corpusChrf(['a', 'b', 'c'], [['a', 'b']]), 'E_BAD_INPUT', /corpusChrf: reference stream 0 has 2 lines but there are 3 hypotheses/);
  });
});
