import { describe, expect, it } from 'vitest';
import { planShards } from '../../src/pool/job.js';

describe('planShards', () => {
  it('groups items of similar cost, largest first, into shards of about equal cost', () => {
    const costs = [1, 9, 2, 8, 3, 7, 4, 6, 5, 5];
    const shards = planShards(costs, 5); // total 50: at most 10 per shard, unless one item is more
    expect(shards.map((s) => s.indices)).toEqual([[1], [3], [5], [7], [8, 9], [6, 4, 2, 0]]);
    expect(shards.map((s) => s.cost)).toEqual([9, 8, 7, 6, 10, 10]);
    expect(shards.flatMap((s) => s.indices).sort((a, b) => a - b)).toEqual(costs.map((_, i) => i));
  });

  it('never makes more shards than items, and handles empty jobs and ties in input order', () => {
    expect(planShards([4, 4, 4], 10).map((s) => s.indices)).toEqual([[0], [1], [2]]);
    expect(planShards([], 4)).toEqual([]);
    expect(planShards([2, 2, 2, 2], 2).map((s) => s.indices)).toEqual([[0, 1], [2, 3]]);
    expect(planShards([100, 1, 1], 3).map((s) => s.indices)).toEqual([[0], [1, 2]]);
  });
});
