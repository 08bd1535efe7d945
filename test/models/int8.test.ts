import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { corpusBleu } from '../../src/metrics/bleu.js';
import { loadMarian } from '../../src/models/marian.js';
import { isInt8 } from '../../src/runtime/ops/quant.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { kernelBuild } from '../../src/runtime/wasm.js';
import { Generator } from '../../src/tasks/generator.js';
import { Translator } from '../../src/tasks/translator.js';
import { MarianTokenizer } from '../../src/text/marian-tokenizer.js';
import { MARIAN_DIR, MARIAN_EXPECTED } from './marian-fixture.js';

// int8 Linear weights by dynamic quantisation (src/runtime/ops/quant.ts): what changes in the outputs.
describe('int8 translation models', () => {
  it('decodes the transformers Marian fixture greedily to transformers\' ids on ≥ 90 % of its 25 sources', () => {
    const rt = Runtime.create();
    const model = loadMarian(rt, { ...readModelDir(MARIAN_DIR), quantize: 'int8' });
    const tokenizer = MarianTokenizer.load(MARIAN_DIR);
    const layers = model.layout.decoder.flatMap((l) => [l.selfAttention.qkv, l.selfAttention.o, l.crossAttention.q, l.crossAttention.kv, l.ff.linear1]);
    expect(layers.every((l) => isInt8(l.weight))).toBe(true);
    expect(isInt8(model.layout.output.weight)).toBe(true);
    const cases = MARIAN_EXPECTED.cases;
    const same = cases.filter((c) => JSON.stringify(model.generate([tokenizer.encode(c.source)], { numBeams: 1 })[0]![0]!.ids) === JSON.stringify(c.greedy_ids)).length;
    console.log(`int8 (${kernelBuild()} kernels): ${same} of ${cases.length} greedy outputs identical to transformers' float32 ones`);
    expect(same / cases.length).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps the default translator\'s BLEU on the 200 general sentences within 0.5 of float32 (beam 4), in a quarter of the Linear bytes', async () => {
    const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/en-es/${name}`, import.meta.url)), 'utf8').split('\n').slice(0, -1);
    const sources = fixture('general.en');
    const references = fixture('general.es');
    const score = async (quantize?: 'int8') => {
      const translator = await Translator.open(undefined, quantize ? { quantize } : {});
      const { translations } = await translator.translate(sources, { beam: 4 });
      await translator.close();
      return corpusBleu(translations.map((t) => t!.text), [references]).score;
    };
    const [f32, bleu] = [await score(), await score('int8')];
    console.log(`translate-en-es int8 (${kernelBuild()} kernels): general BLEU ${bleu.toFixed(2)} against float32's ${f32.toFixed(2)}`);
    expect(Math.abs(bleu - f32)).toBeLessThanOrEqual(0.5);
  });

  it('runs on a pool as in this thread: the workers attach to the same int8 weights', async () => {
    const lines = ['The file could not be saved.', 'Open the window and close the door.', 'Where is the nearest station?'];
    const here = await Translator.open(undefined, { quantize: 'int8' });
    const pool = await Translator.open(undefined, { quantize: 'int8', workers: 2 });
    const [a, b] = [await here.translate(lines, { beam: 1 }), await pool.translate(lines, { beam: 1 })];
    await Promise.all([here.close(), pool.close()]);
    expect(b.translations.map((t) => t!.text)).toEqual(a.translations.map((t) => t!.text));
    expect(a.translations[0]!.text).toBe('No se pudo guardar el archivo.');
  });

  it('is refused for models without Linear layers to quantise, and for other values', async () => {
    await expect(Generator.open(undefined, { quantize: 'int8' })).rejects.toThrow(/quantize is for translation models, not wavenet/);
    await expect(Translator.open(undefined, { quantize: 'int4' as 'int8' })).rejects.toThrow(/quantize must be "int8", got "int4"/);
  });
});
