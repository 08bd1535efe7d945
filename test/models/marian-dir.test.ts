/**
 * Marian directories as people download them, and what goes wrong with
 * them: config.json's model_type picks the architecture without breaking
 * hibiki's own configs, the content hash covers the tokenizer and generation
 * files, the weight layouts transformers accepts (separate embeddings, an
 * untied lm_head, stored position tables) compute the same thing, and bad
 * directories fail with E_MODEL_FORMAT or E_IO naming the file.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelContentHash, readModelConfig, readModelDir } from '../../src/io/model-dir.js';
import { type SafeTensor, readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { loadModel } from '../../src/models/index.js';
import { loadMarian, marianPositions } from '../../src/models/marian.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectError } from '../helpers/errors.js';
import { MARIAN_DIR, MARIAN_EXPECTED, maxAbsDiff } from './marian-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hibiki-marian-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let copies = 0;
/** A copy of the fixture directory, config.json edited by `edit` when given. */
function copy(edit?: (config: Record<string, unknown>) => void): string {
  const dir = join(tmp, `copy-${copies++}`);
  cpSync(MARIAN_DIR, dir, { recursive: true });
  if (edit) {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  }
  return dir;
}

/** Rewrites a copy's model.safetensors from the fixture's tensors, through `edit`. */
function rewriteWeights(dir: string, edit: (tensors: Map<string, SafeTensor>) => void): void {
  const tensors = new Map(readSafetensors(join(MARIAN_DIR, 'model.safetensors')).tensors);
  edit(tensors);
  writeSafetensors(join(dir, 'model.safetensors'), [...tensors.values()].map(({ name, shape, data }) => ({ name, shape, data })));
}

const CASE = MARIAN_EXPECTED.cases[1]!; // 'Will he not give 23 umbrellas to you next week?'

/** Teacher-forced logits and beam search of one source: what a layout change must not alter. */
function outputs(dir: string) {
  const model = loadMarian(Runtime.create(), dir);
  const [logits] = model.forward([CASE.input_ids], [CASE.teacher_forced_decoder_input_ids]);
  return { logits: logits!, beams: model.generate([CASE.input_ids], { numReturnSequences: 2 })[0]! };
}

