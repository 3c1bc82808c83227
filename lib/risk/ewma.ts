import { commonLength, crossProducts } from './covariance.js';

/** RiskMetrics decay for daily data. */
export const RISKMETRICS_LAMBDA = 0.94;

/**
 * EWMA covariance (RiskMetrics, zero mean) of the last observations all series share. The weights
 * (1 − λ)λᵃᵍᵉ are normalised by 1 − λᵀ so they sum to one: this equals the recursion
 * Σₜ = λΣₜ₋₁ + (1 − λ)rₜrₜᵀ started from zero and divided by 1 − λᵀ, which removes the start-up
 * bias on short histories.
 */
export function ewmaCovariance(
  returnsByAsset: readonly ArrayLike<number>[],
  lambda = RISKMETRICS_LAMBDA,
): Float64Array {
  if (!(lambda > 0 && lambda < 1)) throw new RangeError(`lambda must be in (0, 1), got ${lambda}`);
  const n = returnsByAsset.length;
  const t = commonLength(returnsByAsset);
  const out = new Float64Array(n * n);
  if (t === 0) return out.fill(Number.NaN);
  const sqrtWeights = new Float64Array(t);
  const norm = (1 - lambda) / (1 - lambda ** t);
  for (let k = 0; k < t; k++) sqrtWeights[k] = Math.sqrt(lambda ** (t - 1 - k) * norm);
  const scaled = new Float64Array(n * t);
  for (let i = 0; i < n; i++) {
    const x = returnsByAsset[i]!;
    const off = x.length - t;
    for (let k = 0; k < t; k++) scaled[i * t + k] = x[off + k]! * sqrtWeights[k]!;
  }
  crossProducts(scaled, n, t, out, 1);
  return out;
}

/** EWMA volatility of a single series (square root of the 1×1 EWMA covariance). */
export function ewmaVolatility(returns: ArrayLike<number>, lambda = RISKMETRICS_LAMBDA): number {
  return Math.sqrt(ewmaCovariance([returns], lambda)[0]!);
}
