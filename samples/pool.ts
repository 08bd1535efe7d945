// Runs a batch job through the worker pool: the model's weights are loaded
// once, in a shared memory, and every worker computes over them.
//
//   npx tsx samples/pool.ts [MODEL_DIR] [--workers N]
//
// By default it uses the small MLP the tests use (test/fixtures/mlp).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine, Pool, Rng } from 'hibiki';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { workers: { type: 'string', default: '2' } } });
const modelDir = positionals[0] ?? fileURLToPath(new URL('../test/fixtures/mlp/', import.meta.url));

const pool = await Pool.open(modelDir, { workers: Number(values.workers) });
try {
  // 100 items of 1–20 feature rows each; the pool balances them by cost.
  const features = (pool.model.layout as unknown as { config: { sizes: number[] } }).config.sizes[0]!;
  const rng = new Rng(1);
  const items = Array.from({ length: 100 }, () => rng.uniform(rng.int(1, 20) * features));

  const controller = new AbortController();
  const { outputs, failures } = await pool.run(items, {
    signal: controller.signal,
    onProgress: ({ done, total }) => process.stderr.write(`\r${done}/${total} items`),
  });
  process.stderr.write('\n');

  // The same job in this thread gives the same bits.
  const alone = await Engine.open(modelDir).run(items);
  const identical = outputs.every((y, i) => y !== undefined && y.every((v, k) => v === alone.outputs[i]![k]));
  console.log(`${pool.workers} workers: ${outputs.length - failures.length} of ${items.length} items done, ${failures.length} failed; identical to in-process: ${identical}`);
} finally {
  await pool.close();
}
