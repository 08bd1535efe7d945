// Generation as queue jobs: a job's clips in shards of about `shardSeconds`
// of audio (clips in one shard step together through SGEMM), and a shard's
// clips back as the exact float32 samples the local path writes.
import type { Generator } from '../tasks/generator.js';
import type { GenerateRequest } from '../models/wavenet.js';
import { type QueuedFailure, shardFailures, BadShardError } from './failures.js';

/** One shard: consecutive clips of a job, from clip `first` (0-based) on. */
export interface GenerateShard {
  first: number;
  requests: GenerateRequest[];
}

/** A generation shard's answer: the clips and the failures. */
export interface GenerateShardResult {
  /** Each clip's float32 samples (little-endian) in base64; null where it failed. */
  clips: Array<string | null>;
  failures: QueuedFailure[];
}

/** Consecutive clips, as many per shard as fit in `shardSeconds` of audio (at least one). */
export function planGenerateShards(requests: readonly GenerateRequest[], sampleRate: number, shardSeconds: number): GenerateShard[] {
  const perShard = Math.max(1, Math.floor((shardSeconds * sampleRate) / Math.max(1, requests[0]?.samples ?? 1)));
  const shards: GenerateShard[] = [];
  for (let first = 0; first < requests.length; first += perShard) {
    shards.push({ first, requests: requests.slice(first, first + perShard) });
  }
  return shards;
}

/** Checks a shard read from Redis; the model checks each request's values itself. */
export function checkGenerateShard(data: unknown, where: string): GenerateShard {
  const d = data as Partial<GenerateShard> | null;
  const isObject = (r: unknown) => typeof r === 'object' && r !== null && !Array.isArray(r);
  if (!d || !Number.isSafeInteger(d.first) || (d.first as number) < 0) throw new BadShardError(`${where}: "first" must be a clip index`);
  if (!Array.isArray(d.requests) || d.requests.length === 0 || !d.requests.every(isObject)) {
    throw new BadShardError(`${where}: "requests" must be a non-empty array of generation requests`);
  }
  return d as GenerateShard;
}

export async function generateShard(
  generator: Generator, shard: GenerateShard, progress: (clipsDone: number) => void,
): Promise<GenerateShardResult> {
  const result = await generator.run(shard.requests, { onProgress: (p) => progress(p.done) });
  return {
    clips: result.clips.map((c) => (c ? Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('base64') : null)),
    failures: shardFailures(result.failures, (i) => `clip ${shard.first + i + 1}`),
  };
}

/** A clip as generateShard sent it. */
export function decodeClip(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const clip = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(clip.buffer).set(bytes);
  return clip;
}
