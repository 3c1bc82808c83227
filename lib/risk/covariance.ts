import { type CovarianceScan, scanCovarianceMap } from '#lib/contracts/covariance-map.js';
import { symmetricEigen, symmetricEigenvalues } from './eigen.js';
import { pivotedCholeskyPsd } from './psd.js';

/** The smallest normal double: below it a number has lost precision to underflow. */
const MIN_NORMAL = 2.2250738585072014e-308;

/** Result of turning a snapshot's covariance map into a matrix. */
export type CovarianceResult =
  | { ok: true; matrix: Float64Array; warnings: string[] }
  | { ok: false; issues: string[] };

export { parsePairKey } from '#lib/contracts/covariance-map.js';

/**
 * Row-major n×n covariance in `ids` order from a map keyed "a,b" or "a:b" (either order). Every
 * structural problem (unknown id, malformed key, non-finite value, conflicting duplicate, missing
 * pair) is an issue naming the key; hygiene findings from `checkCovariance` come back as warnings so
 * the caller can decide to repair or fail closed. The keys are read once per map object
 * (`scanCovarianceMap`), shared with the edge's validation of the same snapshot.
 */
export function covarianceFromMap(
  map: Record<string, number>,
  ids: readonly string[],
  options: CheckOptions = {},
): CovarianceResult {
  return covarianceFromScan(scanCovarianceMap(map, ids), options);
}

/**
 * `covarianceFromMap` from a scan already made (of the parsed map, or of its JSON text): the issues
 * and the checked matrix in the scan's id order.
 */
export function covarianceFromScan(found: CovarianceScan, options: CheckOptions = {}): CovarianceResult {
  const ids = found.ids;
  const n = ids.length;
  const issues: string[] = [];
  for (const p of found.problems) {
    if (!p.pair) issues.push(`covariance key "${p.key}" is not of the form "a,b" or "a:b"`);
    else if (p.unknown.length > 0)
      issues.push(
        `covariance key "${p.key}" names ${p.unknown.map((u) => `"${u}"`).join(' and ')}, not in the weights`,
      );
    else issues.push(`covariance key "${p.key}" has a non-finite value (${String(p.value)})`);
  }
  for (const c of found.conflicts)
    issues.push(
      `covariance key "${c.key}" conflicts with another key for the same pair (${c.value} vs ${c.held})`,
    );
  const seen = found.seen;
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++)
      if (!seen[i * n + j]) issues.push(`covariance is missing "${ids[i]},${ids[j]}"`);
  if (issues.length > 0) return { ok: false, issues };
  // A copy: the scan is shared, and callers may repair the matrix in place.
  const matrix = found.matrix.slice();
  return { ok: true, matrix, warnings: checkCovariance(matrix, n, ids, { ...options, symmetric: true }) };
}

/** Options for the hygiene check. */
export interface CheckOptions {
  /**
   * Largest n for the PSD test (pivoted Cholesky, O(n²·r); the eigenvalues only for a matrix it cannot
   * certify); above it only the O(n²) checks run. Default: no limit.
   */
  psdCheckMaxN?: number;
  /** The matrix was built symmetric (each pair written to both triangles): skip the symmetry test. */
  symmetric?: boolean;
}

/**
 * Hygiene findings for a row-major n×n covariance: non-finite entries, asymmetry, negative variances,
 * and a negative smallest eigenvalue (not positive semi-definite). Empty when the matrix is usable.
 * `ids` only improves the messages.
 */
