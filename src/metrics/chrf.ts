/**
 * chrF (Popović, 2015) and chrF++ (Popović, 2017) exactly as sacreBLEU
 * 2.6.0 computes them: character n-grams of orders 1…charOrder (spaces
 * removed unless `whitespace`), word n-grams of orders 1…wordOrder after
 * sacreBLEU's punctuation split, the best reference by F-score per segment,
 * and either sacreBLEU's effective-order averaging (default, `eff:yes`) or
 * chrF++.py's epsilon smoothing (`epsSmoothing`, `eff:no`). n-grams are over
 * code points, as Python strings.
 */
import { badInput } from '../errors.js';
import { bootstrapConfidence } from './bootstrap.js';
import {
  type MetricScore, type ReferenceLine, metricScore, pySplit, referencesPerSegment, signature, sumStats,
} from './sacrebleu-compat.js';

/** How corpusChrf and sentenceChrf score, with sacreBLEU's options and defaults. */
export interface ChrfOptions {
  /** Default 6. */
  charOrder?: number;
  /** Default 0; 2 is chrF++. */
  wordOrder?: number;
  /** Recall weight; default 2. */
  beta?: number;
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. */
  whitespace?: boolean;
  /** chrF++.py / Moses / NLTK epsilon smoothing instead of effective order. */
  epsSmoothing?: boolean;
  /** Bootstrap resamples for a 95 % confidence interval; 1 or absent: none. Corpus only. */
  bootstrap?: number;
  /** Seed of the resampling; default 12345. */
  seed?: number;
}

interface Resolved {
  charOrder: number;
  wordOrder: number;
  beta: number;
  lowercase: boolean;
  whitespace: boolean;
  epsSmoothing: boolean;
}

function resolve(options: ChrfOptions): Resolved {
  const o = {
    charOrder: options.charOrder ?? 6,
    wordOrder: options.wordOrder ?? 0,
    beta: options.beta ?? 2,
    lowercase: options.lowercase ?? false,
    whitespace: options.whitespace ?? false,
    epsSmoothing: options.epsSmoothing ?? false,
  };
  for (const key of ['charOrder', 'wordOrder', 'beta'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) throw badInput(`chrF: ${key} must be a whole number ≥ 0, got ${o[key]}`);
  }
  if (o.charOrder + o.wordOrder === 0) throw badInput('chrF: charOrder + wordOrder must be at least 1');
  return o;
}

// string.punctuation: what chrF++ splits off the start or end of a word.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Words with one punctuation mark split off the end, else off the start ('(hi)' → '(hi', ')', as sacreBLEU #124). */
function splitPunctuation(sentence: string): string[] {
  const words: string[] = [];
  for (const w of pySplit(sentence)) {
    const chars = Array.from(w);
    if (chars.length === 1) words.push(w);
    else if (PUNCTUATION.has(chars.at(-1)!)) words.push(chars.slice(0, -1).join(''), chars.at(-1)!);
    else if (PUNCTUATION.has(chars[0]!)) words.push(chars[0]!, chars.slice(1).join(''));
    else words.push(w);
  }
  return words;
}

/** n-gram counts of a sequence of units (code points, or words joined by a space). */
function countNgrams(units: readonly string[], n: number, joiner: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= units.length; i++) {
    const key = units.slice(i, i + n).join(joiner);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Per order (characters 1…charOrder, then words 1…wordOrder), the n-gram counts of a line. */
function allNgrams(o: Resolved, line: string): Array<Map<string, number>> {
  const chars = Array.from(o.whitespace ? line : pySplit(line).join(''));
  const orders = Array.from({ length: o.charOrder }, (_, n) => countNgrams(chars, n + 1, ''));
  if (o.wordOrder > 0) {
    const words = splitPunctuation(line);
    for (let n = 1; n <= o.wordOrder; n++) orders.push(countNgrams(words, n, ' '));
  }
  return orders;
}

/**
 * The F-score from [hyp, ref, match] per order, 0–100, as sacreBLEU's
 * `_compute_f_score`. `float32` replays its bootstrap, where each precision
 * and recall is a float32 quotient.
 */
function fScore(o: Resolved, stats: readonly number[], float32 = false): number {
  const eps = 1e-16;
  const order = o.charOrder + o.wordOrder;
  const factor = o.beta ** 2;
  const divide = float32 ? (a: number, b: number) => Math.fround(a / b) : (a: number, b: number) => a / b;
  let score = 0.0;
  let effectiveOrder = 0;
  let avgPrec = 0.0;
  let avgRec = 0.0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i]!;
    const nRef = stats[3 * i + 1]!;
    const nMatch = stats[3 * i + 2]!;
    const prec = nHyp > 0 ? divide(nMatch, nHyp) : eps;
    const rec = nRef > 0 ? divide(nMatch, nRef) : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) avgPrec = avgRec = 0.0;
  else {
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
  }
  if (avgPrec + avgRec === 0) return 0.0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

