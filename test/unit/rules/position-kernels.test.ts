import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawdown, moments } from '#lib/risk/index.js';
import { momentsOfFour, troughDrawdownOfFour } from '#lib/rules/position-kernels.js';

// The interleaved moments against lib/risk's one-series `moments`: bit for bit (toEqual compares
// numbers with Object.is semantics for NaN), flat and single-value series included.

const value = fc.double({ min: -0.5, max: 0.5, noNaN: true });
const weight = fc.double({ min: -2, max: 2, noNaN: true });

describe('momentsOfFour', () => {
  it('is `moments(x, w)` of each of the four series to the last bit', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 80 })
          .chain((n) =>
            fc.tuple(
              fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: 4, maxLength: 4 }),
              fc.array(weight, { minLength: 4, maxLength: 4 }),
            ),
          ),
        ([xs, ws]) => {
          const four = momentsOfFour(xs[0]!, xs[1]!, xs[2]!, xs[3]!, ws[0]!, ws[1]!, ws[2]!, ws[3]!);
          for (let k = 0; k < 4; k++) expect(four[k]).toEqual(moments(xs[k]!, ws[k]!));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a flat series reads the same NaN shape as `moments`, beside varying ones', () => {
    const flat = [0.01, 0.01, 0.01];
    const varying = [0.01, -0.02, 0.03];
    const four = momentsOfFour(flat, varying, flat, varying, 1, 0.5, 0, -1);
    expect(four[0]).toEqual(moments(flat, 1));
    expect(four[1]).toEqual(moments(varying, 0.5));
    expect(four[2]).toEqual(moments(flat, 0));
    expect(four[3]).toEqual(moments(varying, -1));
  });

  it('refuses series of different lengths', () => {
    expect(() => momentsOfFour([1, 2], [1, 2], [1], [1, 2], 1, 1, 1, 1)).toThrow(/series of 2, 2, 1, 2/);
  });
});

describe('troughDrawdownOfFour', () => {
  it('is lib/risk `drawdown` of each series from `from` on, to the last bit, wipe-outs included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(
            fc.array(
              fc.array(fc.double({ min: -1.5, max: 3, noNaN: true }), { minLength: n, maxLength: n }),
              {
                minLength: 4,
                maxLength: 4,
              },
            ),
            fc.integer({ min: 0, max: n - 1 }),
          ),
        ),
        ([xs, from]) => {
          const four = troughDrawdownOfFour(xs[0]!, xs[1]!, xs[2]!, xs[3]!, from);
          for (let k = 0; k < 4; k++) expect(four[k]).toEqual(drawdown(xs[k]!.slice(from)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses series of different lengths', () => {
    expect(() => troughDrawdownOfFour([1], [1], [1], [1, 2], 0)).toThrow(/series of 1, 1, 1, 2/);
  });
});
