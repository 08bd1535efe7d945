/**
 * Greedy and beam search with Hugging Face transformers' semantics
 * (generate() with do_sample false), over any StepDecoder, so that a model
 * converted from transformers gives the ids and sequences_scores
 * transformers gives.
 *
 * Every sequence starts with the decoder start token; the sequence limit
 * counts it (max_length, or max_new_tokens + 1).
 *
 * Greedy: each row takes the argmax of its processed logits (bad words
 * banned, the end forced at the last allowed step) until it ends or reaches
 * the limit.
 *
 * Beam search (transformers' vectorised `_beam_search`): per step, every live
 * beam's log-softmax goes through the processors and is added to the beam's
 * running score (float32 sums, as torch's); the best (1 + #eos)·K (at least
 * 2K) continuations are taken over all beams; the K best that do not end
 * continue, and of the first K those that end (an end token, or the limit)
 * are offered to the K finished slots with score sum / generated^α, where
 * generated counts the new tokens, the end token included. A sentence is
 * done once its K slots are full and its best live beam, scored at its
 * current length (at the limit for early_stopping "never" with α > 0),
 * cannot beat the worst of them; with early_stopping true, once the slots
 * are full. At first only beam 0 is live (the others start at −1e9).
 *
 * Each search is written once, as a coroutine (hfGreedySteps, hfBeamSteps)
 * that yields what it needs from the network and is resumed with the
 * logits; runSearch drives it with a StepDecoder in this thread, and
 * runSearchAsync with an asynchronous one (bench/peers drives onnxruntime's
 * session.run through the same searches).
 */
import { type HfGenerationConfig, sequenceLimit } from './hf-config.js';
import { LogitsProcessor, type RowLogSumExp, argmax, logSoftmaxRow, logSumExpEachRow } from './hf-logits.js';
import type { StepDecoder } from './search.js';

/** One output sequence. */
export interface GeneratedSequence {
  /** The decoder start, the generated tokens, and the end token when it ended with one. */
  ids: number[];
  /** Σ of the chosen tokens' processed log-probabilities (a forced end adds 0). */
  logprob: number;
  /** logprob / generated^α: beam search's sequences_scores (greedy: the same formula). */
  score: number;
}

/** transformers' placeholder score for beams and slots that must not be chosen. */
const EXCLUDED = -1e9;

const f32 = Math.fround;

/** The length penalty's divisor generated^α, as torch divides a float32 tensor by a Python float. */
const penalty = (generated: number, alpha: number) => f32(generated ** alpha);

/** What a search asks of the network: logits for one token per row, or rows reordered (row r continues parent[r]). */
export type DecoderCall = { step: Int32Array } | { reorder: Int32Array };

/** A search as a coroutine: yields DecoderCalls, is resumed with the logits [rows, vocab] after a step, returns its result. */
export type SearchSteps<T> = Generator<DecoderCall, T, Float32Array | undefined>;

/** Runs a search against a decoder in this thread. */
export function runSearch<T>(decoder: StepDecoder, search: SearchSteps<T>): T {
  let next = search.next();
  while (!next.done) {
    const call = next.value;
    next = search.next('step' in call ? decoder.step(call.step) : (decoder.reorder(call.reorder), undefined));
  }
  return next.value;
}

/** A StepDecoder whose step and reorder may be asynchronous (an onnxruntime session). */
export interface AsyncStepDecoder {
  readonly vocab: number;
  step(tokens: Int32Array): Float32Array | Promise<Float32Array>;
  reorder(parent: Int32Array): void | Promise<void>;
}

/** Runs a search against a decoder whose calls may be asynchronous. */
export async function runSearchAsync<T>(decoder: AsyncStepDecoder, search: SearchSteps<T>): Promise<T> {
  let next = search.next();
  while (!next.done) {
    const call = next.value;
    next = search.next('step' in call ? await decoder.step(call.step) : (await decoder.reorder(call.reorder), undefined));
  }
  return next.value;
}

/**
 * Greedy decoding of `sentences` rows (one per sentence). `rowLogSumExp`
 * computes each row's log Σ exp (a runtime's kernel where the logits are in
 * its memory).
 */
