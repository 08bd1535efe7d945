/**
 * The Marian reference directory (test/fixtures/marian/shared-swish, see its
 * README: made by transformers 5.17) and what expected.json holds, for the
 * Marian tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const MARIAN_DIR = join(import.meta.dirname, '..', 'fixtures', 'marian', 'shared-swish');

export interface MarianCase {
  source: string;
  input_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
  beam4_ids: number[][];
  beam4_scores: number[];
  beam4_texts: string[];
  teacher_forced_decoder_input_ids: number[];
  teacher_forced_logits_first3: number[][];
  teacher_forced_logits_argmax: number[];
  teacher_forced_logits_rowmax: number[];
  encoder_last_hidden_first_row: number[];
}

export const MARIAN_EXPECTED = JSON.parse(readFileSync(join(MARIAN_DIR, 'expected.json'), 'utf8')) as {
  generation: { num_beams: number; max_new_tokens: number };
  pad_token_id: number;
  cases: MarianCase[];
  batched_beam4_first8: { sources: string[]; ids: number[][]; texts: string[] };
};

/** The largest |got − want|. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

