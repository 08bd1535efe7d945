/**
 * How a task class runs its model: in this thread (Engine) or across a
 * worker pool (Pool), chosen once when it opens.
 */
import { badInput } from '../errors.js';
import { readModelConfig } from '../io/model-dir.js';
import { Engine } from '../pool/engine.js';
import type { ItemFailure } from '../pool/job.js';
import { Pool } from '../pool/pool.js';

/** How the task classes (Translator, Generator, Detector, …) run their model. */
export interface OpenOptions {
  /** 0 (the default) runs in this thread; more starts a pool of that many workers. */
  workers?: number;
  /** Times a task whose worker died is run again on the pool (default 1). */
  retries?: number;
  /**
   * 'int8': Linear weights quantised per output channel, activations per row
   * at run time (dynamic quantisation, as onnxruntime and CTranslate2 do):
   * a quarter of the weight bytes. Translation models only.
   */
  quantize?: 'int8';
}

export type Runner = Engine | Pool;

/**
 * Reads `dir`'s config.json, checks that its architecture is one of `kinds`
 * (E_BAD_INPUT naming `what` otherwise), and starts the runner.
 */
export async function openRunner(dir: string, kinds: readonly string[], what: string, options: OpenOptions): Promise<{ config: Record<string, unknown>; runner: Runner }> {
  const config = readModelConfig(dir);
  if (!kinds.includes(config.architecture)) throw badInput(`${dir} is a ${config.architecture} model, not ${what}`);
  const { quantize } = options;
  if (quantize !== undefined && quantize !== 'int8') throw badInput(`quantize must be "int8", got ${JSON.stringify(quantize)}`);
  if (quantize && !['transformer', 'marian'].includes(config.architecture)) throw badInput(`quantize is for translation models, not ${config.architecture}`);
  const runner = options.workers
    ? await Pool.open(dir, { workers: options.workers, retries: options.retries, quantize })
    : Engine.open(dir, { quantize });
  return { config: config as Record<string, unknown>, runner };
}

/** The worker pool behind a runner, when there is one. */
export const poolOf = (runner: Runner): Pool | undefined => (runner instanceof Pool ? runner : undefined);

/** Stops the runner's workers, if any. */
export async function closeRunner(runner: Runner): Promise<void> {
  if (runner instanceof Pool) await runner.close();
}

/**
 * The result of a call given one input instead of an array: the one output,
 * or the one failure thrown (there is no `failures` list to report it in).
 */
export function onlyResult<T>(results: ReadonlyArray<T | undefined>, failures: readonly ItemFailure[]): T {
  if (failures[0]) throw failures[0].error;
  return results[0]!;
}

/** What a value is, for an E_BAD_INPUT message: "null", "a number", "an object"… */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
