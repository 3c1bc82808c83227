import { historicalTailCount, selectLargest } from './historical.js';

/**
 * Contribution sizing for risk measures computed from a return series (historical, Student-t,
 * Cornish–Fisher), where no closed-form cut exists. The portfolio series is rebuilt from the
 * per-strategy returns for each trial cut and re-measured by the caller's own measure function, so
 * the cut is sized against exactly the number the rule compares with its limit.
 */

/** A positive-loss measure of a portfolio return series; NaN when the series does not allow it. */
export type SeriesMeasure = (portfolio: Float64Array) => number;

/** Per-strategy contributions to the measure at the given weights (larger = more of the risk). */
export type ContributionFn = (weights: Float64Array, portfolio: Float64Array) => Float64Array;

/** Cut fractions per strategy (of the original weights), the measure after them, and whether it reached the target. */
export interface SeriesCut {
  ratios: Float64Array;
  after: number;
  reached: boolean;
  /** Strategy indices in the order they were cut. */
  order: number[];
}

/** Grid steps per strategy before bisection; the first grid point at or below the target brackets the cut. */
const GRID = 64;
const BISECTIONS = 60;

/** r_t = Σ wᵢ rᵢ,t into `out`. */
export function portfolioSeries(
  returns: readonly Float64Array[],
  weights: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const t = returns[0]?.length ?? 0;
  const p = out && out.length === t ? out.fill(0) : new Float64Array(t);
  for (let i = 0; i < returns.length; i++) {
    const w = weights[i]!;
    if (w === 0) continue;
    const r = returns[i]!;
    for (let k = 0; k < t; k++) p[k]! += w * r[k]!;
  }
  return p;
}

/**
 * Each strategy's contribution to historical ES over the portfolio's k tail periods (the k largest
 * losses): cᵢ = −wᵢ·mean_{t∈tail} rᵢ,t·√h. They sum to the historical ES; the same basis orders the
 * cuts for historical VaR (its k-th loss alone is too noisy to rank strategies by).
 */
export function tailContributions(
  returns: readonly Float64Array[],
  weights: ArrayLike<number>,
  portfolio: Float64Array,
  confidence: number,
  horizon = 1,
): Float64Array {
  const n = portfolio.length;
  const k = historicalTailCount(n, confidence);
  const losses = new Float64Array(n);
  for (let t = 0; t < n; t++) losses[t] = -portfolio[t]!;
  selectLargest(losses, n, k);
  // The threshold is the k-th largest loss; periods strictly above it are in the tail, ties fill the rest.
  let threshold = Number.POSITIVE_INFINITY;
  for (let j = 0; j < k; j++) threshold = Math.min(threshold, losses[j]!);
  const tail: number[] = [];
  for (let t = 0; t < n; t++) if (-portfolio[t]! > threshold) tail.push(t);
  for (let t = 0; t < n && tail.length < k; t++) if (-portfolio[t]! === threshold) tail.push(t);
  const root = Math.sqrt(horizon);
  const out = new Float64Array(returns.length);
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i]!;
    let sum = 0;
    for (const t of tail) sum += r[t]!;
    out[i] = (-weights[i]! * sum * root) / k;
  }
  return out;
}

/**
 * Euler contribution wᵢ·∂R/∂wᵢ by a central difference in each weight's own scale:
 * (R(wᵢ(1 + ε)) − R(wᵢ(1 − ε)))/(2ε). For a measure homogeneous of degree one they sum to R.
 */
export function numericEulerContributions(
  returns: readonly Float64Array[],
  weights: ArrayLike<number>,
  measure: SeriesMeasure,
  epsilon = 1e-5,
): Float64Array {
  const n = returns.length;
  const w = Float64Array.from(weights);
  const out = new Float64Array(n);
  const scratch = new Float64Array(returns[0]?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    w[i] = wi * (1 + epsilon);
    const up = measure(portfolioSeries(returns, w, scratch));
    w[i] = wi * (1 - epsilon);
    const down = measure(portfolioSeries(returns, w, scratch));
    w[i] = wi;
    out[i] = (up - down) / (2 * epsilon);
  }
  return out;
}

/**
 * Greedy cut, largest contributor first: take the strategy with the largest positive contribution
 * not yet cut; find the smallest fraction c of its weight that brings the measure to the target
 * (first of 64 grid points at or below it, then bisection, so the measure lands on the target); if
 * no c ∈ [0, 1] gets there, cut it to the grid point where the measure is lowest and move on, with
 * contributions recomputed on the cut weights. `after` is the measure once the cuts are applied.
 */
