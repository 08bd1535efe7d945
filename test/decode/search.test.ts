/**
 * greedySearch and beamSearch on their own, over a decoder whose next-token
 * probabilities are fixed tables (per sentence, per prefix), so every
 * hypothesis, log-probability and score below is worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { type Hypothesis, type StepDecoder, beamSearch, greedySearch } from '../../src/decode/search.js';
import { errorOf } from '../helpers/errors.js';

const BOS = 0;
const EOS = 1;
const A = 2;
const B = 3;
const NAMES = ['<s>', '</s>', 'a', 'b'];
const ln = Math.log;

/** Next-token probabilities [<s>, </s>, a, b] after a prefix ('' = just bos, 'a b' = bos a b). */
type Table = Record<string, [number, number, number, number]>;

/**
 * T0: greedy takes a then </s> (p = .5 · .59); beam 2 finds b b </s>
 * (.4 · .8 · .7), better per token. Its hypotheses, step by step (α = 1):
 *   step 0: live a (ln .5), b (ln .4)
 *   step 1: b b −1.1394, a </s> −1.2208 (finished, length 2), a a −2.3026; b b and a a stay live
 *   step 2: b b </s> −1.4961 (finished, length 3), b b a −2.8001, a a b −3.2442
 */
const T0: Table = {
  '': [0.01, 0.09, 0.5, 0.4],
  'a': [0.01, 0.59, 0.2, 0.2],
  'b': [0.01, 0.09, 0.1, 0.8],
  'b b': [0.01, 0.7, 0.19, 0.1],
  'a a': [0.01, 0.3, 0.3, 0.39],
};
/** T1: </s> at once is likeliest; beam 2 stops after two steps (see the early-stop test). */
const T1: Table = {
  '': [0.01, 0.6, 0.3, 0.09],
  'a': [0.01, 0.8, 0.1, 0.09],
  'b': [0.01, 0.9, 0.05, 0.04],
};
/**
 * T3: at step 1 the best four are a a (live), a </s> (finished), b </s> and a b: b </s> ranks third,
 * past the beam, so it does not finish (only the first `beam` candidates may). Off the table the
 * decoder is uniform (ln ¼ each), so at step 2 a a </s> finishes at −2.9957 / 3.
 */
const T3: Table = {
  '': [0.01, 0.09, 0.5, 0.4],
  'a': [0.01, 0.3, 0.4, 0.29],
  'b': [0.01, 0.37, 0.32, 0.3],
};
/** T2: a and b tie after bos. */
const T2: Table = {
  '': [0.01, 0.09, 0.45, 0.45],
  'a': [0.01, 0.89, 0.05, 0.05],
};

/** Rows rowsPerSentence at a time per sentence; each row's logits are ln p of its sentence's table at the row's prefix. */
class TableDecoder implements StepDecoder {
  readonly vocab = 4;
  steps = 0;
  readonly parents: number[][] = [];
  private prefixes: string[][];

  constructor(private readonly tables: readonly Table[], private readonly rowsPerSentence: number) {
    this.prefixes = Array.from({ length: tables.length * rowsPerSentence }, () => []);
  }

  step(tokens: Int32Array): Float32Array {
    this.steps++;
    expect(tokens.length).toBe(this.prefixes.length);
    const logits = new Float32Array(tokens.length * this.vocab); // uniform off the tables (finished rows)
    tokens.forEach((token, r) => {
      if (token !== BOS || this.prefixes[r]!.length > 0) this.prefixes[r]!.push(NAMES[token]!);
      const p = this.tables[Math.floor(r / this.rowsPerSentence)]![this.prefixes[r]!.join(' ')];
      if (p) logits.set(p.map(ln), r * this.vocab);
    });
    return logits;
  }

  reorder(parent: Int32Array): void {
    this.parents.push(Array.from(parent));
    this.prefixes = Array.from(parent, (p) => [...this.prefixes[p]!]);
  }
}

