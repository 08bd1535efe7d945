// What a batch job is, shared by the in-process Engine and the worker Pool:
// items in, one output (or one error) per item out, in input order.
import { HibikiError } from '../errors.js';
import type { BatchModel } from '../models/model.js';

/** How far a job has come: items, units of work, rate and time left. */
export interface Progress {
  /** Items finished so far, successfully or not. */
  done: number;
  /** Items finished with an error (counted in `done` too). */
  failed: number;
  /** Items in the job. */
  total: number;
  /** Work done in the model's units (rows, samples, tokens), counted inside running items too. */
  units: number;
  /** Units of the whole job. */
  unitsTotal: number;
  /** Time since the job started. */
  elapsedMs: number;
  /** Units per second so far. */
  rate: number;
  /** Time left at that rate (Infinity before any unit is done). */
  etaMs: number;
}

/** Counts a job's progress, with the rate and ETA a progress bar shows. */
export class ProgressCounter {
  private readonly startedAt = performance.now();
  done = 0;
  failed = 0;
  /** Units of finished items. */
  units = 0;
  constructor(
    readonly total: number,
    readonly unitsTotal: number,
  ) {}

  /** `running`: units done so far inside items not finished yet. */
  snapshot(running = 0): Progress {
    const elapsedMs = performance.now() - this.startedAt;
    const units = Math.min(this.unitsTotal, this.units + running);
    const rate = elapsedMs > 0 ? (units / elapsedMs) * 1000 : 0;
    const etaMs = units >= this.unitsTotal ? 0 : rate > 0 ? ((this.unitsTotal - units) / rate) * 1000 : Infinity;
    return { done: this.done, failed: this.failed, total: this.total, units, unitsTotal: this.unitsTotal, elapsedMs, rate, etaMs };
  }
}

/** What a job run takes besides its items. */
export interface RunOptions {
  /** Cancels the job: queued shards are dropped, running ones stop at their next step. */
  signal?: AbortSignal;
  /** Called as items finish, for progress bars. */
  onProgress?: (progress: Progress) => void;
}

/** An item that failed, and why. */
export interface ItemFailure {
  /** Its index in the input. */
  index: number;
  /** What went wrong with it. */
  error: HibikiError;
}

/** What a batch job gives back: an output per item, and the items that failed. */
export interface RunResult {
  /** One per input item, in input order; undefined where the item failed. */
  outputs: Array<Float32Array | undefined>;
  /** The items that failed, each with its error (bad input, a task that threw, a worker that died). */
  failures: ItemFailure[];
}

export interface Shard {
  /** Indices into the job's items. */
  indices: number[];
  cost: number;
}

/**
 * Splits items into about `target` shards of at most the average cost. Items are
 * taken in order of decreasing cost, so each shard holds items of similar
 * cost (sentences of similar length pad little) and the big ones start
 * first (the job does not end waiting on one late large shard).
 */
export function planShards(costs: readonly number[], target: number): Shard[] {
  const order = costs.map((_, i) => i);
  if (costs.some((c) => c !== costs[0])) order.sort((a, b) => costs[b]! - costs[a]! || a - b); // (images all cost the same)
  const total = costs.reduce((a, b) => a + b, 0);
  const perShard = total / Math.max(1, Math.min(target, costs.length));
  const shards: Shard[] = [];
  let current: Shard = { indices: [], cost: 0 };
  for (const i of order) {
    // Close a shard before it would pass the target: no shard ends up much
    // costlier than the average (an item costlier than that gets its own).
    if (current.indices.length > 0 && current.cost + costs[i]! > perShard) {
      shards.push(current);
      current = { indices: [], cost: 0 };
    }
    current.indices.push(i);
    current.cost += costs[i]!;
  }
  if (current.indices.length) shards.push(current);
  return shards;
}

/**
 * Checks every item up front (bad ones become failures and are not run)
 * and shards the rest by cost; shard indices are the items' own.
 */
export function planJob(
  model: BatchModel, items: readonly unknown[], targetShards: number,
): { result: RunResult; shards: Array<Shard & { units: number }>; progress: ProgressCounter } {
  const result: RunResult = { outputs: new Array(items.length).fill(undefined), failures: [] };
  const valid: number[] = [];
  items.forEach((item, index) => {
    try {
      model.check(item, `item ${index + 1}`); // numbered from 1, as people count
      valid.push(index);
    } catch (error) {
      if (!(error instanceof HibikiError)) throw error;
      result.failures.push({ index, error });
    }
  });
  const units = (indices: number[]) => indices.reduce((n, i) => n + model.units(items[i]), 0);
  const shards = planShards(valid.map((i) => model.cost(items[i])), targetShards).map((s) => {
    const indices = s.indices.map((j) => valid[j]!);
    return { indices, cost: s.cost, units: units(indices) };
  });
  const progress = new ProgressCounter(items.length, units(valid));
  progress.done = progress.failed = result.failures.length;
  return { result, shards, progress };
}

/**
 * What a cancelled job rejects with: named 'AbortError', as fetch and Node's
 * own APIs name theirs, with the signal's reason as its `cause` (for
 * `AbortSignal.timeout` a DOMException named 'TimeoutError'), and still a
 * HibikiError with code E_ABORTED for callers that switch on codes.
 */
export function abortedError(signal: AbortSignal): HibikiError {
  const error = new HibikiError('E_ABORTED', 'the job was cancelled', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}
