import { assertHorizon } from './distributions.js';
import { normalEsMultiplier, normalVarMultiplier } from './parametric.js';
import { covarianceTimes, portfolioSigma } from './portfolio.js';

/** Euler decomposition of a homogeneous risk measure: marginal ∂R/∂wᵢ and component wᵢ·∂R/∂wᵢ, summing to the total. */
export interface RiskDecomposition {
  total: number;
  sigma: number;
  marginal: Float64Array;
  component: Float64Array;
}

/**
 * Euler decomposition of multiplier·σ_P·√h − μ_P·h: marginalᵢ = multiplier·√h·(Σw)ᵢ/σ_P − μᵢ·h,
 * componentᵢ = wᵢ·marginalᵢ. `means` (per-strategy, per period) is optional, zero by default.
 */
export function decomposeSigma(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  multiplier: number,
  horizon = 1,
  means?: ArrayLike<number>,
): RiskDecomposition {
  assertHorizon(horizon);
  const n = w.length;
  const sigma = portfolioSigma(w, cov);
  const marginal = covarianceTimes(cov, w, new Float64Array(n));
  const component = new Float64Array(n);
  const k = sigma > 0 ? (multiplier * Math.sqrt(horizon)) / sigma : 0;
  let meanP = 0;
  for (let i = 0; i < n; i++) {
    const mu = means ? means[i]! * horizon : 0;
    const m = marginal[i]! * k - mu;
    marginal[i] = m;
    component[i] = w[i]! * m;
    meanP += w[i]! * mu;
  }
  return { total: multiplier * sigma * Math.sqrt(horizon) - meanP, sigma, marginal, component };
}

/** Marginal and component normal VaR (Euler): MVaRᵢ = z_α·(Σw)ᵢ/σ_P·√h, CVaRᵢ = wᵢ·MVaRᵢ, Σ CVaRᵢ = VaR. */
export function componentVar(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  means?: ArrayLike<number>,
): RiskDecomposition {
  return decomposeSigma(w, cov, normalVarMultiplier(confidence), horizon, means);
}

/** Marginal and component normal ES (Euler, with φ(z_α)/(1 − α) in place of z_α). */
export function componentEs(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  means?: ArrayLike<number>,
): RiskDecomposition {
  return decomposeSigma(w, cov, normalEsMultiplier(confidence), horizon, means);
}

/**
 * Incremental normal VaR per strategy: VaR(w) − VaR(w without strategy i), exact (not the marginal
 * approximation), each in O(1) from Σw since σ²₋ᵢ = σ² − 2wᵢ(Σw)ᵢ + wᵢ²Σᵢᵢ.
 */
export function incrementalVar(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  confidence: number,
  horizon = 1,
): Float64Array {
  assertHorizon(horizon);
  const n = w.length;
  const k = normalVarMultiplier(confidence) * Math.sqrt(horizon);
  const sw = covarianceTimes(cov, w, new Float64Array(n));
  let variance = 0;
  for (let i = 0; i < n; i++) variance += w[i]! * sw[i]!;
  const sigma = Math.sqrt(Math.max(0, variance));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    const without = variance - 2 * wi * sw[i]! + wi * wi * cov[i * n + i]!;
    out[i] = k * (sigma - Math.sqrt(Math.max(0, without)));
  }
  return out;
}
