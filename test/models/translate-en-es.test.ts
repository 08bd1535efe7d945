/**
 * models/translate-en-es, the default translator: hibiki reads the shipped
 * directory as the PyTorch twin does (test/fixtures/en-es/twin.json, made by
 * tools/train_marian.py --check … --fixture from the same weights), and its
 * score on the general evaluation set is the one models/translate-en-es/quality.json
 * and the README report (tools/translate-quality.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { corpusBleu } from '../../src/metrics/bleu.js';
import { corpusChrf } from '../../src/metrics/chrf.js';
import { DEFAULT_MODELS } from '../../src/tasks/defaults.js';
import { Translator } from '../../src/tasks/translator.js';

const MODEL = fileURLToPath(new URL('../../models/translate-en-es', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/en-es/${name}`, import.meta.url));
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);

const twin = JSON.parse(readFileSync(fixture('twin.json'), 'utf8')) as {
  model_sha256: string; num_beams: number; sources: string[]; input_ids: number[][];
  greedy_ids: number[][]; greedy_texts: string[]; beam_ids: number[][]; beam_texts: string[]; beam_scores: number[];
};
const quality = JSON.parse(readFileSync(`${MODEL}/quality.json`, 'utf8')) as {
  sets: Array<{ set: string; lines: number; hibiki: { bleu: number; chrf: number }; apertium: { bleu: number; chrf: number } }>;
};

describe('models/translate-en-es (the default translator)', () => {
  it('is the default, and the twin fixture was made from the shipped weights', () => {
    expect(DEFAULT_MODELS.translator).toBe(MODEL);
    expect(createHash('sha256').update(readFileSync(`${MODEL}/model.safetensors`)).digest('hex')).toBe(twin.model_sha256);
    expect(twin.sources).toEqual(lines(fixture('general.en')).slice(0, 20));
  });

  it('gives the twin\'s input ids, greedy texts, and beam texts and scores with the directory\'s settings', async () => {
    const translator = await Translator.open(undefined, { workers: 0 });
    try {
      expect(twin.sources.map((s) => translator.encode(s))).toEqual(twin.input_ids);
      const greedy = await translator.translate(twin.sources, { beam: 1 });
      expect(greedy.translations.map((t) => t!.text)).toEqual(twin.greedy_texts);
      const byDefault = await translator.translate(twin.sources);
      expect(byDefault.failures).toEqual([]);
      expect(twin.num_beams).toBe(4);
      expect(byDefault.translations.map((t) => t!.text)).toEqual(twin.beam_texts);
      byDefault.translations.forEach((t, i) => expect(Math.abs(t!.hypotheses[0]!.score - twin.beam_scores[i]!), twin.sources[i]).toBeLessThan(1e-4));
    } finally {
      await translator.close();
    }
  });

  it('scores on the 200 general sentences what quality.json and the README say, Apertium beside it', async () => {
    const sources = lines(fixture('general.en'));
    const references = lines(fixture('general.es'));
    const translator = await Translator.open(undefined, { workers: 2 });
    try {
      const { translations, failures } = await translator.translate(sources);
      expect(failures).toEqual([]);
      const hypotheses = translations.map((t) => t!.text);
      const general = quality.sets.find((s) => s.set === 'general')!;
      expect(general.lines).toBe(200);
      expect(corpusBleu(hypotheses, [references]).score.toFixed(1)).toBe(general.hibiki.bleu.toFixed(1));
      expect(corpusChrf(hypotheses, [references]).score.toFixed(1)).toBe(general.hibiki.chrf.toFixed(1));
      const apertium = lines(fixture('general.apertium.es'));
      expect(corpusBleu(apertium, [references]).score.toFixed(1)).toBe(general.apertium.bleu.toFixed(1));
    } finally {
      await translator.close();
    }
  }, 120_000);
});
