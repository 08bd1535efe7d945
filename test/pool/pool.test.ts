import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { Engine } from '../../src/pool/engine.js';
import type { Progress } from '../../src/pool/job.js';
import { Pool } from '../../src/pool/pool.js';
import { Rng } from '../../src/runtime/rng.js';

const MLP = fileURLToPath(new URL('../fixtures/mlp/', import.meta.url));
const FEATURES = 16;

/** Items of 1 to 40 rows: unequal costs, so sharding reorders them. */
function makeItems(count: number, seed = 1): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.uniform(rng.int(1, 40) * FEATURES));
}

describe('Pool', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await Pool.open(MLP, { workers: 2 });
  });
  afterAll(() => pool.close());

  it('gives bit-identical results to the in-process engine, in input order', async () => {
    const items = makeItems(60);
    const [workerMs, started] = [pool.stats.workerMs, performance.now()];
    const fromPool = await pool.run(items);
    // the workers' task time is counted: some, and no more than two workers could spend in the call
    const spent = pool.stats.workerMs - workerMs;
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(2 * (performance.now() - started));
    const fromEngine = await Engine.open(MLP).run(items);
    expect(pool.weightsCopied).toBe(true); // 36 KB: each worker computes over a copy of its own
    expect(fromPool.failures).toEqual([]);
    expect(fromPool.outputs).toHaveLength(60);
    fromPool.outputs.forEach((y, i) => {
      expect(y!.length, `item ${i}`).toBe((items[i]!.length / FEATURES) * 8);
      expect(Array.from(y!), `item ${i}`).toEqual(Array.from(fromEngine.outputs[i]!));
    });
  });

  it('reports progress up to the total', async () => {
    const seen: Progress[] = [];
    await pool.run(makeItems(40, 2), { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(1);
    const rows = makeItems(40, 2).reduce((n, item) => n + item.length / FEATURES, 0);
    expect(seen.at(-1)).toMatchObject({ done: 40, failed: 0, total: 40, units: rows, unitsTotal: rows, etaMs: 0 });
    for (let i = 1; i < seen.length; i++) {
      const [before, now] = [seen[i - 1]!, seen[i]!];
      expect(now.done).toBeGreaterThanOrEqual(before.done);
      expect(now.units).toBeGreaterThanOrEqual(before.units);
      expect(now.elapsedMs).toBeGreaterThanOrEqual(before.elapsedMs);
      expect(now.rate).toBeCloseTo((now.units / now.elapsedMs) * 1000, 6);
      if (now.units < rows) expect(now.etaMs).toBeCloseTo(((rows - now.units) / now.rate) * 1000, 6);
    }
  });

  it('fails bad items with a clear error and runs the rest', async () => {
    const items: unknown[] = makeItems(6, 3);
    items[2] = new Float32Array(FEATURES + 1);
    items[4] = new Float32Array(FEATURES).fill(NaN);
    const r = await pool.run(items);
    expect(r.failures.map((f) => [f.index, f.error.code])).toEqual([[2, 'E_BAD_INPUT'], [4, 'E_BAD_INPUT']]);
    expect(r.failures[1]!.error.message).toBe('item 5: value 0 is NaN, not a finite number'); // numbered from 1
    expect(r.outputs.filter(Boolean)).toHaveLength(4);
    expect((await pool.run(makeItems(3, 4))).failures).toEqual([]);
  });

  it('cancels a job promptly and stays usable', async () => {
    const controller = new AbortController();
    const job = pool.run(makeItems(2000, 5), {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const started = Date.now();
    await expect(job).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await pool.run(makeItems(3, 6))).failures).toEqual([]);
    await expect(pool.run(makeItems(1), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('loses nothing when a worker is killed mid-job: its task is retried', async () => {
    const items = makeItems(400, 7);
    const expected = await Engine.open(MLP).run(items);
    const before = { ...pool.stats };
    let killed = false;
    const r = await pool.run(items, {
      onProgress: () => {
        if (!killed) {
          killed = true;
          // Kill every worker: the shards they are running die with them.
          for (const thread of pool.threads) void thread.terminate();
        }
      },
    });
    expect(killed).toBe(true);
    expect(pool.stats.workersLost).toBeGreaterThan(before.workersLost);
    expect(pool.stats.retried).toBeGreaterThan(before.retried);
    expect(r.failures).toEqual([]);
    r.outputs.forEach((y, i) => expect(Array.from(y!), `item ${i}`).toEqual(Array.from(expected.outputs[i]!)));
    expect((await pool.run(makeItems(3, 8))).failures).toEqual([]);
  });
});

describe('Pool limits', () => {
  it('shares weights larger than copyWeightsMiB, with the same results as copies', async () => {
    const pool = await Pool.open(MLP, { workers: 2, copyWeightsMiB: 0 });
    try {
      expect(pool.weightsCopied).toBe(false);
      const items = makeItems(40, 11);
      const r = await pool.run(items);
      const expected = await Engine.open(MLP).run(items);
      expect(r.failures).toEqual([]);
      r.outputs.forEach((y, i) => expect(Array.from(y!), `item ${i}`).toEqual(Array.from(expected.outputs[i]!)));
    } finally {
      await pool.close();
    }
  });

  it('scratch-regions-under-concurrency: jobs running together share the workers, never more regions than workers', async () => {
    // A server admits many requests at once, each its own job: with regions per job, 8 jobs on 2 workers
    // took 16 regions of 256 MiB and the last ones failed with E_RESOURCE (no address space left).
    const pool = await Pool.open(MLP, { workers: 2 });
    try {
      const jobs = Array.from({ length: 16 }, (_, j) => makeItems(12, j + 1));
      const expected = await Promise.all(jobs.map((items) => Engine.open(MLP).run(items)));
      const results = await Promise.all(jobs.map((items) => pool.run(items)));
      results.forEach((r, j) => {
        expect(r.failures).toEqual([]);
        expect(r.outputs).toEqual(expected[j]!.outputs);
      });
      expect(pool.scratchRegions).toBe(2);
      expect(pool.stats.tasks).toBeGreaterThan(16); // every job was split into shards that waited their turn
    } finally {
      await pool.close();
    }
  });

  it('fails only the task that outgrows its scratch region', async () => {
    const pool = await Pool.open(MLP, { workers: 2, scratchMiB: 1 });
    try {
      const items = makeItems(8, 9);
      items[3] = new Rng(3).uniform(20_000 * FEATURES); // 20,000 rows × 64 hidden: several MiB of activations
      const r = await pool.run(items);
      expect(r.failures.map((f) => f.index)).toEqual([3]);
      expect(r.failures[0]!.error.code).toBe('E_RESOURCE');
      expect(r.failures[0]!.error.message).toMatch(/out of scratch memory: \d+ bytes needed, this heap's region holds 1048576/);
      expect(r.outputs.filter(Boolean)).toHaveLength(7);
    } finally {
      await pool.close();
    }
  });

  it('fails tasks past their time limit with E_TIMEOUT', async () => {
    const pool = await Pool.open(MLP, { workers: 1, taskTimeoutMs: 1, retries: 0 });
    try {
      const items = [new Rng(4).uniform(100_000 * FEATURES)];
      const r = await pool.run(items);
      expect(r.failures.map((f) => [f.index, f.error.code])).toEqual([[0, 'E_TIMEOUT']]);
      expect(r.failures[0]!.error.message).toBe('the task ran past its time limit');
    } finally {
      await pool.close();
    }
  });

  it('replaces workers whose JS heap grew past the limit, between tasks, losing nothing', async () => {
    // A limit below any worker's heap: every task ends with its worker replaced.
    const pool = await Pool.open(MLP, { workers: 2, recycleHeapMiB: 1 });
    try {
      const items = makeItems(30, 10);
      const r = await pool.run(items);
      expect(r.failures).toEqual([]);
      expect(pool.stats.recycled).toBeGreaterThanOrEqual(2);
      const expected = await Engine.open(MLP).run(items);
      r.outputs.forEach((y, i) => expect(Array.from(y!), `item ${i}`).toEqual(Array.from(expected.outputs[i]!)));
    } finally {
      await pool.close();
    }
  });

  it('refuses nonsense options and a closed pool', async () => {
    await expect(Pool.open(MLP, { workers: 0 })).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    await expect(Pool.open(MLP, { scratchMiB: 0 })).rejects.toThrow(/scratchMiB must be from 1 to 2048/);
    await expect(Pool.open(MLP, { copyWeightsMiB: -1 })).rejects.toThrow(/copyWeightsMiB must be a number ≥ 0, got -1/);
    await expect(Pool.open(join(MLP, 'nope'))).rejects.toMatchObject({ code: 'E_IO' });
    const pool = await Pool.open(MLP, { workers: 1 });
    await pool.close();
    await expect(pool.run([])).rejects.toThrow(/the pool is closed/);
  });
});

describe('a cancelled job', () => {
  // Both the DOM convention (name 'AbortError', the reason as cause) and hibiki's (a HibikiError, code E_ABORTED).
  const expectAbortError = (error: unknown, reason: unknown) => {
    expect(error).toBeInstanceOf(HibikiError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED', message: 'the job was cancelled' });
    expect((error as Error).cause).toBe(reason);
  };
  const rejection = (job: Promise<unknown>) => job.then(() => expect.fail('the job was not cancelled'), (e: unknown) => e);

  it('rejects with an AbortError whose cause is the reason, on the pool and in this thread, before and during the job', async () => {
    const engine = Engine.open(MLP);
    const pool = await Pool.open(MLP, { workers: 2 });
    try {
      for (const runner of [engine, pool]) {
        const timeout = AbortSignal.timeout(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const timedOut = await rejection(runner.run(makeItems(4), { signal: timeout }));
        expectAbortError(timedOut, timeout.reason);
        expect((timedOut as Error).cause).toBeInstanceOf(DOMException);
        expect(((timedOut as Error).cause as DOMException).name).toBe('TimeoutError');

        const controller = new AbortController();
        const reason = new Error('the user left');
        const during = await rejection(runner.run(makeItems(200, 12), { signal: controller.signal, onProgress: () => controller.abort(reason) }));
        expectAbortError(during, reason);
      }
    } finally {
      await pool.close();
    }
  });
});

describe('Engine', () => {
  it('cancels between shards', async () => {
    const engine = Engine.open(MLP);
    const controller = new AbortController();
    const seen: number[] = [];
    const job = engine.run(makeItems(100, 11), {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.done);
        controller.abort();
      },
    });
    await expect(job).rejects.toMatchObject({ code: 'E_ABORTED', message: 'the job was cancelled' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThan(100);
  });
});
