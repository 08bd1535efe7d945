/**
 * The worker pool: one model, its weights resident once in a shared
 * WebAssembly.Memory, Piscina workers that each attach to those weights and
 * run shards of a job in a scratch region of their own.
 *
 * Memory map of the shared memory:
 *   [64, weightsEnd)                the weights, loaded once by this thread
 *   [weightsEnd + i·scratch, …)     scratch regions, one per running task
 * A region belongs to one task at a time; the pool hands them out, so at
 * most `workers` tasks run at once, across all the jobs running together
 * (each request of a server is a job), and the rest wait here, first come
 * first served, where cancelling a job is just dropping its queue. So
 * however many jobs are admitted, regions never outnumber workers and the
 * address space is never exhausted by concurrency.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { HibikiError, badInput } from '../errors.js';
import { readModelDir } from '../io/model-dir.js';
import { type BatchModel, loadModel } from '../models/index.js';
import { ALIGN, MAX_PAGES, type Region } from '../runtime/memory.js';
import { Runtime } from '../runtime/runtime.js';
import { kernelModule } from '../runtime/wasm.js';
import { type RunOptions, type RunResult, type Shard, abortedError, planJob } from './job.js';
import {
  CONTROL_ABORT, CONTROL_TIMEOUT, type ShardResult, type ShardTask, type WorkerSetup,
} from './protocol.js';

const MIB = 2 ** 20;
const ADDRESS_SPACE = MAX_PAGES * 65536;
/** Shards per worker in a job: small enough to balance, large enough to batch. */
const SHARDS_PER_WORKER = 4;
/** How long a task past its time limit may take to stop by itself before its worker is terminated. */
const TIMEOUT_GRACE_MS = 2000;
/** What a worker thread costs besides its scratch (a V8 isolate, the kernels' code). */
const WORKER_OVERHEAD_BYTES = 48 * MIB;

/** How a Pool runs: its workers, their memory, time limits and retries. */
export interface PoolOptions {
  /** Worker threads; default one per core, capped by memory (see `workers` on the pool). */
  workers?: number;
  /** Scratch region per running task, in MiB (default 256): activations live here. */
  scratchMiB?: number;
  /** A task running longer fails with E_TIMEOUT (default: no limit). */
  taskTimeoutMs?: number;
  /** Times a task whose worker died or failed unexpectedly is run again (default 1). */
  retries?: number;
  /**
   * A worker whose JS heap has grown past this many MiB after a task is
   * replaced by a fresh one (default 512). Its WebAssembly memory cannot
   * grow: it computes in a scratch region of fixed size.
   */
  recycleHeapMiB?: number;
  /**
   * Weights of at most this many MiB (default 4) are copied into each worker's
   * own memory, so that every core reads them from its own caches; larger
   * ones are shared, resident once. Two workers reading one shared copy of
   * the 0.7 MB piano WaveNet each spent 6–10 % more CPU on the same clips
   * than one worker alone; with copies, no more (docs/speed.md). 0 shares
   * always.
   */
  copyWeightsMiB?: number;
  /** 'int8': Linear weights quantised per output channel (Transformer and Marian models). */
  quantize?: 'int8';
}

/** Hands out scratch regions above the weights; a region whose worker was killed mid-task is never reused. */
class Regions {
  private readonly free: Region[] = [];
  /** Regions made so far. */
  made = 0;
  constructor(
    private next: number,
    private readonly bytes: number,
  ) {}

  take(): Region {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.next + this.bytes > ADDRESS_SPACE) {
      throw new HibikiError('E_RESOURCE', 'no WebAssembly address space left for another scratch region');
    }
    const region = { base: this.next, limit: this.next + this.bytes };
    this.next += this.bytes;
    this.made++;
    return region;
  }

  give(region: Region): void {
    this.free.push(region);
  }
}

interface RunningTask {
  shard: Shard & { attempts: number; units: number };
  region: Region;
  control: Int32Array;
  /** Terminates the worker: only after a task ignored its time limit. */
  kill: AbortController;
  killed: boolean;
  /** Aborted because the pool was started afresh with no worker left to run it. */
  orphaned?: boolean;
  timers: NodeJS.Timeout[];
}

