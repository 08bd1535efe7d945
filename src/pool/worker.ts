// A pool worker: attaches to the weights in the shared memory once, then
// runs shards in whatever scratch region each task brings; or, for small
// weights, copies them into a memory of its own and runs every shard there.
import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { HibikiError } from '../errors.js';
import { type BatchModel, attachModel } from '../models/index.js';
import { MAX_PAGES, PAGE_BYTES } from '../runtime/memory.js';
import { Runtime } from '../runtime/runtime.js';
import { CONTROL_ABORT, CONTROL_RUN, type ShardResult, type ShardTask, type WorkerSetup } from './protocol.js';

const setup = Piscina.workerData as WorkerSetup;

interface Attached {
  rt: Runtime;
  model: BatchModel;
}

// One runtime and model per region this worker has run in (a handful).
const attached = new Map<number, Attached>();

/**
 * Weights small enough to copy (WorkerSetup.copyWeights) are read from this
 * worker's own memory, at the same addresses, with one scratch region above
 * them: each core then keeps the weights in its own caches, where two cores
 * reading one shared copy each ran 6–10 % slower than one alone.
 */
const ownCopy = setup.copyWeights ? copyWeights() : undefined;

function copyWeights(): Attached {
  const { weightsBytes, scratchBytes } = setup;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(weightsBytes / PAGE_BYTES), maximum: MAX_PAGES, shared: true });
  new Uint8Array(memory.buffer).set(new Uint8Array(setup.memory.buffer, 0, weightsBytes));
  const rt = Runtime.create({ memory, module: setup.module, region: { base: weightsBytes, limit: weightsBytes + scratchBytes } });
  return { rt, model: attachModel(rt, setup.layout) };
}

function attach(task: ShardTask): Attached {
  if (ownCopy) return ownCopy;
  let found = attached.get(task.region.base);
  if (!found) {
    const rt = Runtime.create({ memory: setup.memory, module: setup.module, region: task.region });
    found = { rt, model: attachModel(rt, setup.layout) };
    attached.set(task.region.base, found);
  }
  return found;
}

/**
 * Runs the shard with its staged items claimed as the first allocation of the
 * region (copied there from the task's region of the shared memory when this
 * worker computes in its own).
 */
function runStaged({ rt, model }: Attached, task: ShardTask, lengths: number[], step: () => void): Float32Array[] {
  return rt.scope(() => {
    const total = lengths.reduce((a, b) => a + b, 0);
    const ptr = rt.heap.alloc(total * 4);
    if (rt.heap.memory !== setup.memory) rt.heap.f32(ptr, total).set(new Float32Array(setup.memory.buffer, task.region.base, total));
    else if (ptr !== task.region.base) throw new HibikiError('E_INTERNAL', 'staged items are not at the start of the region');
    let offset = 0;
    const items = lengths.map((n) => {
      const view = rt.heap.f32(ptr + offset * 4, n);
      offset += n;
      return view;
    });
    return model.run(items, step);
  });
}

function health(started: number) {
  return { threadId, heapBytes: getHeapStatistics().used_heap_size, workerMs: performance.now() - started };
}

export default function runShard(task: ShardTask): ShardResult | object {
  const started = performance.now();
  const step = (units = 0) => {
    if (units) Atomics.add(task.control, 1, units);
    const control = Atomics.load(task.control, 0);
    if (control === CONTROL_RUN) return;
    throw control === CONTROL_ABORT
      ? new HibikiError('E_ABORTED', 'the job was cancelled')
      : new HibikiError('E_TIMEOUT', 'the task ran past its time limit');
  };
  try {
    const found = attach(task);
    const outputs = task.staged ? runStaged(found, task, task.staged, step) : found.model.run(task.items, step);
    const data = new Float32Array(outputs.reduce((n, o) => n + o.length, 0));
    let offset = 0;
    for (const o of outputs) {
      data.set(o, offset);
      offset += o.length;
    }
    const result: ShardResult = { ok: true, data, lengths: outputs.map((o) => o.length), ...health(started) };
    // Transfer the outputs' buffer instead of copying it back. (Piscina types
    // its symbols as `symbol`, not the unique symbols its interface names.)
    const movable = { [Piscina.transferableSymbol]: [data.buffer], [Piscina.valueSymbol]: result };
    return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
  } catch (e) {
    const error = e instanceof HibikiError ? e : new HibikiError('E_INTERNAL', e instanceof Error ? e.message : String(e));
    return { ok: false, error: { code: error.code, message: error.message, stack: (e as Error)?.stack }, ...health(started) } satisfies ShardResult;
  }
}
