// Householder tridiagonalisation followed by the implicit QL algorithm (the tred2/tqli pair of
// Numerical Recipes, after EISPACK): O(n³) with a small constant, against ~10× that for cyclic Jacobi,
// which matters for the market-structure indicators that decompose several windows per evaluation.

/** Eigen-decomposition of a symmetric matrix: eigenvalues ascending, eigenvectors as the matching columns (row-major n×n). */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array | null;
}

const EPS = Number.EPSILON;
/**
 * An off-diagonal entry of the tridiagonal at most this is negligible whatever its neighbours (the matrix
 * is first scaled to ‖A‖max in [½, 1)): LAPACK dsteqr's √safmin. Without it a block of subnormal entries
 * beside zeros never deflates (ε times a sum of zeros is zero) and the iteration gives up.
 */
const NEGLIGIBLE = Math.sqrt(2.2250738585072014e-308);

// hypot without Math.hypot, which is several times slower in V8 and never needed for overflow here.
function pythag(a: number, b: number): number {
  const absa = Math.abs(a);
  const absb = Math.abs(b);
  if (absa > absb) {
    const r = absb / absa;
    return absa * Math.sqrt(1 + r * r);
  }
  if (absb === 0) return 0;
  const r = absa / absb;
  return absb * Math.sqrt(1 + r * r);
}

/** Eigenvalues (ascending) and, when asked, eigenvectors of the symmetric row-major n×n `matrix` (only its lower triangle is read). */
export function symmetricEigen(matrix: ArrayLike<number>, n: number, wantVectors = true): SymmetricEigen {
  const { d, z } = decompose(matrix, n, wantVectors);
  return sortAscending(d, wantVectors ? z : null, n);
}

/** Eigenvalues in `d` (unordered) and, when asked, eigenvectors as the columns of `z`. */
function decompose(
  matrix: ArrayLike<number>,
  n: number,
  wantVectors: boolean,
): { d: Float64Array; z: Float64Array } {
  return decomposeInto(
    matrix,
    n,
    wantVectors,
    new Float64Array(n * n),
    new Float64Array(n),
    new Float64Array(n),
  );
}

/** `decompose` into given buffers (at least n², n and n long; only their first entries are used). */
function decomposeInto(
  matrix: ArrayLike<number>,
  n: number,
  wantVectors: boolean,
  z: Float64Array,
  d: Float64Array,
  e: Float64Array,
): { d: Float64Array; z: Float64Array } {
  if (matrix.length < n * n) throw new RangeError(`matrix has ${matrix.length} entries, expected ${n * n}`);
  let largest = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const x = matrix[i * n + j]!;
      z[i * n + j] = z[j * n + i] = x;
      if (Math.abs(x) > largest) largest = Math.abs(x);
    }
  // Scaled by a power of two to ‖A‖max in [½, 1) and back: exact, so the eigenvalues of a matrix in the
  // normal range are the same to the last bit, and one of tiny (subnormal) or huge entries is decomposed
  // where the floating point keeps its precision (LAPACK dsyev scales the same way).
  const k = Number.isFinite(largest) && largest > 0 ? powerOfTwoScale(largest) : 0;
  if (k !== 0) for (let i = 0; i < n * n; i++) z[i] = timesPowerOfTwo(z[i]!, k);
  tred2(z, n, d, e, wantVectors);
  tqli(z, n, d, e, wantVectors);
  if (k !== 0) for (let i = 0; i < n; i++) d[i] = timesPowerOfTwo(d[i]!, -k);
  return { d, z };
}

/** The k for which x·2^k lies in [½, 1) (x > 0, finite). */
function powerOfTwoScale(x: number): number {
  let k = -Math.floor(Math.log2(x)) - 1;
  // log2 of a non-power of two may round across an integer; settle on the exact power.
  while (timesPowerOfTwo(x, k) >= 1) k--;
  while (timesPowerOfTwo(x, k) < 0.5) k++;
  return k;
}

/** x·2^k, exact where the result is in range; in two steps, as 2^k alone overflows past |k| = 1023. */
function timesPowerOfTwo(x: number, k: number): number {
  const half = Math.trunc(k / 2);
  return x * 2 ** half * 2 ** (k - half);
}

/** Eigenvalues of the symmetric row-major n×n `matrix`, ascending. */
export function symmetricEigenvalues(matrix: ArrayLike<number>, n: number): Float64Array {
  return symmetricEigen(matrix, n, false).values;
}

function tred2(z: Float64Array, n: number, d: Float64Array, e: Float64Array, yesvecs: boolean): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    let scale = 0;
    const ri = i * n;
    if (l > 0) {
      for (let k = 0; k < i; k++) scale += Math.abs(z[ri + k]!);
      if (scale === 0) {
        e[i] = z[ri + l]!;
      } else {
        for (let k = 0; k < i; k++) {
          const v = z[ri + k]! / scale;
          z[ri + k] = v;
          h += v * v;
        }
        let f = z[ri + l]!;
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        z[ri + l] = f - g;
        f = 0;
        for (let j = 0; j < i; j++) {
          const rj = j * n;
          if (yesvecs) z[rj + i] = z[ri + j]! / h;
          g = 0;
          for (let k = 0; k < j + 1; k++) g += z[rj + k]! * z[ri + k]!;
          for (let k = j + 1; k < i; k++) g += z[k * n + j]! * z[ri + k]!;
          e[j] = g / h;
          f += e[j]! * z[ri + j]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j < i; j++) {
          const rj = j * n;
          f = z[ri + j]!;
          g = e[j]! - hh * f;
          e[j] = g;
          for (let k = 0; k < j + 1; k++) z[rj + k] = z[rj + k]! - (f * e[k]! + g * z[ri + k]!);
        }
      }
    } else {
      e[i] = z[ri + l]!;
    }
    d[i] = h;
  }
  d[0] = 0;
  e[0] = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    if (yesvecs) {
      if (d[i] !== 0) {
        for (let j = 0; j < i; j++) {
          let g = 0;
          for (let k = 0; k < i; k++) g += z[ri + k]! * z[k * n + j]!;
          for (let k = 0; k < i; k++) z[k * n + j] = z[k * n + j]! - g * z[k * n + i]!;
        }
      }
      d[i] = z[ri + i]!;
      z[ri + i] = 1;
      for (let j = 0; j < i; j++) {
        z[j * n + i] = 0;
        z[ri + j] = 0;
      }
    } else {
      d[i] = z[ri + i]!;
    }
  }
}

function tqli(z: Float64Array, n: number, d: Float64Array, e: Float64Array, yesvecs: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * dd || Math.abs(e[m]!) <= NEGLIGIBLE) break;
      }
      if (m !== l) {
        if (iter++ === 60) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = pythag(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i]!;
          const b = c * e[i]!;
          r = pythag(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1] = d[i + 1]! - p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          if (yesvecs) {
            for (let k = 0; k < n; k++) {
              const rk = k * n;
              f = z[rk + i + 1]!;
              z[rk + i + 1] = s * z[rk + i]! + c * f;
              z[rk + i] = c * z[rk + i]! - s * f;
            }
          }
        }
        if (r === 0 && i >= l) continue;
        d[l] = d[l]! - p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}

function sortAscending(d: Float64Array, z: Float64Array | null, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) values[k] = d[order[k]!]!;
  if (!z) return { values, vectors: null };
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const src = order[k]!;
    for (let r = 0; r < n; r++) vectors[r * n + k] = z[r * n + src]!;
  }
  return { values, vectors };
}
