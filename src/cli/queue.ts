// What `translate`, `generate` and `detect` share when given --queue: the
// job's key, the progress bar over the queue's events, and the per-item view
// of shard results (a failed shard fails each of its items).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { modelContentHash } from '../io/model-dir.js';
import type { QueuedFailure } from '../queue/failures.js';
import type { QueueKind } from '../queue/producer.js';
import { parseQueueUrl } from '../queue/url.js';
import { dataError, usage } from './exit.js';
import { progressBar } from './progress.js';

/** The --queue flag, checked: its URL, undefined without the flag, or a usage error (exit code 2). */
export function queueFlag(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  try {
    return parseQueueUrl(text);
  } catch (e) {
    return usage((e as Error).message);
  }
}

export interface QueuedJob<D extends { first: number }, R, X> {
  url: URL;
  kind: QueueKind;
  modelDir: string;
  attempts: number;
  /** What the items are called in the progress bar and messages ("lines", "clips", "images"). */
  unit: string;
  /** Everything besides the input and the model that changes the output (options, shard size). */
  options: unknown;
  /** The input, as hashed into the job's id. */
  content: ReadonlyArray<string | Uint8Array>;
  shards: D[];
  sizeOf: (shard: D) => number;
  unpack: (result: R) => { outputs: Array<X | null>; failures: QueuedFailure[] };
  /** --quiet: no progress bar. */
  quiet?: boolean;
}

export interface QueuedOutcome<X> {
  /** Per item of the whole job, in order; undefined where it failed. */
  outputs: Array<X | undefined>;
  /** Items the model refused, by index in the whole job. */
  failures: Array<{ index: number; message: string }>;
  /** One line per shard that failed after its last attempt, naming its items. */
  failedShards: string[];
  /** Items without an output: refused ones and those of failed shards. */
  failed: number;
  /** Deletes the job's shards from Redis: only once the output is written. */
  remove: () => Promise<void>;
}

/** Runs the shards on the queue's workers and maps their results back to the job's items. */
export async function runQueuedJob<D extends { first: number }, R, X>(job: QueuedJob<D, R, X>): Promise<QueuedOutcome<X>> {
  let model: string;
  try {
    model = modelContentHash(job.modelDir);
  } catch (e) {
    throw dataError('--model', e);
  }
  const hash = createHash('sha256').update(JSON.stringify({ hibiki: 1, kind: job.kind, model, options: job.options }));
  for (const part of job.content) hash.update(typeof part === 'string' ? `${part.length}\0${part}` : part);
  const items = job.shards.reduce((n, s) => n + job.sizeOf(s), 0);
  const bar = progressBar(`{bar} {percentage}% | {value}/{total} ${job.unit} | {shards} shards | ETA {eta_formatted}`, job.quiet);
  bar.start(items, 0, { shards: `0/${job.shards.length}` });
  let run;
  try {
    // The queue's packages load only when a job goes on a queue.
    const { runOnQueue } = await import('../queue/producer.js');
    run = await runOnQueue<D, R>({
      url: job.url, kind: job.kind, jobKey: hash.digest('hex'), model, modelName: basename(job.modelDir), attempts: job.attempts,
      onProgress: (p) => bar.update(p.itemsDone, { shards: `${p.shardsDone}/${p.shards}` }),
      log: (line) => process.stderr.write(`\n${line}\n`),
    }, job.shards.map((data) => ({ data, items: job.sizeOf(data) })));
  } finally {
    bar.stop();
  }
  const outputs: Array<X | undefined> = new Array(items).fill(undefined);
  const failures: QueuedOutcome<X>['failures'] = [];
  let failed = 0;
  const failedShards = run.failures.map((f) => {
    const shard = job.shards[f.shard]!;
    const size = job.sizeOf(shard);
    failed += size;
    return `${job.unit} ${shard.first + 1}–${shard.first + size} (shard ${f.shard + 1} of ${job.shards.length}) ` +
      `failed after ${f.attempts} attempt(s): ${f.reason}`;
  });
  run.results.forEach((result, s) => {
    if (result === undefined) return;
    const { first } = job.shards[s]!;
    const { outputs: shardOutputs, failures: shardFailures } = job.unpack(result);
    shardOutputs.forEach((x, k) => (outputs[first + k] = x ?? undefined));
    for (const f of shardFailures) failures.push({ index: first + f.index, message: f.message });
  });
  failures.sort((a, b) => a.index - b.index);
  failed += failures.length;
  return { outputs, failures, failedShards, failed, remove: run.remove };
}

/** Deletes a finished job's shards, warning (not failing) if Redis has gone meanwhile: the output is already written. */
export async function removeQueuedJob(outcome: QueuedOutcome<unknown>): Promise<void> {
  await outcome.remove().catch((e: Error) => console.error(`warning: the job's shards stay in Redis: ${e.message}`));
}
