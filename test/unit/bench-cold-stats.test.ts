import { describe, expect, it } from 'vitest';
import { alternationOrder, compare, quantile, summarize } from '../../bench/cold-stats.js';

describe('quantile (nearest rank)', () => {
  it('returns a measured value: the lower middle of an even sample, the middle of an odd one', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2);
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
  });

  it('p90 of 1..21 is the 19th value and p99 the largest', () => {
    const xs = Array.from({ length: 21 }, (_, i) => 21 - i);
    expect(quantile(xs, 0.9)).toBe(19);
    expect(quantile(xs, 0.99)).toBe(21);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    quantile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('refuses an empty sample and a q outside (0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(/empty sample/);
    expect(() => quantile([1], 0)).toThrow(/q must be in/);
    expect(() => quantile([1], 1.5)).toThrow(/q must be in/);
  });

  it('summarize gives n, median, p90 and p99 together', () => {
    expect(summarize([10, 30, 20])).toEqual({ n: 3, median: 20, p90: 30, p99: 30 });
  });
});

describe('alternationOrder', () => {
  it('runs every arm once per round and rotates the arm that starts each round', () => {
    const order = alternationOrder(['a', 'b', 'c'], 4).map((o) => `${o.round}${o.arm}`);
    expect(order).toEqual(['0a', '0b', '0c', '1b', '1c', '1a', '2c', '2a', '2b', '3a', '3b', '3c']);
  });

  it('puts each arm in every position equally often over a multiple of the arm count', () => {
    const arms = ['w', 'x', 'y', 'z'];
    const order = alternationOrder(arms, 8);
    for (const arm of arms) {
      const positions = order.flatMap((o, i) => (o.arm === arm ? [i % arms.length] : []));
      expect(positions.sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    }
  });

  it('is empty for no rounds or no arms', () => {
    expect(alternationOrder(['a'], 0)).toEqual([]);
    expect(alternationOrder([], 3)).toEqual([]);
  });
});

describe('compare (before/after measured alternating)', () => {
  it('gives the ratio of the medians, the median paired ratio and how often after was lower', () => {
    const c = compare([100, 200, 120], [50, 150, 130]);
    expect(c.before.median).toBe(120);
    expect(c.after.median).toBe(130);
    expect(c.ratio).toBeCloseTo(130 / 120, 12);
    // Paired ratios 0.5, 0.75, 1.0833: the median is 0.75.
    expect(c.pairedRatio).toBeCloseTo(0.75, 12);
    expect(c.afterLower).toBe(2);
  });

  it('refuses unpaired samples', () => {
    expect(() => compare([1, 2], [1])).toThrow(/paired samples/);
    expect(() => compare([], [])).toThrow(/paired samples/);
  });
});
