import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { translateInHalves } from '../../src/models/transformer.js';

// Found translating 2,084 catalog lines with beam 4 and a 256-token limit: one pool batch of ~450
// sentences needed 320 MB of scratch (the region holds 256 MB) and 927 lines came back empty.
describe('translateInHalves', () => {
  const out = (s: number[]) => Float32Array.of(...s, -1);
  it('splits a batch whose search outgrows the scratch memory, keeping every sentence\'s output in order', () => {
    const sizes: number[] = [];
    const translate = (sources: number[][]) => {
      sizes.push(sources.length);
      if (sources.length > 3) throw new HibikiError('E_RESOURCE', 'out of scratch memory: 320651520 bytes needed, this heap\'s region holds 268435456');
      return sources.map(out);
    };
    const sources = Array.from({ length: 10 }, (_, i) => [i, i + 1]);
    expect(translateInHalves(translate, sources)).toEqual(sources.map(out));
    expect(sizes).toEqual([10, 5, 2, 3, 5, 2, 3]);
  });

  it('passes on other errors, and a single sentence that does not fit', () => {
    expect(() => translateInHalves(() => { throw new HibikiError('E_BAD_INPUT', 'bad'); }, [[1], [2]])).toThrow('bad');
    expect(() => translateInHalves(() => { throw new HibikiError('E_RESOURCE', 'out of scratch memory'); }, [[1]])).toThrow('out of scratch memory');
  });
});
