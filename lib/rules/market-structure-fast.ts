import { symmetricEigenvaluesInPlace } from '#lib/risk/eigenvalues-only.js';
import {
  absorptionShift,
  commonLength,
  correlationZScore,
  type Turbulence,
  turbulence,
  type WindowShift,
  windowShift,
} from '#lib/risk/index.js';

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

/**
 * Scratch buffers reused across calls (grown, never shrunk): a fresh zero-filled typed array per
 * window and block was a sixth of the kernels' time and much of the evaluation's garbage. Every
 * kernel writes each entry it reads before reading it, so what a previous call left is never seen;
 * JS runs one kernel at a time, so no two calls share a buffer at once.
 */
const scratch: Float64Array[] = [];
const ROWS = 1;
const FACTOR = 2;
const INVERSE = 3;
const CROSS_SECTION = 4;
const BLOCK = 5;
const GRAM = 6;
const BY_DAY = 7;
const DAY_SUMS = 8;
const VALUES = 9;
const OFF_DIAGONAL = 10;

/** The scratch buffer in `slot`, at least `length` long (only its first `length` entries are meaningful). */
function buffer(slot: number, length: number): Float64Array {
  let b = scratch[slot];
  if (b === undefined || b.length < length) {
    b = new Float64Array(length);
    scratch[slot] = b;
  }
  return b;
}

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
 * share each pair of loads.
 */
