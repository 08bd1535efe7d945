/**
 * transformers' generate() semantics on small decoders whose every number is
 * worked out by hand: a Markov chain, logits = log p of the next token given
 * the previous one (per sentence), so each path's log-probability is a sum
 * of logs. What the Marian fixture cannot show (its settings are fixed):
 * early_stopping true / false / "never", α ≠ 1, renormalize_logits,
 * multi-token bad words, the settings' parsing and overrides.
 */
import { describe, expect, it } from 'vitest';
import { type Beam, bestContinuations, greedyChoice, hfBeamSearch, hfBeamSteps, hfGreedySearch, hfGreedySteps, padSequences, runSearchAsync } from '../../src/decode/hf-beam.js';
import { LogitsProcessor, argmax, logSoftmaxRow, logSumExp } from '../../src/decode/hf-logits.js';
import { Rng } from '../../src/runtime/rng.js';
import { type HfGenerationConfig, parseGenerationConfig, sequenceLimit, withRequest } from '../../src/decode/hf-config.js';
import type { StepDecoder } from '../../src/decode/search.js';
import { expectError } from '../helpers/errors.js';

const EOS = 0;
const A = 1;
const B = 2;
const PAD = 3; // also the decoder start, as in Marian

/**
 * A decoder over 4 tokens: row r belongs to sentence ⌊r / rowsPer⌋ and its
 * next-token probabilities are chains[sentence][previous token].
 */
function markov(chains: number[][][], rowsPer: number): StepDecoder & { fed: number[][] } {
  const fed: number[][] = [];
  return {
    vocab: 4,
    fed,
    step(tokens) {
      fed.push(Array.from(tokens));
      const out = new Float32Array(tokens.length * 4);
      tokens.forEach((t, r) => out.set(chains[Math.floor(r / rowsPer)]![t]!.map(Math.log), r * 4));
      return out;
    },
    reorder() {}, // the chain has no state beyond the fed token
  };
}

const settings = (over: Partial<HfGenerationConfig> = {}): HfGenerationConfig => ({
  decoderStartTokenId: PAD, eosTokenIds: [EOS], padTokenId: PAD, maxLength: 20, numBeams: 1, lengthPenalty: 1,
  earlyStopping: false, numReturnSequences: 1, badWordsIds: [[PAD]], forcedEosTokenIds: [EOS], renormalizeLogits: false, ...over,
});

const lp = (p: number) => Math.fround(Math.log(p));

describe('greedy search with transformers\' semantics', () => {
  // From the start, pad is likeliest but banned; a and b alternate, the end is never likely.
  const chain = [
    [0.1, 0.3, 0.2, 0.4], // after eos (unused)
    [0.1, 0.2, 0.6, 0.1], // after a
    [0.1, 0.6, 0.2, 0.1], // after b
    [0.1, 0.3, 0.2, 0.4], // after the start (pad)
  ];

  it('never produces the banned pad, forces the end at the last allowed step (adding 0), and counts the end in the length', () => {
    const [s] = hfGreedySearch(markov([chain], 1), 1, settings({ maxNewTokens: 4 }));
    expect(s!.ids).toEqual([PAD, A, B, A, EOS]);
    const logprob = lp(0.3) + lp(0.6) + lp(0.6); // the forced end adds log 1 = 0
    expect(s!.logprob).toBeCloseTo(logprob, 6);
    expect(s!.score).toBeCloseTo(logprob / 4, 6);
  });

  it('bans the last token of a multi-token bad word after the others, and pads finished rows', () => {
    const endsSoon = [[1, 0, 0, 0], [0.7, 0.1, 0.1, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1]];
    const decoder = markov([chain, endsSoon], 1);
    const [first, second] = hfGreedySearch(decoder, 2, settings({ maxNewTokens: 4, badWordsIds: [[PAD], [A, B]] }));
    expect(first!.ids).toEqual([PAD, A, A, A, EOS]); // after a, b is banned: a again (0.2 beats the end's 0.1), to the forced end
    expect(second!.ids).toEqual([PAD, A, EOS]);
    expect(decoder.fed.map((row) => row[1])).toEqual([PAD, A, EOS, PAD]); // its end token is fed, then pads, as transformers' input_ids grow
  });

  it('renormalizes after the processors when renormalize_logits is set', () => {
    const [plain] = hfGreedySearch(markov([chain], 1), 1, settings({ maxNewTokens: 1 }));
    const [renormalized] = hfGreedySearch(markov([chain], 1), 1, settings({ maxNewTokens: 2, renormalizeLogits: true }));
    expect(plain!.ids).toEqual([PAD, EOS]); // one new token allowed: the end is forced at once
    expect(plain!.logprob).toBe(0);
    expect(renormalized!.ids).toEqual([PAD, A, EOS]);
    expect(renormalized!.logprob).toBeCloseTo(Math.log(0.3 / 0.6), 6); // pad's 0.4 taken out of the softmax
  });
});

