import { assertConfidence, assertHorizon, tPdf, tQuantile } from './distributions.js';

/** Bounds on ν estimated from kurtosis: 4 + 6/K never goes below 4; above 100 the t is a normal in all but name. */
export const DOF_MIN = 4;
export const DOF_MAX = 100;

/**
 * ν from the excess kurtosis of a Student-t (K = 6/(ν − 4) ⇒ ν = 4 + 6/K), bounded to [DOF_MIN, DOF_MAX];
 * `bounded` says the estimate was clipped (K ≤ 0 or tiny).
 */
export function dofFromKurtosis(excessKurtosis: number): { dof: number; bounded: boolean } {
  if (!(excessKurtosis > 0)) return { dof: DOF_MAX, bounded: true };
  const raw = 4 + 6 / excessKurtosis;
  const dof = Math.min(DOF_MAX, Math.max(DOF_MIN, raw));
  return { dof, bounded: dof !== raw };
}

function checkDof(dof: number): void {
  if (!(dof > 2 && Number.isFinite(dof)))
    throw new RangeError(`degrees of freedom must exceed 2, got ${dof}`);
}

/**
 * Student-t VaR of a P&L with standard deviation σ: scale = σ·√((ν − 2)/ν), q = t_ν⁻¹(α);
 * VaR = scale·q·√h − μ·h.
 */
export function studentTVar(sigma: number, confidence: number, dof: number, horizon = 1, mean = 0): number {
  assertConfidence(confidence);
  assertHorizon(horizon);
  checkDof(dof);
  const scale = sigma * Math.sqrt((dof - 2) / dof);
  return scale * tQuantile(confidence, dof) * Math.sqrt(horizon) - mean * horizon;
}

/**
 * Student-t VaR and ES together (`studentTVar`, `studentTEs`, same arithmetic): the quantile t_ν⁻¹(α),
 * an iterative inverse of the incomplete beta function, is computed once instead of twice.
 */
export function studentTVarEs(
  sigma: number,
  confidence: number,
  dof: number,
  horizon = 1,
  mean = 0,
): { var: number; es: number } {
  assertConfidence(confidence);
  assertHorizon(horizon);
  checkDof(dof);
  const scale = sigma * Math.sqrt((dof - 2) / dof);
  const q = tQuantile(confidence, dof);
  const tail = (tPdf(q, dof) / (1 - confidence)) * ((dof + q * q) / (dof - 1));
  return {
    var: scale * q * Math.sqrt(horizon) - mean * horizon,
    es: scale * tail * Math.sqrt(horizon) - mean * horizon,
  };
}

/** Student-t ES = scale·g_ν(q)/(1 − α)·(ν + q²)/(ν − 1)·√h − μ·h. */
export function studentTEs(sigma: number, confidence: number, dof: number, horizon = 1, mean = 0): number {
  assertConfidence(confidence);
  assertHorizon(horizon);
  checkDof(dof);
  const scale = sigma * Math.sqrt((dof - 2) / dof);
  const q = tQuantile(confidence, dof);
  const tail = (tPdf(q, dof) / (1 - confidence)) * ((dof + q * q) / (dof - 1));
  return scale * tail * Math.sqrt(horizon) - mean * horizon;
}
