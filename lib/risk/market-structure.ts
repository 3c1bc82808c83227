import { commonLength } from './covariance.js';
import { symmetricEigen, symmetricEigenvalues } from './eigen.js';

// All indicators work on the most recent observations the series share (aligned on the last one).

/**
 * Sample covariance (n − 1) of observations [start, start + length) of the aligned series, where
 * index 0 is the first common observation. Writes `out` (n×n) and uses `centred` (n×length) as scratch.
 */
function windowCovariance(
  returns: readonly ArrayLike<number>[],
  t: number,
  start: number,
  length: number,
  out: Float64Array,
  centred: Float64Array,
): void {
  const n = returns.length;
  for (let i = 0; i < n; i++) {
    const x = returns[i]!;
    const off = x.length - t + start;
    let s = 0;
    for (let k = 0; k < length; k++) s += x[off + k]!;
    const m = s / length;
    const row = i * length;
    for (let k = 0; k < length; k++) centred[row + k] = x[off + k]! - m;
  }
  const scale = 1 / (length - 1);
  for (let i = 0; i < n; i++) {
    const ri = i * length;
    for (let j = 0; j <= i; j++) {
      const rj = j * length;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < length; k += 2) {
        s0 += centred[ri + k]! * centred[rj + k]!;
        s1 += centred[ri + k + 1]! * centred[rj + k + 1]!;
      }
      if (k < length) s0 += centred[ri + k]! * centred[rj + k]!;
      const v = (s0 + s1) * scale;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
}

/** Turbulence of the latest cross-section and where it ranks among the window's own values. */
export interface Turbulence {
  /** Squared Mahalanobis distance (yₜ − μ)ᵀΣ⁻¹(yₜ − μ) (Kritzman & Li, 2010); about N in calm markets. */
  value: number;
  /** Share of the window's in-sample turbulence values at or below `value`, in [0, 1]. */
  percentile: number;
}

/**
 * Turbulence of the latest observation against μ and Σ of the `window` observations before it. The
 * inverse is the eigen pseudo-inverse (eigenvalues below 1e-12·λmax dropped) so a short or collinear
 * window still yields a number. The percentile ranks it among the window's observations measured
 * against the same μ and Σ, which costs one decomposition instead of one per day.
 */
export function turbulence(returnsByAsset: readonly ArrayLike<number>[], window: number): Turbulence {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  if (!(Number.isInteger(window) && window >= 2))
    throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  if (t < window + 1) throw new RangeError(`turbulence needs ${window + 1} common observations, have ${t}`);
  const cov = new Float64Array(n * n);
  const centred = new Float64Array(n * window);
  const start = t - 1 - window;
  windowCovariance(returnsByAsset, t, start, window, cov, centred);
  const { values, vectors } = symmetricEigen(cov, n, true);
  const v = vectors!;
  const cutoff = 1e-12 * Math.max(values[n - 1] ?? 0, 0);
  // Whitening rows wₖ = vₖ/√λₖ (row-major, so the inner loop is contiguous): d = Σₖ (wₖ·x)².
  const white = new Float64Array(n * n);
  let rank = 0;
  for (let k = 0; k < n; k++) {
    const lambda = values[k]!;
    if (!(lambda > cutoff)) continue;
    const inv = 1 / Math.sqrt(lambda);
    for (let i = 0; i < n; i++) white[rank * n + i] = v[i * n + k]! * inv;
    rank++;
  }
  const x = new Float64Array(n);
  // The window's centred data sit in `centred`; the latest observation is centred by the window mean.
  for (let i = 0; i < n; i++) {
    const r = returnsByAsset[i]!;
    const row = i * window;
    const mean = r[r.length - 2]! - centred[row + window - 1]!;
    x[i] = r[r.length - 1]! - mean;
  }
  const value = whitenedNorm(white, rank, n, x, 0, 1);
  // Each window day against the same whitening, read straight from `centred` (column c, stride window).
  let below = 0;
  for (let c = 0; c < window; c++) if (whitenedNorm(white, rank, n, centred, c, window) <= value) below++;
  return { value, percentile: below / window };
}

/**
 * d = Σₖ (wₖ·x)² over the first `rank` whitening rows, x read as v[offset + i·stride]. A plain
 * function over its arguments: as a closure over the arrays V8 reloaded them on every element.
 */
function whitenedNorm(
  white: Float64Array,
  rank: number,
  n: number,
  v: Float64Array,
  offset: number,
  stride: number,
): number {
  let d = 0;
  for (let k = 0; k < rank; k++) {
    const row = k * n;
    let u = 0;
    for (let i = 0; i < n; i++) u += white[row + i]! * v[offset + i * stride]!;
    d += u * u;
  }
  return d;
}

/** Share of total variance in the top k eigenvectors of the covariance (default k = ⌈n/5⌉). */
export function absorptionRatio(cov: ArrayLike<number>, n: number, k = Math.ceil(n / 5)): number {
  const values = symmetricEigenvalues(cov, n);
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.max(0, values[i]!);
  let top = 0;
  for (let i = n - 1; i >= Math.max(0, n - k); i--) top += Math.max(0, values[i]!);
  return total > 0 ? top / total : Number.NaN;
}

/** Average off-diagonal correlation of a covariance matrix (NaN for n < 2). */
export function averageCorrelationOf(cov: ArrayLike<number>, n: number): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    const si = cov[i * n + i]!;
    for (let j = 0; j < i; j++) {
      const sj = cov[j * n + j]!;
      if (si > 0 && sj > 0) {
        sum += cov[i * n + j]! / Math.sqrt(si * sj);
        pairs++;
      }
    }
  }
  return pairs > 0 ? sum / pairs : Number.NaN;
}

