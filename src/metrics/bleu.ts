/**
 * BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.6.0 computes it: the
 * same tokenizers, n-gram counts, closest-reference length, brevity penalty,
 * smoothing (Chen & Cherry, 2014), effective order, signature and printed
 * line. hibiki claims the scoring rules of sacreBLEU 2.6.0 and says so in
 * every signature (`version:2.6.0`). Scores agree with sacreBLEU to the last
 * bit or two (Math.log/exp against C's libm); counts and lengths exactly.
 *
 * References are streams, as in sacreBLEU: `references[k][i]` is reference
 * set k's line for segment i. As sacreBLEU 2.6.0's code (not its docs): an
 * empty string is a reference of length 0; only null/undefined means "no
 * reference here", and a varying count gives `nrefs:var`.
 */
import { badInput } from '../errors.js';
import { bootstrapConfidence } from './bootstrap.js';
import {
  type Confidence, type MetricScore, type ReferenceLine,
  metricScore, oneOf, pyFixed, pyRstrip, pySplit, referencesPerSegment, signature, sumStats,
} from './sacrebleu-compat.js';
import { BLEU_TOKENIZE, BLEU_TOKENIZERS, type BleuTokenizer } from './tokenize-bleu.js';

/** sacreBLEU's smoothing methods, by its names. */
export const BLEU_SMOOTHING = ['exp', 'floor', 'add-k', 'none'] as const;
/** One of BLEU_SMOOTHING. */
export type BleuSmoothing = (typeof BLEU_SMOOTHING)[number];

/** sacreBLEU's defaults for the smoothing value (Chen & Cherry): floor 0.1, add-k 1; exp and none take none. */
export const SMOOTH_DEFAULTS: Record<BleuSmoothing, number | undefined> = { exp: undefined, floor: 0.1, 'add-k': 1, none: undefined };

/** How corpusBleu and sentenceBleu score, with sacreBLEU's options and defaults. */
export interface BleuOptions {
  /** Default `13a`. */
  tokenize?: BleuTokenizer;
  /** Default `exp`. */
  smoothMethod?: BleuSmoothing;
  /** For floor and add-k; default from SMOOTH_DEFAULTS. */
  smoothValue?: number | null;
  lowercase?: boolean;
  /** Default 4. */
  maxNgramOrder?: number;
  /** Average only the orders that have n-grams. Corpus default false, sentence default true (as sacreBLEU). */
  effectiveOrder?: boolean;
  /** Bootstrap resamples for a 95 % confidence interval (sacreBLEU's `n_bootstrap`); 1 or absent: none. Corpus only. */
  bootstrap?: number;
  /** Seed of the resampling (sacreBLEU's SACREBLEU_SEED); default 12345. */
  seed?: number;
}

/** A BLEU score with the statistics sacreBLEU prints beside it. */
export interface BleuScore extends MetricScore {
  /** Matched n-grams per order (with add-k smoothing, incremented by k for orders ≥ 2, as sacreBLEU reports them). */
  readonly counts: number[];
  /** Hypothesis n-grams per order (add-k likewise). */
  readonly totals: number[];
  /** Per order, 0–100. */
  readonly precisions: number[];
  /** Brevity penalty exp(1 − r/c) when c < r, else 1. */
  readonly bp: number;
  /** sysLen / refLen (0 when refLen is 0). */
  readonly ratio: number;
  readonly sysLen: number;
  readonly refLen: number;
}

interface Resolved {
  tokenize: BleuTokenizer;
  smoothMethod: BleuSmoothing;
  smoothValue: number | undefined;
  lowercase: boolean;
  maxNgramOrder: number;
  effectiveOrder: boolean;
}

function resolve(options: BleuOptions, effectiveOrderDefault: boolean): Resolved {
  const maxNgramOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1) throw badInput(`BLEU: maxNgramOrder must be a whole number ≥ 1, got ${maxNgramOrder}`);
  const smoothMethod = oneOf('smoothing method', options.smoothMethod ?? 'exp', BLEU_SMOOTHING);
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod];
  if (smoothValue !== undefined && !Number.isFinite(smoothValue)) throw badInput(`BLEU: smoothValue must be a finite number, got ${smoothValue}`);
  return {
    tokenize: oneOf('tokenizer', options.tokenize ?? '13a', BLEU_TOKENIZERS),
    smoothMethod,
    smoothValue,
    lowercase: options.lowercase ?? false,
    maxNgramOrder,
    effectiveOrder: options.effectiveOrder ?? effectiveOrderDefault,
  };
}