export function seriesContributionCut(
  returns: readonly Float64Array[],
  weights: ArrayLike<number>,
  measure: SeriesMeasure,
  contributions: ContributionFn,
  target: number,
): SeriesCut {
  const n = returns.length;
  const current = Float64Array.from(weights);
  const ratios = new Float64Array(n);
  const done = new Uint8Array(n);
  const order: number[] = [];
  const portfolio = portfolioSeries(returns, current);
  const trial = new Float64Array(portfolio.length);
  let value = measure(portfolio);
  const at = (i: number, c: number) => {
    const shift = -c * current[i]!;
    const r = returns[i]!;
    for (let t = 0; t < trial.length; t++) trial[t] = portfolio[t]! + shift * r[t]!;
    return measure(trial);
  };
  for (let step = 0; step < n && value > target; step++) {
    const contrib = contributions(current, portfolio);
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (done[i] || current[i] === 0 || !(contrib[i]! > 0)) continue;
      if (best < 0 || contrib[i]! > contrib[best]!) best = i;
    }
    if (best < 0) break;
    done[best] = 1;
    order.push(best);
    let cut = Number.NaN;
    let lowest = value;
    let lowestAt = 0;
    let prev = 0;
    for (let g = 1; g <= GRID; g++) {
      const c = g / GRID;
      const v = at(best, c);
      if (v <= target) {
        let lo = prev;
        let hi = c;
        for (let b = 0; b < BISECTIONS; b++) {
          const mid = (lo + hi) / 2;
          if (at(best, mid) <= target) hi = mid;
          else lo = mid;
        }
        cut = hi;
        break;
      }
      if (v < lowest) {
        lowest = v;
        lowestAt = c;
      }
      prev = c;
    }
    const fraction = Number.isNaN(cut) ? lowestAt : cut;
    if (fraction > 0) {
      const shift = -fraction * current[best]!;
      const r = returns[best]!;
      for (let t = 0; t < portfolio.length; t++) portfolio[t]! += shift * r[t]!;
      current[best] = current[best]! * (1 - fraction);
      ratios[best] = 1 - current[best]! / weights[best]!;
      value = measure(portfolio);
    }
    if (!Number.isNaN(cut)) break;
  }
  return { ratios, after: value, reached: value <= target * (1 + 1e-9) + 1e-15, order };
}

/**
 * Greedy cut of a linear exposure measure Σ|wᵢ| (gross leverage), largest |wᵢ| first: the largest
 * position absorbs the whole excess if it can, else it is closed and the next one takes the rest.
 */
export function grossLeverageCut(weights: ArrayLike<number>, target: number): SeriesCut {
  const n = weights.length;
  const ratios = new Float64Array(n);
  let gross = 0;
  for (let i = 0; i < n; i++) gross += Math.abs(weights[i]!);
  let excess = gross - Math.max(0, target);
  const order = byMagnitude(weights);
  const cutOrder: number[] = [];
  for (const i of order) {
    if (!(excess > 0)) break;
    const a = Math.abs(weights[i]!);
    const cut = Math.min(a, excess);
    ratios[i] = cut / a;
    excess -= cut;
    cutOrder.push(i);
  }
  let after = 0;
  for (let i = 0; i < n; i++) after += Math.abs(weights[i]! * (1 - ratios[i]!));
  return { ratios, after, reached: excess <= 1e-15, order: cutOrder };
}

/** Greedy cut of Σwᵢ² (Herfindahl), largest |wᵢ| first, each cut by the exact root 1 − √(1 − excess/wᵢ²). */
export function herfindahlCut(weights: ArrayLike<number>, target: number): SeriesCut {
  const n = weights.length;
  const ratios = new Float64Array(n);
  let h = 0;
  for (let i = 0; i < n; i++) h += weights[i]! ** 2;
  let excess = h - Math.max(0, target);
  const cutOrder: number[] = [];
  for (const i of byMagnitude(weights)) {
    if (!(excess > 0)) break;
    const sq = weights[i]! ** 2;
    if (sq === 0) break;
    ratios[i] = sq > excess ? 1 - Math.sqrt(1 - excess / sq) : 1;
    excess -= Math.min(sq, excess);
    cutOrder.push(i);
  }
  let after = 0;
  for (let i = 0; i < n; i++) after += (weights[i]! * (1 - ratios[i]!)) ** 2;
  return { ratios, after, reached: excess <= 1e-15, order: cutOrder };
}

/** Indices by |wᵢ| descending, ties by index. */
function byMagnitude(weights: ArrayLike<number>): number[] {
  return Array.from({ length: weights.length }, (_, i) => i).sort(
    (a, b) => Math.abs(weights[b]!) - Math.abs(weights[a]!) || a - b,
  );
}
