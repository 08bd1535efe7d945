// The one place hibiki talks to Redis: connecting to the URL a user gave,
// with an error that says what went wrong instead of retrying forever.
import { Redis } from 'ioredis';
import { HibikiError, badInput } from '../errors.js';

/** Every key hibiki's queues write starts with this (BullMQ's `prefix`). */
export const QUEUE_PREFIX = 'hibiki';

/** Checks a `--queue` value: a redis:// or rediss:// URL (host, port, optional password and db). */
export function parseQueueUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(`--queue ${JSON.stringify(text)} is not a URL; expected redis://HOST:PORT`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw badInput(`--queue ${text}: expected a redis:// or rediss:// URL, got ${url.protocol}`);
  }
  if (!url.hostname) throw badInput(`--queue ${text}: no host`);
  return url;
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

/**
 * A connected client. The first connection must succeed within `timeoutMs`
 * (E_IO naming the server otherwise); once connected, a lost connection is
 * retried with backoff, as a long-running worker needs. BullMQ wants
 * `maxRetriesPerRequest: null` so its blocking reads wait out reconnects.
 */
export async function connectRedis(url: URL, timeoutMs = 5000): Promise<Redis> {
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
