import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HibikiError, modelFormat } from '../errors.js';
import { WEIGHT_FILES, type WeightsFile, readWeights } from './weights.js';

/**
 * A model on disk: config.json (architecture and hyperparameters) and its
 * weights. Two layouts are read: hibiki's own (config.json names an
 * "architecture"), and the Hugging Face layout people download (config.json
 * has a "model_type", generation settings may sit in generation_config.json).
 */
export interface ModelDir {
  dir: string;
  /** config.json, checked to be an object with an `architecture` string (for a Hugging Face directory, the one its model_type maps to). */
  config: Record<string, unknown> & { architecture: string };
  /** generation_config.json, when the directory has one (Hugging Face layouts). */
  generation?: Record<string, unknown>;
  /** model.safetensors, or pytorch_model.bin read without running its pickle (io/pytorch.ts). */
  weights: WeightsFile;
  /**
   * 'int8': the loader stores Linear weights quantised per output channel
   * (Transformer and Marian models; see runtime/ops/quant.ts). Chosen by
   * whoever opens the model, not read from the directory.
   */
  quantize?: 'int8';
}

/** Reads a model directory; every error names the file and what was wrong. */
export function readModelDir(dir: string): ModelDir {
  const { config, huggingFace } = readConfig(dir);
  const generationPath = join(dir, GENERATION_CONFIG);
  const generation = huggingFace && existsSync(generationPath) ? readJsonObject(generationPath) : undefined;
  return { dir, config, ...(generation ? { generation } : {}), weights: readWeights(dir) };
}

/** The version of hibiki's own model directories (config.json's "format_version", absent in layouts people download). */
export const MODEL_FORMAT_VERSION = 1;

const GENERATION_CONFIG = 'generation_config.json';

/**
 * The Hugging Face model types hibiki runs: the architecture each maps to,
 * the model classes (config.json's "architectures") it computes, and the
 * files besides config.json and the weights that its output depends on
 * (tokenizers, vocabularies, generation settings), which the content hash
 * covers; `required` ones must be there.
 */
export const HUGGING_FACE_MODEL_TYPES: Readonly<Record<string, { architecture: string; classes: readonly string[]; files: readonly string[]; required: readonly string[] }>> = {
  marian: {
    architecture: 'marian',
    classes: ['MarianMTModel'],
    files: [GENERATION_CONFIG, 'source.spm', 'target.spm', 'vocab.json', 'target_vocab.json', 'tokenizer_config.json'],
    required: ['source.spm', 'target.spm', 'vocab.json'],
  },
};

/** The name of `dir`'s weights file: the first of WEIGHT_FILES there, else model.safetensors (so an error names it). */
function weightsFile(dir: string): string {
  return WEIGHT_FILES.find((name) => existsSync(join(dir, name))) ?? WEIGHT_FILES[0];
}

/** A JSON file holding one object: E_IO naming the file (and `what` it is) when unreadable, E_MODEL_FORMAT when not such JSON. */
export function readJsonObject(path: string, what?: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read ${path}${what ? ` (${what})` : ''}: ${(cause as Error).message}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw modelFormat(path, `not valid JSON (${(cause as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw modelFormat(path, 'expected a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Reads only a model directory's config.json: enough to check what a model is before the engine or
 * the pool loads its weights (which they read themselves). A Hugging Face config.json gets the
 * `architecture` its model_type maps to; an unsupported model_type names those supported.
 */
export function readModelConfig(dir: string): ModelDir['config'] {
  return readConfig(dir).config;
}

/** config.json, and whether it is of the Hugging Face layout (no "architecture", a "model_type"). */
function readConfig(dir: string): { config: ModelDir['config']; huggingFace: boolean } {
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
  const c = config as Record<string, unknown>;
  if (c.architecture === undefined && typeof c.model_type === 'string') return { config: huggingFaceConfig(configPath, c), huggingFace: true };
  if (typeof c.architecture !== 'string') throw modelFormat(configPath, '"architecture" must be a string');
  const version = c.format_version;
  if (version !== undefined && version !== MODEL_FORMAT_VERSION) {
    throw modelFormat(configPath, `"format_version" is ${JSON.stringify(version)}; this hibiki reads format ${MODEL_FORMAT_VERSION} (a newer model needs a newer hibiki)`);
  }
  return { config: config as ModelDir['config'], huggingFace: false };
}

function huggingFaceConfig(configPath: string, c: Record<string, unknown>): ModelDir['config'] {
  const modelType = c.model_type as string;
  const supported = Object.keys(HUGGING_FACE_MODEL_TYPES);
  const known = Object.hasOwn(HUGGING_FACE_MODEL_TYPES, modelType) ? HUGGING_FACE_MODEL_TYPES[modelType]! : undefined;
  if (!known) {
    throw modelFormat(configPath, `"model_type" ${JSON.stringify(modelType)} is not supported: hibiki runs Hugging Face directories of model_type ${supported.map((t) => `"${t}"`).join(', ')}`);
  }
  const classes = c.architectures;
  if (classes !== undefined && !(Array.isArray(classes) && classes.some((name) => known.classes.includes(name)))) {
    throw modelFormat(configPath, `"architectures" is ${JSON.stringify(classes)}; hibiki runs model_type "${modelType}" as ${known.classes.join(' or ')}`);
  }
  return { ...c, architecture: known.architecture };
}

/**
 * A model's identity by content: SHA-256 over config.json, the weights and
 * every file config.json names (tokenizers), or for a Hugging Face directory
 * the files its model type reads (tokenizers, vocabularies, generation
 * settings), so two directories hash equal exactly when they compute the
 * same thing. Jobs sent to other machines carry it; a worker holding
 * different weights refuses them.
 */
export function modelContentHash(dir: string): string {
  const { config, huggingFace } = readConfig(dir);
  const weights = weightsFile(dir);
  let files: string[];
  if (huggingFace) {
    const layout = HUGGING_FACE_MODEL_TYPES[config.model_type as string]!;
    files = layout.files.filter((f) => layout.required.includes(f) || existsSync(join(dir, f)));
  } else {
    files = Object.values(config).filter((v): v is string => typeof v === 'string' && /\.(spm|model|json|safetensors)$/.test(v));
  }
  const hash = createHash('sha256');
  for (const file of ['config.json', weights, ...new Set(files)]) {
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