function workerScript(): { filename: string; execArgv: string[] } {
  // From dist/ the worker is plain JS; from src/ (tests, tsx) it needs tsx's loader.
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  return { filename, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

/**
 * Workers this machine can hold: cores asked for, but no more than memory
 * allows (each with its own copy of the weights when `copied`).
 */
export function workerLimit(requested: number, weightsBytes: number, scratchBytes: number, copied = false): number {
  const byAddressSpace = Math.floor((ADDRESS_SPACE - weightsBytes) / scratchBytes);
  const perWorker = scratchBytes + WORKER_OVERHEAD_BYTES + (copied ? weightsBytes : 0);
  const byMemory = Math.floor((os.totalmem() * 0.75 - weightsBytes) / perWorker);
  return Math.max(1, Math.min(requested, byAddressSpace, byMemory));
}

/** Counters since the pool opened (for monitoring, e.g. `hibiki serve`'s /metrics). */
export interface PoolStats {
  tasks: number;
  /** Tasks run again after their worker died or failed unexpectedly. */
  retried: number;
  /** Tasks whose worker died or was stopped while running them. */
  workersLost: number;
  /** Workers replaced between tasks because their JS heap grew past recycleHeapMiB. */
  recycled: number;
  itemsFailed: number;
  /** Times the whole set of workers was started afresh, after Piscina stopped replacing them. */
  restarted: number;
  /** Milliseconds the workers spent in tasks that answered (decoding, the model, packing the outputs). */
  workerMs: number;
}

/**
 * One model on a pool of worker threads that share its weights: batch jobs
 * sharded across the workers, failed items reported apart, a lost worker's
 * task retried, jobs cancelled by AbortSignal.
 */
export class Pool {
  private closed = false;
  /**
   * Recycled workers that may have taken a task before they stopped: that
   * many failed tasks are retried without spending their retry.
   */
  private recycleGrace = 0;
  /** Tasks running, across all jobs: at most `workers`, one scratch region each. */
  private active = 0;
  /** The jobs with shards waiting for a free worker, in the order they began to wait. */
  private readonly waiting = new Set<() => void>();
  /** Counters since the pool opened. */
  readonly stats: PoolStats = { tasks: 0, retried: 0, workersLost: 0, recycled: 0, itemsFailed: 0, restarted: 0, workerMs: 0 };

  private constructor(
    private piscina: Piscina,
    /** Starts a Piscina over the same shared memory and model: the first one, or one replacing a pool that gave up. */
    private readonly startPiscina: () => Piscina,
    /** The model as loaded here: checks items and prices them; its weights are the workers'. */
    readonly model: BatchModel,
    private readonly regions: Regions,
    private readonly memory: WebAssembly.Memory,
    /** Worker threads actually started (the request, capped by memory). */
    readonly workers: number,
    /** Bytes of the shared memory holding the weights. */
    readonly weightsBytes: number,
    /** Whether each worker computes over its own copy of the weights (they fit copyWeightsMiB). */
    readonly weightsCopied: boolean,
    private readonly options: Required<Omit<PoolOptions, 'workers' | 'quantize'>>,
  ) {}

  /**
   * Loads a model directory into shared memory once and starts the workers over
   * it (`workers` capped by what memory allows). Refuses nonsense options with
   * E_BAD_INPUT.
   */
  static async open(modelDir: string, options: PoolOptions = {}): Promise<Pool> {
    const requested = options.workers ?? os.availableParallelism();
    if (!Number.isSafeInteger(requested) || requested < 1) throw badInput(`workers must be a whole number ≥ 1, got ${requested}`);
    const scratchMiB = options.scratchMiB ?? 256;
    if (!(scratchMiB >= 1 && scratchMiB <= 2048)) throw badInput(`scratchMiB must be from 1 to 2048, got ${scratchMiB}`);
    const taskTimeoutMs = options.taskTimeoutMs ?? Infinity;
    if (!(taskTimeoutMs > 0)) throw badInput(`taskTimeoutMs must be positive, got ${taskTimeoutMs}`);
    const retries = options.retries ?? 1;
    if (!Number.isSafeInteger(retries) || retries < 0) throw badInput(`retries must be a whole number ≥ 0, got ${retries}`);
    const recycleHeapMiB = options.recycleHeapMiB ?? 512;
    if (!(recycleHeapMiB > 0)) throw badInput(`recycleHeapMiB must be positive, got ${recycleHeapMiB}`);
    const copyWeightsMiB = options.copyWeightsMiB ?? 4;
    if (!(copyWeightsMiB >= 0)) throw badInput(`copyWeightsMiB must be a number ≥ 0, got ${copyWeightsMiB}`);

    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const rt = Runtime.create({ memory });
    const dir = readModelDir(modelDir);
    const model = loadModel(rt, options.quantize ? { ...dir, quantize: options.quantize } : dir);
    // Nothing else is ever allocated in this heap: the weights end here.
    const weightsBytes = Math.ceil(rt.heap.mark() / ALIGN) * ALIGN;
    const scratchBytes = scratchMiB * MIB;
    const copyWeights = weightsBytes <= copyWeightsMiB * MIB;
    const workers = workerLimit(requested, weightsBytes, scratchBytes, copyWeights);

    const setup: WorkerSetup = { memory, module: kernelModule(), layout: model.layout, weightsBytes, scratchBytes, copyWeights };
    const { filename, execArgv } = workerScript();
    const startPiscina = () => new Piscina({
      filename,
      execArgv,
      workerData: setup,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Infinity,
    });
    return new Pool(startPiscina(), startPiscina, model, new Regions(weightsBytes, scratchBytes), memory, workers, weightsBytes, copyWeights, {
      scratchMiB,
      taskTimeoutMs,
      retries,
      recycleHeapMiB,
      copyWeightsMiB,
    });
  }

  /** Worker threads alive right now (a killed one is replaced). */
  get threads(): readonly { threadId: number; terminate(): Promise<number> }[] {
    return this.piscina.threads;
  }

  /**
   * Runs a batch job: every item through the model, sharded across the
   * workers, outputs back in input order. Items that fail (bad input, a task
   * that threw, a worker that died twice) are reported in `failures`; the
   * rest of the job completes. Rejects only when cancelled: an `AbortError`
   * (code E_ABORTED) whose `cause` is the signal's reason.
   */
  run(items: readonly unknown[], options: RunOptions = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(badInput('the pool is closed'));
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const perWorker = this.model.shardsPerWorker ?? SHARDS_PER_WORKER;
    const { result, shards, progress } = planJob(this.model, items, this.workers * perWorker);
    const queue = shards.map((s) => ({ ...s, attempts: 0 }));

    return new Promise<RunResult>((resolve, reject) => {
      const running = new Set<RunningTask>();
      let aborted = false;

      const onAbort = () => {
        aborted = true;
        queue.length = 0;
        this.waiting.delete(pump);
        for (const task of running) Atomics.store(task.control, 0, CONTROL_ABORT);
        finishIfIdle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      // Items can take long (minutes of audio): progress inside running
      // tasks is polled from their control words.
      const runningUnits = () => [...running].reduce((n, t) => n + Atomics.load(t.control, 1), 0);
      const poll = onProgress ? setInterval(() => onProgress(progress.snapshot(runningUnits())), 200) : undefined;

      // Piscina stops replacing workers once one dies while starting up (workerFailsDuringBootstrap), and
      // the tasks waiting for a worker would wait forever: a pool left with no threads is started afresh
      // over the same memory, and the tasks it held fail as lost (or run again, if they have a retry left).
      const watchdog = setInterval(() => {
        if (running.size === 0 || this.closed || this.piscina.threads.length > 0) return;
        const dead = this.piscina;
        this.piscina = this.startPiscina();
        this.stats.restarted++;
        for (const task of running) {
          task.orphaned = true;
          task.kill.abort();
        }
        void dead.destroy();
      }, 250);

      const finishIfIdle = () => {
        if (running.size > 0 || (queue.length > 0 && !aborted)) return;
        clearInterval(poll);
        clearInterval(watchdog);
        signal?.removeEventListener('abort', onAbort);
        if (aborted) reject(abortedError(signal!));
        else {
          result.failures.sort((a, b) => a.index - b.index);
          resolve(result);
        }
      };

      const fail = (indices: number[], error: HibikiError) => {
        for (const index of indices) result.failures.push({ index, error });
        this.stats.itemsFailed += indices.length;
        progress.failed += indices.length;
        progress.done += indices.length;
      };

      const settle = (task: RunningTask, answer: ShardResult) => {
        task.timers.forEach(clearTimeout);
        running.delete(task);
        this.active--;
        // A killed worker may have been mid-write: its region is retired.
        if (!task.killed) this.regions.give(task.region);
        this.recycleIfBloated(answer);
        this.stats.workerMs += answer.workerMs ?? 0;
        const { shard } = task;
        if (!aborted) {
          if (answer.ok) {
            let offset = 0;
            shard.indices.forEach((index, k) => {
              const n = answer.lengths[k]!;
              result.outputs[index] = answer.data.subarray(offset, offset + n);
              offset += n;
            });
            progress.done += shard.indices.length;
            progress.units += shard.units;
          } else {
            const error = new HibikiError(answer.error.code as HibikiError['code'], answer.error.message);
            if (answer.error.stack) error.stack = answer.error.stack;
            const graced = error.code === 'E_INTERNAL' && this.recycleGrace > 0;
            if (error.code === 'E_BAD_INPUT' && shard.indices.length > 1) {
              // An item only the worker could find bad (a file whose header was fine but whose data is
              // not): halve the shard until that item runs alone, so it fails alone.
              const half = Math.ceil(shard.indices.length / 2);
              const part = (indices: number[]) => ({
                indices, cost: (shard.cost * indices.length) / shard.indices.length, attempts: shard.attempts,
                units: indices.reduce((n, i) => n + this.model.units(items[i]), 0),
              });
              queue.unshift(part(shard.indices.slice(0, half)), part(shard.indices.slice(half)));
            } else if (graced || (error.code === 'E_INTERNAL' && shard.attempts < this.options.retries)) {
              if (graced) this.recycleGrace--;
              else shard.attempts++;
              this.stats.retried++;
              queue.unshift(shard);
            } else {
              fail(shard.indices, error);
            }
          }
          onProgress?.(progress.snapshot(runningUnits()));
        }
        this.wakeWaiting(); // the jobs that waited longer go first
        pump();
      };

      const start = (shard: RunningTask['shard']) => {
        let region: Region;
        try {
          region = this.regions.take();
        } catch (error) {
          fail(shard.indices, error as HibikiError);
          return;
        }
        const task: RunningTask = {
          shard,
          region,
          control: new Int32Array(new SharedArrayBuffer(8)),
          kill: new AbortController(),
          killed: false,
          timers: [],
        };
        running.add(task);
        this.active++;
        this.stats.tasks++;
        const limit = this.options.taskTimeoutMs;
        if (Number.isFinite(limit)) {
          task.timers.push(setTimeout(() => {
            Atomics.store(task.control, 0, CONTROL_TIMEOUT);
            task.timers.push(setTimeout(() => {
              task.killed = true;
              task.kill.abort();
            }, TIMEOUT_GRACE_MS));
          }, limit));
        }
        const message = this.stage(region, shard.indices.map((i) => items[i]), task.control);
        this.piscina.run(message, { signal: task.kill.signal }).then(
          (answer: ShardResult) => settle(task, answer),
          (e: unknown) => {
            this.stats.workersLost++;
            settle(task, {
              ok: false,
              error: task.killed
                ? { code: 'E_TIMEOUT', message: `a shard of ${shard.indices.length} items ran past the ${limit} ms time limit; its worker was stopped` }
                : task.orphaned
                  ? { code: 'E_INTERNAL', message: `no worker was left to run items ${shard.indices.join(', ')}: a worker died while starting up, so the workers were started afresh` }
                  : { code: 'E_INTERNAL', message: `the worker running items ${shard.indices.join(', ')} died: ${(e as Error)?.message ?? e}`, stack: (e as Error)?.stack },
            });
          },
        );
      };

      const pump = () => {
        while (!aborted && queue.length > 0 && this.active < this.workers) start(queue.shift()!);
        if (!aborted && queue.length > 0) this.waiting.add(pump);
        else this.waiting.delete(pump);
        finishIfIdle();
      };
      pump();
    });
  }

  /** Scratch regions made so far: at most `workers`, plus one for each worker stopped mid-task. */
  get scratchRegions(): number {
    return this.regions.made;
  }

  /** Lets the jobs waiting for a worker start their next shards, longest waiting first. */
  private wakeWaiting(): void {
    for (const pump of [...this.waiting]) {
      if (this.active >= this.workers) return;
      this.waiting.delete(pump);
      pump();
    }
  }

  /** Replaces a worker whose JS heap grew past the limit; a task it picks up meanwhile is retried. */
  private recycleIfBloated(answer: ShardResult): void {
    if (answer.heapBytes === undefined || answer.heapBytes <= this.options.recycleHeapMiB * MIB) return;
    const thread = this.piscina.threads.find((t) => t.threadId === answer.threadId);
    if (!thread) return;
    this.stats.recycled++;
    this.recycleGrace++;
    void thread.terminate();
  }

  /**
   * The task message for a shard. Float32Array items are copied straight
   * into the start of the task's scratch region, where the worker reads
   * them: one memcpy here instead of a structured clone here and a copy
   * there (which cost the main thread ~7 % of a core on a 2-worker job).
   */
  private stage(region: Region, shardItems: unknown[], control: Int32Array): ShardTask {
    const floats = shardItems.every((item) => item instanceof Float32Array)
      ? shardItems.reduce<number>((n, item) => n + (item as Float32Array).length, 0)
      : -1;
    if (floats < 0 || region.base + floats * 4 > region.limit) return { items: shardItems, region, control };
    const have = this.memory.buffer.byteLength;
    const end = region.base + floats * 4;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    const view = new Float32Array(this.memory.buffer, region.base, floats);
    let offset = 0;
    for (const item of shardItems as Float32Array[]) {
      view.set(item, offset);
      offset += item.length;
    }
    return { items: [], staged: (shardItems as Float32Array[]).map((item) => item.length), region, control };
  }

  /** Stops the workers; a closed pool refuses new jobs. Closing twice is fine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}