describe('beam search with transformers\' semantics', () => {
  // After the start: the end 0.5, a 0.3 (pad banned). After a: the end 0.3, a 0.65.
  const chain = [[1, 0, 0, 0], [0.3, 0.65, 0, 0.05], [1, 0, 0, 0], [0.5, 0.3, 0, 0.2]];
  const run = (over: Partial<HfGenerationConfig>) =>
    hfBeamSearch(markov([chain], 2), 1, settings({ numBeams: 2, numReturnSequences: 2, maxNewTokens: 3, ...over }))[0]!;
  // The three sequences the search can finish, with their sums.
  const end1 = lp(0.5); // [start, eos]
  const end2 = Math.fround(lp(0.3) + lp(0.3)); // [start, a, eos]
  const end3 = Math.fround(lp(0.3) + lp(0.65)); // [start, a, a, eos], the end forced at the limit: + 0

  it('early_stopping false: stops when the best live beam, scored at its current length, cannot beat the worst finished', () => {
    // After step 2 the slots hold end1 / 1 and end2 / 2; the live [a, a] scores end3 / 2 = −0.82 > −1.20: go on.
    const hyps = run({ earlyStopping: false });
    expect(hyps.map((h) => h.ids)).toEqual([[PAD, A, A, EOS], [PAD, EOS]]);
    expect(hyps.map((h) => h.logprob)).toEqual([end3, end1].map((x) => expect.closeTo(x, 6)));
    expect(hyps.map((h) => h.score)).toEqual([end3 / 3, end1 / 1].map((x) => expect.closeTo(x, 6)));
  });

  it('early_stopping true: stops as soon as the slots are full', () => {
    const hyps = run({ earlyStopping: true });
    expect(hyps.map((h) => h.ids)).toEqual([[PAD, EOS], [PAD, A, EOS]]);
    expect(hyps.map((h) => h.score)).toEqual([end1, end2 / 2].map((x) => expect.closeTo(x, 6)));
  });

  it('scores with generated^α, the end token counted (α = 2 and α = 0)', () => {
    const squared = run({ lengthPenalty: 2 });
    expect(squared.map((h) => h.score)).toEqual(squared.map((h) => expect.closeTo(h.logprob / (h.ids.length - 1) ** 2, 6)));
    expect(squared[0]!.ids).toEqual([PAD, A, A, EOS]);
    // α = 0 ranks raw sums: the live [a, a] (−1.63) beats the finished [a, end] (−2.41) and ends at the limit.
    const raw = run({ lengthPenalty: 0, earlyStopping: 'never' });
    expect(raw.map((h) => [h.ids, h.score])).toEqual([[[PAD, EOS], expect.closeTo(end1, 6)], [[PAD, A, A, EOS], expect.closeTo(end3, 6)]]);
  });

  it('early_stopping "never" with α > 0 scores the live beam at the limit, so it goes on where false would stop', () => {
    // After the start: the end 0.5, a 0.3; after a: the end 0.5, a 0.45. false stops after step 2 (−1.00 < −0.95), never does not (−0.67).
    const close = [[1, 0, 0, 0], [0.5, 0.45, 0, 0.05], [1, 0, 0, 0], [0.5, 0.3, 0, 0.2]];
    const search = (earlyStopping: boolean | 'never') =>
      hfBeamSearch(markov([close], 2), 1, settings({ numBeams: 2, numReturnSequences: 2, maxNewTokens: 3, earlyStopping }))[0]!.map((h) => h.ids);
    expect(search(false)).toEqual([[PAD, EOS], [PAD, A, EOS]]);
    expect(search('never')).toEqual([[PAD, A, A, EOS], [PAD, EOS]]);
  });

  it('decodes each sentence of a batch as it would alone', () => {
    const other = [[1, 0, 0, 0], [0.2, 0.1, 0.6, 0.1], [0.9, 0.05, 0, 0.05], [0.1, 0.8, 0.05, 0.05]];
    const config = settings({ numBeams: 2, numReturnSequences: 2, maxNewTokens: 5 });
    const together = hfBeamSearch(markov([chain, other], 2), 2, config);
    const alone = [chain, other].map((c) => hfBeamSearch(markov([c], 2), 1, config)[0]);
    expect(together).toEqual(alone);
    // Sentence 0's live a-a-… beam keeps beating its finished ones (−0.62 > −0.82 after step 4) until the limit.
    expect(padSequences(together.map((h) => h[0]!.ids), PAD)).toEqual([[PAD, A, A, A, A, EOS], [PAD, A, B, EOS, PAD, PAD]]);
  });

  it('runs the same search against an asynchronous decoder (an onnxruntime session), feeding and reordering in the same order', async () => {
    const other = [[1, 0, 0, 0], [0.2, 0.1, 0.6, 0.1], [0.9, 0.05, 0, 0.05], [0.1, 0.8, 0.05, 0.05]];
    const config = settings({ numBeams: 2, numReturnSequences: 2, maxNewTokens: 5 });
    const recording = (d: ReturnType<typeof markov>) => {
      const calls: string[] = [];
      return { calls, vocab: d.vocab, step: (t: Int32Array) => (calls.push(`step ${t.join(' ')}`), d.step(t)), reorder: (p: Int32Array) => { calls.push(`reorder ${p.join(' ')}`); } };
    };
    const sync = recording(markov([chain, other], 2));
    const wanted = hfBeamSearch(sync, 2, config);
    const slow = recording(markov([chain, other], 2));
    const later = { vocab: 4, step: async (t: Int32Array) => { await new Promise((r) => setTimeout(r, 1)); return slow.step(t); }, reorder: async (p: Int32Array) => slow.reorder(p) };
    expect(await runSearchAsync(later, hfBeamSteps(4, 2, config))).toEqual(wanted);
    expect(slow.calls).toEqual(sync.calls);
    expect(sync.calls.filter((c) => c.startsWith('reorder')).length).toBeGreaterThan(0);
    const greedy = markov([chain, other], 1);
    const greedyLater = { vocab: 4, step: async (t: Int32Array) => greedy.step(t), reorder: () => {} };
    expect(await runSearchAsync(greedyLater, hfGreedySteps(4, 2, settings({ maxNewTokens: 5 })))).toEqual(hfGreedySearch(markov([chain, other], 1), 2, settings({ maxNewTokens: 5 })));
  });
});

