/**
 * The two tries SentencePiece needs, both over UTF-8 bytes.
 *
 * `DoubleArray` reads the darts-clone double array that a model's
 * `precompiled_charsmap` stores, and searches it exactly as darts-clone's
 * `commonPrefixSearch` does. `ByteTrie` is built here from a model's pieces
 * (the library builds a double array from them at load; any trie answers the
 * same prefix questions).
 */

/**
 * A darts-clone double array: one uint32 unit per node. A unit packs a label
 * (low 8 bits, with bit 31 set on value units), a has-leaf flag (bit 8) and an
 * offset to its children (bits 10–31, shifted left by 8 more when bit 9 is set).
 */
export class DoubleArray {
  constructor(private readonly units: Uint32Array) {}

  /**
   * Lengths and values of the keys that are prefixes of `key[begin, end)`,
   * shortest first, at most `maxResults` of them (as darts-clone stores them).
   */
  commonPrefixSearch(key: Uint8Array, begin: number, end: number, maxResults: number): { length: number; value: number }[] {
    const units = this.units;
    const results: { length: number; value: number }[] = [];
    let id = offsetOf(units[0] ?? 0);
    for (let i = begin; i < end; i++) {
      const label = key[i]!;
      id = (id ^ label) >>> 0;
      const unit = units[id];
      // A unit outside the array cannot match: a damaged trie ends the search.
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== label) return results;
      id = (id ^ offsetOf(unit)) >>> 0;
      if ((unit >>> 8) & 1) {
        const leaf = units[id];
        if (leaf === undefined) return results;
        if (results.length < maxResults) results.push({ length: i + 1 - begin, value: leaf & 0x7fffffff });
      }
    }
    return results;
  }
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}

/** A byte trie of pieces; node 0 is the root. */
export class ByteTrie {
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly values: number[] = [-1];

  /** Adds `key` with `value` (≥ 0); false when the key is already there. */
  insert(key: Uint8Array, value: number): boolean {
    let node = 0;
    for (const b of key) {
      let next = this.children[node]!.get(b);
      if (next === undefined) {
        next = this.values.length;
        this.children.push(new Map());
        this.values.push(-1);
        this.children[node]!.set(b, next);
      }
      node = next;
    }
    if (this.values[node] !== -1) return false;
    this.values[node] = value;
    return true;
  }

  get size(): number {
    return this.values.length - 1;
  }

  /** The value of exactly `key[begin, end)`, or -1. */
  get(key: Uint8Array, begin = 0, end = key.length): number {
    let node = 0;
    for (let i = begin; i < end; i++) {
      const next = this.children[node]!.get(key[i]!);
      if (next === undefined) return -1;
      node = next;
    }
    return this.values[node]!;
  }

  /** Calls `found(length, value)` for every key that is a prefix of `text[begin, end)`, shortest first. */
  prefixes(text: Uint8Array, begin: number, end: number, found: (length: number, value: number) => void): void {
    let node = 0;
    for (let i = begin; i < end; i++) {
      const next = this.children[node]!.get(text[i]!);
      if (next === undefined) return;
      node = next;
      const value = this.values[node]!;
      if (value >= 0) found(i + 1 - begin, value);
    }
  }

  /** Length of the longest key that is a prefix of `text[begin, end)`, 0 if none. */
  longestPrefix(text: Uint8Array, begin: number, end: number): number {
    let longest = 0;
    this.prefixes(text, begin, end, (length) => {
      longest = length;
    });
    return longest;
  }
}
