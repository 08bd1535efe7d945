// The one place hibiki talks to Redis: connecting to the URL a user gave,
// with an error that says what went wrong instead of retrying forever.
import type { Redis as RedisClient } from 'ioredis';
import { HibikiError } from '../errors.js';
import { Redis } from './deps.js';
import { redactedUrl } from './url.js';

export { QUEUE_PREFIX, parseQueueUrl, redactedUrl } from './url.js';

/**
 * A connected client. The first connection must succeed within `timeoutMs`
 * (E_IO naming the server otherwise); once connected, a lost connection is
 * retried with backoff, as a long-running worker needs. BullMQ wants
 * `maxRetriesPerRequest: null` so its blocking reads wait out reconnects.
 */
export async function connectRedis(url: URL, timeoutMs = 5000): Promise<RedisClient> {
  let connected = false;
  let lastError = '';
  const client = new Redis(url.href, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: timeoutMs,
    retryStrategy: (times) => (connected ? Math.min(times * 250, 5000) : null),
  });
  client.on('error', (e: Error) => {
    lastError = e.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    const why = lastError || (e as Error).message;
    throw new HibikiError('E_IO', `cannot reach Redis at ${redactedUrl(url)}: ${why}`);
  }
  connected = true;
  return client;
}
