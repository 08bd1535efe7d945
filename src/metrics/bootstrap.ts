/**
 * sacreBLEU's bootstrap confidence interval (`--confidence`), resample for
 * resample: numpy's `default_rng(seed).choice(n, size=(samples, n))`
 * replayed bit for bit — SeedSequence → PCG64 → Lemire's bounded integers —
 * then the 95 % interval of the resampled corpus scores as
 * `Score.estimate_ci` computes it.
 */
import { badInput } from '../errors.js';
import { type Confidence, exactMean } from './sacrebleu-compat.js';

const MASK32 = 0xffffffff;
const mul32 = (a: number, b: number) => Math.imul(a, b) >>> 0;
const xorshift16 = (v: number) => (v ^ (v >>> 16)) >>> 0;

/**
 * numpy's `SeedSequence(seed).generate_state(words, uint32)`: the seed's
 * 32-bit words hashed into a pool of four, then drawn out (numpy's
 * bit_generator.pyx, after Melissa O'Neill's seed_seq_fe).
 */
export function seedSequenceState(seed: number, words: number): Uint32Array {
  if (!Number.isSafeInteger(seed) || seed < 0) throw badInput(`bootstrap: seed must be a whole number ≥ 0, got ${seed}`);
  const entropy: number[] = [];
  for (let s = seed; entropy.length === 0 || s > 0; s = Math.floor(s / 2 ** 32)) entropy.push(s % 2 ** 32);
  let hashConst = 0x43b0d7e5;
  const hashmix = (value: number) => {
    value = (value ^ hashConst) >>> 0;
    hashConst = mul32(hashConst, 0x931e8875);
    return xorshift16(mul32(value, hashConst));
  };
  const mix = (x: number, y: number) => xorshift16((mul32(0xca01f9dd, x) - mul32(0x4973f715, y)) >>> 0);
  const pool = [0, 0, 0, 0].map((_, i) => hashmix(entropy[i] ?? 0));
  for (let src = 0; src < 4; src++) {
    for (let dst = 0; dst < 4; dst++) if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
  }
  for (let src = 4; src < entropy.length; src++) {
    for (let dst = 0; dst < 4; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!));
  }
  const out = new Uint32Array(words);
  let hashB = 0x8b51f9dd;
  for (let i = 0; i < words; i++) {
    const v = (pool[i % 4]! ^ hashB) >>> 0;
    hashB = mul32(hashB, 0x58f38ded);
    out[i] = xorshift16(mul32(v, hashB));
  }
  return out;
}

const PCG_MULTIPLIER = 0x2360ed051fc65da44385df649fccf645n;

/** A 128-bit integer as eight 16-bit limbs, lowest first: products of two limbs stay exact in doubles. */
const limbs = (x: bigint) => Float64Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(16 * i)) & 0xffffn));
const MULTIPLIER_LIMBS = limbs(PCG_MULTIPLIER);

/** numpy's PCG64 (XSL-RR 128/64) with its 32-bit draws, which split each 64-bit output low half first. */
export class Pcg64 {
  private state = new Float64Array(8);
  private scratch = new Float64Array(8);
  private readonly inc: Float64Array;
  private spare: number | undefined;

  /** Seeded as `np.random.PCG64(seed)`: SeedSequence words → (initstate, initseq). */
  constructor(seed: number) {
    const w = seedSequenceState(seed, 8);
    const u64 = (i: number) => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!);
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    const mask128 = (1n << 128n) - 1n;
    this.inc = limbs(((initSeq << 1n) | 1n) & mask128);
    this.step();
    const stepped = [...this.state].reduceRight((x, limb) => (x << 16n) | BigInt(limb), 0n);
    this.state = limbs((stepped + initState) & mask128);
    this.step();
  }

  /** state ← state · multiplier + inc (mod 2¹²⁸), schoolbook on the limbs. */
  private step(): void {
    const s = this.state;
    const next = this.scratch;
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      let acc = carry + this.inc[i]!;
      for (let j = 0; j <= i; j++) acc += s[j]! * MULTIPLIER_LIMBS[i - j]!;
      carry = Math.floor(acc / 65536);
      next[i] = acc - carry * 65536;
    }
    this.scratch = s;
    this.state = next;
  }

  /** The next 64-bit output as [low, high] 32-bit halves: (high64 ^ low64) rotated right by the top 6 state bits. */
  private next64(): [number, number] {
    this.step();
    const l = this.state;
    let lo = ((l[0]! | (l[1]! << 16)) ^ (l[4]! | (l[5]! << 16))) >>> 0;
    let hi = ((l[2]! | (l[3]! << 16)) ^ (l[6]! | (l[7]! << 16))) >>> 0;
    let rot = l[7]! >>> 10;
    if (rot >= 32) {
      [lo, hi] = [hi, lo];
      rot -= 32;
    }
    if (rot === 0) return [lo, hi];
    return [((lo >>> rot) | (hi << (32 - rot))) >>> 0, ((hi >>> rot) | (lo << (32 - rot))) >>> 0];
  }

  next32(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const [lo, hi] = this.next64();
    this.spare = hi;
    return lo;
  }

  /** Uniform in [0, bound) by Lemire's multiply-and-reject on 32-bit draws, as numpy's integers() for bound ≤ 2³². */
  below(bound: number): number {
    if (bound === 1) return 0;
    let u = this.next32();
    // The low 32 bits of the 64-bit product u · bound decide rejection; the high 32 bits are the value.
    let low = Math.imul(u, bound) >>> 0;
    if (low < bound) {
      const threshold = (MASK32 - (bound - 1)) % bound;
      while (low < threshold) {
        u = this.next32();
        low = Math.imul(u, bound) >>> 0;
      }
    }
    return Math.floor(((u >>> 16) * bound + Math.floor(((u & 0xffff) * bound) / 65536)) / 65536);
  }
}

/** `np.random.default_rng(seed).choice(n, size=(samples, n), replace=True)`, row after row. */
export function bootstrapIndices(n: number, samples: number, seed: number): Int32Array[] {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw badInput(`bootstrap: need 1 to 2^32 segments, got ${n}`);
  const rng = new Pcg64(seed);
  return Array.from({ length: samples }, () => Int32Array.from({ length: n }, () => rng.below(n)));
}

/**
 * sacreBLEU's `_bootstrap_resample` + `estimate_ci`: `samples` resamples of
 * the segments, each scored from its summed statistics; the mean of those
 * scores and half the width of their 95 % interval.
 */
export function bootstrapConfidence(
  stats: readonly (readonly number[])[],
  score: (summed: number[]) => number,
  samples: number,
  seed: number,
): Confidence {
  if (!Number.isInteger(samples) || samples < 2) throw badInput(`bootstrap: samples must be a whole number ≥ 2, got ${samples}`);
  const width = stats[0]!.length;
  const scores = bootstrapIndices(stats.length, samples, seed).map((rows) => {
    const summed = new Array<number>(width).fill(0);
    for (const i of rows) {
      const row = stats[i]!;
      for (let j = 0; j < width; j++) summed[j]! += row[j]!;
    }
    return score(summed);
  });
  scores.sort((a, b) => a - b);
  const lower = Math.floor(samples / 40);
  const upper = samples - lower - 1;
  return { mean: exactMean(scores), ci: 0.5 * (scores[upper]! - scores[lower]!) };
}
