import { assertConfidence, assertHorizon } from './distributions.js';

/** k = ⌈n·(1 − α)⌉ (at least 1); the ε absorbs representation error such as 100·(1 − 0.99) = 1.0000000000000009. */
export function historicalTailCount(n: number, confidence: number): number {
  assertConfidence(confidence);
  return Math.max(1, Math.ceil(n * (1 - confidence) - 1e-9));
}

/** Historical VaR and ES with the tail size k they were computed from. */
export interface HistoricalTail {
  var: number;
  es: number;
  k: number;
}

function assertSeries(series: ArrayLike<number>): void {
  if (series.length === 0) throw new RangeError('historical simulation needs at least one return');
  for (let i = 0; i < series.length; i++)
    if (!Number.isFinite(series[i]!)) throw new RangeError(`return ${i} is not finite (${series[i]})`);
}

/**
 * Historical VaR (k-th largest loss) and ES (mean of the k largest losses), scaled by √h.
 * Quickselect keeps it O(n); the k tail losses are then sorted before summing so the result is
 * bit-for-bit independent of the order of the input. Pass `scratch` (length ≥ n) to avoid allocating.
 */
export function historicalTail(
  series: ArrayLike<number>,
  confidence: number,
  horizon = 1,
  scratch?: Float64Array,
): HistoricalTail {
  assertHorizon(horizon);
  assertSeries(series);
  const n = series.length;
  const k = historicalTailCount(n, confidence);
  const losses = scratch && scratch.length >= n ? scratch : new Float64Array(n);
  for (let i = 0; i < n; i++) losses[i] = -series[i]!;
  return historicalTailOfLosses(losses, n, k, horizon);
}

/**
 * The historical tail from losses already in `losses[0..n)` (rearranged in place): k-th largest
 * loss and the mean of the k largest, scaled by √h.
 */
export function historicalTailOfLosses(
  losses: Float64Array,
  n: number,
  k: number,
  horizon: number,
): HistoricalTail {
  selectLargest(losses, n, k);
  const tail = losses.subarray(0, k).sort();
  let sum = 0;
  for (let i = 0; i < k; i++) sum += tail[i]!;
  const root = Math.sqrt(horizon);
  return { var: tail[0]! * root, es: (sum / k) * root, k };
}

/** Historical VaR: the k-th largest loss of the series, k = ⌈n·(1 − α)⌉. */
export function historicalVar(series: ArrayLike<number>, confidence: number, horizon = 1): number {
  return historicalTail(series, confidence, horizon).var;
}

/** Historical ES: the mean of the k largest losses. */
export function historicalEs(series: ArrayLike<number>, confidence: number, horizon = 1): number {
  return historicalTail(series, confidence, horizon).es;
}

/** Rearranges a[0..n) so that a[0..k) hold the k largest values (Hoare quickselect, median-of-three pivot). */
export function selectLargest(a: Float64Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    // Median of three.
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/**
 * Age-weighted historical simulation (Boudoukh, Richardson & Whitelaw, 1998): the observation i
 * periods old weighs λⁱ(1 − λ)/(1 − λⁿ) (the last element is the newest; λ = 1 gives equal weights).
 * Losses are taken largest first until their weight reaches p = 1 − α: VaR is the loss where it
 * does, ES the weight-averaged tail with the last loss counted only for the weight still needed.
 */
export function ageWeightedHistorical(
  series: ArrayLike<number>,
  confidence: number,
  lambda: number,
  horizon = 1,
): { var: number; es: number } {
  assertConfidence(confidence);
  assertHorizon(horizon);
  assertSeries(series);
  if (!(lambda > 0 && lambda <= 1)) throw new RangeError(`lambda must be in (0, 1], got ${lambda}`);
  const n = series.length;
  const weights = new Float64Array(n);
  if (lambda === 1) weights.fill(1 / n);
  else {
    const norm = (1 - lambda) / (1 - lambda ** n);
    for (let age = 0; age < n; age++) weights[n - 1 - age] = lambda ** age * norm;
  }
  // Ties in loss are ordered oldest-first so equal losses accumulate weight the same way each time.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => series[a]! - series[b]! || a - b);
  const p = 1 - confidence;
  let mass = 0;
  let tailSum = 0;
  let value = -series[order[n - 1]!]!;
  for (const i of order) {
    const loss = -series[i]!;
    const w = weights[i]!;
    // Tolerate float drift in the running sum so λ = 1 reproduces k = ⌈n·p⌉ exactly.
    if (mass + w >= p - 1e-12) {
      tailSum += loss * (p - mass);
      value = loss;
      mass = p;
      break;
    }
    mass += w;
    tailSum += loss * w;
  }
  const root = Math.sqrt(horizon);
  return { var: value * root, es: (tailSum / p) * root };
}

/** Age-weighted historical VaR (see `ageWeightedHistorical`). */
export function ageWeightedHistoricalVar(
  series: ArrayLike<number>,
  confidence: number,
  lambda: number,
  horizon = 1,
) {
  return ageWeightedHistorical(series, confidence, lambda, horizon).var;
}

/** Age-weighted historical ES (see `ageWeightedHistorical`). */
export function ageWeightedHistoricalEs(
  series: ArrayLike<number>,
  confidence: number,
  lambda: number,
  horizon = 1,
) {
  return ageWeightedHistorical(series, confidence, lambda, horizon).es;
}
