import { binomialCdf, chisquareCdf } from './distributions.js';

/** Number of periods whose loss (−return) exceeded the VaR forecast (a scalar, or one forecast per period). */
export function countExceptions(returns: ArrayLike<number>, varForecast: number | ArrayLike<number>): number {
  let count = 0;
  for (let t = 0; t < returns.length; t++) {
    const v = typeof varForecast === 'number' ? varForecast : varForecast[t]!;
    if (-returns[t]! > v) count++;
  }
  return count;
}

/** Kupiec proportion-of-failures test result. */
export interface KupiecResult {
  lr: number;
  pValue: number;
  reject: boolean;
}

// x·ln(y) with the 0·ln 0 = 0 convention of the likelihood.
function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/**
 * Kupiec POF: LR = −2·ln[(1−p)^(T−x)·p^x] + 2·ln[(1−x/T)^(T−x)·(x/T)^x] ~ χ²(1); rejects the VaR model
 * at `significance` (5% ⇒ LR > 3.841).
 */
export function kupiecPof(
  observations: number,
  exceptions: number,
  p: number,
  significance = 0.05,
): KupiecResult {
  const T = observations;
  const x = exceptions;
  if (!(Number.isInteger(T) && T > 0))
    throw new RangeError(`observations must be a positive integer, got ${T}`);
  if (!(Number.isInteger(x) && x >= 0 && x <= T))
    throw new RangeError(`exceptions must be an integer in [0, ${T}], got ${x}`);
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const phat = x / T;
  const lr = -2 * (xlogy(T - x, 1 - p) + xlogy(x, p)) + 2 * (xlogy(T - x, 1 - phat) + xlogy(x, phat));
  // The statistic is ≥ 0 in exact arithmetic; clamp the −1e-15 round-off at x = pT.
  const stat = Math.max(0, lr);
  const pValue = 1 - chisquareCdf(stat, 1);
  return { lr: stat, pValue, reject: pValue < significance };
}

/** Basel traffic-light zone of a 99% VaR backtest. */
export interface BaselZone {
  zone: 'green' | 'yellow' | 'red';
  /** P(X ≤ exceptions) for X ~ Bin(observations, 0.01). */
  cumulativeProbability: number;
  /** Addition to the base multiplier 3. */
  plusFactor: number;
}

// BCBS (1996) plus-factors for 5…9 exceptions in 250 observations.
const YELLOW_PLUS = [0.4, 0.5, 0.65, 0.75, 0.85] as const;

/**
 * Basel traffic light (BCBS 1996): green while the cumulative binomial probability is below 95%, red
 * from 99.99%, yellow between. The plus-factor table is defined for 250 observations; other lengths use
 * the exception count rescaled to 250.
 */
export function baselZone(exceptions: number, observations = 250): BaselZone {
  if (!(Number.isInteger(observations) && observations > 0))
    throw new RangeError(`observations must be a positive integer, got ${observations}`);
  if (!(Number.isInteger(exceptions) && exceptions >= 0 && exceptions <= observations))
    throw new RangeError(`exceptions must be an integer in [0, ${observations}], got ${exceptions}`);
  const cumulativeProbability = binomialCdf(exceptions, observations, 0.01);
  if (cumulativeProbability < 0.95) return { zone: 'green', cumulativeProbability, plusFactor: 0 };
  if (cumulativeProbability >= 0.9999) return { zone: 'red', cumulativeProbability, plusFactor: 1 };
  const scaled = Math.round((exceptions * 250) / observations);
  const plusFactor = YELLOW_PLUS[Math.min(4, Math.max(0, scaled - 5))]!;
  return { zone: 'yellow', cumulativeProbability, plusFactor };
}
