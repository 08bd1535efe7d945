/**
 * Configs that used to be accepted and then misbehaved: a U-Net palette
 * shorter than its classes gave all-black masks silently, and a
 * `format_version` from the future was read as if it were ours.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MODEL_FORMAT_VERSION, readModelConfig } from '../../src/io/model-dir.js';
import { Segmenter } from '../../src/tasks/vision.js';
import { expectError, expectRejection } from '../helpers/errors.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

/** A copy of a shipped model with its config.json changed by `edit`. */
function edited(model: string, edit: (config: Record<string, unknown>) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'hibiki-config-')), model);
  cpSync(join(MODELS, model), dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('config.json is validated whole', () => {
  it('every shipped model carries the format version this hibiki reads', () => {
    for (const model of ['wavenet-piano', 'translate-en-ja', 'face-detector', 'digits-densenet', 'shapes-unet']) {
      expect(readModelConfig(join(MODELS, model)).format_version, model).toBe(MODEL_FORMAT_VERSION);
    }
  });

  it('refuses a format_version it does not know, saying a newer hibiki is needed', () => {
    const dir = edited('shapes-unet', (c) => { c.format_version = 99; });
    expectError(() => readModelConfig(dir), 'E_MODEL_FORMAT', /config\.json: "format_version" is 99; this hibiki reads format 1 \(a newer model needs a newer hibiki\)$/);
  });

  it.each([
    ['shorter than the classes', (p: number[][]) => p.slice(0, 2)],
    ['with a colour out of 0–255', (p: number[][]) => p.map((c, i) => (i === 1 ? [256, 0, 0] : c))],
    ['with a colour of two channels', (p: number[][]) => p.map((c, i) => (i === 3 ? c.slice(0, 2) : c))],
  ])('refuses a segmentation palette %s', async (_, change) => {
    const dir = edited('shapes-unet', (c) => { c.palette = change(c.palette as number[][]); });
    await expectRejection(() => Segmenter.open(dir), 'E_MODEL_FORMAT', /config\.json: "palette" must list 4 colours \(one \[r, g, b\] of 0–255 per class\)/);
  });
});
