/**
 * Every default a user meets without asking, defined once: the shipped
 * models each task and command opens, and the limits on one request. The
 * CLI, the server and the queue read them from here.
 */
import { fileURLToPath } from 'node:url';

export { MAX_SECONDS, MAX_TEMPERATURE } from '../models/wavenet.js';

/**
 * A shipped model directory, as a file path. fileURLToPath, not URL.pathname:
 * an install path with a space or a non-ASCII character stays readable.
 */
const shipped = (name: string) => fileURLToPath(new URL(`../../models/${name}`, import.meta.url));

/** The shipped model each task class and command opens by default. */
export const DEFAULT_MODELS = {
  generator: shipped('wavenet-piano'),
  translator: shipped('translate-en-es'),
  detector: shipped('face-detector'),
  classifier: shipped('digits-densenet'),
  segmenter: shipped('shapes-unet'),
} as const;

/** The default WaveNet (models/wavenet-piano), under the name earlier releases exported. */
export const DEFAULT_WAVENET = DEFAULT_MODELS.generator;

/** What one HTTP request to `hibiki serve` may ask for, unless its flags say otherwise. */
export const SERVE_LIMITS = { bodyBytes: 16 * 2 ** 20, texts: 256, charsPerText: 2000, seconds: 30, imagePixels: 40_000_000 } as const;

/** Generation defaults: sampling temperature (0 = greedy) and the first clip's seed. */
export const GENERATE_DEFAULTS = { temperature: 0.9, seed: 1, count: 1, maxCount: 1000 } as const;
