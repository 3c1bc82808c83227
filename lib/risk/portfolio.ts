import { commonLength } from './covariance.js';

/**
 * wᵀΣw for a row-major n×n covariance. Four independent accumulators per row let V8 keep several
 * multiply-adds in flight; the loop allocates nothing.
 */
export function portfolioVariance(w: ArrayLike<number>, cov: ArrayLike<number>): number {
  const n = w.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      s0 += cov[row + j]! * w[j]!;
      s1 += cov[row + j + 1]! * w[j + 1]!;
      s2 += cov[row + j + 2]! * w[j + 2]!;
      s3 += cov[row + j + 3]! * w[j + 3]!;
    }
    for (; j < n; j++) s0 += cov[row + j]! * w[j]!;
    total += w[i]! * (s0 + s1 + s2 + s3);
  }
  return total;
}

/** Portfolio standard deviation σ_P = √(wᵀΣw) (NaN when the quadratic form is negative: not PSD). */
export function portfolioSigma(w: ArrayLike<number>, cov: ArrayLike<number>): number {
  const v = portfolioVariance(w, cov);
  // Round-off can leave a tiny negative for a zero-risk portfolio; a real negative means a bad matrix.
  if (v < 0) return v > -1e-15 ? 0 : Number.NaN;
  return Math.sqrt(v);
}

/** out = Σw (row-major n×n covariance); returns `out`. */
export function covarianceTimes(
  cov: ArrayLike<number>,
  w: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s0 = 0;
    let s1 = 0;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      s0 += cov[row + j]! * w[j]!;
      s1 += cov[row + j + 1]! * w[j + 1]!;
    }
    if (j < n) s0 += cov[row + j]! * w[j]!;
    out[i] = s0 + s1;
  }
  return out;
}

/**
 * Portfolio return series r_t = Σᵢ wᵢ·rᵢ,t over the most recent observations all strategies share
 * (series of unequal length are aligned on their last observation).
 */
export function portfolioSeries(
  returnsByStrategy: readonly ArrayLike<number>[],
  w: ArrayLike<number>,
): Float64Array {
  if (returnsByStrategy.length !== w.length)
    throw new RangeError(`${returnsByStrategy.length} return series for ${w.length} weights`);
  const t = commonLength(returnsByStrategy);
  const out = new Float64Array(t);
  for (let i = 0; i < w.length; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    const r = returnsByStrategy[i]!;
    const off = r.length - t;
    for (let k = 0; k < t; k++) out[k] = out[k]! + wi * r[off + k]!;
  }
  return out;
}