export function hfGreedySearch(decoder: StepDecoder, sentences: number, config: HfGenerationConfig, step: () => void = () => {},
  rowLogSumExp: RowLogSumExp = logSumExpEachRow): GeneratedSequence[] {
  return runSearch(decoder, hfGreedySteps(decoder.vocab, sentences, config, step, rowLogSumExp));
}

/** hfGreedySearch as a coroutine over a network of `V` output classes. */
export function* hfGreedySteps(V: number, sentences: number, config: HfGenerationConfig, step: () => void = () => {},
  rowLogSumExp: RowLogSumExp = logSumExpEachRow): SearchSteps<GeneratedSequence[]> {
  const limit = sequenceLimit(config);
  const processor = new LogitsProcessor(config, limit);
  const eos = config.eosTokenIds;
  const seqs = Array.from({ length: sentences }, () => [config.decoderStartTokenId]);
  const logprob = new Float32Array(sentences);
  const done = new Uint8Array(sentences);
  const tokens = new Int32Array(sentences).fill(config.decoderStartTokenId);
  const scores = new Float32Array(V);
  const lp = new Float32Array(V);
  const logZ = new Float64Array(sentences);
  do {
    const logits = (yield { step: tokens })!;
    if (!config.renormalizeLogits) rowLogSumExp(logits, sentences, V, logZ);
    for (let b = 0; b < sentences; b++) {
      if (done[b]) {
        tokens[b] = config.padTokenId;
        continue;
      }
      const seq = seqs[b]!;
      let [next, chosen] = config.renormalizeLogits ? [-1, 0] : greedyChoice(logits, b * V, V, processor, seq, logZ[b]!);
      if (next < 0) {
        // The processors over the whole row, then its log-softmax: what the fast path stands for.
        scores.set(logits.subarray(b * V, (b + 1) * V));
        processor.apply(scores, seq);
        next = argmax(scores);
        logSoftmaxRow(logits, b * V, V, lp);
        processor.apply(lp, seq);
        if (config.renormalizeLogits) logSoftmaxRow(lp, 0, V, lp);
        chosen = lp[next]!;
      }
      logprob[b] = f32(logprob[b]! + chosen);
      seq.push(next);
      tokens[b] = next;
      if (eos.includes(next) || seq.length >= limit) done[b] = 1;
    }
    step();
  } while (!done.every((x) => x));
  return seqs.map((ids, b) => ({ ids, logprob: logprob[b]!, score: f32(logprob[b]! / penalty(ids.length - 1, config.lengthPenalty)) }));
}

/** A live beam: its ids so far and its float32 running score. */
export interface Beam {
  ids: number[];
  score: number; // float32 running sum
}

interface Finished {
  ids: number[];
  logprob: number;
  score: number;
}

/**
 * Beam search of `sentences` sentences, K = numBeams rows each (row =
 * sentence · K + k); numReturnSequences sequences per sentence, best first.
 */
export function hfBeamSearch(decoder: StepDecoder, sentences: number, config: HfGenerationConfig, step: () => void = () => {},
  rowLogSumExp: RowLogSumExp = logSumExpEachRow): GeneratedSequence[][] {
  return runSearch(decoder, hfBeamSteps(decoder.vocab, sentences, config, step, rowLogSumExp));
}

