import os from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { EXIT } from './exit.js';
import { modelOption, parseNumber, workersOption } from './options.js';
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
    .requiredOption('--queue <url>', 'the Redis server holding the queue (redis://HOST:PORT)')
    .addOption(modelOption(DEFAULT_MODELS.translator, 'model directory; it decides which jobs this worker runs'))
    .addOption(workersOption('pool threads; default: one per core', 1))
    .option('--concurrency <n>', 'shards run at once (default: one per pool thread)', parseNumber('--concurrency', 1, 256, true))
    .option('--lock-seconds <s>', "how soon a dead worker's shard is handed to another", parseNumber('--lock-seconds', 1, 3600), 30)
    .action(async (flags: WorkerFlags) => {
      const url = queueFlag(flags.queue)!;
      const { startQueueWorker } = await import('../queue/worker.js'); // BullMQ loads only here
      const worker = await startQueueWorker({
        url, modelDir: flags.model, workers: flags.workers ?? os.availableParallelism(),
        concurrency: flags.concurrency, lockMs: flags.lockSeconds * 1000,
      });
      // Stop taking shards, finish the running ones, exit 0; a second signal exits at once.
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          console.error(`${worker.name}: ${signal}: finishing the running shards`);
          process.once('SIGINT', () => process.exit(EXIT.interrupted));
          process.once('SIGTERM', () => process.exit(EXIT.terminated));
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await worker.close();
      console.error(`${worker.name}: stopped`);
    });
}
