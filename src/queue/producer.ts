/**
 * The submitting side of a distributed batch job: its shards go to a BullMQ
 * queue on Redis as jobs whose ids derive from the input, and this waits for
 * every one to finish or fail for good, whichever worker ran it.
 *
 * Redis is the journal: a finished shard's result stays there until the
 * caller has written the whole output and calls `remove()`. A producer that
 * was killed and is run again adds the same ids (BullMQ ignores an id it
 * holds), takes the finished results and waits for the rest, so no shard
 * runs twice to completion and no line is lost.
 */
import type { Job, Queue as BullQueue, QueueEvents as BullQueueEvents } from 'bullmq';
import { Queue, QueueEvents } from './deps.js';
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX, connectRedis, redactedUrl } from './redis.js';

/** The job kinds, one queue each; a worker serves the queue its model's architecture belongs to. */
export type QueueKind = 'translate' | 'generate' | 'detect';

/** What every shard job carries besides its kind's own data. */
export interface ShardEnvelope<D> {
  /** modelContentHash of the model the job was submitted for. */
  model: string;
  /** The model directory's name, for messages. */
  modelName: string;
  /** This shard's place in the job and the job's size, for messages. */
  shard: number;
  shards: number;
  data: D;
}

/** How far a queued job has come, in shards and in items. */
export interface QueueProgress {
  shards: number;
  shardsDone: number;
  /** Items (lines, clips) of the job, and those finished, counting inside running shards. */
  items: number;
  itemsDone: number;
  /** Shards that were already finished when this producer started (a rerun). */
  resumed: number;
}

/**
 * Where a job goes and what it is: the Redis URL, the kind of shards, the job
 * key and the model they need.
 */
export interface QueueJobOptions {
  /** The Redis server, as parseQueueUrl returns it. */
  url: URL;
  kind: QueueKind;
  /** Identifies the job (a hash of input, model and options); shard ids are derived from it. */
  jobKey: string;
  /** The model's content hash (modelContentHash): a worker serving another model refuses the shards. */
  model: string;
  /** The model's name, for messages. */
  modelName: string;
  /** Runs of a shard before it fails for good (default 3); a lost worker's shard is retried too. */
  attempts?: number;
  /** The first retry waits this long, each next one twice as long (default 1000 ms). */
  backoffMs?: number;
  /** Called as shards and items finish, for progress bars. */
  onProgress?: (progress: QueueProgress) => void;
  /** Where notices go (no worker connected, retried shards); default stderr. */
  log?: (line: string) => void;
}

/** A shard that failed after its last attempt. */
export interface ShardFailure {
  shard: number;
  /** The last attempt's error, as the worker reported it. */
  reason: string;
  attempts: number;
}

/** What runOnQueue gives back: each shard's result, the failures, and how to clean up. */
export interface QueueRun<R> {
  /** One per shard, in order; undefined where the shard failed. */
  results: Array<R | undefined>;
  failures: ShardFailure[];
  resumed: number;
  /** Deletes the job's shards from Redis: call once the output is safely written. */
  remove(): Promise<void>;
}

/** How often the producer checks on shards besides listening to events (events can be missed across a reconnect). */
const POLL_MS = 5000;
/** Ids per Redis round trip when adding, checking and removing shards. */
const BATCH = 500;

/**
 * The BullMQ job id of a job's shard: the same key and index give the same
 * id, so a rerun finds the shards already done.
 */
export function shardJobId(jobKey: string, shard: number): string {
  // BullMQ refuses ':' and all-digit custom ids.
  return `${jobKey.slice(0, 32)}-${shard}`;
}

