/**
 * μ-law companding, exactly as torchaudio.functional.mu_law_encoding and
 * mu_law_decoding compute it for float32 audio (each step rounded to f32,
 * as torch computes in the input's dtype).
 */
const f = Math.fround;

/** Samples in [−1, 1] → classes 0 … channels − 1. */
export function muLawEncode(x: ArrayLike<number>, channels = 256): Int32Array {
  const mu = f(channels - 1);
  const log1pMu = f(Math.log1p(mu));
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = f(x[i]!);
    const companded = f(f(Math.sign(v) * f(Math.log1p(f(mu * Math.abs(v))))) / log1pMu);
    // torch: ((x_mu + 1) / 2 * mu + 0.5).to(int64), a truncation
    out[i] = Math.trunc(f(f(f(f(companded + 1) / 2) * mu) + 0.5));
  }
  return out;
}

/** Classes → samples in [−1, 1]. */
export function muLawDecode(classes: ArrayLike<number>, channels = 256): Float32Array {
  const mu = f(channels - 1);
  const log1pMu = f(Math.log1p(mu));
  const out = new Float32Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const x = f(f(f(classes[i]! / mu) * 2) - 1);
    out[i] = f(f(Math.sign(x) * f(f(Math.exp(f(Math.abs(x) * log1pMu))) - 1)) / mu);
  }
  return out;
}
