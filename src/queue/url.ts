// What a user's --queue URL means, without loading the queue's packages:
// the CLI checks its flags before any of them is imported.
import { badInput } from '../errors.js';

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
