import type { ModelDir } from '../io/model-dir.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Where a loaded model's weights live in linear memory: plain data that can
 * be posted to a worker, which attaches to the same weights in the shared
 * memory instead of loading its own copy.
 */
export interface ModelLayout {
  architecture: string;
  [key: string]: unknown;
}

/**
 * A model in a runtime's memory that runs batches of independent items: the
 * unit of work the pool shards across workers. Outputs are f32 arrays so
 * they travel back from workers as transferred buffers.
 */
export interface BatchModel<Item = unknown> {
  readonly architecture: string;
  readonly layout: ModelLayout;
  /** Throws E_BAD_INPUT, naming `where`, if the item cannot be run. */
  check(item: unknown, where: string): asserts item is Item;
  /** The relative cost of an item (e.g. multiply–adds), for sharding. */
  cost(item: Item): number;
  /**
   * Shards per worker the pool should aim for: more balance the load of
   * unequal items, fewer keep more items batched together (default 4).
   */
  readonly shardsPerWorker?: number;
  /** The item's size in the units progress is counted in (rows, samples, tokens). */
  units(item: Item): number;
  /**
   * Runs a shard of items, one output each. `step` is called between steps
   * of the computation, with the units finished since the last call, and
   * throws to stop it (cancellation, time limits).
   */
  run(items: readonly Item[], step: (units?: number) => void): Float32Array[];
}

/** How an architecture named in config.json is loaded and attached. */
export interface Architecture {
  name: string;
  /** Reads the weights of a model directory into `rt`'s memory. */
  load(rt: Runtime, model: ModelDir): BatchModel;
  /** The same model over weights another thread loaded into a shared memory. */
  attach(rt: Runtime, layout: ModelLayout): BatchModel;
}
