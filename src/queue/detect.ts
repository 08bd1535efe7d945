// Detection as queue jobs: image files travel as their encoded bytes (the
// workers decode them, not the submitting process), boxes come back.
import { type DetectOptions, type DetectedObject, Detector } from '../tasks/vision.js';
import { type QueuedFailure, shardFailures, BadShardError } from './failures.js';

/** A detection shard on the queue: consecutive image files and the options to detect with. */
export interface DetectShard {
  /** The first image's index in the job. */
  first: number;
  /** Each image file's bytes (PNG or JPEG) in base64. */
  images: string[];
  options: Pick<DetectOptions, 'score' | 'iou' | 'maxResults'>;
}

/** A detection shard's answer: the objects per image (null where an image failed) and the failures. */
export interface DetectShardResult {
  detections: Array<DetectedObject[] | null>;
  failures: QueuedFailure[];
}

/** Consecutive images, `perShard` at a time. */
export function planDetectShards(files: readonly Uint8Array[], perShard: number, options: DetectShard['options']): DetectShard[] {
  const shards: DetectShard[] = [];
  for (let first = 0; first < files.length; first += perShard) {
    const images = files.slice(first, first + perShard).map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64'));
    shards.push({ first, images, options });
  }
  return shards;
}

export function checkDetectShard(data: unknown, where: string): DetectShard {
  const d = data as Partial<DetectShard> | null;
  const o = d?.options as Record<string, unknown> | undefined;
  const bad = (what: string) => new BadShardError(`${where}: ${what}`);
  if (!d || !Number.isSafeInteger(d.first) || (d.first as number) < 0) throw bad('"first" must be an image index');
  if (!Array.isArray(d.images) || d.images.length === 0 || !d.images.every((i) => typeof i === 'string')) {
    throw bad('"images" must be a non-empty array of base64 strings');
  }
  const optional = (v: unknown, lo: number, hi: number) => v === undefined || v === null || (typeof v === 'number' && v >= lo && v <= hi);
  if (!o || typeof o !== 'object' || !optional(o.score, 0, 1) || !optional(o.iou, 0, 1) || !optional(o.maxResults, 1, 100000)) {
    throw bad('"options" may hold score 0–1, iou 0–1 and maxResults 1–100000');
  }
  return d as DetectShard;
}

export async function detectShard(detector: Detector, shard: DetectShard, progress: (done: number) => void): Promise<DetectShardResult> {
  const images = shard.images.map((b) => new Uint8Array(Buffer.from(b, 'base64')));
  const { score, iou, maxResults } = shard.options;
  const result = await detector.detect(images, {
    score: score ?? undefined, iou: iou ?? undefined, maxResults: maxResults ?? undefined, onProgress: (p) => progress(p.done),
  });
  return {
    detections: result.results.map((r) => r ?? null),
    failures: shardFailures(result.failures, (i) => `image ${shard.first + i + 1}`),
  };
}
