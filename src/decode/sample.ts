import type { Rng } from '../runtime/rng.js';

/**
 * Draws a class from logits: softmax(logits / temperature) in f64, then the
 * first class whose cumulative probability reaches u · total (u from `rng`).
 * temperature 0 is greedy (argmax, the first on ties). tools/wavenet_torch.py
 * implements the same rule, so fixtures can check sampled sequences.
 */
export function sampleCategorical(
  logits: Float32Array, temperature: number, rng: Rng | undefined, cdf = new Float64Array(logits.length),
): number {
  const n = logits.length;
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0 || !rng) return best;
  const max = logits[best]!;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += Math.exp((logits[i]! - max) / temperature);
    cdf[i] = total;
  }
  const target = rng.next() * total;
  for (let i = 0; i < n; i++) if (cdf[i]! >= target) return i;
  return n - 1;
}
