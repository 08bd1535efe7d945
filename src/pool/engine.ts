import { readModelDir } from '../io/model-dir.js';
import { type BatchModel, loadModel } from '../models/index.js';
import { Runtime } from '../runtime/runtime.js';
import { HibikiError } from '../errors.js';
import { type RunOptions, type RunResult, abortedError, planJob, progress } from './job.js';

/** Shards per job in process: enough for progress and prompt cancellation. */
const ENGINE_SHARDS = 4;

/**
 * A model in this thread: the same jobs as Pool, without workers. For
 * small calls, where starting workers would cost more than it saves.
 */
export class Engine {
  private constructor(
    readonly runtime: Runtime,
    readonly model: BatchModel,
  ) {}

  static open(modelDir: string): Engine {
    const runtime = Runtime.create();
    return new Engine(runtime, loadModel(runtime, readModelDir(modelDir)));
  }

  async run(items: readonly unknown[], options: RunOptions = {}): Promise<RunResult> {
    const { signal, onProgress } = options;
    const startedAt = performance.now();
    const { result, shards } = planJob(this.model, items, ENGINE_SHARDS);
    const step = () => {
      if (signal?.aborted) throw abortedError();
    };
    let done = result.failures.length;
    for (const { indices } of shards) {
      step();
      try {
        const outputs = this.model.run(indices.map((i) => items[i]), step);
        indices.forEach((i, k) => (result.outputs[i] = outputs[k]));
      } catch (e) {
        if (e instanceof HibikiError && e.code === 'E_ABORTED') throw e;
        const error = e instanceof HibikiError ? e : new HibikiError('E_INTERNAL', String(e), { cause: e });
        for (const index of indices) result.failures.push({ index, error });
      }
      done += indices.length;
      onProgress?.(progress(done, result.failures.length, items.length, startedAt));
      // Let timers and the signal's listeners run between shards.
      await new Promise((resolve) => setImmediate(resolve));
    }
    result.failures.sort((a, b) => a.index - b.index);
    return result;
  }
}