function lowerProducts(
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

/** What one short block's statistic is computed from: its centred rows, asset-major. */
type BlockStatistic = (rows: Float64Array, n: number, days: number) => number;

/**
 * The library's `absorptionShift` / `correlationZScore` blocks with a cheaper statistic per block
 * (same windows, same z-score); undefined for windows the library refuses and for a non-finite block
 * value, where the library function decides (its errors and NaN readings stand).
 */
function blockShift(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
  statistic: BlockStatistic,
): WindowShift | undefined {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  const count = Math.floor(longWindow / shortWindow);
  if (
    !(Number.isInteger(shortWindow) && shortWindow >= 2 && Number.isInteger(longWindow)) ||
    count < 3 ||
    t < count * shortWindow ||
    n === 0
  )
    return undefined;
  const rows = buffer(BLOCK, n * shortWindow);
  const blocks = new Float64Array(count);
  for (let b = 0; b < count; b++) {
    const start = t - (count - b) * shortWindow;
    for (let i = 0; i < n; i++) {
      const r = returnsByAsset[i]!;
      const off = r.length - t + start;
      let s = 0;
      for (let k = 0; k < shortWindow; k++) s += r[off + k]!;
      const m = s / shortWindow;
      const row = i * shortWindow;
      for (let k = 0; k < shortWindow; k++) rows[row + k] = r[off + k]! - m;
    }
    const v = statistic(rows, n, shortWindow);
    if (!Number.isFinite(v)) return undefined;
    blocks[b] = v;
  }
  return windowShift(blocks);
}

/** Least trace of a block's Gram or covariance the eigenvalue kernel takes (it does not scale its input). */
const TINY_TRACE = 1e-100;
/** Largest trace of a block's Gram or covariance the eigenvalue kernel takes. */
const HUGE_TRACE = 1e100;

/**
 * Absorption ratio of one block: the share of the top ⌈n/5⌉ eigenvalues. A block of no more days
 * than assets decomposes the days' Gram matrix XᵀX instead of the covariance XXᵀ: the same non-zero
 * eigenvalues, and the assets' zero ones add nothing to either sum. Its rows are centred, so X·1 = 0
 * and the Gram has the constant vector in its null space: a Householder reflection H of the days'
 * axis that maps 1/√days to the last day leaves XH a last column of rounding residue (Σₖxᵢₖ/√days),
 * which is dropped, and the decomposition is of the (days − 1)² Gram of the rest, whose eigenvalues
 * are XᵀX's but for the structural zero (to ~ε·‖X‖², far below the 1e-12 the readings keep).
 * NaN (the library decides) for a trace outside what the unscaled eigenvalue kernel takes.
 */
function blockAbsorption(rows: Float64Array, n: number, days: number): number {
  const gram = days <= n;
  const size = gram ? days - 1 : n;
  const g = buffer(GRAM, size * size);
  const scale = 1 / (days - 1);
  if (gram) {
    // Day-major reflected copy, so each day's cross-section is contiguous for the days' dot products:
    // (xH)ⱼ = xⱼ − βᵢ for j < days − 1, βᵢ = (sᵢ/√days − xᵢ,last)/(√days − 1), sᵢ = Σₖ xᵢₖ.
    const byDay = buffer(BY_DAY, n * size);
    const root = Math.sqrt(days);
    const over = 1 / (root - 1);
    for (let i = 0; i < n; i++) {
      const row = i * days;
      let s = 0;
      for (let a = 0; a < days; a++) s += rows[row + a]!;
      const beta = (s / root - rows[row + size]!) * over;
      for (let a = 0; a < size; a++) byDay[a * n + i] = rows[row + a]! - beta;
    }
    if (!lowerProducts(byDay, size, n, scale, g)) return Number.NaN;
  } else if (!lowerProducts(rows, n, days, scale, g)) return Number.NaN;
  let trace = 0;
  for (let i = 0; i < size; i++) trace += g[i * size + i]!;
  if (!(trace >= TINY_TRACE && trace <= HUGE_TRACE)) return Number.NaN;
  const values = buffer(VALUES, size);
  if (!symmetricEigenvaluesInPlace(g, size, values, buffer(OFF_DIAGONAL, size))) return Number.NaN;
  let total = 0;
  for (let i = 0; i < size; i++) total += Math.max(0, values[i]!);
  // The top ⌈n/5⌉ by selection (largest first, as the library's descending sum reads them).
  const k = Math.min(size, Math.ceil(n / 5));
  let top = 0;
  for (let j = 0; j < k; j++) {
    let at = j;
    for (let i = j + 1; i < size; i++) if (values[i]! > values[at]!) at = i;
    const v = values[at]!;
    values[at] = values[j]!;
    values[j] = v;
    top += Math.max(0, v);
  }
  return total > 0 ? top / total : Number.NaN;
}

/**
 * Average pairwise correlation of one block from its unit rows uᵢ = xᵢ/‖xᵢ‖ (rows without variance
 * left out, as `averageCorrelationOf` leaves them out): Σ_{i<j} uᵢ·uⱼ = (‖Σuᵢ‖² − Σ‖uᵢ‖²)/2, O(n·days)
 * instead of the covariance's O(n²·days).
 */
function blockAverageCorrelation(rows: Float64Array, n: number, days: number): number {
  const sum = buffer(DAY_SUMS, days).fill(0, 0, days);
  let squares = 0;
  let live = 0;
  for (let i = 0; i < n; i++) {
    const row = i * days;
    let ss = 0;
    for (let k = 0; k < days; k++) ss += rows[row + k]! * rows[row + k]!;
    if (!(ss > 0)) continue;
    live++;
    const inv = 1 / Math.sqrt(ss);
    let uu = 0;
    for (let k = 0; k < days; k++) {
      const u = rows[row + k]! * inv;
      sum[k] = sum[k]! + u;
      uu += u * u;
    }
    squares += uu;
  }
  if (live < 2) return Number.NaN;
  let total = 0;
  for (let k = 0; k < days; k++) total += sum[k]! * sum[k]!;
  return (total - squares) / (live * (live - 1));
}

/** `absorptionShift` with each block's ratio from the smaller of its covariance and Gram matrices. */
export function fastAbsorptionShift(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
): WindowShift {
  return (
    gramAbsorptionShift(returnsByAsset, shortWindow, longWindow) ??
    absorptionShift(returnsByAsset, shortWindow, longWindow)
  );
}

/**
 * The fast absorption shift, or undefined where the library decides: also where the top ⌈n/5⌉
 * eigenvectors span a block's whole rank (at most days − 1), so every ratio is 1 in exact arithmetic
 * and only rounding noise varies; the library reads no shift there (BLOCK_NOISE in lib/risk).
 */
function gramAbsorptionShift(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
): WindowShift | undefined {
  const n = returnsByAsset.length;
  if (Math.ceil(n / 5) >= Math.min(n, shortWindow - 1)) return undefined;
  return blockShift(returnsByAsset, shortWindow, longWindow, blockAbsorption);
}

/** `correlationZScore` with each block's average correlation in O(n·days). */
export function fastCorrelationZScore(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
): WindowShift {
  return (
    blockShift(returnsByAsset, shortWindow, longWindow, blockAverageCorrelation) ??
    correlationZScore(returnsByAsset, shortWindow, longWindow)
  );
}

/** The block kernels alone (undefined where the library decides), for the tests that pin them. */
export const blockKernels = {
  absorptionShift: gramAbsorptionShift,
  correlationZScore: (returns: readonly ArrayLike<number>[], s: number, l: number) =>
    blockShift(returns, s, l, blockAverageCorrelation),
};
