import { describe, expect, it } from 'vitest';
import {
  checkCovariance,
  covarianceFromMap,
  repairCovariance,
  sampleCovariance,
  symmetricEigen,
  symmetricEigenvalues,
} from '#lib/risk/index.js';

describe('covarianceFromMap', () => {
  const ids = ['a', 'b'];

  it('accepts "a,b" and "a:b" keys in either order, row-major in ids order', () => {
    const r = covarianceFromMap({ 'b,b': 4, 'a:a': 1, 'b:a': 0.5 }, ids);
    expect(r).toEqual({ ok: true, matrix: Float64Array.from([1, 0.5, 0.5, 4]), warnings: [] });
  });

  it('tolerates agreeing duplicates and names conflicting ones', () => {
    expect(covarianceFromMap({ 'a,a': 1, 'b,b': 4, 'a,b': 0.5, 'b,a': 0.5 }, ids).ok).toBe(true);
    const r = covarianceFromMap({ 'a,a': 1, 'b,b': 4, 'a,b': 0.5, 'b:a': 0.6 }, ids);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.issues.join()).toMatch(
        /covariance key "(b:a|a,b)" conflicts with another key for the same pair/,
      );
  });

  it('names a missing pair, an unknown id, a malformed key and a non-finite value', () => {
    const r = covarianceFromMap({ 'a,a': 1, 'a,c': 0.1, ab: 2, 'b,b': Number.NaN }, ids);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.issues.join('\n');
    expect(text).toContain('"a,c" names "c", not in the weights');
    expect(text).toContain('"ab" is not of the form');
    expect(text).toContain('"b,b" has a non-finite value');
    expect(text).toContain('missing "a,b"');
    expect(text).toContain('missing "b,b"');
  });

  it('warns, with the smallest eigenvalue, when the matrix is not positive semi-definite', () => {
    // Correlation 2: eigenvalues of [[1, 2], [2, 1]] are 3 and −1.
    const r = covarianceFromMap({ 'a,a': 1, 'b,b': 1, 'a,b': 2 }, ids);
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.warnings).toEqual(['covariance is not positive semi-definite (smallest eigenvalue -1)']);
  });

  it('above psdCheckMaxN still catches a correlation outside [−1, 1]', () => {
    const r = covarianceFromMap({ 'a,a': 1, 'b,b': 1, 'a,b': 2 }, ids, { psdCheckMaxN: 1 });
    expect(r.ok && r.warnings[0]).toMatch(/\|correlation\| > 1 at \("a", "b"\)/);
  });
});

describe('checkCovariance', () => {
  it('reports asymmetry, non-finite entries and negative variances', () => {
    expect(checkCovariance([1, 0.2, 0.3, 1], 2)[0]).toMatch(/not symmetric at \(0, 1\)/);
    expect(checkCovariance([1, Number.POSITIVE_INFINITY, 0, 1], 2)[0]).toMatch(/1 non-finite entry/);
    expect(checkCovariance([-1, 0, 0, 1], 2, ['x', 'y'])[0]).toMatch(/negative variance for "x"/);
  });

  it('passes a PSD matrix, including a singular one', () => {
    expect(checkCovariance([1, 1, 1, 1], 2)).toEqual([]);
    expect(checkCovariance([0.0004, 0.00006, 0.00006, 0.0001], 2)).toEqual([]);
  });
});

describe('repairCovariance', () => {
  it('clips the negative eigenvalue: [[1,2],[2,1]] → [[1.5,1.5],[1.5,1.5]]', () => {
    const r = repairCovariance([1, 2, 2, 1], 2);
    for (const v of r) expect(v).toBeCloseTo(1.5, 14);
    expect(checkCovariance(r, 2)).toEqual([]);
  });

  it('leaves a PSD matrix unchanged', () => {
    const m = [0.04, 0.006, 0.001, 0.006, 0.01, -0.002, 0.001, -0.002, 0.02];
    const r = repairCovariance(m, 3);
    m.forEach((v, i) => {
      expect(r[i]).toBeCloseTo(v, 15);
    });
  });
});

