import { commonLength } from '#lib/risk/covariance.js';
import { type Turbulence, turbulence } from '#lib/risk/market-structure.js';
import { scratchBuffers } from './kernel-scratch.js';

/**
 * Turbulence for the engine's hot path: the same statistic as `turbulence` in lib/risk (the latest
 * cross-section's squared Mahalanobis distance against the window before it, and its percentile
 * among the window's own days), through a Cholesky factor instead of an eigendecomposition.
 *
 * The eigen pseudo-inverse drops eigenvalues below 1e-12·λmax; a window whose covariance is far from
 * that keeps them all, and then Σ⁺ = Σ⁻¹ = L⁻ᵀL⁻¹ and d = ‖L⁻¹x‖². "Far" is checked with bounds that
 * cost nothing extra: λmax ≤ tr Σ and λmin ≥ 1 / tr Σ⁻¹ = 1 / ‖L⁻¹‖²_F, so
 * 1 / (tr Σ · tr Σ⁻¹) ≤ λmin / λmax. Below `WELL_CONDITIONED` (or a pivot ≤ 0, or a window the
 * library refuses) it falls back to the library function, so its errors and pseudo-inverse stand.
 * The two agree to rounding (test/unit/rules/market-structure-fast.test.ts checks 1e-12 relative).
 */

const buffer = scratchBuffers();
const ROWS = 0;
const FACTOR = 1;
const INVERSE = 2;
const CROSS_SECTION = 3;

/** Least 1 / (tr Σ · tr Σ⁻¹) for the Cholesky path: κ(Σ) is then below 10⁶, far from the 10¹² cut-off. */
export const WELL_CONDITIONED = 1e-6;

/** `turbulence(returnsByAsset, window)`: by a Cholesky factor where the window is well conditioned. */
export function fastTurbulence(returnsByAsset: readonly ArrayLike<number>[], window: number): Turbulence {
  return choleskyTurbulence(returnsByAsset, window) ?? turbulence(returnsByAsset, window);
}

/** Turbulence by a Cholesky factor, or undefined where the library function must decide. */
export function choleskyTurbulence(
  returnsByAsset: readonly ArrayLike<number>[],
  window: number,
): Turbulence | undefined {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  if (!(Number.isInteger(window) && window >= 2) || t < window + 1 || n === 0) return undefined;
  const rows = buffer(ROWS, n * window);
  const l = buffer(FACTOR, n * n);
  const inverse = buffer(INVERSE, n * n);
  const x = buffer(CROSS_SECTION, n);
  // Asset-major centred window: asset i's days at rows[i·window ..], the dot products' layout, and
  // each day's cross-section a column (stride window), which the whitening reads four days at a time.
  for (let i = 0; i < n; i++) {
    const r = returnsByAsset[i]!;
    const off = r.length - 1 - window;
    let s = 0;
    for (let k = 0; k < window; k++) s += r[off + k]!;
    const m = s / window;
    const row = i * window;
    for (let k = 0; k < window; k++) rows[row + k] = r[off + k]! - m;
    x[i] = r[r.length - 1]! - m;
  }
  if (!lowerProducts(rows, n, window, 1 / (window - 1), l)) return undefined;
  let trace = 0;
  for (let i = 0; i < n; i++) trace += l[i * n + i]!;
  if (!cholesky(l, n)) return undefined;
  const traceInverse = invertLower(l, n, inverse);
  if (!(1 / (trace * traceInverse) > WELL_CONDITIONED)) return undefined;
  const value = whitenedNorm(inverse, n, x, 0, 1, Number.POSITIVE_INFINITY);
  const below = countAtOrBelow(inverse, n, rows, window, value);
  return { value, percentile: below / window };
}

/**
 * Lower triangle of `scale`·RRᵀ for the n rows of R (row i at rows[i·days ..], `days` long) into
 * `out` (row-major n×n): the sample covariance (n − 1) of asset-major centred rows with
 * scale = 1/(days − 1). False when a value is not finite. Two rows against two at a time: four sums
 * share each pair of loads. The absorption blocks' Gram and covariance matrices use it too.
 */
