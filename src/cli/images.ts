// What the vision commands share: reading the image files given on the
// command line (one bad file fails alone, named by its path) and choosing
// how many workers run them.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { badInput } from '../errors.js';
import { decodeImage } from '../io/image.js';
import type { Image } from '../io/image.js';
import { type ModelDir, readModelConfig } from '../io/model-dir.js';
import { dataError } from './exit.js';

/** --model's config.json, which must be one of `architectures` (`kind` names them: "a detector"); a data error otherwise. */
export function modelConfigOf(dir: string, architectures: readonly string[], kind: string): ModelDir['config'] {
  let config: ModelDir['config'];
  try {
    config = readModelConfig(dir);
  } catch (e) {
    throw dataError('--model', e);
  }
  if (!architectures.includes(config.architecture)) {
    throw badInput(`--model: ${dir} is a ${config.architecture} model, not ${kind} (${architectures.join(', ')})`);
  }
  return config;
}

export interface ReadImages {
  /** The images that decoded, with their index among the paths. */
  images: Array<{ index: number; path: string; image: Image }>;
  /** One message per file that could not be read or decoded. */
  errors: Array<{ index: number; path: string; message: string }>;
}

export function readImages(paths: readonly string[]): ReadImages {
  const out: ReadImages = { images: [], errors: [] };
  paths.forEach((path, index) => {
    try {
      out.images.push({ index, path, image: decodeImage(readFileSync(path), path) });
    } catch (e) {
      out.errors.push({ index, path, message: (e as Error).message });
    }
  });
  return out;
}

/** Workers for `n` images: as asked, else one per core and at most one per image. */
export function workersFor(n: number, workers: number | undefined): number {
  return workers ?? Math.min(n, os.availableParallelism());
}

/** "path: message", unless the message already names the file (decoding errors do). */
export function failureLine(path: string, message: string): string {
  return message.startsWith(path) ? message : `${path}: ${message}`;
}
