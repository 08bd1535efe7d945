/**
 * The four SentencePiece model types, each splitting normalized UTF-8 text
 * into vocabulary pieces exactly as the library's model does:
 * UNIGRAM (unigram_model.cc, EncodeOptimized), BPE (bpe_model.cc), CHAR
 * (char_model.cc) and WORD (word_model.cc). Each returns the pieces as
 * `[begin, end, id]` byte spans of the normalized text; unknown spans carry
 * the unknown id and are merged or split into bytes by the caller.
 */
import { oneCharLen } from './normalizer.js';
import { PieceType } from './sentencepiece-model.js';
import type { ByteTrie } from './trie.js';

export type Segment = [begin: number, end: number, id: number];

/** What the models need from the vocabulary. */
export interface Vocab {
  types: Uint8Array; // PieceType per id
  scores: Float32Array; // score per id
  normal: ByteTrie; // NORMAL, USER_DEFINED and UNUSED pieces → id (the library's `pieces_`)
  userDefined: ByteTrie | undefined; // USER_DEFINED pieces (the library's prefix matcher)
  unkId: number; // the UNKNOWN piece
  pieceToId(text: Uint8Array, begin: number, end: number): number; // reserved pieces first, then normal, else unk
  treatWhitespaceAsSuffix: boolean;
  allowWhitespaceOnlyPieces: boolean;
}

// unigram_model.cc kUnkPenalty: an unknown character costs this much below the worst piece.
const UNK_PENALTY = 10;
const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;

/** Length of the symbol at `pos`: a user-defined symbol, else one character (PrefixMatcher::PrefixMatch). */
function symbolLen(vocab: Vocab, text: Uint8Array, pos: number): [length: number, userDefined: boolean] {
  const length = vocab.userDefined?.longestPrefix(text, pos, text.length) ?? 0;
  if (length > 0) return [length, true];
  return [Math.min(oneCharLen(text[pos]!), text.length - pos), false];
}

/** min and max score over the NORMAL pieces, float32, from FLT_MAX and FLT_MIN as the library starts. */
export function scoreRange(vocab: Pick<Vocab, 'types' | 'scores'>): { minScore: number; maxScore: number } {
  let minScore = FLT_MAX;
  let maxScore = FLT_MIN;
  for (let id = 0; id < vocab.types.length; id++) {
    if (vocab.types[id] !== PieceType.NORMAL) continue;
    minScore = Math.min(minScore, vocab.scores[id]!);
    maxScore = Math.max(maxScore, vocab.scores[id]!);
  }
  return { minScore, maxScore };
}

/**
 * Unigram: the Viterbi best path over every piece that matches at every
 * character, scoring a path by the sum of its piece scores. A character no
 * piece of its own length covers gets an unknown node scored `minScore − 10`;
 * user-defined symbols score `length·maxScore − 0.1` so they always win.
 * The arithmetic mirrors the C++ types (float32 path scores, double
 * candidates for known pieces) so ties break the same way.
 */
export function encodeUnigram(vocab: Vocab, text: Uint8Array, minScore: number, maxScore: number): Segment[] {
  const size = text.length;
  if (size === 0) return [];
  const unkScore = Math.fround(minScore - UNK_PENALTY);
  const bestScore = new Float32Array(size + 1); // best path score ending at byte position
  const startsAt = new Int32Array(size + 1).fill(-1); // where the last piece of that path starts
  const bestId = new Int32Array(size + 1).fill(-1);
  for (let start = 0; start < size; ) {
    const scoreTillHere = bestScore[start]!;
    const mblen = Math.min(oneCharLen(text[start]!), size - start);
    let hasSingleNode = false;
    vocab.normal.prefixes(text, start, size, (length, id) => {
      const type = vocab.types[id];
      if (type === PieceType.UNUSED) return;
      const end = start + length;
      const score = type === PieceType.USER_DEFINED ? Math.fround(length * maxScore) - 0.1 : vocab.scores[id]!;
      const candidate = score + scoreTillHere;
      if (startsAt[end] === -1 || candidate > bestScore[end]!) {
        bestScore[end] = candidate;
        startsAt[end] = start;
        bestId[end] = id;
      }
      if (length === mblen) hasSingleNode = true;
    });
    if (!hasSingleNode) {
      const end = start + mblen;
      const candidate = Math.fround(unkScore + scoreTillHere);
      if (startsAt[end] === -1 || candidate > bestScore[end]!) {
        bestScore[end] = candidate;
        startsAt[end] = start;
        bestId[end] = vocab.unkId;
      }
    }
    start += mblen;
  }
  const segments: Segment[] = [];
  for (let end = size; end > 0; end = startsAt[end]!) segments.push([startsAt[end]!, end, bestId[end]!]);
  return segments.reverse();
}

/**
 * BPE: start from characters (user-defined symbols stay whole and never
 * merge) and repeatedly merge the adjacent pair whose concatenation is the
 * highest-scoring piece, the leftmost on ties. A merged piece of type UNUSED
 * is split back into the two pieces it was made of.
 */
