/**
 * What BLEU and chrF share to print and compute exactly as sacreBLEU 2.6.0
 * (Python 3.11) does: Python's whitespace, its `f'{x:.Nf}'` and float repr,
 * `statistics.mean`, and sacreBLEU's `Score.format` (text line and JSON).
 */
import { badInput } from '../errors.js';

/** The sacreBLEU release whose scoring rules and output hibiki reproduces. */
export const SACREBLEU_VERSION = '2.6.0';

// Python's str.isspace(): what str.split() splits on and str.rstrip() strips.
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACES = new RegExp(`[${PY_SPACE}]+`, 'u');
const PY_TRAILING_SPACES = new RegExp(`[${PY_SPACE}]+$`, 'u');

/** Python's `s.split()`: the words between runs of whitespace. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPACES).filter((w) => w !== '');
}

/** Python's `s.rstrip()`. */
export const pyRstrip = (s: string): string => s.replace(PY_TRAILING_SPACES, '');

/**
 * Python's `f'{x:.{digits}f}'`. JavaScript's toFixed rounds an exact tie
 * (6.25 to one digit) away from zero, Python to even: 6.2.
 */
export function pyFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return rounded;
  const exact = Math.abs(x).toFixed(100); // every digit of x down to 1e-100: enough to see a tie
  const point = exact.indexOf('.');
  const rest = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(rest)) return rounded;
  const truncated = exact.slice(0, digits > 0 ? point + 1 + digits : point);
  const lastDigit = Number(truncated.at(-1));
  if (lastDigit % 2 === 1) return rounded;
  return (x < 0 ? '-' : '') + truncated;
}

/** Python's `repr(float)`: shortest round-trip digits, `.0` on integers, exponent outside [1e-4, 1e16). */
export function pyRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = x.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** The exact binary value of a finite double: x = mantissa · 2^exponent. */
function binary(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased !== 0) mantissa |= 1n << 52n;
  if (bits >> 63n) mantissa = -mantissa;
  return { mantissa, exponent: (biased === 0 ? 1 : biased) - 1075 };
}

/** num / den (both positive) rounded to the nearest double, ties to even, as Python's int / int. */
function divideToDouble(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  // Scale so the quotient has 55 or 56 bits: 53 kept, one to round by, the rest and the remainder sticky.
  let shift = 55 - (num.toString(2).length - den.toString(2).length);
  const n = shift > 0 ? num << BigInt(shift) : num;
  const d = shift > 0 ? den : den << BigInt(-shift);
  let q = n / d;
  let sticky = n % d !== 0n;
  if (q >= 1n << 55n) {
    sticky ||= (q & 1n) === 1n;
    q >>= 1n;
    shift -= 1;
  }
  let kept = q >> 2n;
  const roundBit = (q & 2n) !== 0n;
  if (roundBit && (sticky || (q & 1n) === 1n || (kept & 1n) === 1n)) kept += 1n;
  return Number(kept) * 2 ** (2 - shift);
}

/**
 * Python's `statistics.mean` of floats: the exact rational mean, rounded
 * once. sacreBLEU's bootstrap mean is this, not a running sum.
 */
export function exactMean(values: readonly number[]): number {
  if (values.length === 0) throw badInput('exactMean: no values');
  const parts = values.map(binary);
  const lowest = Math.min(...parts.map((p) => p.exponent));
  const sum = parts.reduce((s, p) => s + (p.mantissa << BigInt(p.exponent - lowest)), 0n);
  const n = BigInt(values.length);
  const sign = sum < 0n ? -1 : 1;
  const magnitude = sum < 0n ? -sum : sum;
  return sign * (lowest >= 0 ? divideToDouble(magnitude << BigInt(lowest), n) : divideToDouble(magnitude, n << BigInt(-lowest)));
}

/** A bootstrap estimate around a corpus score, as sacreBLEU's `Score.estimate_ci` stores it. */
export interface Confidence {
  /** Mean of the resampled scores. */
  mean: number;
  /** Half the width of the 95 % interval: (upper − lower) / 2 of the sorted resampled scores. */
  ci: number;
}

/** One metric result, printable as sacreBLEU prints it. */
export interface MetricScore {
  /** `BLEU`, `chrF2`, `chrF2++`, … */
  readonly name: string;
  /** 0–100. */
  readonly score: number;
  /** `nrefs:1|case:mixed|…|version:2.6.0`; empty for a score computed from statistics alone. */
  readonly signature: string;
  /** What follows the score in the text line (BLEU's precisions and lengths; empty for chrF). */
  readonly verbose: string;
  /** Present when the score was computed with bootstrap resampling. */
  readonly confidence?: Confidence;
  /**
   * sacreBLEU's line: `BLEU = 8.49 35.7/15.4/4.2/2.3 (BP = 1.000 …)`, with
   * `--width` decimals (2 by default, as the Python API; the CLI's default
   * is 1) and, with `signature: true`, `BLEU|nrefs:1|… = …`.
   */
  format(options?: { width?: number; signature?: boolean }): string;
  /** What `sacrebleu -f json` prints for this score (indent 1, score rounded to `width`). */
  toJSON(width?: number): string;
}

