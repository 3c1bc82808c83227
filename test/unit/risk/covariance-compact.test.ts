import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { covarianceFromCompact, covarianceFromMap } from '#lib/risk/index.js';

/** A symmetric matrix over ids s0…s(n−1), as rows. */
const symmetricArb = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n * n, maxLength: n * n }).map((raw) => {
    const rows = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => raw[Math.min(i, j) * n + Math.max(i, j)]! + (i === j ? n : 0)),
    );
    return { ids: rows.map((_, i) => `s${i}`), rows };
  }),
);

describe('covarianceFromCompact', () => {
  it('gives the same matrix as the equivalent map, from full rows or the packed upper triangle, in any id order', () => {
    fc.assert(
      fc.property(symmetricArb, fc.infiniteStream(fc.nat()), ({ ids, rows }, shuffle) => {
        const map: Record<string, number> = {};
        const upper: number[] = [];
        for (let i = 0; i < ids.length; i++)
          for (let j = i; j < ids.length; j++) {
            map[`${ids[i]},${ids[j]}`] = rows[i]![j]!;
            upper.push(rows[i]![j]!);
          }
        // The snapshot's weights may list the ids in another order than the document.
        const order = [...ids];
        const it = shuffle[Symbol.iterator]();
        for (let k = order.length - 1; k > 0; k--) {
          const r = (it.next().value as number) % (k + 1);
          [order[k], order[r]] = [order[r]!, order[k]!];
        }
        const fromMap = covarianceFromMap(map, order);
        const fromRows = covarianceFromCompact({ ids, matrix: rows }, order);
        const fromUpper = covarianceFromCompact({ ids, upper }, order);
        expect(fromMap.ok).toBe(true);
        expect(fromRows).toEqual(fromMap);
        expect(fromUpper).toEqual(fromMap);
      }),
      { numRuns: 300 },
    );
  });

  it('names what is wrong: a missing id, an extra id, a short triangle, a non-finite number', () => {
    const doc = { ids: ['a', 'b'], upper: [0.04, 0.01, 0.09] };
    expect(covarianceFromCompact(doc, ['a', 'c'])).toEqual({
      ok: false,
      issues: ['covariance has no entry for "c"', 'covariance names "b", not in the weights'],
    });
    expect(covarianceFromCompact({ ids: ['a', 'b'], upper: [1, 2] }, ['a', 'b'])).toEqual({
      ok: false,
      issues: ['upper has 2 numbers, expected 3 for 2 ids'],
    });
    expect(
      covarianceFromCompact(
        {
          ids: ['a', 'b'],
          matrix: [
            [1, 0],
            [0, 'x'],
          ],
        },
        ['a', 'b'],
      ),
    ).toEqual({
      ok: false,
      issues: ['matrix[1][1] is not a finite number'],
    });
    expect(covarianceFromCompact({ ids: ['a', 'a'], upper: [1, 0, 1] }, ['a'])).toEqual({
      ok: false,
      issues: ['ids[1] repeats "a"'],
    });
    expect(covarianceFromCompact({ matrix: [[1]] }, ['a'])).toMatchObject({ ok: false });
  });

  it('reports an asymmetric full matrix as a hygiene warning, as the map path does for its checks', () => {
    const result = covarianceFromCompact(
      {
        ids: ['a', 'b'],
        matrix: [
          [1, 0.5],
          [0.4, 1],
        ],
      },
      ['a', 'b'],
    );
    expect(result.ok && result.warnings.some((w) => /not symmetric/.test(w))).toBe(true);
  });
});