/** hfBeamSearch as a coroutine over a network of `V` output classes. */
export function* hfBeamSteps(V: number, sentences: number, config: HfGenerationConfig, step: () => void = () => {},
  rowLogSumExp: RowLogSumExp = logSumExpEachRow): SearchSteps<GeneratedSequence[][]> {
  const K = config.numBeams;
  const alpha = config.lengthPenalty;
  const limit = sequenceLimit(config);
  const processor = new LogitsProcessor(config, limit);
  const eos = config.eosTokenIds;
  const keep = Math.max(2, 1 + eos.length) * K;
  const start = config.decoderStartTokenId;
  const running: Beam[][] = Array.from({ length: sentences }, () =>
    Array.from({ length: K }, (_, k) => ({ ids: [start], score: k === 0 ? 0 : EXCLUDED })));
  const finished: Finished[][] = Array.from({ length: sentences }, () => []);
  const done = new Uint8Array(sentences);
  const tokens = new Int32Array(sentences * K).fill(start);
  const parent = new Int32Array(sentences * K);
  const acc = new Float32Array(K * V); // beam k's running score + each token's processed log-probability
  const logZ = new Float64Array(sentences * K);
  let curLen = 1;
  do {
    const logits = (yield { step: tokens })!;
    if (!config.renormalizeLogits) rowLogSumExp(logits, sentences * K, V, logZ);
    for (let b = 0; b < sentences; b++) {
      const base = b * K;
      if (done[b]) {
        for (let k = 0; k < K; k++) {
          parent[base + k] = base + k;
          tokens[base + k] = config.padTokenId;
        }
        continue;
      }
      const beams = running[b]!;
      let top = config.renormalizeLogits ? undefined : bestContinuations(logits, base, K, V, beams, processor, keep, logZ);
      if (!top) {
        // Every row's processed log-softmax plus its beam's score, written out, and the best over all of them.
        for (let k = 0; k < K; k++) {
          const row = acc.subarray(k * V, (k + 1) * V);
          logSoftmaxRow(logits, (base + k) * V, V, row);
          processor.apply(row, beams[k]!.ids);
          if (config.renormalizeLogits) logSoftmaxRow(row, 0, V, row);
          const s = beams[k]!.score;
          for (let v = 0; v < V; v++) row[v] = row[v]! + s;
        }
        const index = topIndices(acc, keep);
        top = { index, score: index.map((i) => acc[i]!) };
      }
      const atLimit = curLen + 1 >= limit;
      const candidates = top.index.map((i, rank) => {
        const k = Math.floor(i / V);
        const token = i % V;
        return { k, token, score: top.score[rank]!, rank, ends: atLimit || eos.includes(token) };
      });
      // The K best that go on: ending ones pushed below every other (float32, as torch adds −1e9).
      const next = candidates
        .map((c) => ({ c, value: c.ends ? f32(c.score + EXCLUDED) : c.score }))
        .sort((x, y) => y.value - x.value || x.c.rank - y.c.rank)
        .slice(0, K);
      const slots = finished[b]!;
      for (const c of candidates) {
        if (c.rank >= K || !c.ends) continue;
        slots.push({ ids: [...beams[c.k]!.ids, c.token], logprob: c.score, score: f32(c.score / penalty(curLen, alpha)) });
      }
      // Keep the K best finished, the earlier on ties (transformers merges old before new).
      slots.sort((x, y) => y.score - x.score);
      slots.length = Math.min(slots.length, K);
      running[b] = next.map(({ c, value }, k) => {
        parent[base + k] = base + c.k;
        tokens[base + k] = c.token;
        return { ids: [...beams[c.k]!.ids, c.token], score: value };
      });
      if (atLimit || stops(running[b]![0]!.score, slots, K, curLen + 1, limit, config)) done[b] = 1;
    }
    curLen++;
    if (!done.every((x) => x)) yield { reorder: parent };
    step();
  } while (!done.every((x) => x));
  return finished.map((slots) => slots.slice(0, config.numReturnSequences).map(({ ids, logprob, score }) => ({ ids, logprob, score })));
}

/**
 * transformers' stopping rule for one sentence after a step, with `length`
 * tokens now in each sequence: its slots are full and either early_stopping
 * is true, or the best live beam, scored as if it ended now (or at the limit
 * for "never" with α > 0), is no better than the worst finished one.
 */
function stops(bestRunning: number, slots: readonly Finished[], K: number, length: number, limit: number, config: HfGenerationConfig): boolean {
  if (slots.length < K) return false;
  if (config.earlyStopping === true) return true;
  const generated = config.earlyStopping === 'never' && config.lengthPenalty > 0 ? limit - 1 : length - 1;
  const best = f32(bestRunning / penalty(generated, config.lengthPenalty));
  return !(best > Math.min(...slots.map((s) => s.score)));
}

