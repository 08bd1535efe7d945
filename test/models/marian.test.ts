/**
 * Marian against transformers 5.17 (test/fixtures/marian/shared-swish: a
 * 2 + 2-layer opus-mt-layout model, swish, shared vocabulary, non-zero
 * final_logits_bias; expected.json made by transformers, see its README):
 * encoder output, teacher-forced logits, greedy and beam-4 top-2 ids, scores
 * and texts for 25 sources, and a batch of 8 decoded together.
 */
import { inProcessAndOnPool } from '../helpers/engines.js';
import { describe, expect, it } from 'vitest';
import { padSequences } from '../../src/decode/hf-beam.js';
import { readModelDir } from '../../src/io/model-dir.js';
import { loadMarian, marianPositions, parseMarianConfig } from '../../src/models/marian.js';
import { unpackHypotheses } from '../../src/models/transformer.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { MarianTokenizer } from '../../src/text/marian-tokenizer.js';
import { MARIAN_DIR, MARIAN_EXPECTED, maxAbsDiff } from './marian-fixture.js';

/** The index of each row's largest value (the first on ties) and that value. */
function rowArgmax(logits: Float32Array, V: number): { argmax: number[]; max: number[] } {
  const argmax: number[] = [];
  const max: number[] = [];
  for (let t = 0; t < logits.length / V; t++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[t * V + v]! > logits[t * V + best]!) best = v;
    argmax.push(best);
    max.push(logits[t * V + best]!);
  }
  return { argmax, max };
}

const { cases } = MARIAN_EXPECTED;