/** `smooth:exp`, `smooth:floor[0.10]`: the method, and the value when the method takes one. */
function bleuSignature(o: Resolved, nrefs: number | 'var', bootstrap?: { samples: number; seed: number }): string {
  const takesValue = SMOOTH_DEFAULTS[o.smoothMethod] !== undefined;
  const smooth = takesValue ? `${o.smoothMethod}[${pyFixed(o.smoothValue!, 2)}]` : o.smoothMethod;
  return signature(nrefs, bootstrap, [
    ['case', o.lowercase ? 'lc' : 'mixed'],
    ['eff', o.effectiveOrder ? 'yes' : 'no'],
    ['tok', o.tokenize],
    ['smooth', smooth],
  ]);
}

/** computeBleu's options: sacreBLEU's compute_bleu on n-gram statistics already counted. */
export interface ComputeBleuOptions {
  /** Default `none`, as sacreBLEU's compute_bleu. */
  smoothMethod?: BleuSmoothing;
  smoothValue?: number | null;
  effectiveOrder?: boolean;
  maxNgramOrder?: number;
}

// my_log: log(0) floored to a very low number.
const floorLog = (p: number) => (p === 0 ? -9999999999 : Math.log(p));

/** The numbers of a score; `float32` replays sacreBLEU's bootstrap, whose statistics are a float32 array. */
function bleuFromStats(
  correctIn: readonly number[], totalIn: readonly number[], sysLen: number, refLen: number,
  o: Pick<Resolved, 'smoothMethod' | 'smoothValue' | 'effectiveOrder' | 'maxNgramOrder'>, float32 = false,
) {
  const correct = correctIn.slice();
  const total = totalIn.slice();
  let bp = 1.0;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  const precisions = new Array<number>(o.maxNgramOrder).fill(0);
  // No n-gram matched at all: 0, whatever the smoothing (sacreBLEU #141).
  if (!correct.some((c) => c !== 0)) return { score: 0.0, counts: correct, totals: total, precisions, bp, sysLen, refLen };
  let smoothMteval = 1.0;
  let effOrder = o.maxNgramOrder;
  for (let n = 1; n <= o.maxNgramOrder; n++) {
    if (o.smoothMethod === 'add-k' && n > 1) {
      const k = o.smoothValue!;
      correct[n - 1] = float32 ? Math.fround(correct[n - 1]! + k) : correct[n - 1]! + k;
      total[n - 1] = float32 ? Math.fround(total[n - 1]! + k) : total[n - 1]! + k;
    }
    const c = correct[n - 1]!;
    const t = total[n - 1]!;
    if (t === 0) break;
    if (o.effectiveOrder) effOrder = n;
    if (c !== 0) precisions[n - 1] = (100.0 * c) / t;
    else if (o.smoothMethod === 'exp') {
      smoothMteval *= 2;
      precisions[n - 1] = 100.0 / (smoothMteval * t);
    } else if (o.smoothMethod === 'floor') precisions[n - 1] = (100.0 * o.smoothValue!) / t;
  }
  let logSum = 0; // Python's sum(): left to right
  for (let n = 0; n < effOrder; n++) logSum += floorLog(precisions[n]!);
  const score = bp * Math.exp(logSum / effOrder);
  return { score, counts: correct, totals: total, precisions, bp, sysLen, refLen };
}

function bleuScore(
  numbers: ReturnType<typeof bleuFromStats>, signatureText: string, confidence?: Confidence,
): BleuScore {
  const ratio = numbers.refLen ? numbers.sysLen / numbers.refLen : 0;
  const verbose = `${numbers.precisions.map((p) => pyFixed(p, 1)).join('/')} (BP = ${pyFixed(numbers.bp, 3)} `
    + `ratio = ${pyFixed(ratio, 3)} hyp_len = ${numbers.sysLen} ref_len = ${numbers.refLen})`;
  return {
    ...metricScore({ name: 'BLEU', score: numbers.score, signature: signatureText, verbose, ...(confidence ? { confidence } : {}) }),
    counts: numbers.counts, totals: numbers.totals, precisions: numbers.precisions,
    bp: numbers.bp, ratio, sysLen: numbers.sysLen, refLen: numbers.refLen,
  };
}

/**
 * BLEU from its sufficient statistics (sacreBLEU's `BLEU.compute_bleu`):
 * matched and total n-grams per order and the corpus lengths. The score has
 * no signature (the number of references is not known here).
 */
export function computeBleu(
  correct: readonly number[], total: readonly number[], sysLen: number, refLen: number, options: ComputeBleuOptions = {},
): BleuScore {
  const o = resolve({ ...options, smoothMethod: options.smoothMethod ?? 'none' }, false);
  if (correct.length !== o.maxNgramOrder || total.length !== o.maxNgramOrder) {
    throw badInput(`computeBleu: correct has ${correct.length} and total ${total.length} orders, expected maxNgramOrder = ${o.maxNgramOrder} each`);
  }
  return bleuScore(bleuFromStats(correct, total, sysLen, refLen, o), '');
}

