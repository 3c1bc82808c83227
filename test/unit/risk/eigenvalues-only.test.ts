import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '#lib/prng.js';
import { symmetricEigenvaluesInPlace } from '#lib/risk/eigenvalues-only.js';
import { symmetricEigenvalues } from '#lib/risk/index.js';

// The engine's eigenvalues-only kernel (Householder tridiagonalisation and LAPACK dsterf's root-free
// QL/QR) against the library's tred2/tqli: both backward stable, so every eigenvalue agrees to a few
// units of ε·‖A‖ (here 1e-13·‖A‖, against the 1e-12 the engine's readings keep).

const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** The kernel's eigenvalues of `a` (row-major n×n, symmetric), ascending; `a` itself is left alone. */
function kernel(a: Float64Array, n: number): Float64Array {
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  expect(symmetricEigenvaluesInPlace(work, n, d, new Float64Array(n))).toBe(true);
  return d.sort();
}

function expectSameSpectrum(a: Float64Array, n: number): void {
  const expected = symmetricEigenvalues(a, n);
  const actual = kernel(a, n);
  const norm = Math.max(...Array.from(expected, Math.abs), Number.MIN_VALUE);
  for (let i = 0; i < n; i++)
    expect(Math.abs(actual[i]! - expected[i]!), `λ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(
      1e-13 * norm,
    );
}

describe('symmetricEigenvaluesInPlace', () => {
  it('gives the eigenvalues of random symmetric matrices, 1×1 to 30×30', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 30 }), (seed, n) => {
        const rand = mulberry32(seed);
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = normal(rand);
        expectSameSpectrum(a, n);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the eigenvalues of Gram matrices with a null space and clustered or repeated values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 2, max: 25 }),
        fc.integer({ min: 1, max: 25 }),
        (seed, size, rank) => {
          // XᵀX of a rank-deficient X (size×size, rank ≤ `rank`), entries of daily-return size.
          const rand = mulberry32(seed);
          const x = Array.from({ length: Math.min(rank, size) }, () =>
            Array.from({ length: size }, () => 0.01 * normal(rand)),
          );
          const a = new Float64Array(size * size);
          for (let i = 0; i < size; i++)
            for (let j = 0; j <= i; j++) {
              let s = 0;
              for (const row of x) s += row[i]! * row[j]!;
              a[i * size + j] = a[j * size + i] = s;
            }
          expectSameSpectrum(a, size);
        },
      ),
      { numRuns: 200 },
    );
    // The identity, a diagonal with repeats, and a matrix already tridiagonal.
    expectSameSpectrum(
      Float64Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? 1 : 0)),
      4,
    );
    expectSameSpectrum(Float64Array.from([3, 0, 0, 0, 1, 0, 0, 0, 3]), 3);
    expectSameSpectrum(Float64Array.from([2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2]), 4);
  });

  it('reads only the lower triangle', () => {
    const n = 5;
    const rand = mulberry32(42);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = normal(rand);
    const upperGarbage = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upperGarbage[i * n + j] = 99;
    expect(kernel(upperGarbage, n)).toEqual(kernel(a, n));
  });
});
