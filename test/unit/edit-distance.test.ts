import { describe, expect, it } from 'vitest';
import { editDistance } from '#lib/edit-distance.js';
import { mulberry32 } from '#lib/prng.js';

/** The textbook recursion, memoised: the reference the one-row version is checked against. */
function reference(a: string, b: string): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    memo.set(key, v);
    return v;
  };
  return d(a.length, b.length);
}

describe('editDistance', () => {
  it('knows the classic cases', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('var_99_limt', 'var_99_limit')).toBe(1);
  });

  it('matches the textbook recursion on random strings', () => {
    const rand = mulberry32(7);
    const word = () =>
      Array.from({ length: Math.floor(rand() * 9) }, () => 'abc_'[Math.floor(rand() * 4)]).join('');
    for (let n = 0; n < 300; n++) {
      const a = word();
      const b = word();
      expect(editDistance(a, b)).toBe(reference(a, b));
    }
  });
});
