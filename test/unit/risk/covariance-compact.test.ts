import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '#lib/prng.js';
import { covarianceFromCompact, covarianceFromMap, decodeFloat64Base64 } from '#lib/risk/index.js';

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
        const upper_f64le = Buffer.from(Float64Array.from(upper).buffer).toString('base64');
        const fromBinary = covarianceFromCompact({ ids, upper_f64le }, order);
        expect(fromMap.ok).toBe(true);
        expect(fromRows).toEqual(fromMap);
        expect(fromUpper).toEqual(fromMap);
        expect(fromBinary).toEqual(fromMap);
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

  it('decodes upper_f64le bit for bit (Buffer as the reference) and refuses what is not whole doubles in base64', () => {
    const rand = mulberry32(64);
    const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length));
    for (let length = 0; length < 40; length++) {
      // Any 64-bit pattern: subnormals, -0, infinities and NaN payloads included.
      const raw = new Uint32Array(length * 2).map(() => Math.floor(rand() * 2 ** 32));
      const values = new Float64Array(raw.buffer);
      const text = Buffer.from(raw.buffer).toString('base64');
      expect(bits(decodeFloat64Base64(text)!)).toEqual(bits(values));
    }
    for (const bad of ['A', 'AAAA', 'AAAAAAAAAA==', 'AAAAAAAAAA*=', 'AAAAAAAAAAAA\n', 'AAAAAAAAAAA=AAAA'])
      expect(decodeFloat64Base64(bad), bad).toBeNull();
    const nan = Buffer.from(Float64Array.of(1, Number.NaN, 1).buffer).toString('base64');
    expect(covarianceFromCompact({ ids: ['a', 'b'], upper_f64le: nan }, ['a', 'b'])).toEqual({
      ok: false,
      issues: ['upper_f64le[1] (a, b) is not a finite number'],
    });
    expect(covarianceFromCompact({ ids: ['a', 'b'], upper_f64le: 'AAAA' }, ['a', 'b'])).toEqual({
      ok: false,
      issues: ['upper_f64le is not base64 of little-endian binary64 numbers'],
    });
    expect(
      covarianceFromCompact({ ids: ['a', 'b'], upper_f64le: Buffer.alloc(16).toString('base64') }, [
        'a',
        'b',
      ]),
    ).toEqual({
      ok: false,
      issues: ['upper_f64le has 2 numbers, expected 3 for 2 ids'],
    });
  });
});