/**
 * Greedy's choice for one row without writing the row out: the processed
 * argmax and its processed log-probability. At a step that only bans tokens
 * (no forced end, no renormalisation) every other token keeps its raw
 * logit, so the argmax over the raw logits that skips banned tokens is the
 * processed argmax (the first on ties), and its log-probability is the raw
 * logit minus log Σ exp, rounded to float32 as logSoftmaxRow rounds it.
 * [−1, 0] where the shortcut does not hold (a forced step, a NaN or +∞ in
 * the row, every allowed logit −∞): the caller then runs the processors
 * over the whole row.
 */
export function greedyChoice(logits: Float32Array, offset: number, V: number, processor: LogitsProcessor, sequence: readonly number[],
  logZ: number): [number, number] {
  if (processor.forces(sequence)) return [-1, 0];
  if (Number.isNaN(logZ) || logZ === Infinity) return [-1, 0];
  let best = -1;
  let bestValue = -Infinity;
  for (let v = 0; v < V; v++) {
    const x = logits[offset + v]!;
    if (x > bestValue && !processor.bans(v, sequence)) {
      best = v;
      bestValue = x;
    }
  }
  return best < 0 ? [-1, 0] : [best, f32(bestValue - logZ)];
}

/**
 * Beam search's best `keep` continuations of one sentence's K beams (rows
 * base … base + K − 1, log Σ exp of row r in rowLogZ[r]) without writing
 * the K × V scores out: candidate (k, v) scores
 * f32(f32(logit − log Σ exp) + beam score), exactly the value the written-out
 * path computes, and is kept when it beats the current keep-th best (ties to
 * the lower index, as topIndices) and is not banned. Indices k·V + v, best
 * first. Undefined where the shortcut does not hold (a forced step, a NaN
 * row, fewer than `keep` finite candidates): the caller writes the rows out.
 */
export function bestContinuations(logits: Float32Array, base: number, K: number, V: number, beams: readonly Beam[], processor: LogitsProcessor,
  keep: number, rowLogZ: Float64Array): { index: number[]; score: number[] } | undefined {
  const index: number[] = [];
  const score: number[] = [];
  for (let k = 0; k < K; k++) {
    const sequence = beams[k]!.ids;
    if (processor.forces(sequence)) return undefined;
    const offset = (base + k) * V;
    const logZ = rowLogZ[base + k]!;
    if (Number.isNaN(logZ)) return undefined;
    const s = beams[k]!.score;
    // A logit below `cut` cannot make the keep-th best: cut is that score moved to the logit's scale, less
    // a margin above both float32 roundings' error (2^-24 of the magnitudes each), so only logits near the
    // bar pay for the exact score.
    const cutFor = (t: number) => t - s + logZ - 2 ** -18 * (Math.abs(t) + Math.abs(s) + Math.abs(logZ) + 1);
    let cut = index.length === keep ? cutFor(score[keep - 1]!) : -Infinity;
    for (let v = 0; v < V; v++) {
      const logit = logits[offset + v]!;
      if (logit < cut) continue;
      const x = f32(f32(logit - logZ) + s);
      if (index.length === keep ? !(x > score[keep - 1]!) : !(x > -Infinity)) continue;
      if (processor.bans(v, sequence)) continue;
      let at = index.length;
      while (at > 0 && score[at - 1]! < x) at--;
      index.splice(at, 0, k * V + v);
      score.splice(at, 0, x);
      if (index.length > keep) {
        index.pop();
        score.pop();
      }
      if (index.length === keep) cut = cutFor(score[keep - 1]!);
    }
  }
  return index.length === keep ? { index, score } : undefined;
}

/** The indices of the `count` largest values, largest first; ties to the lower index. */
function topIndices(values: Float32Array, count: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === count && !(v > values[best[count - 1]!]!)) continue;
    let at = best.length;
    while (at > 0 && values[best[at - 1]!]! < v) at--;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return best;
}

/** Sequences padded with `pad` to the longest one's length, as transformers returns a batch. */
export function padSequences(sequences: readonly (readonly number[])[], pad: number): number[][] {
  const length = Math.max(0, ...sequences.map((s) => s.length));
  return sequences.map((s) => [...s, ...new Array<number>(length - s.length).fill(pad)]);
}
