import { Engine } from '../../src/pool/engine.js';
import type { RunResult } from '../../src/pool/job.js';
import { Pool } from '../../src/pool/pool.js';

/** The same items run by a model directory in this thread and on a pool of two workers (closed afterwards). */
export async function inProcessAndOnPool(dir: string, items: readonly unknown[]): Promise<[engine: RunResult, pool: RunResult]> {
  const engine = await Engine.open(dir).run(items);
  const pool = await Pool.open(dir, { workers: 2 });
  try {
    return [engine, await pool.run(items)];
  } finally {
    await pool.close();
  }
}
