/**
 * Logits processing with transformers' semantics, over one row of scores at
 * a time: the processors its generate() builds from the generation settings
 * hibiki reads (NoBadWordsLogitsProcessor, ForcedEOSTokenLogitsProcessor,
 * LogitNormalization), in its order. Scores are float32, as in transformers;
 * the log-softmax is computed in float64 and rounded once.
 */
import type { HfGenerationConfig } from './hf-config.js';

/**
 * out[v] = log softmax(row)[v] for row = logits[offset … offset + V), summed in
 * float64; `out` float32 (transformers' scores) or float64 (hibiki's own beam
 * search keeps its sums there). −∞ entries stay −∞.
 */
export function logSoftmaxRow(logits: Float32Array, offset: number, V: number, out: Float32Array | Float64Array): void {
  const logZ = logSumExp(logits, offset, V);
  for (let v = 0; v < V; v++) out[v] = logits[offset + v]! - logZ;
}

/** log Σ exp of each of `rows` rows of V logits into out[0 … rows), as logSumExp computes it. */
export type RowLogSumExp = (logits: Float32Array, rows: number, V: number, out: Float64Array) => void;

/** RowLogSumExp in JavaScript, row by row (a runtime's kernel does the same faster: ops/activation.ts logSumExpRows). */
export const logSumExpEachRow: RowLogSumExp = (logits, rows, V, out) => {
  for (let r = 0; r < rows; r++) out[r] = logSumExp(logits, r * V, V);
};

/** log Σ exp(row) for row = logits[offset … offset + V), in float64: log softmax(row)[v] = row[v] − this. */
export function logSumExp(logits: Float32Array, offset: number, V: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v]! - max);
  return max + Math.log(sum);
}

/** The highest score's index, the first on ties (as torch.argmax). */
export function argmax(scores: Float32Array): number {
  let best = 0;
  for (let v = 1; v < scores.length; v++) if (scores[v]! > scores[best]!) best = v;
  return best;
}

/** The processors of one generate() call: what a row's scores go through before a token is chosen. */
export class LogitsProcessor {
  private readonly single: Int32Array; // one-token bad words: banned at every step
  private readonly sequences: readonly (readonly number[])[]; // longer ones: the last token banned after the others
  private readonly forcedEos: readonly number[] | undefined;

  /** `limit`: the sequence limit in tokens, decoder start included (sequenceLimit of the settings). */
  constructor(config: HfGenerationConfig, private readonly limit: number) {
    this.single = Int32Array.from(config.badWordsIds.filter((w) => w.length === 1).map((w) => w[0]!));
    this.sequences = config.badWordsIds.filter((w) => w.length > 1);
    this.forcedEos = config.forcedEosTokenIds;
  }

  /** Whether `sequence` is at the step where apply() allows only the forced end tokens. */
  forces(sequence: readonly number[]): boolean {
    return this.forcedEos !== undefined && sequence.length === this.limit - 1;
  }

  /** Whether apply() gives `token` −∞ after `sequence` at a step it does not force (a bad word). */
  bans(token: number, sequence: readonly number[]): boolean {
    if (this.single.includes(token)) return true;
    for (const words of this.sequences) if (words[words.length - 1] === token && endsWith(sequence, words)) return true;
    return false;
  }

  /**
   * Applies the processors in place to `scores` (V) of a row whose sequence
   * so far (decoder start included) is `sequence`: bad words get −∞; at the
   * last allowed step (length limit − 1) everything but the forced end
   * tokens gets −∞ and they get 0.
   */
  apply(scores: Float32Array, sequence: readonly number[]): void {
    for (let i = 0; i < this.single.length; i++) if (this.single[i]! < scores.length) scores[this.single[i]!] = -Infinity;
    for (const words of this.sequences) if (endsWith(sequence, words)) scores[words[words.length - 1]!] = -Infinity;
    if (this.forcedEos && sequence.length === this.limit - 1) {
      scores.fill(-Infinity);
      for (const id of this.forcedEos) if (id < scores.length) scores[id] = 0;
    }
  }
}

/** Whether `sequence` ends with all of `words` but its last token. */
function endsWith(sequence: readonly number[], words: readonly number[]): boolean {
  const n = words.length - 1;
  if (sequence.length < n) return false;
  for (let i = 0; i < n; i++) if (sequence[sequence.length - n + i] !== words[i]) return false;
  return true;
}