/** All n-grams of orders 1…maxOrder of a tokenized line, counted, and its length in tokens. */
function ngramCounts(line: string, maxOrder: number): { counts: Map<string, number>; length: number } {
  const tokens = pySplit(line);
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // Order first, so n-grams of different orders never share a key.
      const key = `${n} ${tokens.slice(i, i + n).join(' ')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return { counts, length: tokens.length };
}

/** The reference length closest to the hypothesis length; on a tie, the shorter. */
function closestRefLength(hypLength: number, refLengths: readonly number[]): number {
  let closestDiff = -1;
  let closest = -1;
  for (const r of refLengths) {
    const diff = Math.abs(hypLength - r);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closest = r;
    } else if (diff === closestDiff && r < closest) closest = r;
  }
  return closest;
}

/** Per segment: [hyp_len, ref_len, correct₁…ₙ, total₁…ₙ], as sacreBLEU's `_compute_segment_statistics`. */
function segmentStats(o: Resolved, hypothesis: string, references: readonly string[]): number[] {
  const tokenize = BLEU_TOKENIZE[o.tokenize];
  const preprocess = (s: string) => tokenize(pyRstrip(o.lowercase ? s.toLowerCase() : s));
  const refMax = new Map<string, number>();
  const refLengths = references.map((ref) => {
    const { counts, length } = ngramCounts(preprocess(ref), o.maxNgramOrder);
    for (const [ngram, c] of counts) refMax.set(ngram, Math.max(refMax.get(ngram) ?? 0, c));
    return length;
  });
  const hyp = ngramCounts(preprocess(hypothesis), o.maxNgramOrder);
  const correct = new Array<number>(o.maxNgramOrder).fill(0);
  const total = new Array<number>(o.maxNgramOrder).fill(0);
  for (const [ngram, c] of hyp.counts) {
    const n = Number(ngram.slice(0, ngram.indexOf(' '))) - 1;
    total[n]! += c;
    correct[n]! += Math.min(c, refMax.get(ngram) ?? 0);
  }
  return [hyp.length, closestRefLength(hyp.length, refLengths), ...correct, ...total];
}

function scoreOfStats(o: Resolved, stats: readonly number[], float32 = false) {
  const n = o.maxNgramOrder;
  return bleuFromStats(stats.slice(2, 2 + n), stats.slice(2 + n), stats[0]!, stats[1]!, o, float32);
}

/**
 * Corpus BLEU of hypotheses against reference streams (`references[k][i]`),
 * as sacreBLEU's `BLEU(...).corpus_score`. Effective order is off unless asked.
 */
export function corpusBleu(
  hypotheses: readonly string[], references: ReadonlyArray<readonly ReferenceLine[]>, options: BleuOptions = {},
): BleuScore {
  return scoreBleu('corpusBleu', hypotheses, references, resolve(options, false), options);
}

/**
 * BLEU of one hypothesis against its references (one string per reference
 * set), as sacreBLEU's `BLEU(...).sentence_score`. Effective order is on
 * unless turned off; sacreBLEU's sentence_score uses whatever the metric was
 * built with, and its `sentence_bleu` and CLI `-sl` turn it on.
 */
export function sentenceBleu(hypothesis: string, references: readonly ReferenceLine[], options: BleuOptions = {}): BleuScore {
  if (!Array.isArray(references)) throw badInput('sentenceBleu: references must be an array of strings (one per reference set)');
  return scoreBleu('sentenceBleu', [hypothesis], references.map((r) => [r]), resolve(options, true), { ...options, bootstrap: 1 });
}

function scoreBleu(
  caller: string, hypotheses: readonly string[], references: ReadonlyArray<readonly ReferenceLine[]>, o: Resolved, options: BleuOptions,
): BleuScore {
  const { perSegment, nrefs } = referencesPerSegment(caller, hypotheses, references);
  const stats = hypotheses.map((h, i) => segmentStats(o, h, perSegment[i]!));
  const numbers = scoreOfStats(o, sumStats(stats));
  const samples = options.bootstrap ?? 1;
  if (samples <= 1) return bleuScore(numbers, bleuSignature(o, nrefs));
  const seed = options.seed ?? 12345;
  const confidence = bootstrapConfidence(stats, (s) => scoreOfStats(o, s, true).score, samples, seed);
  return bleuScore(numbers, bleuSignature(o, nrefs, { samples, seed }), confidence);
}