/** Checks hypotheses: exact tokens, logprob and score to 1e-6 (the tables are rounded to f32 as logits). */
function expectHypotheses(got: readonly Hypothesis[], want: ReadonlyArray<{ tokens: number[]; logprob: number; score: number }>): void {
  expect(got.map((h) => h.tokens)).toEqual(want.map((h) => h.tokens));
  got.forEach((h, i) => {
    expect(h.logprob, `hypothesis ${i} logprob`).toBeCloseTo(want[i]!.logprob, 6);
    expect(h.score, `hypothesis ${i} score`).toBeCloseTo(want[i]!.score, 6);
  });
}

const greedyT0 = ln(0.5) + ln(0.59); // a </s>
const bbEos = ln(0.4) + ln(0.8) + ln(0.7); // b b </s>: −1.4961

describe('greedySearch', () => {
  it('takes the likeliest token at every step until </s>; score = logprob / length, </s> counted', () => {
    const decoder = new TableDecoder([T0], 1);
    const [h] = greedySearch(decoder, { bos: BOS, eos: EOS, maxLength: [5] });
    expectHypotheses([h!], [{ tokens: [A], logprob: greedyT0, score: greedyT0 / 2 }]);
    expect(decoder.steps).toBe(2);
  });

  it('stops at maxLength without </s>: the tokens so far, scored over their own length', () => {
    const [h] = greedySearch(new TableDecoder([T0], 1), { bos: BOS, eos: EOS, maxLength: [1] });
    expectHypotheses([h!], [{ tokens: [A], logprob: ln(0.5), score: ln(0.5) }]);
  });

  it('breaks a tie toward the lower token id', () => {
    const [h] = greedySearch(new TableDecoder([T2], 1), { bos: BOS, eos: EOS, maxLength: [5] });
    expectHypotheses([h!], [{ tokens: [A], logprob: ln(0.45) + ln(0.89), score: (ln(0.45) + ln(0.89)) / 2 }]);
  });

  it('decodes a batch row per sentence, each as alone, and steps only while one is unfinished', () => {
    const decoder = new TableDecoder([T0, T0, T1], 1);
    let calls = 0;
    const got = greedySearch(decoder, { bos: BOS, eos: EOS, maxLength: [5, 1, 10] }, () => calls++);
    expectHypotheses(got, [
      { tokens: [A], logprob: greedyT0, score: greedyT0 / 2 },
      { tokens: [A], logprob: ln(0.5), score: ln(0.5) },
      { tokens: [], logprob: ln(0.6), score: ln(0.6) }, // </s> first: an empty translation of length 1
    ]);
    expect([decoder.steps, calls]).toEqual([2, 2]);
  });
});

