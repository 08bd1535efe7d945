// The messages between the Pool (main thread) and its workers.
import type { ModelLayout } from '../models/model.js';
import type { Region } from '../runtime/memory.js';

/** Given to every worker once, at start. */
export interface WorkerSetup {
  /** The shared memory holding the weights and every worker's scratch region. */
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  layout: ModelLayout;
  /** The weights fill [0, weightsBytes) of `memory`; scratch regions lie above. */
  weightsBytes: number;
  /** The size of every scratch region. */
  scratchBytes: number;
  /**
   * Copy the weights into a memory of the worker's own and compute there, in
   * one region above them (PoolOptions.copyWeightsMiB), instead of in each
   * task's region of `memory`.
   */
  copyWeights: boolean;
}

/** Values of a task's control word, written by the pool, read by the worker between steps. */
export const CONTROL_RUN = 0;
export const CONTROL_ABORT = 1;
export const CONTROL_TIMEOUT = 2;

export interface ShardTask {
  /** The shard's items, when they travel by message (structured clone). */
  items: unknown[];
  /**
   * Or: f32 items the pool wrote back to back at the start of `region` (one
   * memcpy instead of cloning them through a message): their lengths.
   */
  staged?: number[];
  /** The scratch region this task may allocate in (no other task uses it meanwhile). */
  region: Region;
  /**
   * Int32Array over a SharedArrayBuffer: [0] a CONTROL_* value, [1] the units
   * of work done so far, which the worker adds to and the pool polls for progress.
   */
  control: Int32Array;
}

/** A task's answer: all outputs in one transferred buffer, or the error it threw. */
export type ShardResult = (
  | { ok: true; data: Float32Array; lengths: number[] }
  | { ok: false; error: { code: string; message: string; stack?: string } }
) & {
  /** The worker's thread and its JS heap after the task, so the pool can recycle a bloated worker. */
  threadId?: number;
  heapBytes?: number;
  /** Milliseconds the task ran in the worker, from receiving it to its answer. */
  workerMs?: number;
};
