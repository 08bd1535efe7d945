/**
 * The running side of distributed jobs: a long-lived process that takes
 * shards from a BullMQ queue on Redis and runs them on its own worker pool.
 * Every machine runs one (`hibiki worker`).
 *
 * Faults are BullMQ's: the work runs in pool threads, so this thread stays
 * free to renew the shard's lock; a process that dies mid-shard stops
 * renewing it, and another worker's stalled-job check puts the shard back
 * in the queue. A shard that throws is retried with backoff up to its
 * attempts. What retrying cannot mend (a shard for other weights, malformed
 * data) is refused for good with an UnrecoverableError that says why.
 */
import { hostname } from 'node:os';
import { badInput } from '../errors.js';
import { modelContentHash, readModelConfig } from '../io/model-dir.js';
import { Generator } from '../tasks/generator.js';
import { Translator } from '../tasks/translator.js';
import { Detector } from '../tasks/vision.js';
import { checkDetectShard, detectShard } from './detect.js';
import { checkGenerateShard, generateShard } from './generate.js';
import { type QueueKind, type ShardEnvelope } from './producer.js';
import { UnrecoverableError, Worker } from './deps.js';
import { BadShardError } from './failures.js';
import { QUEUE_PREFIX, connectRedis, redactedUrl } from './redis.js';
import { checkTranslateShard, translateShard } from './translate.js';

/** What startQueueWorker serves: the Redis URL, the model and the threads that run it. */
export interface QueueWorkerOptions {
  /** The Redis server, as parseQueueUrl returns it. */
  url: URL;
  /** The model directory whose shards this worker runs. */
  modelDir: string;
  /** Pool threads (at least 1: this thread must stay free to keep the shards' locks). */
  workers: number;
  /** Shards run at once (default: one per pool thread, so the next starts while one ends). */
  concurrency?: number;
  /**
   * How long a shard's lock lasts without renewal (default 30 s): a worker
   * that died holding a shard is noticed after about this long.
   */
  lockMs?: number;
  /** Where notices go; default stderr. */
  log?: (line: string) => void;
}

/** A model opened to run one kind of shard. */
interface ShardRunner {
  kind: QueueKind;
  run(data: unknown, where: string, progress: (done: number) => void): Promise<unknown>;
  close(): Promise<void>;
}

async function openRunner(modelDir: string, workers: number): Promise<ShardRunner> {
  const architecture = readModelConfig(modelDir).architecture;
  if (architecture === 'transformer' || architecture === 'marian') {
    const translator = await Translator.open(modelDir, { workers });
    return {
      kind: 'translate',
      run: (data, where, progress) => translateShard(translator, checkTranslateShard(data, where), progress),
      close: () => translator.close(),
    };
  }
  if (architecture === 'wavenet') {
    const generator = await Generator.open(modelDir, { workers });
    return {
      kind: 'generate',
      run: (data, where, progress) => generateShard(generator, checkGenerateShard(data, where), progress),
      close: () => generator.close(),
    };
  }
  if (architecture === 'ssd-mobilenet-v1-face') {
    const detector = await Detector.open(modelDir, { workers });
    return {
      kind: 'detect',
      run: (data, where, progress) => detectShard(detector, checkDetectShard(data, where), progress),
      close: () => detector.close(),
    };
  }
  throw badInput(`${modelDir}: a ${architecture} model cannot serve a queue (transformer, marian, wavenet and detector models can)`);
}

/** A running queue worker. */
export interface QueueWorker {
  /** The kind of shard it takes, from its model. */
  kind: QueueKind;
  /** Its model's content hash. */
  model: string;
  /** How it names itself in logs and refusals (host:pid). */
  name: string;
  /** Stops taking shards, lets the running ones finish, closes the pool. */
  close(): Promise<void>;
}

/**
 * Opens the model on a worker pool and takes that model's shards from the
 * queue until closed: translation, generation or detection, by the model's
 * architecture.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { url, modelDir } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  if (!(options.workers >= 1)) throw badInput('a queue worker needs at least 1 pool thread (--workers ≥ 1)');
  const model = modelContentHash(modelDir);
  // How this worker names itself in logs and refusals.
  const name = `${hostname()}:${process.pid}`;
  const connection = await connectRedis(url);
  let runner: ShardRunner;
  try {
    runner = await openRunner(modelDir, options.workers);
  } catch (e) {
    connection.disconnect();
    throw e;
  }
  const lockMs = options.lockMs ?? 30_000;
  const worker = new Worker<ShardEnvelope<unknown>>(runner.kind, async (job) => {
    const where = `${runner.kind} shard ${job.id}`;
    const envelope = job.data;
    if (envelope?.model !== model) {
      throw new UnrecoverableError(`worker ${name} holds model ${modelDir} (sha256 ${model.slice(0, 12)}…), ` +
        `but the job was submitted for ${envelope?.modelName ?? 'another model'} (sha256 ${String(envelope?.model).slice(0, 12)}…); ` +
        'start the worker with the same model directory as the job');
    }
    const started = performance.now();
    let reported = 0;
    let result: unknown;
    try {
      result = await runner.run(envelope.data, where, (done) => {
        // A progress event per second at most: they cross Redis.
        if (performance.now() - reported < 1000) return;
        reported = performance.now();
        void job.updateProgress(done).catch(() => {});
      });
    } catch (e) {
      throw e instanceof BadShardError ? new UnrecoverableError(e.message) : e;
    }
    log(`${name}: ${where} (${envelope.shard + 1}/${envelope.shards}) done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  }, {
    connection,
    prefix: QUEUE_PREFIX,
    name,
    concurrency: options.concurrency ?? options.workers,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A shard whose worker died is put back this many times before it fails.
    maxStalledCount: 2,
  });
  worker.on('failed', (job, error) => {
    if (job) log(`${name}: ${runner.kind} shard ${job.id} failed (attempt ${job.attemptsMade}): ${error.message}`);
  });
  worker.on('error', (error) => log(`${name}: queue error: ${error.message}`));
  await worker.waitUntilReady();
  log(`${name}: serving the ${runner.kind} queue at ${redactedUrl(url)} with ${modelDir} (sha256 ${model.slice(0, 12)}…) on ${options.workers} thread(s)`);
  return {
    kind: runner.kind,
    model,
    name,
    close: async () => {
      await worker.close();
      await runner.close();
      connection.disconnect();
    },
  };
}
