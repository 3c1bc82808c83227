import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { round } from '#lib/rules/kinds/shared.js';

// Evidence rounding takes an arithmetic fast path; it must give exactly what the string round trip
// Number(x.toPrecision(12)) gives (never -0), for every double.

function reference(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Number(x.toPrecision(12));
  return r === 0 ? 0 : r;
}

describe('round (12 significant digits)', () => {
  it('equals Number(x.toPrecision(12)) on doubles of every magnitude', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (x) => {
        expect(Object.is(round(x), reference(x))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('equals it on the magnitudes evidence holds, ties and 12-digit edges included', () => {
    const cases: number[] = [0, -0, 1, -1, 0.5, 1e-12, 1e22, 1e23, 999_999_999_999.5, 0.1 + 0.2, 1 / 3];
    // Exact decimal ties at the 13th digit and their neighbours.
    for (let m = 100_000_000_000; m < 100_000_000_050; m++)
      for (const e of [-15, -6, -3, 0, 4])
        cases.push(Number(`${m}5e${e}`), Number(`${m}49999e${e - 4}`), Number(`${m}50001e${e - 4}`));
    for (const x of cases) expect(Object.is(round(x), reference(x)), String(x)).toBe(true);
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.integer({ min: -14, max: 14 }),
        (x, e) => {
          const y = x * 10 ** e;
          expect(Object.is(round(y), reference(y))).toBe(true);
        },
      ),
      { numRuns: 50_000 },
    );
  });
});
