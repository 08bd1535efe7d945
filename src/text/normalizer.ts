/**
 * SentencePiece's text normalizer (normalizer.cc), over UTF-8 bytes.
 *
 * A rule is a `precompiled_charsmap`: `<trie size: u32 LE><darts-clone double
 * array><normalized strings, each NUL-terminated>`. At each position the
 * longest key of the trie that prefixes the rest of the input is replaced by
 * the string its value points at (nmt_nfkc: NFKC plus a few NMT-specific
 * mappings, e.g. tabs and newlines to spaces). Then whitespace: leading,
 * trailing and repeated spaces are dropped (`remove_extra_whitespaces`), a
 * space is put in front (`add_dummy_prefix`, or behind with
 * `treat_whitespace_as_suffix`), and spaces become U+2581 "▁"
 * (`escape_whitespaces`).
 *
 * Malformed UTF-8 is replaced byte by byte with U+FFFD, as the library does.
 * User-defined symbols are matched on the raw input first and copied as they
 * are, never normalized.
 */
import { modelFormat } from '../errors.js';
import type { NormalizerSpec } from './sentencepiece-model.js';
import { type ByteTrie, DoubleArray } from './trie.js';

export const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]); // U+2581 "▁"
export const REPLACEMENT_CHAR = new Uint8Array([0xef, 0xbf, 0xbd]); // U+FFFD
const SPACE = new Uint8Array([0x20]);
// normalizer.h kMaxTrieResultsSize: the library looks at no more matches than this.
const MAX_TRIE_RESULTS = 32;

/** Length of the UTF-8 sequence a lead byte announces (1 for stray continuation bytes), as string_util::OneCharLen. */
export function oneCharLen(lead: number): number {
  return lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

const isTrail = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number) => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * Length of the well-formed character at `text[pos]` (before `end`), or 0 when
 * it is malformed: string_util::IsValidDecodeUTF8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
export function validCharLen(text: Uint8Array, pos: number, end: number): number {
  const b0 = text[pos]!;
  const left = end - pos;
  if (b0 < 0x80) return 1;
  if (left >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = text[pos + 1];
    const cp = ((b0 & 0x1f) << 6) | (b1! & 0x3f);
    return isTrail(b1) && cp >= 0x80 ? 2 : 0;
  }
  if (left >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = text[pos + 1];
    const b2 = text[pos + 2];
    const cp = ((b0 & 0x0f) << 12) | ((b1! & 0x3f) << 6) | (b2! & 0x3f);
    return isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp) ? 3 : 0;
  }
  if (left >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = text[pos + 1];
    const b2 = text[pos + 2];
    const b3 = text[pos + 3];
    const cp = ((b0 & 0x07) << 18) | ((b1! & 0x3f) << 12) | ((b2! & 0x3f) << 6) | (b3! & 0x3f);
    return isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp) ? 4 : 0;
  }
  return 0;
}

/** A growable byte buffer. */
export class ByteBuffer {
  private buf = new Uint8Array(64);
  length = 0;

  push(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + bytes.length));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  endsWith(bytes: Uint8Array): boolean {
    if (this.length < bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (this.buf[this.length - bytes.length + i] !== bytes[i]) return false;
    return true;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class Normalizer {
  private readonly trie: DoubleArray | undefined;
  private readonly normalized: Uint8Array = new Uint8Array(0);

  /**
   * `userDefined`: the user-defined symbols, matched before the rule.
   * `file` names the model in errors.
   */
  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix: boolean,
    private readonly userDefined: ByteTrie | undefined,
    file: string,
    what = 'normalizer_spec',
  ) {
    const blob = spec.precompiledCharsmap;
    if (blob.length === 0) return;
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    if (blob.length <= 4) throw modelFormat(file, `${what}.precompiled_charsmap is broken: ${blob.length} bytes`);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes >= blob.length) {
      throw modelFormat(file, `${what}.precompiled_charsmap is broken: its trie (${trieBytes} bytes) exceeds the blob (${blob.length} bytes)`);
    }
    const units = new Uint32Array(trieBytes >>> 2);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
    this.trie = new DoubleArray(units);
    this.normalized = blob.subarray(4 + trieBytes);
  }

  /** The normalized form of one prefix of `input[pos, end)`, and how many input bytes it consumed. */
  private normalizePrefix(input: Uint8Array, pos: number, end: number): [Uint8Array, number] {
    if (this.userDefined) {
      const length = this.userDefined.longestPrefix(input, pos, end);
      if (length > 0) return [input.subarray(pos, pos + length), length];
    }
    if (this.trie) {
      const matches = this.trie.commonPrefixSearch(input, pos, end, MAX_TRIE_RESULTS);
      const longest = matches[matches.length - 1];
      if (longest) {
        const start = longest.value;
        let stop = start;
        while (stop < this.normalized.length && this.normalized[stop] !== 0) stop++;
        return [this.normalized.subarray(Math.min(start, stop), stop), longest.length];
      }
    }
    const length = validCharLen(input, pos, end);
    return length === 0 ? [REPLACEMENT_CHAR, 1] : [input.subarray(pos, pos + length), length];
  }

  /** Normalizer::Normalize, without the alignment to the input (hibiki does not report surfaces). */
  normalize(input: Uint8Array): Uint8Array {
    const { addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces } = this.spec;
    const end = input.length;
    let pos = 0;
    if (removeExtraWhitespaces) {
      while (pos < end) {
        const [out, consumed] = this.normalizePrefix(input, pos, end);
        if (!(out.length === 1 && out[0] === 0x20)) break;
        pos += consumed;
      }
    }
    if (pos === end) return new Uint8Array(0);

    const space = escapeWhitespaces ? SPACE_SYMBOL : SPACE;
    const out = new ByteBuffer();
    if (!this.treatWhitespaceAsSuffix && addDummyPrefix) out.push(space);
    let isPrevSpace = removeExtraWhitespaces;
    while (pos < end) {
      const [piece, consumed] = this.normalizePrefix(input, pos, end);
      let start = 0;
      while (isPrevSpace && start < piece.length && piece[start] === 0x20) start++;
      if (start < piece.length) {
        let run = start;
        for (let i = start; i < piece.length; i++) {
          if (piece[i] === 0x20 && escapeWhitespaces) {
            out.push(piece.subarray(run, i));
            out.push(SPACE_SYMBOL);
            run = i + 1;
          }
        }
        out.push(piece.subarray(run));
        isPrevSpace = piece[piece.length - 1] === 0x20;
      }
      pos += consumed;
      if (!removeExtraWhitespaces) isPrevSpace = false;
    }
    if (removeExtraWhitespaces) {
      while (out.endsWith(space)) out.length -= space.length;
    }
    if (this.treatWhitespaceAsSuffix && addDummyPrefix) out.push(space);
    return out.bytes();
  }
}
