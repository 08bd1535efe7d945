// What a batch job is, shared by the in-process Engine and the worker Pool:
// items in, one output (or one error) per item out, in input order.
import { HibikiError } from '../errors.js';
import type { BatchModel } from '../models/model.js';

export interface Progress {
  /** Items finished so far, successfully or not. */
  done: number;
  failed: number;
  total: number;
  elapsedMs: number;
  /** Items per second so far. */
  rate: number;
  /** Time left at that rate (Infinity before the first item is done). */
  etaMs: number;
}

/** A job's progress, with the rate and ETA a progress bar shows. */
export function progress(done: number, failed: number, total: number, startedAt: number): Progress {
  const elapsedMs = performance.now() - startedAt;
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const etaMs = rate > 0 ? ((total - done) / rate) * 1000 : Infinity;
  return { done, failed, total, elapsedMs, rate, etaMs };
}

export interface RunOptions {
  /** Cancels the job: queued shards are dropped, running ones stop at their next step. */
  signal?: AbortSignal;
  /** Called as items finish, for progress bars. */
  onProgress?: (progress: Progress) => void;
}

export interface ItemFailure {
  index: number;
  error: HibikiError;
}

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
  const order = costs.map((_, i) => i).sort((a, b) => costs[b]! - costs[a]! || a - b);
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
export function planJob(model: BatchModel, items: readonly unknown[], targetShards: number): { result: RunResult; shards: Shard[] } {
  const result: RunResult = { outputs: new Array(items.length).fill(undefined), failures: [] };
  const valid: number[] = [];
  items.forEach((item, index) => {
    try {
      model.check(item, `item ${index}`);
      valid.push(index);
    } catch (error) {
      if (!(error instanceof HibikiError)) throw error;
      result.failures.push({ index, error });
    }
  });
  const shards = planShards(valid.map((i) => model.cost(items[i])), targetShards).map((s) => ({
    indices: s.indices.map((j) => valid[j]!),
    cost: s.cost,
  }));
  return { result, shards };
}

export function abortedError(): HibikiError {
  return new HibikiError('E_ABORTED', 'the job was cancelled');
}