/** Average pairwise correlation over the last `window` common observations (all of them when omitted). */
export function averageCorrelation(returnsByAsset: readonly ArrayLike<number>[], window?: number): number {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  const len = Math.min(t, window ?? t);
  if (len < 2) return Number.NaN;
  const cov = new Float64Array(n * n);
  windowCovariance(returnsByAsset, t, t - len, len, cov, new Float64Array(n * len));
  return averageCorrelationOf(cov, n);
}

/** A short-window statistic standardized against the same statistic on the blocks of the long window. */
export interface WindowShift {
  /** The statistic on the latest short window. */
  short: number;
  /** Mean of the statistic over the non-overlapping short blocks of the long window (latest included). */
  longMean: number;
  /** (short − longMean) / standard deviation (n − 1) of the block values; NaN when they do not vary (BLOCK_NOISE). */
  zScore: number;
  /** The block values, oldest first. */
  blocks: Float64Array;
}

function blockStatistics(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
  statistics: ((cov: Float64Array, n: number) => number)[],
): Float64Array[] {
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  if (!(Number.isInteger(shortWindow) && shortWindow >= 2 && Number.isInteger(longWindow)))
    throw new RangeError(`windows must be integers with short ≥ 2, got ${shortWindow} and ${longWindow}`);
  const count = Math.floor(longWindow / shortWindow);
  if (count < 3)
    throw new RangeError(`long window ${longWindow} must hold at least 3 short windows of ${shortWindow}`);
  if (t < count * shortWindow)
    throw new RangeError(`need ${count * shortWindow} common observations, have ${t}`);
  const cov = new Float64Array(n * n);
  const centred = new Float64Array(n * shortWindow);
  const out = statistics.map(() => new Float64Array(count));
  for (let b = 0; b < count; b++) {
    const start = t - (count - b) * shortWindow;
    windowCovariance(returnsByAsset, t, start, shortWindow, cov, centred);
    statistics.forEach((stat, s) => {
      out[s]![b] = stat(cov, n);
    });
  }
  return out;
}

/**
 * Block values whose spread is below this fraction of their magnitude do not vary: the spread is
 * rounding noise, and a z-score over it is noise divided by noise (it can read 1 or more and fire a
 * rule). This happens, for instance, when the top ⌈n/5⌉ eigenvectors span a block's whole rank (at most
 * days − 1): every absorption ratio is 1 in exact arithmetic.
 */
export const BLOCK_NOISE = 1e-12;

/** The shift of the latest block against all blocks (the latest included), from the block values. */
export function windowShift(blocks: Float64Array): WindowShift {
  const count = blocks.length;
  let sum = 0;
  let scale = 0;
  for (let b = 0; b < count; b++) {
    sum += blocks[b]!;
    scale = Math.max(scale, Math.abs(blocks[b]!));
  }
  const longMean = sum / count;
  let ss = 0;
  for (let b = 0; b < count; b++) ss += (blocks[b]! - longMean) ** 2;
  const sd = Math.sqrt(ss / (count - 1));
  const short = blocks[count - 1]!;
  return { short, longMean, zScore: sd > BLOCK_NOISE * scale ? (short - longMean) / sd : Number.NaN, blocks };
}

/**
 * Absorption ratio of the latest short window and its standardized shift against the long window's
 * blocks (after Kritzman, Li, Page & Rigobon, 2011, who compare a 15-day to a 1-year average of a daily
 * ratio; non-overlapping blocks give the same reading at a fraction of the decompositions).
 */
export function absorptionShift(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
): WindowShift {
  const [blocks] = blockStatistics(returnsByAsset, shortWindow, longWindow, [
    (c, n) => absorptionRatio(c, n),
  ]);
  return windowShift(blocks!);
}

/** Average pairwise correlation of the latest short window and its z-score against the long window's blocks. */
export function correlationZScore(
  returnsByAsset: readonly ArrayLike<number>[],
  shortWindow: number,
  longWindow: number,
): WindowShift {
  const [blocks] = blockStatistics(returnsByAsset, shortWindow, longWindow, [averageCorrelationOf]);
  return windowShift(blocks!);
}

/** Every market-structure indicator at once, sharing the block covariances between absorption and correlation. */
export function marketStructure(
  returnsByAsset: readonly ArrayLike<number>[],
  windows: { turbulenceWindow: number; shortWindow: number; longWindow: number },
): { turbulence: Turbulence; absorption: WindowShift; correlation: WindowShift } {
  const [ar, corr] = blockStatistics(returnsByAsset, windows.shortWindow, windows.longWindow, [
    (c, n) => absorptionRatio(c, n),
    averageCorrelationOf,
  ]);
  return {
    turbulence: turbulence(returnsByAsset, windows.turbulenceWindow),
    absorption: windowShift(ar!),
    correlation: windowShift(corr!),
  };
}