/** Submits the shards (or finds them already there) and waits until each one completed or failed after its last attempt. */
export async function runOnQueue<D, R>(
  options: QueueJobOptions, shards: ReadonlyArray<{ data: D; items: number }>,
): Promise<QueueRun<R>> {
  const { url, kind, jobKey, attempts = 3, backoffMs = 1000, onProgress } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const connection = await connectRedis(url);
  let eventsConnection: Redis | undefined;
  let queue: BullQueue | undefined;
  let events: BullQueueEvents | undefined;
  try {
    eventsConnection = await connectRedis(url);
    queue = new Queue(kind, { connection, prefix: QUEUE_PREFIX });
    events = new QueueEvents(kind, { connection: eventsConnection, prefix: QUEUE_PREFIX });
    await events.waitUntilReady();

    const ids = shards.map((_, i) => shardJobId(jobKey, i));
    const indexOf = new Map(ids.map((id, i) => [id, i]));
    const results: Array<R | undefined> = new Array(shards.length).fill(undefined);
    const failures = new Map<number, ShardFailure>();
    const running = new Map<number, number>();
    const items = shards.reduce((n, s) => n + s.items, 0);
    let settled = 0;
    let itemsDone = 0;
    let resumed = 0;
    let finish!: () => void;
    const allSettled = new Promise<void>((resolve) => (finish = resolve));

    const report = () => {
      let inFlight = 0;
      for (const n of running.values()) inFlight += n;
      onProgress?.({ shards: shards.length, shardsDone: settled, items, itemsDone: itemsDone + inFlight, resumed });
    };
    const settle = (i: number, outcome: { result: R } | { failure: ShardFailure }) => {
      if (results[i] !== undefined || failures.has(i)) return;
      if ('result' in outcome) results[i] = outcome.result;
      else failures.set(i, outcome.failure);
      running.delete(i);
      settled++;
      itemsDone += shards[i]!.items;
      report();
      if (settled === shards.length) finish();
    };
    const failureOf = (job: Job, i: number): ShardFailure => ({ shard: i, reason: job.failedReason ?? 'unknown', attempts: job.attemptsMade });
    /** Reads a shard's state and settles it if it is finished. */
    const check = async (i: number, rerun: boolean) => {
      // The state first, then the job: read the other way round, a shard that
      // finishes in between would be seen completed without its result.
      const state = await queue!.getJobState(ids[i]!);
      if (state !== 'completed' && state !== 'failed') return;
      const job = await queue!.getJob(ids[i]!);
      if (!job) return;
      if (state === 'completed') {
        if (rerun) resumed++;
        settle(i, { result: job.returnvalue as R });
      } else if (state === 'failed') {
        // Failed in an earlier run: this run is the retry the user asked for.
        if (rerun) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        else settle(i, { failure: failureOf(job, i) });
      }
    };

    events.on('completed', ({ jobId, returnvalue }) => {
      const i = indexOf.get(jobId);
      if (i !== undefined) settle(i, { result: returnvalue as unknown as R });
    });
    events.on('failed', ({ jobId }) => {
      // Emitted only once a shard has no attempt left; its job says why.
      const i = indexOf.get(jobId);
      if (i !== undefined) void check(i, false).catch(() => {});
    });
    events.on('progress', ({ jobId, data }) => {
      const i = indexOf.get(jobId);
      if (i !== undefined && typeof data === 'number' && results[i] === undefined) {
        running.set(i, Math.min(data, shards[i]!.items));
        report();
      }
    });

    // What an earlier run left: finished shards are taken as they are, failed
    // ones retried; only shards Redis does not hold yet are added. (Checked
    // before adding, so a shard this run adds and a worker finishes at once
    // is not taken for one an earlier run finished.)
    const fresh: number[] = [];
    for (let start = 0; start < shards.length; start += BATCH) {
      const states = await Promise.all(ids.slice(start, start + BATCH).map((id) => queue!.getJobState(id)));
      const held: number[] = [];
      for (const [k, state] of states.entries()) (state === 'unknown' ? fresh : held).push(start + k);
      await Promise.all(held.map((i) => check(i, true)));
    }
    for (let start = 0; start < fresh.length; start += BATCH) {
      await queue.addBulk(fresh.slice(start, start + BATCH).map((i) => {
        const envelope: ShardEnvelope<D> = { model: options.model, modelName: options.modelName, shard: i, shards: shards.length, data: shards[i]!.data };
        return {
          name: kind,
          data: envelope,
          opts: { jobId: ids[i]!, attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false, removeOnFail: false },
        };
      }));
    }
    if (resumed) log(`${resumed} of ${shards.length} shards were already finished`);
    report();

    // Until every shard settles: a notice while no worker is there to run them,
    // and a look at the shards still pending, in case an event was missed.
    let warned = false;
    while (settled < shards.length) {
      const poll = new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
      await Promise.race([allSettled, poll]);
      if (settled === shards.length) break;
      if (!warned && (await queue.getWorkersCount()) === 0) {
        log(`no hibiki worker is connected to the ${kind} queue at ${redactedUrl(url)}; waiting for one ` +
          `(start it with: hibiki worker --queue ${redactedUrl(url)} --model DIR)`);
        warned = true;
      }
      const pending = results.flatMap((r, i) => (r === undefined && !failures.has(i) ? [i] : []));
      for (let start = 0; start < pending.length; start += BATCH) {
        await Promise.all(pending.slice(start, start + BATCH).map((i) => check(i, false)));
      }
    }

    const remove = async () => {
      const client = await connectRedis(url);
      const q = new Queue(kind, { connection: client, prefix: QUEUE_PREFIX });
      try {
        for (let start = 0; start < ids.length; start += BATCH) {
          await Promise.all(ids.slice(start, start + BATCH).map((id) => q.remove(id)));
        }
      } finally {
        await q.close();
        client.disconnect();
      }
    };
    return { results, failures: [...failures.values()].sort((a, b) => a.shard - b.shard), resumed, remove };
  } finally {
    await events?.close();
    await queue?.close();
    eventsConnection?.disconnect();
    connection.disconnect();
  }
}