export function metricScore(fields: Omit<MetricScore, 'format' | 'toJSON'>): MetricScore {
  const scoreText = (width: number) => {
    const score = pyFixed(fields.score, width);
    const c = fields.confidence;
    return c ? `${score} (μ = ${pyFixed(c.mean, width)} ± ${pyFixed(c.ci, width)})` : score;
  };
  return {
    ...fields,
    format({ width = 2, signature = false } = {}) {
      const head = signature && fields.signature ? `${fields.name}|${fields.signature}` : fields.name;
      return `${head} = ${scoreText(width)}${fields.verbose ? ` ${fields.verbose}` : ''}`;
    },
    toJSON(width = 2) {
      const entries: Array<[string, string | number]> = [
        ['name', fields.name],
        ['score', Number(pyFixed(fields.score, width))],
        ['signature', fields.signature],
      ];
      const c = fields.confidence;
      if (c) {
        const mean = pyFixed(c.mean, width);
        const ci = pyFixed(c.ci, width);
        entries.push(['confidence_mean', Number(mean)], ['confidence_var', Number(ci)], ['confidence', `μ = ${mean} ± ${ci}`]);
      }
      if (fields.verbose) entries.push(['verbose_score', fields.verbose]);
      for (const pair of fields.signature ? fields.signature.split('|') : []) {
        const [key, value] = pair.split(':') as [string, string];
        entries.push([key, value]);
      }
      const lines = entries.map(([k, v]) => ` ${JSON.stringify(k)}: ${typeof v === 'number' ? pyRepr(v) : JSON.stringify(v)}`);
      return `{\n${lines.join(',\n')}\n}`;
    },
  };
}

/** The reproducibility signature: `nrefs`, the bootstrap fields, the metric's own, then `version`. */
export function signature(
  nrefs: number | 'var',
  bootstrap: { samples: number; seed: number } | undefined,
  metricFields: ReadonlyArray<readonly [string, string | number]>,
): string {
  const fields: Array<readonly [string, string | number]> = [['nrefs', nrefs]];
  if (bootstrap) fields.push(['bs', bootstrap.samples], ['seed', bootstrap.seed]);
  fields.push(...metricFields, ['version', SACREBLEU_VERSION]);
  return fields.map(([k, v]) => `${k}:${v}`).join('|');
}

/** A reference line; null or undefined means this stream has no reference for the segment. */
export type ReferenceLine = string | null | undefined;

/**
 * Checks hypotheses and reference streams as sacreBLEU's API expects them
 * and regroups the references per segment (the non-null ones). `nrefs` is
 * the count per segment, or `var` when it varies.
 */
export function referencesPerSegment(
  caller: string,
  hypotheses: readonly string[],
  references: ReadonlyArray<readonly ReferenceLine[]>,
): { perSegment: string[][]; nrefs: number | 'var' } {
  if (!Array.isArray(hypotheses)) throw badInput(`${caller}: hypotheses must be an array of strings`);
  if (hypotheses.length === 0) throw badInput(`${caller}: no hypotheses`);
  hypotheses.forEach((h, i) => {
    if (typeof h !== 'string') throw badInput(`${caller}: hypotheses[${i}] is ${describe(h)}, expected a string`);
  });
  if (!Array.isArray(references) || references.length === 0) {
    throw badInput(`${caller}: references must be a non-empty array of reference streams (one array of lines per reference set)`);
  }
  references.forEach((stream, k) => {
    if (!Array.isArray(stream)) throw badInput(`${caller}: reference stream ${k} is ${describe(stream)}, expected an array of lines`);
    if (stream.length !== hypotheses.length) {
      throw badInput(`${caller}: reference stream ${k} has ${stream.length} lines but there are ${hypotheses.length} hypotheses`);
    }
  });
  const counts = new Set<number>();
  const perSegment = hypotheses.map((_, i) => {
    const refs: string[] = [];
    references.forEach((stream, k) => {
      const line = stream[i];
      if (line === null || line === undefined) return;
      if (typeof line !== 'string') throw badInput(`${caller}: references[${k}][${i}] is ${describe(line)}, expected a string or null`);
      refs.push(line);
    });
    if (refs.length === 0) throw badInput(`${caller}: segment ${i} has no reference in any stream`);
    counts.add(refs.length);
    return refs;
  });
  return { perSegment, nrefs: counts.size === 1 ? [...counts][0]! : 'var' };
}

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** A name checked against its valid values, with an error listing them. */
export function oneOf<T extends string>(what: string, value: unknown, valid: readonly T[]): T {
  if (typeof value === 'string' && (valid as readonly string[]).includes(value)) return value as T;
  throw badInput(`unknown ${what} ${JSON.stringify(value)} (valid: ${valid.join(', ')})`);
}

/** Sums per-segment statistics (exact: they are integers). */
export function sumStats(stats: readonly (readonly number[])[]): number[] {
  const total = new Array<number>(stats[0]!.length).fill(0);
  for (const row of stats) for (let j = 0; j < row.length; j++) total[j]! += row[j]!;
  return total;
}
