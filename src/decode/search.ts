/**
 * Greedy and beam search over any decoder that steps rows of tokens to rows
 * of logits. tools/transformer_torch.py has the same two searches, rule for
 * rule, for the parity fixtures.
 *
 * Beam search keeps `beam` live hypotheses per sentence. Each step scores
 * every continuation of every live hypothesis (log-probabilities summed in
 * float64), takes the best 2·beam, and walks them in order: an end-of-
 * sentence among the first `beam` finishes a hypothesis, anything else
 * continues until `beam` are live again. A sentence is done at its length
 * limit, where the live ones finish as they are, or once `beam` hypotheses
 * have finished and no live one, scored as if it ended now, beats the
 * `beam`-th best of them (Hugging Face's default rule). Stopping at the
 * first `beam` finished, as fairseq does, loses the best translation when
 * weaker hypotheses happen to be shorter. Finished hypotheses rank by logprob / length^α
 * (length counts the end-of-sentence token; α = lengthPenalty, 0 = raw sum).
 * Ties go to the lower beam, then the lower token id, so results never depend
 * on sort stability.
 */
import { badInput } from '../errors.js';
import { logSoftmaxRow } from './hf-logits.js';

/** A decoder as search sees it: `rows` rows, one token in, one row of logits out per step. */
export interface StepDecoder {
  readonly vocab: number;
  /** Feeds one token per row; returns logits [rows, vocab] (valid until the next call). */
  step(tokens: Int32Array): Float32Array;
  /** Row r continues what row parent[r] held. */
  reorder(parent: Int32Array): void;
}

/** One output of a search: its tokens and scores. */
export interface Hypothesis {
  /** Output tokens, without bos and eos. */
  tokens: number[];
  /** Sum of the tokens' log-probabilities (eos included when it ended with eos). */
  logprob: number;
  /** logprob / length^α: what hypotheses are ranked by. */
  score: number;
}

/** What every search needs: the special tokens and how long each output may grow. */
export interface SearchOptions {
  /** The token a decoder starts from. */
  bos: number;
  /** The token that ends an output. */
  eos: number;
  /** Longest output per sentence, in tokens including eos. */
  maxLength: readonly number[];
}

/** Beam search: the beam width, length penalty and how many hypotheses to keep. */
export interface BeamOptions extends SearchOptions {
  /** Hypotheses kept per sentence at each step. */
  beam: number;
  /** α in logprob / length^α (default 1). */
  lengthPenalty?: number;
  /** Hypotheses returned per sentence, best first (default 1, at most beam). */
  nBest?: number;
}

/** The highest logit's index, the first one on ties (as torch.argmax). */
function argmaxRow(logits: Float32Array, offset: number, V: number): number {
  let best = 0;
  for (let v = 1; v < V; v++) if (logits[offset + v]! > logits[offset + best]!) best = v;
  return best;
}

/** Greedy decoding of `maxLength.length` sentences, one row each; score = logprob / length (α = 1). */
export function greedySearch(decoder: StepDecoder, options: SearchOptions, step: () => void = () => {}): Hypothesis[] {
  const { bos, eos, maxLength } = options;
  const B = maxLength.length;
  const V = decoder.vocab;
  const out: Hypothesis[] = Array.from({ length: B }, () => ({ tokens: [], logprob: 0, score: 0 }));
  const done = new Uint8Array(B);
  const length = new Int32Array(B); // tokens scored, eos included
  const tokens = new Int32Array(B).fill(bos);
  const lp = new Float64Array(V);
  const longest = Math.max(0, ...maxLength);
  for (let t = 0; t < longest && done.some((x) => !x); t++) {
    const logits = decoder.step(tokens);
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        tokens[b] = eos;
        continue;
      }
      const next = argmaxRow(logits, b * V, V);
      logSoftmaxRow(logits, b * V, V, lp);
      out[b]!.logprob += lp[next]!;
      length[b] = length[b]! + 1;
      tokens[b] = next;
      if (next === eos) done[b] = 1;
      else out[b]!.tokens.push(next);
      if (t + 1 >= maxLength[b]!) done[b] = 1;
    }
    step();
  }
  out.forEach((h, b) => { h.score = length[b] ? h.logprob / length[b]! : 0; });
  return out;
}

