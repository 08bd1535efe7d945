import { readFileSync } from 'node:fs';
import type { BleuOptions } from '../../src/metrics/bleu.js';
import type { ChrfOptions } from '../../src/metrics/chrf.js';

type Streams = Array<Array<string | null>>;
type Options = Record<string, unknown>;

/** test/fixtures/bleu/sacrebleu_cases.json, written by tools/fixtures_bleu.py from sacreBLEU 2.6.0. */
export interface SacrebleuCases {
  provenance: { sacrebleu: string };
  corpora: Record<string, { hypotheses: string[]; references: Streams }>;
  bleu_corpus: Array<{ corpus: string; options: Options; expected: BleuExpected }>;
  bleu_sentence: Array<{ hypothesis: string; references: Array<string | null>; options: Options; expected: BleuExpected }>;
  chrf_corpus: Array<{ corpus: string; options: Options; expected: { name: string; score: number; signature: string; line: string } }>;
  chrf_sentence: Array<{ hypothesis: string; references: Array<string | null>; options: Options; expected: { score: number } }>;
  tokenizers: Array<{ tokenize: string; lines: string[]; tokens: string[] }>;
  bootstrap: {
    corpus: { hypotheses: string[]; references: Streams };
    cases: Array<{
      metric: 'BLEU' | 'CHRF'; options: Options; n_bootstrap: number; seed: number;
      expected: { score: number; mean: number; ci: number; signature: string; line: string; json: string };
    }>;
    indices: Array<{ seed: number; n: number; indices: number[][] }>;
  };
  cli: Array<{ corpus: string; refs: string[]; sacrebleu_args: string[]; hibiki_args: string[]; stdout: string }>;
}

export interface BleuExpected {
  score: number; counts: number[]; totals: number[]; precisions: number[]; bp: number; ratio: number;
  sys_len: number; ref_len: number; signature: string; line: string; line_signed: string;
}

export const loadJson = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/bleu/${name}`, import.meta.url), 'utf8')) as T;

export const sacrebleuCases = () => loadJson<SacrebleuCases>('sacrebleu_cases.json');

// sacreBLEU keyword → hibiki option; an absent or null value keeps hibiki's default (sacreBLEU's).
const NAMES: Record<string, string> = {
  tokenize: 'tokenize', smooth_method: 'smoothMethod', smooth_value: 'smoothValue', lowercase: 'lowercase',
  effective_order: 'effectiveOrder', max_ngram_order: 'maxNgramOrder', char_order: 'charOrder', word_order: 'wordOrder',
  beta: 'beta', whitespace: 'whitespace', eps_smoothing: 'epsSmoothing',
};

export function hibikiOptions<T extends BleuOptions | ChrfOptions>(options: Options): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'force') continue; // only silences a warning in sacreBLEU
    const name = NAMES[key];
    if (!name) throw new Error(`fixture option ${key} has no hibiki name`);
    if (value !== null) out[name] = value;
  }
  return out as T;
}
