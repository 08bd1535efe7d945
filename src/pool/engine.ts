import { readModelDir } from '../io/model-dir.js';
import { type BatchModel, loadModel } from '../models/index.js';
import { Runtime } from '../runtime/runtime.js';
import { HibikiError } from '../errors.js';
import { type RunOptions, type RunResult, abortedError, planJob } from './job.js';

/** Shards per job in process: enough for progress and prompt cancellation. */
const ENGINE_SHARDS = 4;

/**
 * A model in this thread: the same jobs as Pool, without workers. For
 * small calls, where starting workers would cost more than it saves.
 */
export class Engine {
  private constructor(
    /** The runtime the model's weights and activations live in. */
    readonly runtime: Runtime,
    /** The model, loaded into that runtime. */
    readonly model: BatchModel,
  ) {}

  /** Loads a model directory into a runtime of its own, in this thread (Linear weights int8 with `quantize`). */
  static open(modelDir: string, options: { quantize?: 'int8' } = {}): Engine {
    const runtime = Runtime.create();
    const model = readModelDir(modelDir);
    return new Engine(runtime, loadModel(runtime, options.quantize ? { ...model, quantize: options.quantize } : model));
  }

  /**
   * Runs a batch job as Pool.run does, in this thread: outputs in input order,
   * failed items in `failures`. The signal is checked between shards and at the
   * model's steps; a cancelled job rejects with an `AbortError` (code
   * E_ABORTED) whose `cause` is the signal's reason.
   */
  async run(items: readonly unknown[], options: RunOptions = {}): Promise<RunResult> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw abortedError(signal);
    const { result, shards, progress } = planJob(this.model, items, ENGINE_SHARDS);
    let running = 0;
    const step = (units = 0) => {
      if (signal?.aborted) throw abortedError(signal);
      running += units;
      if (units) onProgress?.(progress.snapshot(running));
    };
    const runShard = (indices: number[]) => {
      try {
        const outputs = this.model.run(indices.map((i) => items[i]), step);
        indices.forEach((i, k) => (result.outputs[i] = outputs[k]));
      } catch (e) {
        if (e instanceof HibikiError && e.code === 'E_ABORTED') throw e;
        if (e instanceof HibikiError && e.code === 'E_BAD_INPUT' && indices.length > 1) {
          // An item only the model could find bad (a line too long once tokenized): halves, as the
          // pool does, until that item runs alone and fails alone.
          const half = Math.ceil(indices.length / 2);
          runShard(indices.slice(0, half));
          runShard(indices.slice(half));
          return;
        }
        const error = e instanceof HibikiError ? e : new HibikiError('E_INTERNAL', String(e), { cause: e });
        for (const index of indices) result.failures.push({ index, error });
        progress.failed += indices.length;
      }
    };
    for (const { indices, units } of shards) {
      step();
      running = 0;
      runShard(indices);
      progress.done += indices.length;
      progress.units += units;
      onProgress?.(progress.snapshot());
      // Let timers and the signal's listeners run between shards.
      await new Promise((resolve) => setImmediate(resolve));
    }
    result.failures.sort((a, b) => a.index - b.index);
    return result;
  }
}
