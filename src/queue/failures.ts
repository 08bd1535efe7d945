// Which failures a queued shard reports as its result and which make it retry.
import type { ItemFailure } from '../pool/job.js';

/**
 * A shard whose data no retry can mend (malformed, or for other weights):
 * the worker hands it to BullMQ as an UnrecoverableError. A class of our
 * own, so the shard planners and checks load without BullMQ.
 */
export class BadShardError extends Error {
  override readonly name = 'BadShardError';
}

/** Failures of the item itself, which no retry would change. */
const PERMANENT = new Set(['E_BAD_INPUT', 'E_SHAPE']);

/** An item's failure as it crosses Redis (by index within the shard; the message does not name the item). */
export interface QueuedFailure {
  index: number;
  code: string;
  message: string;
}

/**
 * An item the model refuses fails the same way anywhere, so it is part of
 * the shard's result. A lost pool thread or a timeout is this machine's
 * trouble: this throws, and BullMQ retries the shard, here or elsewhere.
 */
export function shardFailures(failures: readonly ItemFailure[], describe: (index: number) => string): QueuedFailure[] {
  const bare = (message: string) => message.replace(/^(line|item|image|clip) \d+: /, '');
  const transient = failures.find((f) => !PERMANENT.has(f.error.code));
  if (transient) throw new Error(`${describe(transient.index)}: ${bare(transient.error.message)}`);
  return failures.map((f) => ({ index: f.index, code: f.error.code, message: bare(f.error.message) }));
}