describe('generation settings', () => {
  it('reads generation_config.json over config.json, with transformers\' defaults, and drops bad words equal to [eos]', () => {
    const c = parseGenerationConfig('generation_config.json', { num_beams: 4, bad_words_ids: [[58100], [0], [5, 6]], eos_token_id: [0, 7] },
      { pad_token_id: 58100, eos_token_id: 0, decoder_start_token_id: 58100, num_beams: 6, max_length: 512 });
    expect(c).toEqual({
      decoderStartTokenId: 58100, eosTokenIds: [0, 7], padTokenId: 58100, maxLength: 512, numBeams: 4, lengthPenalty: 1, earlyStopping: false,
      numReturnSequences: 1, badWordsIds: [[58100], [5, 6]], renormalizeLogits: false,
    });
    expect(sequenceLimit(c)).toBe(512);
    expect(sequenceLimit({ ...c, maxNewTokens: 48 })).toBe(49);
  });

  it('refuses what it would not honour, naming the setting', () => {
    const base = { pad_token_id: 1, eos_token_id: 0 };
    expectError(() => parseGenerationConfig('g.json', { do_sample: true }, base), 'E_MODEL_FORMAT', /g\.json: "do_sample": true is not supported/);
    expectError(() => parseGenerationConfig('g.json', { repetition_penalty: 1.2 }, base), 'E_MODEL_FORMAT', /"repetition_penalty": 1.2 is not supported/);
    expectError(() => parseGenerationConfig('g.json', { num_return_sequences: 3, num_beams: 2 }, base), 'E_MODEL_FORMAT', /numReturnSequences must be a whole number from 1 to 2/);
    expectError(() => parseGenerationConfig('g.json', { early_stopping: 'soon' }, base), 'E_MODEL_FORMAT', /"early_stopping" must be true, false or "never"/);
    expectError(() => parseGenerationConfig('g.json', {}, { eos_token_id: 0 }), 'E_MODEL_FORMAT', /"pad_token_id" is missing/);
  });

  it('takes a request\'s overrides: max_length given alone replaces max_new_tokens; bad values are E_BAD_INPUT', () => {
    const c = settings({ maxNewTokens: 48, numBeams: 4 });
    expect(sequenceLimit(withRequest(c, { maxLength: 10 }))).toBe(10);
    expect(sequenceLimit(withRequest(c, { maxNewTokens: 5 }))).toBe(6);
    expect(withRequest(c, { numBeams: 1 }).numBeams).toBe(1);
    expectError(() => withRequest(c, { numBeams: 0 }), 'E_BAD_INPUT', /numBeams must be a whole number from 1 to 64, got 0/);
    expectError(() => withRequest(c, { numReturnSequences: 5 }), 'E_BAD_INPUT', /numReturnSequences must be a whole number from 1 to 4/);
    expectError(() => withRequest(c, { lengthPenalty: Number.NaN }), 'E_BAD_INPUT', /lengthPenalty must be a finite number/);
  });
});

