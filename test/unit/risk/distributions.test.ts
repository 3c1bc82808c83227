import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binomialCdf,
  chisquareCdf,
  normalCdf,
  normalPdf,
  normalQuantile,
  tPdf,
  tQuantile,
} from '#lib/risk/distributions.js';
import reference from '#test/fixtures/reference/distributions.json' with { type: 'json' };

// Our distribution functions against scipy's (test/fixtures/reference/distributions.py wrote the values).
// Each tolerance is relative and includes scipy's own error where it is the larger: near the median its
// t quantile is off by up to 4e-13 (checked with mpmath at 40 digits; ours is within 1e-14 there).

function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}

function expectAll<Row extends number[]>(
  rows: Row[],
  compute: (row: Row) => number,
  tolerance: (row: Row) => number,
): void {
  const failures = rows
    .map((row) => ({ row, actual: compute(row), error: relativeError(compute(row), row[row.length - 1]!) }))
    .filter(({ row, error }) => !(error <= tolerance(row)));
  expect(failures).toEqual([]);
}

describe('normal distribution', () => {
  it('quantile within 1e-15 of scipy (Wichura AS 241), from 1e-300 to 1 − 1e-10', () => {
    expectAll(
      reference.normal_quantile as [number, number][],
      ([p]) => normalQuantile(p),
      () => 1e-15,
    );
  });

  it('density within 1e-15 of scipy', () => {
    expectAll(
      reference.normal_pdf as [number, number][],
      ([x]) => normalPdf(x),
      () => 1e-15,
    );
  });

  it('distribution function within 2e-14 of scipy for |x| ≤ 10, and 1e-16·x² in the far tail', () => {
    expectAll(
      reference.normal_cdf as [number, number][],
      ([x]) => normalCdf(x),
      ([x]) => Math.max(2e-14, 1e-16 * x * x),
    );
  });

  it('the quantile inverts the distribution function', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }), (p) => {
        expect(relativeError(normalCdf(normalQuantile(p)), p)).toBeLessThan(1e-13);
      }),
    );
  });

  it('is NaN outside its domain and infinite at 0 and 1', () => {
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalCdf(Number.NaN)).toBeNaN();
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
  });
});

describe('Student t distribution', () => {
  it('quantile within 1e-12 of scipy for ν ≤ 1,000 (risk code bounds ν to [4, 100]), 1e-11 at ν = 1e6', () => {
    expectAll(
      reference.t_quantile as [number, number, number][],
      ([p, dof]) => tQuantile(p, dof),
      ([, dof]) => (dof <= 1000 ? 1e-12 : 1e-11),
    );
  });

  it('density within 1e-12 of scipy', () => {
    expectAll(
      reference.t_pdf as [number, number, number][],
      ([x, dof]) => tPdf(x, dof),
      () => 1e-12,
    );
  });

  it('quantile is odd in p − ½ and is NaN outside its domain', () => {
    fc.assert(
      fc.property(
        // 1 − p is rounded, so the two tails differ by up to 1e-16 relative to the smaller of p and ½ − p.
        fc.double({ min: 1e-4, max: 0.49, noNaN: true }),
        fc.double({ min: 2.1, max: 200, noNaN: true }),
        (p, dof) => {
          expect(relativeError(tQuantile(1 - p, dof), -tQuantile(p, dof))).toBeLessThan(1e-11);
        },
      ),
    );
    expect(tQuantile(0.5, 7)).toBe(0);
    expect(tQuantile(1.5, 7)).toBeNaN();
    expect(tQuantile(0.9, 0)).toBeNaN();
  });
});

describe('χ² distribution function', () => {
  it('within 1e-13 of scipy for k from 1 to 100', () => {
    expectAll(
      reference.chisquare_cdf as [number, number, number][],
      ([x, k]) => chisquareCdf(x, k),
      () => 1e-13,
    );
    expect(chisquareCdf(-1, 3)).toBe(0);
  });
});

describe('binomial distribution function', () => {
  it('within 1e-12 of scipy for n up to 10,000 (tails down to 1e-300 included)', () => {
    expectAll(
      reference.binomial_cdf as [number, number, number, number][],
      ([k, n, p]) => binomialCdf(k, n, p),
      () => 1e-12,
    );
  });

  it('is 0 below 0, 1 from n on, and floors a fractional count', () => {
    expect(binomialCdf(-1, 250, 0.01)).toBe(0);
    expect(binomialCdf(250, 250, 0.01)).toBe(1);
    expect(binomialCdf(4.7, 250, 0.01)).toBe(binomialCdf(4, 250, 0.01));
    expect(binomialCdf(3, 2.5, 0.01)).toBeNaN();
  });
});
