import { assertConfidence, assertHorizon, normalPdf, normalQuantile } from './distributions.js';

/** z_α = Φ⁻¹(α): normal VaR per unit of σ. */
export function normalVarMultiplier(confidence: number): number {
  assertConfidence(confidence);
  return normalQuantile(confidence);
}

/** φ(z_α)/(1 − α): normal ES per unit of σ. */
export function normalEsMultiplier(confidence: number): number {
  assertConfidence(confidence);
  return normalPdf(normalQuantile(confidence)) / (1 - confidence);
}

/** Parametric normal VaR = z_α·σ·√h − μ·h, a positive loss (σ, μ per period). */
export function normalVar(sigma: number, confidence: number, horizon = 1, mean = 0): number {
  assertHorizon(horizon);
  return normalVarMultiplier(confidence) * sigma * Math.sqrt(horizon) - mean * horizon;
}

/** Parametric normal ES = σ·√h·φ(z_α)/(1 − α) − μ·h, a positive loss. */
export function normalEs(sigma: number, confidence: number, horizon = 1, mean = 0): number {
  assertHorizon(horizon);
  return normalEsMultiplier(confidence) * sigma * Math.sqrt(horizon) - mean * horizon;
}
