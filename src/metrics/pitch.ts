/**
 * Fundamental frequency of a (mostly) periodic sound by YIN (de Cheveigné &
 * Kawahara, 2002): the cumulative-mean-normalised difference function, its
 * first dip under a threshold, refined by parabolic interpolation. Unlike a
 * plain autocorrelation peak it does not jump an octave down on notes whose
 * second harmonic is strong, as a piano's is.
 */
export interface PitchOptions {
  sampleRate: number;
  minHz?: number;
  maxHz?: number;
  /** The dip threshold of YIN's step 4 (0.1–0.2 typical). */
  threshold?: number;
}

/** The fundamental in Hz, or undefined when no period is found (silence, noise). */
export function fundamentalHz(x: Float32Array, options: PitchOptions): number | undefined {
  const { sampleRate, minHz = 50, maxHz = 2000, threshold = 0.15 } = options;
  const minLag = Math.max(2, Math.floor(sampleRate / maxHz));
  const maxLag = Math.min(Math.floor(sampleRate / minHz), Math.floor(x.length / 2));
  if (maxLag <= minLag) return undefined;
  const W = x.length - maxLag;
  const d = new Float64Array(maxLag + 2);
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    let sum = 0;
    for (let j = 0; j < W; j++) {
      const diff = x[j]! - x[j + lag]!;
      sum += diff * diff;
    }
    d[lag] = sum;
  }
  const cmnd = new Float64Array(maxLag + 2);
  cmnd[0] = 1;
  let running = 0;
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    running += d[lag]!;
    cmnd[lag] = running > 0 ? (d[lag]! * lag) / running : 1;
  }
  let lag = -1;
  for (let t = minLag; t <= maxLag; t++) {
    if (cmnd[t]! < threshold) {
      while (t + 1 <= maxLag && cmnd[t + 1]! < cmnd[t]!) t++;
      lag = t;
      break;
    }
  }
  if (lag < 0) return undefined;
  const [a, b, c] = [cmnd[lag - 1]!, cmnd[lag]!, cmnd[lag + 1]!];
  const denom = a - 2 * b + c;
  const refined = denom > 0 ? lag + (a - c) / (2 * denom) : lag;
  return sampleRate / refined;
}

/** Equal-tempered frequency of a MIDI note (A4 = 69 = 440 Hz). */
export function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}