describe('Marian (shared-swish) against transformers', () => {
  const rt = Runtime.create();
  const model = loadMarian(rt, MARIAN_DIR);
  const tokenizer = MarianTokenizer.load(MARIAN_DIR);
  const V = model.config.targetVocab;

  it('reads config.json and generation_config.json as transformers does', () => {
    expect(model.config).toMatchObject({
      vocabSize: 667, targetVocab: 667, d: 64, encoderLayers: 2, decoderLayers: 2, encoderHeads: 4, decoderHeads: 4,
      encoderFFN: 128, decoderFFN: 128, activation: 'silu', scaleEmbedding: true, maxPositions: 256,
      shareEmbeddings: true, tieWordEmbeddings: true, padId: 666, eosId: 0, decoderStartId: 666,
    });
    expect(model.generation).toMatchObject({
      decoderStartTokenId: 666, eosTokenIds: [0], padTokenId: 666, maxNewTokens: 48, numBeams: 4, lengthPenalty: 1,
      earlyStopping: false, numReturnSequences: 1, badWordsIds: [[666]], forcedEosTokenIds: [0], renormalizeLogits: false,
    });
  });

  it('keeps its weights as plain data a worker can be sent', () => {
    expect(structuredClone(model.layout)).toEqual(model.layout);
  });

  it('gives the encoder\'s first output row of every source', () => {
    let worst = 0;
    for (const c of cases) {
      rt.scope(() => {
        const encoded = model.encode([c.input_ids]);
        worst = Math.max(worst, maxAbsDiff(encoded.memory.rows(0, 1).data, c.encoder_last_hidden_first_row));
      });
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives the teacher-forced logits, whole-sequence and one step at a time: first 3 rows within 1e-4, every row\'s argmax and max', () => {
    let worst = 0;
    for (const c of cases) {
      const target = c.teacher_forced_decoder_input_ids;
      const [whole] = model.forward([c.input_ids], [target]);
      const incremental = model.logits(c.input_ids, target);
      for (const logits of [whole!, incremental]) {
        c.teacher_forced_logits_first3.forEach((row, t) => { worst = Math.max(worst, maxAbsDiff(logits.subarray(t * V, (t + 1) * V), row)); });
        const { argmax, max } = rowArgmax(logits, V);
        expect(argmax, c.source).toEqual(c.teacher_forced_logits_argmax);
        worst = Math.max(worst, maxAbsDiff(max, c.teacher_forced_logits_rowmax));
      }
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('decodes greedily to transformers\' ids and text for all 25 sources (two of them to the length limit, ended by the forced eos)', () => {
    const atLimit = cases.filter((c) => c.greedy_ids.length === MARIAN_EXPECTED.generation.max_new_tokens + 1);
    expect(atLimit.length).toBeGreaterThanOrEqual(2);
    for (const c of cases) {
      const greedy = model.generate([tokenizer.encode(c.source)], { numBeams: 1 })[0]![0]!;
      expect(greedy.ids, c.source).toEqual(c.greedy_ids);
      expect(tokenizer.decode(greedy.ids)).toBe(c.greedy_text);
    }
  });

  it('beam search (4 beams, top 2): the ids, sequences_scores within 1e-4 and texts of all 25 sources', () => {
    let worst = 0;
    for (const c of cases) {
      const [hyps] = model.generate([c.input_ids], { numBeams: 4, numReturnSequences: 2 });
      expect(padSequences(hyps!.map((h) => h.ids), MARIAN_EXPECTED.pad_token_id), c.source).toEqual(c.beam4_ids);
      worst = Math.max(worst, maxAbsDiff(hyps!.map((h) => h.score), c.beam4_scores));
      expect(hyps!.map((h) => tokenizer.decode(h.ids))).toEqual(c.beam4_texts);
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('decodes the batch of 8 together with the directory\'s settings (beam 4) to transformers\' padded ids and texts', () => {
    const batch = MARIAN_EXPECTED.batched_beam4_first8;
    const sequences = model.generate(batch.sources.map((s) => tokenizer.encode(s)));
    expect(sequences.every((hyps) => hyps.length === 1)).toBe(true);
    expect(padSequences(sequences.map(([h]) => h!.ids), MARIAN_EXPECTED.pad_token_id)).toEqual(batch.ids);
    expect(sequences.map(([h]) => tokenizer.decode(h!.ids))).toEqual(batch.texts);
  });

  it('runs as the pool\'s batch model from the directory as downloaded, in process and on two workers: the same tokens as generate', async () => {
    const items = cases.slice(0, 6).map((c) => ({ source: c.input_ids, numBeams: 4, numReturnSequences: 2 }));
    // The same sentences as text: the model tokenizes them where it runs and gives transformers' texts back.
    const texts = cases.slice(0, 6).map((c) => ({ text: c.source, numBeams: 4, numReturnSequences: 2 }));
    const bad = [{ source: [1, 2, 667] }, { source: [5, 0], numBeams: 2, numReturnSequences: 3 }, { text: 42 }];
    for (const result of await inProcessAndOnPool(MARIAN_DIR, [...items, ...texts, ...bad])) {
      items.forEach((item, i) => {
        const hyps = unpackHypotheses(result.outputs[i]!);
        const want = model.generate([item.source], item)[0]!;
        expect(hyps.map((h) => h.tokens)).toEqual(want.map((s) => s.ids.slice(1, -1)));
        expect(maxAbsDiff(hyps.map((h) => h.score), cases[i]!.beam4_scores)).toBeLessThan(1e-4);
        expect(hyps.every((h) => h.text === undefined)).toBe(true);
        const fromText = unpackHypotheses(result.outputs[items.length + i]!);
        expect(fromText.map((h) => h.tokens)).toEqual(hyps.map((h) => h.tokens));
        expect(fromText.map((h) => h.text)).toEqual(cases[i]!.beam4_texts);
      });
      expect(result.failures.map((f) => [f.index, f.error.code])).toEqual([12, 13, 14].map((i) => [i, 'E_BAD_INPUT']));
      expect(result.failures[0]!.error.message).toMatch(/token 2 is 667, not an id below 667/);
      expect(result.failures[1]!.error.message).toMatch(/numReturnSequences must be a whole number from 1 to 2/);
      expect(result.failures[2]!.error.message).toMatch(/^item 15: expected \{ source: token ids, … \} or \{ text: a line, … \}$/);
    }
  });
});

describe('Marian positions and weight layouts', () => {
  it('lays the sinusoids out as Marian does: sines in the first half, cosines in the second, from position 0', () => {
    const d = 6;
    const pe = marianPositions(3, d);
    expect(Array.from(pe.subarray(0, d))).toEqual([0, 0, 0, 1, 1, 1]);
    const angles = [0, 1, 2].map((j) => 2 / 10000 ** ((2 * j) / d));
    expect(Array.from(pe.subarray(2 * d, 3 * d))).toEqual([...angles.map(Math.sin), ...angles.map(Math.cos)].map(Math.fround));
    // An odd width gives the sines the extra column, as transformers' sentinel does.
    const odd = marianPositions(2, 5);
    const oddAngles = [0, 1, 2].map((j) => 1 / 10000 ** ((2 * j) / 5));
    expect(Array.from(odd.subarray(5))).toEqual([...oddAngles.map(Math.sin), ...oddAngles.slice(0, 2).map(Math.cos)].map(Math.fround));
  });

  it('refuses settings of other architectures and values it does not run, naming them', () => {
    const base = readModelDir(MARIAN_DIR).config;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, normalize_before: true }, /"normalize_before": true is not supported \(Marian is post-norm/],
      [{ ...base, activation_function: 'gelu_new' }, /"activation_function" "gelu_new" is not supported \(supported: swish, silu, relu, gelu/],
      [{ ...base, d_model: 66 }, /"d_model" 66 is not divisible by "encoder_attention_heads" 4/],
      [{ ...base, vocab_size: 0 }, /"vocab_size" must be a positive integer/],
      [{ ...base, decoder_start_token_id: 667 }, /"decoder_start_token_id" must be a token id below the vocabulary size 667/],
      [{ ...base, share_encoder_decoder_embeddings: 'yes' }, /"share_encoder_decoder_embeddings" must be true or false/],
    ];
    for (const [config, message] of cases) {
      let error: unknown;
      try {
        parseMarianConfig('config.json', config);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(message) });
    }
  });
});