describe('the searches\' shortcuts against the rows written out', () => {
  // greedyChoice and bestContinuations skip writing V log-probabilities per row; the written-out path
  // (log-softmax, processors, + beam score, top-k over K·V, ties to the lower index) is the oracle.
  // Logits on a grid of 1/4 make ties common; a few −∞, banned tokens and multi-token bad words.
  const V = 40;
  const rng = new Rng(2026);
  const row = () => Float32Array.from({ length: V }, () => (rng.next() < 0.05 ? -Infinity : Math.round(rng.next() * 12 - 6) / 4));
  const config = settings({ badWordsIds: [[PAD], [5, 6], [7]], maxNewTokens: 30 });
  const processor = new LogitsProcessor(config, sequenceLimit(config));
  const writtenOut = (logits: Float32Array, k: number, sequence: number[], s: number) => {
    const lp = new Float32Array(V);
    logSoftmaxRow(logits, k * V, V, lp);
    processor.apply(lp, sequence);
    return lp.map((x) => x + s);
  };

  it('greedy: the processed argmax (first on ties) and its float32 log-probability', () => {
    let banned = 0;
    for (let trial = 0; trial < 500; trial++) {
      const logits = row();
      const sequence = [PAD, ...Array.from({ length: rng.int(0, 5) }, () => rng.pick([1, 5, 8]))];
      if (rng.next() < 0.3) logits[rng.pick([PAD, 6, 7])] = 9; // a banned token (or 6, banned only after 5) leads
      const lp = writtenOut(logits, 0, sequence, 0);
      const scores = Float32Array.from(logits);
      processor.apply(scores, sequence);
      const want = argmax(scores);
      const [next, chosen] = greedyChoice(logits, 0, V, processor, sequence, logSumExp(logits, 0, V));
      expect([next, chosen]).toEqual([want, lp[want]]);
      if (processor.bans(argmax(logits), sequence)) banned++;
    }
    expect(banned).toBeGreaterThan(50);
  });

  it('beam search: the same keep best, in the same order, with bit-identical scores; undefined at a forced step', () => {
    const K = 3;
    const keep = 2 * K;
    for (let trial = 0; trial < 300; trial++) {
      const logits = new Float32Array(K * V);
      for (let k = 0; k < K; k++) logits.set(row(), k * V);
      const beams: Beam[] = Array.from({ length: K }, (_, k) => ({
        ids: [PAD, ...Array.from({ length: rng.int(0, 4) }, () => rng.pick([1, 5, 8]))],
        score: k > 0 && trial % 5 === 0 ? -1e9 : Math.fround(-rng.next() * 3),
      }));
      if (trial % 3 === 1) {
        // Near-ties across beams: beam 1 is beam 0 with a score one float32 step higher.
        logits.copyWithin(V, 0, V);
        beams[1]!.ids = [...beams[0]!.ids];
        beams[1]!.score = Math.fround(beams[0]!.score * (1 - 2 ** -23));
      }
      const acc = new Float32Array(K * V);
      beams.forEach((b, k) => acc.set(writtenOut(logits, k, b.ids, b.score), k * V));
      const order = Array.from(acc.keys()).filter((i) => acc[i]! > -Infinity).sort((x, y) => acc[y]! - acc[x]! || x - y).slice(0, keep);
      const logZ = Float64Array.from({ length: K }, (_, k) => logSumExp(logits, k * V, V));
      const got = bestContinuations(logits, 0, K, V, beams, processor, keep, logZ);
      expect(got).toEqual({ index: order, score: order.map((i) => acc[i]!) });
    }
    const atLimit = Array.from({ length: K }, () => ({ ids: new Array<number>(sequenceLimit(config) - 1).fill(1), score: 0 }));
    expect(bestContinuations(new Float32Array(K * V), 0, K, V, atLimit, processor, keep, new Float64Array(K))).toBeUndefined();
  });
});