export function checkCovariance(
  matrix: ArrayLike<number>,
  n: number,
  ids?: readonly string[],
  options: CheckOptions = {},
): string[] {
  const name = (i: number) => (ids?.[i] !== undefined ? `"${ids[i]}"` : `${i}`);
  const found: string[] = [];
  if (matrix.length !== n * n) return [`covariance has ${matrix.length} entries, expected ${n}×${n}`];
  let nonFinite = 0;
  let maxAbs = 0;
  for (let k = 0; k < n * n; k++) {
    const v = matrix[k]!;
    if (!Number.isFinite(v)) nonFinite++;
    else if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  }
  if (nonFinite > 0) return [`covariance has ${nonFinite} non-finite entr${nonFinite === 1 ? 'y' : 'ies'}`];
  const tol = 1e-12 * maxAbs;
  for (let i = 0; i < n; i++) {
    if (matrix[i * n + i]! < 0)
      found.push(`covariance has a negative variance for ${name(i)}: ${matrix[i * n + i]}`);
    // Column-wise reads miss the cache at every step: skipped where the matrix was built symmetric.
    if (options.symmetric) continue;
    for (let j = i + 1; j < n; j++) {
      const a = matrix[i * n + j]!;
      const b = matrix[j * n + i]!;
      if (Math.abs(a - b) > tol)
        found.push(`covariance is not symmetric at (${name(i)}, ${name(j)}): ${a} vs ${b}`);
    }
  }
  if (found.length > 0) return found;
  if (n > (options.psdCheckMaxN ?? Number.POSITIVE_INFINITY)) {
    // Without the eigenvalues, a correlation outside [−1, 1] (a failing 2×2 minor) still proves non-PSD.
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const c = matrix[i * n + j]!;
        if (c * c > matrix[i * n + i]! * matrix[j * n + j]! * (1 + 1e-12)) {
          found.push(
            `covariance is not positive semi-definite (|correlation| > 1 at (${name(i)}, ${name(j)}))`,
          );
          return found;
        }
      }
    return found;
  }
  // Pivoted Cholesky certifies the common case (PSD, often singular) in O(n²·r); a matrix it cannot
  // certify goes to the eigenvalues, which decide and name the smallest one (psd.ts: the gray zone).
  if (pivotedCholeskyPsd(matrix, n).verdict === 'psd') return found;
  const values = symmetricEigenvalues(matrix, n);
  const smallest = values[0] ?? 0;
  const largest = values[n - 1] ?? 0;
  // Eigenvalues of a PSD matrix computed in floating point can dip to about −n·ε·λmax; one below the
  // normal range (|λ| < 2.2e−308) has no precision left to tell a sign by, whatever λmax.
  if (smallest < -(Math.max(n, 10) * Number.EPSILON * Math.max(largest, 0) + MIN_NORMAL))
    found.push(
      `covariance is not positive semi-definite (smallest eigenvalue ${Number(smallest.toPrecision(6))})`,
    );
  return found;
}

/** Nearest PSD matrix by eigenvalue clipping: symmetrise, set negative eigenvalues to zero, rebuild VΛ₊Vᵀ. */
export function repairCovariance(matrix: ArrayLike<number>, n: number): Float64Array {
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) sym[i * n + j] = 0.5 * (matrix[i * n + j]! + matrix[j * n + i]!);
  const { values, vectors } = symmetricEigen(sym, n, true);
  const v = vectors!;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lambda = values[k]!;
    if (lambda <= 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = v[i * n + k]! * lambda;
      if (vik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + vik * v[j * n + k]!;
    }
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const m = 0.5 * (out[i * n + j]! + out[j * n + i]!);
      out[i * n + j] = m;
      out[j * n + i] = m;
    }
  return out;
}

/**
 * Sample covariance (n − 1 denominator, demeaned) of the last `window` observations of each series
 * (all of them when omitted); series are aligned on their most recent observation.
 */
export function sampleCovariance(
  returnsByAsset: readonly ArrayLike<number>[],
  window?: number,
): Float64Array {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset, window);
  const out = new Float64Array(n * n);
  if (t < 2) return out.fill(Number.NaN);
  const means = new Float64Array(n);
  const centred = new Float64Array(n * t);
  for (let i = 0; i < n; i++) {
    const x = returnsByAsset[i]!;
    const off = x.length - t;
    let s = 0;
    for (let k = 0; k < t; k++) s += x[off + k]!;
    const m = s / t;
    means[i] = m;
    for (let k = 0; k < t; k++) centred[i * t + k] = x[off + k]! - m;
  }
  crossProducts(centred, n, t, out, 1 / (t - 1));
  return out;
}

/** Out[i,j] = scale · Σₖ X[i,k]·X[j,k] for the row-major n×t matrix X; fills both triangles. */
export function crossProducts(x: Float64Array, n: number, t: number, out: Float64Array, scale: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * t;
    for (let j = 0; j <= i; j++) {
      const rj = j * t;
      let s = 0;
      for (let k = 0; k < t; k++) s += x[ri + k]! * x[rj + k]!;
      out[i * n + j] = s * scale;
      out[j * n + i] = s * scale;
    }
  }
}

/** Number of most-recent observations all series share, capped at `window` when given. */
export function commonLength(series: readonly ArrayLike<number>[], window?: number): number {
  let t = Number.POSITIVE_INFINITY;
  for (const s of series) t = Math.min(t, s.length);
  if (!Number.isFinite(t)) return 0;
  return window === undefined ? t : Math.min(t, window);
}

/** Correlation matrix from a covariance (zero where a variance is zero). */
export function correlationFromCovariance(cov: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const si = Math.sqrt(cov[i * n + i]!);
    for (let j = 0; j < n; j++) {
      const sj = Math.sqrt(cov[j * n + j]!);
      out[i * n + j] = si > 0 && sj > 0 ? cov[i * n + j]! / (si * sj) : 0;
    }
  }
  return out;
}
