import os from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { parseNumber } from './options.js';
import { queueFlag } from './queue.js';

interface WorkerFlags {
  queue: string;
  model: string;
  workers?: number;
  concurrency?: number;
  lockSeconds: number;
}

/** `hibiki worker`: serves a Redis queue's shards on this machine's pool until SIGINT or SIGTERM. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run shards of distributed jobs from a Redis queue (one per machine)')
    .requiredOption('-q, --queue <url>', 'the Redis server holding the queue (redis://HOST:PORT)')
    .option('-m, --model <dir>', 'model directory; it decides which jobs this worker runs', DEFAULT_MODELS.translator)
    .option('-w, --workers <n>', 'pool threads (default: one per core)', parseNumber('--workers', 1, 256))
    .option('--concurrency <n>', 'shards run at once (default: one per pool thread)', parseNumber('--concurrency', 1, 256))
    .option('--lock-seconds <s>', "how soon a dead worker's shard is handed to another", parseNumber('--lock-seconds', 1, 3600), 30)
    .action(async (flags: WorkerFlags) => {
      const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });
      const url = queueFlag(flags.queue, usage)!;
      for (const [flag, v] of [['--workers', flags.workers], ['--concurrency', flags.concurrency]] as const) {
        if (v !== undefined && !Number.isInteger(v)) usage(`${flag} must be a whole number, got ${v}`);
      }
      const { startQueueWorker } = await import('../queue/worker.js'); // BullMQ loads only here
      const worker = await startQueueWorker({
        url, modelDir: flags.model, workers: flags.workers ?? os.availableParallelism(),
        concurrency: flags.concurrency, lockMs: flags.lockSeconds * 1000,
      });
      // Stop taking shards, finish the running ones, exit 0; a second signal exits at once.
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          console.error(`${worker.name}: ${signal}: finishing the running shards`);
          process.once('SIGINT', () => process.exit(130));
          process.once('SIGTERM', () => process.exit(143));
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await worker.close();
      console.error(`${worker.name}: stopped`);
    });
}
