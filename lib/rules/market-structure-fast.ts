import { commonLength } from '#lib/risk/covariance.js';
import { symmetricEigenvaluesInPlace } from '#lib/risk/eigenvalues-only.js';
import {
  absorptionShift,
  correlationZScore,
  type WindowShift,
  windowShift,
} from '#lib/risk/market-structure.js';
import { scratchBuffers } from './kernel-scratch.js';
import { lowerProducts } from './turbulence-fast.js';

// The engine's absorption shift and correlation z-score: the library's blocks of the long window,
// each block's statistic by a cheaper kernel (turbulence's is in turbulence-fast.ts).

const buffer = scratchBuffers();
const BLOCK = 0;
const GRAM = 1;
const BY_DAY = 2;
const DAY_SUMS = 3;
const VALUES = 4;
const OFF_DIAGONAL = 5;

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