export function encodeBpe(vocab: Vocab, text: Uint8Array): Segment[] {
  if (text.length === 0) return [];
  // Symbols as a linked list over byte spans; an emptied symbol has begin === end.
  const begin: number[] = [];
  const end: number[] = [];
  const prev: number[] = [];
  const next: number[] = [];
  const frozen: boolean[] = [];
  for (let pos = 0; pos < text.length; ) {
    const [length, userDefined] = symbolLen(vocab, text, pos);
    const index = begin.length;
    begin.push(pos);
    end.push(pos + length);
    prev.push(index - 1);
    pos += length;
    next.push(pos < text.length ? index + 1 : -1);
    frozen.push(userDefined);
  }

  // Candidate merges; stale ones (a side already merged away) are skipped when popped.
  type Pair = { left: number; right: number; score: number; size: number };
  const heap: Pair[] = [];
  const before = (a: Pair, b: Pair) => a.score > b.score || (a.score === b.score && a.left < b.left);
  const push = (p: Pair) => {
    heap.push(p);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): Pair => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  };
  // Unused pieces made by a merge → the length of their left part, keyed by
  // content as the library's rev_merge is (a later merge of the same piece wins).
  const unusedMerges = new Map<string, number>();
  const key = (b: number, e: number) => String.fromCharCode(...text.subarray(b, e));
  const maybeAddPair = (left: number, right: number) => {
    if (left === -1 || right === -1 || frozen[left] || frozen[right]) return;
    const id = vocab.normal.get(text, begin[left]!, end[right]!);
    if (id < 0) return;
    push({ left, right, score: vocab.scores[id]!, size: end[right]! - begin[left]! });
    if (vocab.types[id] === PieceType.UNUSED) {
      unusedMerges.set(key(begin[left]!, end[right]!), end[left]! - begin[left]!);
    }
  };
  for (let i = 1; i < begin.length; i++) maybeAddPair(i - 1, i);

  while (heap.length > 0) {
    const { left, right, size } = pop();
    const leftLen = end[left]! - begin[left]!;
    const rightLen = end[right]! - begin[right]!;
    if (leftLen === 0 || rightLen === 0 || leftLen + rightLen !== size) continue;
    end[left] = end[right]!;
    next[left] = next[right]!;
    if (next[right]! >= 0) prev[next[right]!] = left;
    end[right] = begin[right]!;
    maybeAddPair(prev[left]!, left);
    maybeAddPair(left, next[left]!);
  }

  const segments: Segment[] = [];
  const resegment = (b: number, e: number) => {
    const id = vocab.pieceToId(text, b, e);
    const leftLen = vocab.types[id] === PieceType.UNUSED ? unusedMerges.get(key(b, e)) : undefined;
    if (leftLen === undefined) {
      segments.push([b, e, id]);
      return;
    }
    resegment(b, b + leftLen);
    resegment(b + leftLen, e);
  };
  for (let i = 0; i !== -1; i = next[i]!) resegment(begin[i]!, end[i]!);
  return segments;
}

/** CHAR: one piece per character (or user-defined symbol). */
export function encodeChar(vocab: Vocab, text: Uint8Array): Segment[] {
  const segments: Segment[] = [];
  for (let pos = 0; pos < text.length; ) {
    const [length] = symbolLen(vocab, text, pos);
    segments.push([pos, pos + length, vocab.pieceToId(text, pos, pos + length)]);
    pos += length;
  }
  return segments;
}

const isSpaceSymbol = (text: Uint8Array, pos: number, length: number) =>
  length === 3 && text[pos] === 0xe2 && text[pos + 1] === 0x96 && text[pos + 2] === 0x81;

/** WORD: one piece per whitespace-delimited word (SplitIntoWords). */
export function encodeWord(vocab: Vocab, text: Uint8Array): Segment[] {
  const words: [number, number][] = [];
  let inWsSequence = false;
  const allowWsOnly = vocab.allowWhitespaceOnlyPieces;
  if (vocab.treatWhitespaceAsSuffix) {
    if (text.length > 0) words.push([0, 0]);
    for (let pos = 0; pos < text.length; ) {
      const length = Math.min(oneCharLen(text[pos]!), text.length - pos);
      const isWs = isSpaceSymbol(text, pos, length);
      if (isWs) {
        inWsSequence = true;
      } else if (inWsSequence) {
        if (allowWsOnly) words.push([pos, pos]);
        inWsSequence = false;
      }
      words[words.length - 1]![1] = pos + length;
      pos += length;
      if (pos < text.length && isWs && !allowWsOnly) words.push([pos, pos]);
    }
  } else {
    for (let pos = 0; pos < text.length; ) {
      const length = Math.min(oneCharLen(text[pos]!), text.length - pos);
      const isWs = isSpaceSymbol(text, pos, length);
      if (pos === 0 || (isWs && (!inWsSequence || !allowWsOnly))) {
        words.push([pos, pos]);
        inWsSequence = true;
      }
      if (inWsSequence && !isWs) inWsSequence = false;
      words[words.length - 1]![1] = pos + length;
      pos += length;
    }
  }
  return words.map(([b, e]) => [b, e, vocab.pieceToId(text, b, e)]);
}
