// What the vision commands share: reading the image files given on the
// command line (one bad file fails alone) and running them through the
// engine in process or across the worker pool.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { decodeImage } from '../io/image.js';
import type { Image } from '../io/image.js';
import { Engine } from '../pool/engine.js';
import type { RunResult } from '../pool/job.js';
import { Pool } from '../pool/pool.js';

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

/** Runs the images through `model`: in process with 0 workers, else on a pool (default: one worker per core, at most one per image). */
export async function runImages(model: string, images: readonly Image[], workers: number | undefined): Promise<RunResult> {
  const n = workers ?? Math.min(images.length, os.availableParallelism());
  if (n === 0) return Engine.open(model).run(images);
  const pool = await Pool.open(model, { workers: n });
  try {
    return await pool.run(images);
  } finally {
    await pool.close();
  }
}

/** "path: message", unless the message already names the file (decoding errors do). */
export function failureLine(path: string, message: string): string {
  return message.startsWith(path) ? message : `${path}: ${message}`;
}
