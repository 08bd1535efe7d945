// What the vision commands share: reading the image files given on the
// command line (one bad file fails alone, named by its path) and choosing
// how many workers run them.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { decodeImage } from '../io/image.js';
import type { Image } from '../io/image.js';

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
