/**
 * A model's weights, whichever file holds them: Hugging Face directories ship
 * `model.safetensors` or PyTorch's `pytorch_model.bin`, and loaders take either.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HibikiError, modelFormat } from '../errors.js';
import { readPytorchBin } from './pytorch.js';
import { type SafeTensor, readSafetensors } from './safetensors.js';

/**
 * Named tensors read from a weights file. SafeTensorsFile is one; a
 * pytorch_model.bin reads into the same shape, so every loader that takes a
 * SafeTensorsFile takes either.
 */
export interface WeightsFile {
  /** Path or label used in error messages. */
  readonly file: string;
  /** Every tensor in the file's order, decoded (see SafeTensor). */
  readonly tensors: Map<string, SafeTensor>;
  /** safetensors' `__metadata__` strings; empty for pytorch_model.bin. */
  readonly metadata: Record<string, string>;
  /** The tensor called `name`; E_MODEL_FORMAT naming the file and tensor if absent. */
  get(name: string): SafeTensor;
  /** The values of float tensor `name` of `shape`, all finite; E_MODEL_FORMAT naming the tensor and `source` otherwise. */
  floats(name: string, shape: readonly number[], source?: string): Float32Array;
}

/** The weight files a model directory may hold, in the order they are looked for. */
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

/**
 * Reads `dir`'s weights: model.safetensors if present, else pytorch_model.bin. E_IO naming
 * both when neither is there; a sharded checkpoint (only its index) is E_MODEL_FORMAT.
 */
export function readWeights(dir: string): WeightsFile {
  const [safetensors, bin] = WEIGHT_FILES.map((name) => join(dir, name)) as [string, string];
  if (existsSync(safetensors)) return readSafetensors(safetensors);
  if (existsSync(bin)) return readPytorchBin(bin);
  for (const index of WEIGHT_FILES.map((name) => join(dir, `${name}.index.json`))) {
    if (existsSync(index)) throw modelFormat(index, 'sharded checkpoints are not read yet: merge the shards into one model.safetensors');
  }
  throw new HibikiError('E_IO', `${dir}: no weights: neither ${WEIGHT_FILES.join(' nor ')} is there`);
}
