// The queue's packages, BullMQ and ioredis: optional peer dependencies of
// hibiki, loaded here only, so that a user of the library or of the CLI
// without --queue never needs them, and one who does gets a line naming them.
import { optionalImport } from '../errors.js';

const QUEUE_PACKAGES = ['bullmq', 'ioredis'];

export const { Queue, QueueEvents, Worker, UnrecoverableError } = await optionalImport(() => import('bullmq'), 'the queue (--queue, hibiki worker, hibiki/queue)', QUEUE_PACKAGES);
export const { Redis } = await optionalImport(() => import('ioredis'), 'the queue (--queue, hibiki worker, hibiki/queue)', QUEUE_PACKAGES);
