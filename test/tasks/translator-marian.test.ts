/**
 * Translator over a Hugging Face Marian (opus-mt) directory, as a user opens
 * the one they downloaded: the texts transformers gives (expected.json of the
 * shared-swish reference directory), with the model's own generation
 * settings by default and the call's options over them, in this thread and
 * on a pool.
 */
import { describe, expect, it } from 'vitest';
import { Translator } from '../../src/tasks/translator.js';
import { MARIAN_DIR, MARIAN_EXPECTED } from '../models/marian-fixture.js';

// A blank line translates to a blank line without running the model (the Translator's rule), so the empty source is left out.
const cases = MARIAN_EXPECTED.cases.filter((c) => c.source.trim() !== '');

describe('Translator on a Marian directory', () => {
  it('gives transformers\' texts: beam 4 from generation_config.json by default, greedy with beam 1, two hypotheses with nBest 2', async () => {
    const translator = await Translator.open(MARIAN_DIR, { workers: 0 });
    expect(MARIAN_EXPECTED.generation.num_beams).toBe(4);
    const sources = cases.map((c) => c.source);
    const byDefault = await translator.translate(sources);
    expect(byDefault.failures).toEqual([]);
    expect(byDefault.translations.map((t) => t!.text)).toEqual(cases.map((c) => c.beam4_texts[0]));
    const greedy = await translator.translate(sources, { beam: 1 });
    expect(greedy.translations.map((t) => t!.text)).toEqual(cases.map((c) => c.greedy_text));
    const two = await translator.translate(sources, { beam: 4, nBest: 2 });
    two.translations.forEach((t, i) => {
      expect(t!.hypotheses.map((h) => h.text)).toEqual(cases[i]!.beam4_texts);
      t!.hypotheses.forEach((h, k) => expect(Math.abs(h.score - cases[i]!.beam4_scores[k]!)).toBeLessThan(1e-4));
    });
    expect(await translator.translate(cases[1]!.source)).toMatchObject({ text: cases[1]!.beam4_texts[0] });
    await translator.close();
  });

  it('gives the same texts on a pool of two workers', async () => {
    const translator = await Translator.open(MARIAN_DIR, { workers: 2 });
    try {
      const { translations } = await translator.translate(cases.map((c) => c.source), { beam: 1 });
      expect(translations.map((t) => t!.text)).toEqual(cases.map((c) => c.greedy_text));
    } finally {
      await translator.close();
    }
  });
});