/** Beam search: rows are sentence-major (row = sentence · beam + k). */
export function beamSearch(decoder: StepDecoder, options: BeamOptions, step: () => void = () => {}): Hypothesis[][] {
  const { bos, eos, maxLength, beam: K } = options;
  const alpha = options.lengthPenalty ?? 1;
  const nBest = options.nBest ?? 1;
  if (!Number.isSafeInteger(K) || K < 1) throw badInput(`beam must be a whole number ≥ 1, got ${K}`);
  if (!Number.isSafeInteger(nBest) || nBest < 1 || nBest > K) throw badInput(`nBest must be from 1 to the beam size ${K}, got ${nBest}`);
  if (!(alpha >= 0 && Number.isFinite(alpha))) throw badInput(`lengthPenalty must be a number ≥ 0, got ${alpha}`);
  const B = maxLength.length;
  const V = decoder.vocab;
  const R = B * K;
  const normalise = (logprob: number, length: number) => (alpha === 0 ? logprob : logprob / length ** alpha);
  const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);
  // Only beam 0 is live at the start: the others would repeat it.
  let scores = Float64Array.from({ length: R }, (_, r) => (r % K === 0 ? 0 : -Infinity));
  let history: number[][] = Array.from({ length: R }, () => []);
  const tokens = new Int32Array(R).fill(bos);
  const parent = new Int32Array(R);
  const lp = new Float64Array(K * V);
  const longest = Math.max(0, ...maxLength);
  for (let t = 0; t < longest && done.some((x) => !x); t++) {
    const logits = decoder.step(tokens);
    const nextScores = new Float64Array(R).fill(-Infinity);
    const nextHistory: number[][] = new Array(R);
    for (let b = 0; b < B; b++) {
      const base = b * K;
      if (done[b]) {
        for (let k = 0; k < K; k++) {
          parent[base + k] = base + k;
          tokens[base + k] = eos;
          nextHistory[base + k] = history[base + k]!;
        }
        continue;
      }
      for (let k = 0; k < K; k++) logSoftmaxRow(logits, (base + k) * V, V, lp.subarray(k * V, (k + 1) * V));
      const best = topCandidates(scores, base, lp, K, V, 2 * K);
      const last = t + 1 >= maxLength[b]!;
      let live = 0;
      for (let rank = 0; rank < best.length && live < K; rank++) {
        const cand = best[rank]!;
        const k = Math.floor(cand / V);
        const v = cand % V;
        const score = scores[base + k]! + lp[cand]!;
        if (v === eos) {
          if (rank < K) {
            const h = history[base + k]!;
            finished[b]!.push({ tokens: h.slice(), logprob: score, score: normalise(score, h.length + 1) });
          }
          continue;
        }
        parent[base + live] = base + k;
        tokens[base + live] = v;
        nextScores[base + live] = score;
        nextHistory[base + live] = [...history[base + k]!, v];
        live++;
      }
      for (let k = live; k < K; k++) {
        parent[base + k] = base;
        tokens[base + k] = eos;
        nextHistory[base + k] = [];
      }
      if (last) {
        // Out of length: the live hypotheses finish as they are.
        for (let k = 0; k < live; k++) {
          const h = nextHistory[base + k]!;
          finished[b]!.push({ tokens: h, logprob: nextScores[base + k]!, score: normalise(nextScores[base + k]!, h.length) });
        }
        done[b] = 1;
      } else if (finished[b]!.length >= K) {
        const kth = finished[b]!.map((h) => h.score).sort((x, y) => y - x)[K - 1]!;
        let bestLive = -Infinity;
        for (let k = 0; k < live; k++) bestLive = Math.max(bestLive, normalise(nextScores[base + k]!, nextHistory[base + k]!.length));
        if (bestLive <= kth) done[b] = 1;
      }
    }
    scores = nextScores;
    history = nextHistory;
    if (done.some((x) => !x)) decoder.reorder(parent);
    step();
  }
  return finished.map((hyps) =>
    hyps
      .map((h, i) => ({ h, i }))
      .sort((a, b) => b.h.score - a.h.score || a.i - b.i)
      .slice(0, nBest)
      .map(({ h }) => h),
  );
}

/**
 * The `count` best (beam k, token v) continuations of sentence rows
 * base…base+K−1, as indices k·V + v, best first; ties to the lower index.
 */
function topCandidates(scores: Float64Array, base: number, lp: Float64Array, K: number, V: number, count: number): number[] {
  const best: number[] = [];
  const value = (i: number) => scores[base + Math.floor(i / V)]! + lp[i]!;
  for (let k = 0; k < K; k++) {
    if (scores[base + k] === -Infinity) continue;
    for (let v = 0; v < V; v++) {
      const i = k * V + v;
      const s = value(i);
      if (best.length === count && s <= value(best[count - 1]!)) continue;
      // Insert after every candidate that is at least as good (they have lower indices).
      let at = best.length;
      while (at > 0 && value(best[at - 1]!) < s) at--;
      best.splice(at, 0, i);
      if (best.length > count) best.pop();
    }
  }
  return best;
}
