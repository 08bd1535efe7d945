import { inProcessAndOnPool } from '../helpers/engines.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { loadTransformer, parseTransformerConfig, unpackHypotheses } from '../../src/models/transformer.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { expectError } from '../helpers/errors.js';

interface Parity {
  sources: number[][];
  max_lengths: number[];
  pairs: { source: number; target: number[]; logits: number[] }[];
  greedy: { tokens: number[]; logprob: number }[];
  beam: { tokens: number[]; logprob: number; score: number }[][];
}

export function openTransformer(name: string) {
  const dir = new URL(`../fixtures/${name}/`, import.meta.url).pathname;
  const rt = Runtime.create();
  const model = loadTransformer(rt, readModelDir(dir));
  const parity = JSON.parse(readFileSync(`${dir}/parity.json`, 'utf8')) as Parity;
  return { rt, model, parity };
}

for (const name of ['transformer-post', 'transformer-pre']) {
  describe(name, () => {
    const { rt, model, parity } = openTransformer(name);
    const maxLength = (b: number) => parity.max_lengths[b]!;

    it('keeps its weights as plain data a worker can be sent', () => {
      expect(structuredClone(model.layout)).toEqual(model.layout);
    });

    it('decodes a step in the state’s own buffers, allocating no linear memory, and reorders rows between steps', () => {
      rt.scope(() => {
        const [s0, s1] = parity.sources;
        const encoded = model.encode([s0!, s1!]);
        const state = model.startDecoder([1, 1], 6); // two beams of sentence 1
        const used = rt.heap.used;
        const { bosId } = model.config;
        const rows: Float32Array[][] = [];
        for (let t = 0; t < 6; t++) {
          if (t === 3) model.reorder(state, [1, 1]); // both rows now continue sentence 1's row
          model.step(encoded, state, t < 3 ? [bosId, bosId + 1] : [bosId + 2, bosId + 2]);
          const V = model.config.tgtVocab;
          rows.push([state.logits.data.slice(0, V), state.logits.data.slice(V)]);
          expect(rt.heap.used, `step ${t}`).toBe(used);
        }
        // Row 0 took row 1's cache at step 3; fed the same tokens from then on, the two rows agree bit for bit.
        for (let t = 3; t < 6; t++) expect(rows[t]![0]).toEqual(rows[t]![1]);
        expect(rows[2]![0]).not.toEqual(rows[2]![1]);
      });
    });

    it('gives PyTorch’s teacher-forced logits, one incremental step at a time', () => {
      for (const pair of parity.pairs) {
        expectClose(model.logits(parity.sources[pair.source]!, pair.target), Float32Array.from(pair.logits), 1e-4);
      }
    });

    it('gives the same logits decoding every position at once, for a batch of unequal sentences', () => {
      const got = model.forward(parity.pairs.map((p) => parity.sources[p.source]!), parity.pairs.map((p) => p.target));
      expect(new Set(parity.pairs.map((p) => p.target.length)).size).toBeGreaterThan(1);
      parity.pairs.forEach((pair, i) => expectClose(got[i]!, Float32Array.from(pair.logits), 1e-4));
    });

    it('decodes greedily to PyTorch’s tokens, batched over unequal lengths', () => {
      const got = parity.sources.map((s, b) => model.search([s], { maxLength: maxLength(b) })[0]![0]!);
      got.forEach((h, b) => {
        expect(h.tokens, `sentence ${b}`).toEqual(parity.greedy[b]!.tokens);
        expect(h.logprob).toBeCloseTo(parity.greedy[b]!.logprob, 4);
      });
    });

    it('beam-searches (beam 3, 2-best) to PyTorch’s hypotheses and scores', () => {
      parity.sources.forEach((s, b) => {
        const got = model.search([s], { beam: 3, nBest: 2, lengthPenalty: 1, maxLength: maxLength(b) })[0]!;
        expect(got.map((h) => h.tokens), `sentence ${b}`).toEqual(parity.beam[b]!.map((h) => h.tokens));
        got.forEach((h, i) => expect(h.score).toBeCloseTo(parity.beam[b]![i]!.score, 4));
      });
    });

    it('translates a sentence bit-identically alone and inside any batch', () => {
      for (const request of [{}, { beam: 3, nBest: 2 }]) {
        const alone = parity.sources.map((s) => model.search([s], request)[0]);
        expect(model.search(parity.sources, request)).toEqual(alone);
        const reversed = [...parity.sources].reverse();
        expect(model.search(reversed, request)).toEqual([...alone].reverse());
      }
    });
  });
}

