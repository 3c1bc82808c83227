import { assertConfidence, assertHorizon, normalPdf, normalQuantile } from './distributions.js';
import { moments } from './stats.js';

/** Cornish–Fisher adjusted quantile z_cf = z + (z²−1)S/6 + (z³−3z)K/24 − (2z³−5z)S²/36 (no validity check). */
export function cornishFisherZ(z: number, skewness: number, excessKurtosis: number): number {
  const S = skewness;
  const K = excessKurtosis;
  const z2 = z * z;
  const z3 = z2 * z;
  return z + ((z2 - 1) * S) / 6 + ((z3 - 3 * z) * K) / 24 - ((2 * z3 - 5 * z) * S * S) / 36;
}

/**
 * Whether the expansion is increasing in z on [−bound, bound], i.e. behaves as a quantile function
 * there. dz_cf/dz = a·z² + b·z + c with a = K/8 − S²/6, b = S/3, c = 1 − K/8 + 5S²/36. With the default
 * bound = ∞ this is the strict domain of validity of Maillard (2012), which e.g. excludes any K < 0.
 */
export function cornishFisherMonotone(
  skewness: number,
  excessKurtosis: number,
  bound = Number.POSITIVE_INFINITY,
): boolean {
  const S = skewness;
  const K = excessKurtosis;
  const a = K / 8 - (S * S) / 6;
  const b = S / 3;
  const c = 1 - K / 8 + (5 * S * S) / 36;
  if (!Number.isFinite(bound)) {
    if (a < 0) return false;
    if (a === 0) return b === 0 && c > 0;
    return c > 0 && b * b - 4 * a * c < 0;
  }
  const f = (z: number) => (a * z + b) * z + c;
  if (f(-bound) <= 0 || f(bound) <= 0) return false;
  const vertex = a > 0 ? -b / (2 * a) : Number.NaN;
  return !(vertex > -bound && vertex < bound && f(vertex) <= 0);
}

/**
 * Range on which the expansion must be monotone for a tail probability p: max(4, |z_p| + 2). The normal
 * mass outside it is under 10⁻³·p for any p ≤ 0.1, so a fold further out cannot move VaR or ES; the
 * strict global condition would refuse every platykurtic series.
 */
export function cornishFisherGuardBound(p: number): number {
  return Math.max(4, Math.abs(normalQuantile(p)) + 2);
}

/** Cornish–Fisher VaR and ES, or the reason the expansion cannot be used. */
export type CornishFisherResult =
  | { ok: true; var: number; es: number; zcf: number; skewness: number; excessKurtosis: number }
  | { ok: false; reason: string };

/**
 * Modified VaR and ES from moments (per period). VaR = −(μ + z_cf·σ) with z from the tail p = 1 − α;
 * ES is the exact tail mean of the Cornish–Fisher quantile function,
 * −μ + σ·φ(z)/p·[1 + zS/6 + (z²−1)K/24 − (2z²−1)S²/36], which reduces to the normal ES at S = K = 0.
 * Both scale by √h (and μ by h). Refuses (S, K) for which the expansion folds within `cornishFisherGuardBound(p)`.
 */
export function cornishFisherFromMoments(
  m: { mean: number; std: number; skewness: number; excessKurtosis: number },
  confidence: number,
  horizon = 1,
): CornishFisherResult {
  assertConfidence(confidence);
  assertHorizon(horizon);
  const { skewness: S, excessKurtosis: K } = m;
  if (!Number.isFinite(S) || !Number.isFinite(K) || !(m.std >= 0))
    return { ok: false, reason: 'Cornish–Fisher needs a finite standard deviation, skewness and kurtosis' };
  const p = 1 - confidence;
  const bound = cornishFisherGuardBound(p);
  if (!cornishFisherMonotone(S, K, bound))
    return {
      ok: false,
      reason: `Cornish–Fisher expansion is not monotonic on [−${bound.toFixed(2)}, ${bound.toFixed(2)}] for skewness ${S.toFixed(3)} and excess kurtosis ${K.toFixed(3)}`,
    };
  const z = normalQuantile(p);
  const zcf = cornishFisherZ(z, S, K);
  const root = Math.sqrt(horizon);
  const tail =
    (normalPdf(z) / p) * (1 + (z * S) / 6 + ((z * z - 1) * K) / 24 - ((2 * z * z - 1) * S * S) / 36);
  return {
    ok: true,
    var: -zcf * m.std * root - m.mean * horizon,
    es: tail * m.std * root - m.mean * horizon,
    zcf,
    skewness: S,
    excessKurtosis: K,
  };
}

/** Minimum observations for the moment estimates to mean anything. */
export const CORNISH_FISHER_MIN_OBSERVATIONS = 4;

/**
 * Cornish–Fisher VaR/ES from a return series: σ the n − 1 sample standard deviation, S and K the
 * moment estimates; the mean enters only when `withMean` (zero-mean convention otherwise).
 */
export function cornishFisher(
  series: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  withMean = false,
): CornishFisherResult {
  if (series.length < CORNISH_FISHER_MIN_OBSERVATIONS)
    return { ok: false, reason: `Cornish–Fisher needs at least ${CORNISH_FISHER_MIN_OBSERVATIONS} returns` };
  const m = moments(series);
  return cornishFisherFromMoments({ ...m, mean: withMean ? m.mean : 0 }, confidence, horizon);
}

/** Cornish–Fisher VaR of a return series, or null outside the expansion's domain. */
export function cornishFisherVar(
  series: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  withMean = false,
): number | null {
  const r = cornishFisher(series, confidence, horizon, withMean);
  return r.ok ? r.var : null;
}

/** Cornish–Fisher ES of a return series, or null outside the expansion's domain. */
export function cornishFisherEs(
  series: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  withMean = false,
): number | null {
  const r = cornishFisher(series, confidence, horizon, withMean);
  return r.ok ? r.es : null;
}
