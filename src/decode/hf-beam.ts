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
import { LogitsProcessor, argmax, logSoftmaxRow } from './hf-logits.js';
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

/** Greedy decoding of `sentences` rows (one per sentence). */
export function hfGreedySearch(decoder: StepDecoder, sentences: number, config: HfGenerationConfig, step: () => void = () => {}): GeneratedSequence[] {
  return runSearch(decoder, hfGreedySteps(decoder.vocab, sentences, config, step));
}

/** hfGreedySearch as a coroutine over a network of `V` output classes. */
export function* hfGreedySteps(V: number, sentences: number, config: HfGenerationConfig, step: () => void = () => {}): SearchSteps<GeneratedSequence[]> {
  const limit = sequenceLimit(config);
  const processor = new LogitsProcessor(config, limit);
  const eos = config.eosTokenIds;
  const seqs = Array.from({ length: sentences }, () => [config.decoderStartTokenId]);
  const logprob = new Float32Array(sentences);
  const done = new Uint8Array(sentences);
  const tokens = new Int32Array(sentences).fill(config.decoderStartTokenId);
  const scores = new Float32Array(V);
  const lp = new Float32Array(V);
  do {
    const logits = (yield { step: tokens })!;
    for (let b = 0; b < sentences; b++) {
      if (done[b]) {
        tokens[b] = config.padTokenId;
        continue;
      }
      const seq = seqs[b]!;
      scores.set(logits.subarray(b * V, (b + 1) * V));
      processor.apply(scores, seq);
      const next = argmax(scores);
      logSoftmaxRow(logits, b * V, V, lp);
      processor.apply(lp, seq);
      if (config.renormalizeLogits) logSoftmaxRow(lp, 0, V, lp);
      logprob[b] = f32(logprob[b]! + lp[next]!);
      seq.push(next);
      tokens[b] = next;
      if (eos.includes(next) || seq.length >= limit) done[b] = 1;
    }
    step();
  } while (!done.every((x) => x));
  return seqs.map((ids, b) => ({ ids, logprob: logprob[b]!, score: f32(logprob[b]! / penalty(ids.length - 1, config.lengthPenalty)) }));
}

interface Beam {
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
export function hfBeamSearch(decoder: StepDecoder, sentences: number, config: HfGenerationConfig, step: () => void = () => {}): GeneratedSequence[][] {
  return runSearch(decoder, hfBeamSteps(decoder.vocab, sentences, config, step));
}

/** hfBeamSearch as a coroutine over a network of `V` output classes. */
export function* hfBeamSteps(V: number, sentences: number, config: HfGenerationConfig, step: () => void = () => {}): SearchSteps<GeneratedSequence[][]> {
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
  let curLen = 1;
  do {
    const logits = (yield { step: tokens })!;
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
      for (let k = 0; k < K; k++) {
        const row = acc.subarray(k * V, (k + 1) * V);
        logSoftmaxRow(logits, (base + k) * V, V, row);
        processor.apply(row, beams[k]!.ids);
        if (config.renormalizeLogits) logSoftmaxRow(row, 0, V, row);
        const s = beams[k]!.score;
        for (let v = 0; v < V; v++) row[v] = row[v]! + s;
      }
      const atLimit = curLen + 1 >= limit;
      const candidates = topIndices(acc, keep).map((i, rank) => {
        const k = Math.floor(i / V);
        const token = i % V;
        return { k, token, score: acc[i]!, rank, ends: atLimit || eos.includes(token) };
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