/** [hyp, ref, match] per order against the reference with the best F-score (the first on a tie). */
function segmentStats(o: Resolved, hypothesis: string, references: readonly string[]): number[] {
  const prep = (s: string) => (o.lowercase ? s.toLowerCase() : s);
  const hyp = allNgrams(o, prep(hypothesis));
  let best: number[] = [];
  let bestF = -1.0;
  for (const ref of references) {
    const refNgrams = allNgrams(o, prep(ref));
    const stats: number[] = [];
    hyp.forEach((h, n) => {
      const r = refNgrams[n]!;
      let matches = 0;
      let hypCount = 0;
      for (const [ngram, c] of h) {
        hypCount += c;
        matches += Math.min(c, r.get(ngram) ?? 0);
      }
      let refCount = 0;
      for (const c of r.values()) refCount += c;
      // No hypothesis n-grams count where the reference has none of this order.
      stats.push(r.size > 0 ? hypCount : 0, refCount, matches);
    });
    const f = fScore(o, stats);
    if (f > bestF) {
      bestF = f;
      best = stats;
    }
  }
  return best;
}

/** `chrF2`, `chrF2++`: beta, then one + per word order. */
const chrfName = (o: Resolved) => `chrF${o.beta}${'+'.repeat(o.wordOrder)}`;

/** Corpus chrF / chrF++ of hypotheses against reference streams (`references[k][i]`), as sacreBLEU's `CHRF(...).corpus_score`. */
export function corpusChrf(
  hypotheses: readonly string[], references: ReadonlyArray<readonly ReferenceLine[]>, options: ChrfOptions = {},
): MetricScore {
  return scoreChrf('corpusChrf', hypotheses, references, options);
}

/** chrF of one hypothesis against its references (one string per reference set), as sacreBLEU's `sentence_score`. */
export function sentenceChrf(hypothesis: string, references: readonly ReferenceLine[], options: ChrfOptions = {}): MetricScore {
  if (!Array.isArray(references)) throw badInput('sentenceChrf: references must be an array of strings (one per reference set)');
  return scoreChrf('sentenceChrf', [hypothesis], references.map((r) => [r]), { ...options, bootstrap: 1 });
}

function scoreChrf(
  caller: string, hypotheses: readonly string[], references: ReadonlyArray<readonly ReferenceLine[]>, options: ChrfOptions,
): MetricScore {
  const o = resolve(options);
  const { perSegment, nrefs } = referencesPerSegment(caller, hypotheses, references);
  const stats = hypotheses.map((h, i) => segmentStats(o, h, perSegment[i]!));
  const samples = options.bootstrap ?? 1;
  const seed = options.seed ?? 12345;
  const bootstrap = samples > 1 ? { samples, seed } : undefined;
  const sig = signature(nrefs, bootstrap, [
    ['case', o.lowercase ? 'lc' : 'mixed'],
    ['eff', o.epsSmoothing ? 'no' : 'yes'],
    ['nc', o.charOrder],
    ['nw', o.wordOrder],
    ['space', o.whitespace ? 'yes' : 'no'],
  ]);
  const confidence = bootstrap ? bootstrapConfidence(stats, (s) => fScore(o, s, true), samples, seed) : undefined;
  return metricScore({ name: chrfName(o), score: fScore(o, sumStats(stats)), signature: sig, verbose: '', ...(confidence ? { confidence } : {}) });
}