export function lowerProducts(
  rows: Float64Array,
  n: number,
  days: number,
  scale: number,
  out: Float64Array,
): boolean {
  for (let i = 0; i < n; i += 2) {
    const i1 = i + 1 < n ? i + 1 : i;
    const ra = i * days;
    const rb = i1 * days;
    for (let j = 0; j <= i1; j += 2) {
      const j1 = j + 1 < n ? j + 1 : j;
      const ca = j * days;
      const cb = j1 * days;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let k = 0; k < days; k++) {
        const a = rows[ra + k]!;
        const b = rows[rb + k]!;
        const c = rows[ca + k]!;
        const d = rows[cb + k]!;
        s00 += a * c;
        s01 += a * d;
        s10 += b * c;
        s11 += b * d;
      }
      out[i * n + j] = s00 * scale;
      if (j1 <= i) out[i * n + j1] = s01 * scale;
      out[i1 * n + j] = s10 * scale;
      if (j1 <= i1) out[i1 * n + j1] = s11 * scale;
    }
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) if (!Number.isFinite(out[i * n + j]!)) return false;
  return true;
}

/** In-place Cholesky Σ = LLᵀ of the lower triangle; false when a pivot is not positive. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= a[rj + k]! * a[rj + k]!;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s * inv;
    }
  }
  return true;
}

/** L⁻¹ (lower, row-major) into `out`; returns ‖L⁻¹‖²_F = tr Σ⁻¹. */
function invertLower(l: Float64Array, n: number, out: Float64Array): number {
  out.fill(0, 0, n * n);
  let frobenius = 0;
  for (let j = 0; j < n; j++) {
    // Column j of L⁻¹ by forward substitution on e_j.
    out[j * n + j] = 1 / l[j * n + j]!;
    frobenius += out[j * n + j]! ** 2;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s -= l[ri + k]! * out[k * n + j]!;
      const v = s / l[ri + i]!;
      out[ri + j] = v;
      frobenius += v * v;
    }
  }
  return frobenius;
}

/**
 * ‖L⁻¹x‖² for x = (v[offset], v[offset + stride], …) (n values). Stops as soon as the partial sum
 * exceeds `stop`: the sum of non-negative terms only grows, so a caller's "≤ stop" test gets the
 * same answer.
 */
function whitenedNorm(
  inverse: Float64Array,
  n: number,
  v: Float64Array,
  offset: number,
  stride: number,
  stop: number,
): number {
  let d = 0;
  for (let k = 0; k < n; k++) {
    const row = k * n;
    let u = 0;
    for (let i = 0; i <= k; i++) u += inverse[row + i]! * v[offset + i * stride]!;
    d += u * u;
    if (d > stop) return d;
  }
  return d;
}

/**
 * How many of the `days` columns of the asset-major `rows` (day c of asset i at rows[i·days + c])
 * have ‖L⁻¹x‖² ≤ `value`. Four days at a time (each L⁻¹ entry read once for four sums, the four
 * days' entries adjacent), each summed in the order `whitenedNorm` sums it; a group stops once all
 * four partial sums exceed `value` (they only grow).
 */
function countAtOrBelow(
  inverse: Float64Array,
  n: number,
  rows: Float64Array,
  days: number,
  value: number,
): number {
  let below = 0;
  let c = 0;
  for (; c + 4 <= days; c += 4) {
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let k = 0; k < n; k++) {
      const row = k * n;
      let u0 = 0;
      let u1 = 0;
      let u2 = 0;
      let u3 = 0;
      for (let i = 0, at = c; i <= k; i++, at += days) {
        const a = inverse[row + i]!;
        u0 += a * rows[at]!;
        u1 += a * rows[at + 1]!;
        u2 += a * rows[at + 2]!;
        u3 += a * rows[at + 3]!;
      }
      d0 += u0 * u0;
      d1 += u1 * u1;
      d2 += u2 * u2;
      d3 += u3 * u3;
      if (d0 > value && d1 > value && d2 > value && d3 > value) break;
    }
    if (d0 <= value) below++;
    if (d1 <= value) below++;
    if (d2 <= value) below++;
    if (d3 <= value) below++;
  }
  for (; c < days; c++) if (whitenedNorm(inverse, n, rows, c, days, value) <= value) below++;
  return below;
}
