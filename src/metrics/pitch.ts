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

// Semitones of the natural notes above C.
const NATURALS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const SHARP_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/**
 * The MIDI note of a name in scientific pitch notation, as musicians and
 * MIDI tools write it: a letter A–G (either case), any sharps (# or ♯) or
 * flats (b or ♭), then the octave, in which C4 = 60 is middle C and A4 = 69.
 * Undefined for anything else, or outside MIDI's 0–127 (C-1 to G9).
 */
export function noteNameToMidi(name: string): number | undefined {
  const m = /^([A-Ga-g])([#♯]*|[b♭]*)(-?\d+)$/u.exec(name.trim());
  if (!m) return undefined;
  const accidentals = [...m[2]!];
  const shift = accidentals.length * (accidentals[0] === '#' || accidentals[0] === '♯' ? 1 : -1);
  const midi = 12 * (Number(m[3]) + 1) + NATURALS[m[1]!.toUpperCase()]! + shift;
  return midi >= 0 && midi <= 127 ? midi : undefined;
}

/** The name of a MIDI note in scientific pitch notation, with sharps: 60 → C4, 61 → C#4. */
export function midiToNoteName(midi: number): string {
  return `${SHARP_NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}