describe('beamSearch', () => {
  const beam = (tables: Table[], options: { maxLength: number[]; lengthPenalty?: number; nBest?: number }) => {
    const decoder = new TableDecoder(tables, 2);
    return { got: beamSearch(decoder, { bos: BOS, eos: EOS, beam: 2, ...options }), decoder };
  };

  it('finds a better hypothesis than greedy, best first, nBest of them', () => {
    const { got, decoder } = beam([T0], { maxLength: [3], nBest: 2 });
    expectHypotheses(got[0]!, [
      { tokens: [B, B], logprob: bbEos, score: bbEos / 3 }, // −0.4987
      { tokens: [A], logprob: greedyT0, score: greedyT0 / 2 }, // −0.6104
    ]);
    // Step 0: both live beams continue beam 0; step 1: b b continues beam 1, a a beam 0; no reorder after the last step.
    expect(decoder.parents).toEqual([[0, 0], [1, 0]]);
    expect(decoder.steps).toBe(3);
  });

  it('ranks by logprob / length^α: α = 0 prefers the short one, α = 1 and 2 the longer', () => {
    // The search is the same under each α here (no sentence stops early); only the ranking of what finished changes.
    const all = (lengthPenalty: number) => beam([T0], { maxLength: [3], lengthPenalty, nBest: 2 }).got[0]!;
    expectHypotheses(all(0), [
      { tokens: [A], logprob: greedyT0, score: greedyT0 }, // −1.2208
      { tokens: [B, B], logprob: bbEos, score: bbEos }, // −1.4961
    ]);
    expectHypotheses(all(1), [
      { tokens: [B, B], logprob: bbEos, score: bbEos / 3 },
      { tokens: [A], logprob: greedyT0, score: greedyT0 / 2 },
    ]);
    expectHypotheses(all(2), [
      { tokens: [B, B], logprob: bbEos, score: bbEos / 9 }, // −0.1662
      { tokens: [A], logprob: greedyT0, score: greedyT0 / 4 }, // −0.3052
    ]);
  });

  it('stops a sentence once beam hypotheses have finished and no live one, ended now, beats the beam-th best', () => {
    // Step 0: </s> finishes [] (ln .6 = −0.5108); a and b live. Step 1: a </s> (−1.4271, score −0.7136)
    // and b </s> finish; the best live, a a (−3.5066 / 2 = −1.7533), cannot beat −0.7136: done.
    const { got, decoder } = beam([T1], { maxLength: [10], nBest: 2 });
    expectHypotheses(got[0]!, [
      { tokens: [], logprob: ln(0.6), score: ln(0.6) },
      { tokens: [A], logprob: ln(0.3) + ln(0.8), score: (ln(0.3) + ln(0.8)) / 2 },
    ]);
    expect(decoder.steps).toBe(2);
    expect(decoder.parents).toEqual([[0, 0]]);
  });

  it('cuts at maxLength: what is live then finishes without </s>', () => {
    // Step 1 is the last: a </s> finishes (−1.2208 / 2); b b (−1.1394) and a a (−2.3026) are cut, scored over 2 tokens.
    const { got } = beam([T0], { maxLength: [2], nBest: 2 });
    const bb = ln(0.4) + ln(0.8);
    expectHypotheses(got[0]!, [
      { tokens: [B, B], logprob: bb, score: bb / 2 }, // −0.5697
      { tokens: [A], logprob: greedyT0, score: greedyT0 / 2 }, // −0.6104
    ]);
  });

  it('finishes only an end of sentence among the first beam candidates', () => {
    const { got } = beam([T3], { maxLength: [3], nBest: 2 });
    const aEos = ln(0.5) + ln(0.3); // −1.8971 / 2 = −0.9486; b </s> would be −1.9105 / 2 = −0.9553, second
    const aaEos = ln(0.5) + ln(0.4) + ln(0.25);
    expectHypotheses(got[0]!, [
      { tokens: [A], logprob: aEos, score: aEos / 2 },
      { tokens: [A, A], logprob: aaEos, score: aaEos / 3 }, // −0.9986, tied with the two cut at 3 tokens but finished first
    ]);
  });

  it('decodes sentences side by side (rows sentence · beam + k), each as alone', () => {
    const { got, decoder } = beam([T0, T0, T1], { maxLength: [1, 3, 10], nBest: 2 });
    expect(got).toEqual([
      beam([T0], { maxLength: [1], nBest: 2 }).got[0], beam([T0], { maxLength: [3], nBest: 2 }).got[0], beam([T1], { maxLength: [10], nBest: 2 }).got[0],
    ]);
    expectHypotheses(got[0]!, [{ tokens: [A], logprob: ln(0.5), score: ln(0.5) }, { tokens: [B], logprob: ln(0.4), score: ln(0.4) }]);
    // Sentence 0 is done after step 0 and sentence 2 after step 1: a done sentence's rows keep their places.
    expect(decoder.parents).toEqual([[0, 0, 2, 2, 4, 4], [0, 1, 3, 2, 4, 4]]);
    expect(decoder.steps).toBe(3);
  });

  it('refuses a bad beam, nBest or length penalty', () => {
    const run = (options: { beam: number; nBest?: number; lengthPenalty?: number }) =>
      errorOf(() => beamSearch(new TableDecoder([T0], options.beam), { bos: BOS, eos: EOS, maxLength: [3], ...options }));
    expect(run({ beam: 0 })).toMatch(/beam must be a whole number ≥ 1, got 0/);
    expect(run({ beam: 2, nBest: 3 })).toMatch(/nBest must be from 1 to the beam size 2, got 3/);
    expect(run({ beam: 2, lengthPenalty: -1 })).toMatch(/lengthPenalty must be a number ≥ 0, got -1/);
  });
});