describe('symmetricEigen', () => {
  it('matches the closed form of a 2×2 matrix', () => {
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, −1)/√2 and (1, 1)/√2.
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(vectors![1]!)).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors![1]! * vectors![3]!).toBeCloseTo(0.5, 14);
    expect(vectors![0]! * vectors![2]!).toBeCloseTo(-0.5, 14);
  });

  it('finds 1 + (n−1)ρ and 1 − ρ (n − 1 times) for an equicorrelation matrix', () => {
    const n = 6;
    const rho = 0.3;
    const m = Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : rho));
    const values = symmetricEigenvalues(m, n);
    for (let i = 0; i < n - 1; i++) expect(values[i]).toBeCloseTo(1 - rho, 13);
    expect(values[n - 1]).toBeCloseTo(1 + (n - 1) * rho, 13);
  });

  it('rebuilds the matrix as VΛVᵀ with orthonormal V', () => {
    const n = 7;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = Math.sin(i * 3 + j * 7 + 1);
    const { values, vectors } = symmetricEigen(m, n);
    const v = vectors!;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let a = 0;
        let o = 0;
        for (let k = 0; k < n; k++) {
          a += v[i * n + k]! * values[k]! * v[j * n + k]!;
          o += v[k * n + i]! * v[k * n + j]!;
        }
        expect(a).toBeCloseTo(m[i * n + j]!, 13);
        expect(o).toBeCloseTo(i === j ? 1 : 0, 13);
      }
  });

  // Found by the eigenvalue-clipping property (test/unit/risk/properties.test.ts), which fast-check's
  // edge values (±5e−324, ±2.2e−308, ±1e−300) make fail about once in many thousand runs: a block of
  // subnormal entries beside zeros never deflated ("QL iteration did not converge"), and a repaired matrix
  // of such entries was called indefinite for an eigenvalue of −5e−324.
  const TINY = [
    [-1e-300, 1, 5e-324, 5e-324, -1, -5e-324, 5e-324, 5e-324, 0],
    [
      1e-300, 5e-324, 2.2250738585072014e-308, 2.2250738585072014e-308, -5e-324, 5e-324,
      -2.2250738585072014e-308, 5e-324, 0,
    ],
    [1e-160, 1, 5e-324, 1e-160, -1, 5e-324, 5e-324, 0, 0],
    [0, -5e-324, -1e-300, -5e-324, 5e-324, 5e-324, -5e-324, 5e-324, -2.220446049250313e-16],
    [
      0, 2.2250738585072014e-308, 0, 0, -2.2250738585072014e-308, 5e-324, -2.2250738585072014e-308, 5e-324,
      -1e-300,
    ],
  ];

  it('decomposes matrices with subnormal entries, and their repair passes the PSD check', () => {
    for (const m of TINY) {
      const { values } = symmetricEigen(m, 3, true);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(checkCovariance(repairCovariance(m, 3), 3)).toEqual([]);
    }
  });

  it('gives a scaled matrix the scaled eigenvalues, at any magnitude', () => {
    const base = [4, 1, 0.5, 1, 3, 0.25, 0.5, 0.25, 2];
    const reference = symmetricEigenvalues(base, 3);
    for (const power of [-1074 + 60, -1000, -300, -20, 0, 20, 300, 1000]) {
      const values = symmetricEigenvalues(
        base.map((x) => x * 2 ** power),
        3,
      );
      // A power of two scales exactly: the same eigenvalues, scaled back, to the last bit.
      for (let i = 0; i < 3; i++) expect(values[i]! * 2 ** -power).toBe(reference[i]);
    }
  });
});

describe('sampleCovariance', () => {
  it('uses the n − 1 denominator and aligns series on their last observation', () => {
    const cov = sampleCovariance([
      [9, 1, 2, 3],
      [2, 4, 6],
    ]);
    // a = 1, 2, 3 (var 1), b = 2, 4, 6 (var 4), cov 2.
    expect(Array.from(cov)).toEqual([1, 2, 2, 4]);
  });
});
