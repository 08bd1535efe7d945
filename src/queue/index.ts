/**
 * hibiki/queue: batch jobs across machines through BullMQ on Redis, for a
 * Node program that submits shards or serves them itself. The CLI's
 * `hibiki worker` and `--queue` flags are built on exactly these.
 *
 *   const worker = await startQueueWorker({ url: parseQueueUrl('redis://host:6379'), modelDir, workers: 2 });
 *   const run = await runOnQueue({ url, kind: 'translate', jobKey, model: modelContentHash(modelDir), modelName }, shards);
 */
export { modelContentHash } from '../io/model-dir.js';
export { type QueueJobOptions, type QueueKind, type QueueProgress, type QueueRun, type ShardEnvelope, type ShardFailure, runOnQueue, shardJobId } from './producer.js';
export { QUEUE_PREFIX, connectRedis, parseQueueUrl } from './redis.js';
export { type TranslateSearch, type TranslateShard, type TranslateShardResult, planTranslateShards } from './translate.js';
export { type GenerateShard, type GenerateShardResult, decodeClip, planGenerateShards } from './generate.js';
export { type DetectShard, type DetectShardResult, planDetectShards } from './detect.js';
export { type QueueWorker, type QueueWorkerOptions, startQueueWorker } from './worker.js';