describe('transformer config.json', () => {
  const base = { src_vocab_size: 10, tgt_vocab_size: 12, bos_id: 1, eos_id: 2, pad_id: 3 };
  it('fills the paper’s base model where the file is silent', () => {
    const c = parseTransformerConfig('config.json', base);
    expect([c.d, c.heads, c.dFF, c.encoderLayers, c.decoderLayers, c.norm, c.positions, c.tieOutput]).toEqual([512, 8, 2048, 6, 6, 'post', 'sinusoidal', true]);
  });
  it('names the field that is wrong', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base, src_vocab_size: undefined }, /config\.json: "src_vocab_size" must be a whole number from 1 to 1048576, got undefined/],
      [{ ...base, max_positions: 1e9 }, /config\.json: "max_positions" must be a whole number from 1 to 65536, got 1000000000/],
      [{ ...base, d_model: 8192, heads: 8, max_positions: 65536 }, /config\.json: its embedding and position tables alone would take 4\.\d GiB/],
      [{ ...base, d_model: 30, heads: 4 }, /"d_model" 30 is not divisible by "heads" 4/],
      [{ ...base, norm: 'sandwich' }, /"norm" must be one of "post", "pre", got "sandwich"/],
      [{ ...base, eos_id: 12 }, /"eos_id" must be a token id below the vocabulary size 12, got 12/],
      [{ ...base, source_tokenizer: '../etc/passwd' }, /"source_tokenizer" must be a file name in the model directory/],
    ];
    for (const [config, message] of cases) expectError(() => parseTransformerConfig('config.json', config), 'E_MODEL_FORMAT', message);
  });
});

describe('transformer jobs (Engine and Pool)', () => {
  const dir = new URL('../fixtures/transformer-pre/', import.meta.url).pathname;
  const { parity } = openTransformer('transformer-pre');
  const items = parity.sources.map((source, b) => ({ source, beam: 3, nBest: 2, maxLength: parity.max_lengths[b] }));

  it('runs sentences as pool items: the same hypotheses in process and on two workers, bad items fail alone', async () => {
    const bad = [{ source: [1, 2, 999] }, { source: [] }, { source: [5, 2], beam: 2, nBest: 3 }, { text: 'not ids' }];
    for (const result of await inProcessAndOnPool(dir, [...items, ...bad])) {
      items.forEach((_, b) => {
        const hyps = unpackHypotheses(result.outputs[b]!);
        expect(hyps.map((h) => h.tokens)).toEqual(parity.beam[b]!.map((h) => h.tokens));
      });
      expect(result.failures.map((f) => [f.index, f.error.code])).toEqual([5, 6, 7, 8].map((i) => [i, 'E_BAD_INPUT']));
      expect(result.failures[0]!.error.message).toMatch(/token 2 is 999, not an id below 37/);
      expect(result.failures[1]!.error.message).toMatch(/0 tokens; the model takes 1 to 40/);
      expect(result.failures[2]!.error.message).toMatch(/nBest must be from 1 to the beam size/);
      // This directory names no tokenizers: a line of text fails alone, in the worker that found it out.
      expect(result.failures[3]!.error.message).toMatch(/a line of text needs the model directory's tokenizers \(.*"source_tokenizer" and "target_tokenizer" must name the SentencePiece models\)/);
    }
  });
});
