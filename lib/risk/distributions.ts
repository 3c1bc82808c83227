// Distribution functions come from stdlib (well kept, accurate to ~1e-15, CommonJS with shipped types)
// rather than hand-rolled rational approximations; this module is the one place that imports them.
import binomialCdfImpl from '@stdlib/stats-base-dists-binomial-cdf';
import chisquareCdfImpl from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdfImpl from '@stdlib/stats-base-dists-normal-cdf';
import normalPdfImpl from '@stdlib/stats-base-dists-normal-pdf';
import normalQuantileImpl from '@stdlib/stats-base-dists-normal-quantile';
import tPdfImpl from '@stdlib/stats-base-dists-t-pdf';
import tQuantileImpl from '@stdlib/stats-base-dists-t-quantile';

/** Standard normal quantile Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  return normalQuantileImpl(p, 0, 1);
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return normalPdfImpl(x, 0, 1);
}

/** Standard normal distribution function Φ(x). */
export function normalCdf(x: number): number {
  return normalCdfImpl(x, 0, 1);
}

/** Student-t quantile with ν degrees of freedom (unit scale). */
export function tQuantile(p: number, dof: number): number {
  return tQuantileImpl(p, dof);
}

/** Student-t density with ν degrees of freedom (unit scale). */
export function tPdf(x: number, dof: number): number {
  return tPdfImpl(x, dof);
}

/** χ² distribution function with k degrees of freedom. */
export function chisquareCdf(x: number, k: number): number {
  return chisquareCdfImpl(x, k);
}

/** Binomial distribution function P(X ≤ x) for X ~ Bin(n, p). */
export function binomialCdf(x: number, n: number, p: number): number {
  return binomialCdfImpl(x, n, p);
}

/** Throws a RangeError unless 0 < confidence < 1. */
export function assertConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
}

/** Throws a RangeError unless the horizon is a finite positive number of periods. */
export function assertHorizon(horizon: number): void {
  if (!(horizon > 0 && Number.isFinite(horizon)))
    throw new RangeError(`horizon must be a positive number of periods, got ${horizon}`);
}
