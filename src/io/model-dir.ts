import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HibikiError, modelFormat } from '../errors.js';
import { type SafeTensorsFile, readSafetensors } from './safetensors.js';

/** A model on disk: config.json (architecture and hyperparameters) and model.safetensors. */
export interface ModelDir {
  dir: string;
  /** config.json, checked to be an object with an `architecture` string. */
  config: Record<string, unknown> & { architecture: string };
  weights: SafeTensorsFile;
}

/** Reads a model directory; every error names the file and what was wrong. */
export function readModelDir(dir: string): ModelDir {
  return { dir, config: readModelConfig(dir), weights: readSafetensors(join(dir, 'model.safetensors')) };
}

/** The version of hibiki's own model directories (config.json's "format_version", absent in layouts people download). */
export const MODEL_FORMAT_VERSION = 1;

/**
 * Reads only a model directory's config.json: enough to check what a model is before the engine or
 * the pool loads its weights (which they read themselves).
 */
export function readModelConfig(dir: string): ModelDir['config'] {
  const configPath = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read ${configPath}: is "${dir}" a model directory?`, { cause });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (cause) {
    throw modelFormat(configPath, `not valid JSON (${(cause as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw modelFormat(configPath, 'expected a JSON object');
  }
  const architecture = (config as Record<string, unknown>).architecture;
  if (typeof architecture !== 'string') throw modelFormat(configPath, '"architecture" must be a string');
  const version = (config as Record<string, unknown>).format_version;
  if (version !== undefined && version !== MODEL_FORMAT_VERSION) {
    throw modelFormat(configPath, `"format_version" is ${JSON.stringify(version)}; this hibiki reads format ${MODEL_FORMAT_VERSION} (a newer model needs a newer hibiki)`);
  }
  return config as ModelDir['config'];
}

/**
 * A model's identity by content: SHA-256 over config.json, model.safetensors
 * and every file config.json names (tokenizers), so two directories hash
 * equal exactly when they compute the same thing. Jobs sent to other
 * machines carry it; a worker holding different weights refuses them.
 */
export function modelContentHash(dir: string): string {
  const config = readModelConfig(dir);
  const named = Object.values(config).filter((v): v is string => typeof v === 'string' && /\.(spm|model|json|safetensors)$/.test(v));
  const hash = createHash('sha256');
  for (const file of ['config.json', 'model.safetensors', ...new Set(named)]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, file));
    } catch (cause) {
      throw new HibikiError('E_IO', `cannot read ${join(dir, file)} to hash the model`, { cause });
    }
    // The name and length go in too, so files cannot trade bytes unnoticed.
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}
