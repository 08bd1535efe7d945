import { readModelDir } from '../io/model-dir.js';
import { type BatchModel, loadModel } from '../models/index.js';
import { Runtime } from '../runtime/runtime.js';
import { HibikiError } from '../errors.js';
import { type RunOptions, type RunResult, abortedError, planShards, progress } from './job.js';

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
    const result = checkItems(this.model, items);
    const valid = result.outputs.map((_, i) => i).filter((i) => !result.failures.some((f) => f.index === i));
    const step = () => {
      if (signal?.aborted) throw abortedError();
    };
    let done = result.failures.length;
    for (const shard of planShards(valid.map((i) => this.model.cost(items[i])), ENGINE_SHARDS)) {
      step();
      const indices = shard.indices.map((j) => valid[j]!);
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

/** Checks every item up front; bad ones become failures and are not run. */
export function checkItems(model: BatchModel, items: readonly unknown[]): RunResult {
  const result: RunResult = { outputs: new Array(items.length).fill(undefined), failures: [] };
  items.forEach((item, index) => {
    try {
      model.check(item, `item ${index}`);
    } catch (error) {
      if (!(error instanceof HibikiError)) throw error;
      result.failures.push({ index, error });
    }
  });
  return result;
}