describe('Marian directories', () => {
  const reference = outputs(MARIAN_DIR);

  it('reads a Hugging Face config.json by its model_type, and hibiki\'s own configs as before', () => {
    expect(readModelConfig(MARIAN_DIR)).toMatchObject({ architecture: 'marian', model_type: 'marian', architectures: ['MarianMTModel'] });
    expect(readModelDir(MARIAN_DIR).generation).toMatchObject({ num_beams: 4, max_new_tokens: 48 });
    const own = new URL('../fixtures/transformer-post/', import.meta.url).pathname;
    expect(readModelConfig(own).architecture).toBe('transformer');
    expect(readModelDir(own).generation).toBeUndefined();
    expect(loadModel(Runtime.create(), readModelDir(MARIAN_DIR)).architecture).toBe('marian');
  });

  it.each(['t5', 'bart', 'm2m_100'])('refuses model_type %s, naming what is supported', (type) => {
    const dir = copy((c) => { c.model_type = type; });
    expectError(() => readModelConfig(dir), 'E_MODEL_FORMAT', new RegExp(`config\\.json: "model_type" "${type}" is not supported: hibiki runs Hugging Face directories of model_type "marian"`));
  });

  it('refuses a Marian config of another model class (a decoder-only MarianForCausalLM)', () => {
    const dir = copy((c) => { c.architectures = ['MarianForCausalLM']; });
    expectError(() => readModelDir(dir), 'E_MODEL_FORMAT', /"architectures" is \["MarianForCausalLM"\]; hibiki runs model_type "marian" as MarianMTModel/);
  });

  it('hashes every file the output depends on: config, weights, tokenizer, vocabularies, generation settings, nothing else', () => {
    const base = modelContentHash(MARIAN_DIR);
    expect(modelContentHash(copy())).toBe(base);
    for (const file of ['config.json', 'model.safetensors', 'source.spm', 'target.spm', 'vocab.json', 'generation_config.json', 'tokenizer_config.json']) {
      const dir = copy();
      writeFileSync(join(dir, file), Buffer.concat([readFileSync(join(dir, file)), Buffer.from(' ')]));
      expect(modelContentHash(dir), file).not.toBe(base);
    }
    const readme = copy();
    writeFileSync(join(readme, 'README.md'), 'notes');
    expect(modelContentHash(readme)).toBe(base);
    const separate = copy();
    writeFileSync(join(separate, 'target_vocab.json'), readFileSync(join(separate, 'vocab.json')));
    expect(modelContentHash(separate)).not.toBe(base);
  });

  it.each(['source.spm', 'target.spm', 'vocab.json'])('names a missing %s when hashing', (file) => {
    const dir = copy();
    rmSync(join(dir, file));
    expectError(() => modelContentHash(dir), 'E_IO', new RegExp(`cannot read .*${file.replace('.', '\\.')} to hash the model`));
  });

  it('names a missing model.safetensors', () => {
    const dir = copy();
    rmSync(join(dir, 'model.safetensors'));
    expectError(() => readModelDir(dir), 'E_IO', /model\.safetensors/);
  });

  it('computes the same with separate encoder/decoder embeddings and an untied lm_head holding the same table', () => {
    const dir = copy((c) => {
      c.share_encoder_decoder_embeddings = false;
      c.tie_word_embeddings = false;
    });
    rewriteWeights(dir, (t) => {
      const shared = t.get('model.shared.weight')!;
      t.delete('model.shared.weight');
      for (const name of ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight']) t.set(name, { ...shared, name });
    });
    const got = outputs(dir);
    expect(got.logits).toEqual(reference.logits);
    expect(got.beams).toEqual(reference.beams);
  });

  it('uses position tables the checkpoint carries (equal to its own sinusoids here; swapped halves change the output)', () => {
    const { maxPositions, d } = { maxPositions: 256, d: 64 };
    const stored = copy();
    const pe = marianPositions(maxPositions, d);
    rewriteWeights(stored, (t) => {
      for (const stack of ['encoder', 'decoder']) {
        const name = `model.${stack}.embed_positions.weight`;
        t.set(name, { name, dtype: 'F32', shape: [maxPositions, d], data: pe });
      }
    });
    expect(outputs(stored).logits).toEqual(reference.logits);
    const swapped = copy();
    const interleaved = pe.map((_, i) => pe[Math.floor(i / d) * d + ((i % d) + d / 2) % d]!);
    rewriteWeights(swapped, (t) => {
      const name = 'model.encoder.embed_positions.weight';
      t.set(name, { name, dtype: 'F32', shape: [maxPositions, d], data: interleaved });
    });
    expect(maxAbsDiff(outputs(swapped).logits, reference.logits)).toBeGreaterThan(0.1);
  });

  it('treats a missing final_logits_bias as zeros, as transformers does (the fixture\'s is not zero, so the logits move)', () => {
    const dir = copy();
    rewriteWeights(dir, (t) => t.delete('final_logits_bias'));
    const bias = readSafetensors(join(MARIAN_DIR, 'model.safetensors')).get('final_logits_bias').data as Float32Array;
    const got = outputs(dir).logits;
    const V = bias.length;
    expect(maxAbsDiff(got.map((x, i) => x + bias[i % V]!), reference.logits)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got, reference.logits)).toBeGreaterThan(0.01);
  });

  const mismatches: [string, (c: Record<string, unknown>) => void, (t: Map<string, SafeTensor>) => void, RegExp][] = [
    ['a d_model the weights do not have', (c) => { c.d_model = 32; }, () => {}, /model\.encoder\.layers\.0\.self_attn\.q_proj\.weight has shape \[64, 64\], expected \[\*, 32\]/],
    ['a vocabulary size the table does not have', (c) => { c.vocab_size = 700; }, () => {}, /model\.shared\.weight is F32 \[667, 64\], expected a float tensor \[700, 64\]/],
    ['an fc1 of the wrong width', () => {}, (t) => {
      const fc1 = t.get('model.decoder.layers.1.fc1.weight')!;
      t.set(fc1.name, { ...fc1, shape: [64, 128] });
    }, /model\.decoder\.layers\.1\.fc1\.weight has shape \[64, 128\], expected \[128, 64\]/],
    ['a missing layer norm', () => {}, (t) => t.delete('model.encoder.layers.1.final_layer_norm.weight'), /missing tensor "model\.encoder\.layers\.1\.final_layer_norm\.weight"/],
    ['an untied head without lm_head.weight', (c) => { c.tie_word_embeddings = false; }, () => {}, /missing tensor "lm_head\.weight"/],
    ['a final_logits_bias of the wrong size', () => {}, (t) => {
      const b = t.get('final_logits_bias')!;
      t.set(b.name, { ...b, shape: [667, 1] });
    }, /final_logits_bias is F32 \[667, 1\], expected a float tensor \[1, 667\]/],
  ];
  it.each(mismatches)('gives E_MODEL_FORMAT, naming the tensor, for %s', (_, editConfig, editWeights, message) => {
    const dir = copy(editConfig);
    rewriteWeights(dir, editWeights);
    expectError(() => loadMarian(Runtime.create(), dir), 'E_MODEL_FORMAT', message);
  });

  it('refuses generation settings it would not honour, naming them (E_MODEL_FORMAT, from generation_config.json)', () => {
    const dir = copy();
    const path = join(dir, 'generation_config.json');
    const generation = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify({ ...generation, no_repeat_ngram_size: 3 }));
    expectError(() => loadMarian(Runtime.create(), dir), 'E_MODEL_FORMAT', /generation_config\.json: "no_repeat_ngram_size": 3 is not supported/);
  });

  it('falls back to config.json\'s generation fields, with transformers\' defaults, without generation_config.json', () => {
    const dir = copy();
    rmSync(join(dir, 'generation_config.json'));
    const model = loadMarian(Runtime.create(), dir);
    expect(model.generation).toMatchObject({ numBeams: 1, maxLength: 20, decoderStartTokenId: 666, forcedEosTokenIds: [0], badWordsIds: [] });
    expect(model.generate([CASE.input_ids])[0]![0]!.ids).toEqual(CASE.greedy_ids);
  });
});

describe('a Marian directory holding pytorch_model.bin instead of model.safetensors', () => {
  // The same tensors, saved by torch.save (tools/fixtures_marian_bin.py): read without running the pickle (io/pytorch.ts).
  const BIN = new URL('../fixtures/marian/shared-swish.pytorch_model.bin', import.meta.url);

  it('translates exactly as the safetensors directory, and its content hash covers the .bin', () => {
    const dir = copy();
    rmSync(join(dir, 'model.safetensors'));
    cpSync(BIN, join(dir, 'pytorch_model.bin'));
    const fromBin = outputs(dir);
    const reference = outputs(MARIAN_DIR);
    expect(maxAbsDiff(fromBin.logits, reference.logits)).toBe(0);
    expect(fromBin.beams).toEqual(reference.beams);
    const hash = modelContentHash(dir);
    writeFileSync(join(dir, 'pytorch_model.bin'), readFileSync(BIN).subarray(0, 1000));
    expect(modelContentHash(dir)).not.toBe(hash);
    expectError(() => readModelDir(dir), 'E_MODEL_FORMAT', /pytorch_model\.bin/);
  });
});
