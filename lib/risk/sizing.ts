import { assertHorizon } from './distributions.js';
import { normalVarMultiplier } from './parametric.js';
import { covarianceTimes, portfolioSigma } from './portfolio.js';

/**
 * Cut ratio r ∈ [0, 1] that brings a positively homogeneous measure back to its target when every
 * weight is scaled by 1 − r: r = 1 − target/measure, 0 when already within (1 when target ≤ 0).
 */
export function uniformScaleToTarget(measure: number, target: number): number {
  if (!Number.isFinite(measure) || Number.isNaN(target))
    throw new RangeError('measure and target must be numbers');
  if (measure <= target) return 0;
  if (target <= 0) return 1;
  return 1 - target / measure;
}

/**
 * Smallest fraction c of strategy `index`'s weight to cut so that σ_P ≤ targetSigma, from the
 * quadratic σ²(c) = σ² − 2c·wᵢ(Σw)ᵢ + c²·wᵢ²Σᵢᵢ: 0 when already within, null when no c ∈ [0, 1]
 * gets there. `sw` (Σw) and `sigma` may be passed in when the caller already has them.
 */
export function singleStrategyCutSigma(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  index: number,
  targetSigma: number,
  sw?: ArrayLike<number>,
  sigma?: number,
): number | null {
  const n = w.length;
  if (!(index >= 0 && index < n)) throw new RangeError(`strategy index ${index} out of range`);
  const s = sigma ?? portfolioSigma(w, cov);
  if (!(s > targetSigma)) return 0;
  if (!(targetSigma >= 0)) return null;
  const swi = sw ? sw[index]! : covarianceTimes(cov, w, new Float64Array(n))[index]!;
  const wi = w[index]!;
  const a = wi * wi * cov[index * n + index]!;
  const b = -2 * wi * swi;
  const excess = s * s - targetSigma * targetSigma;
  const disc = b * b - 4 * a * excess;
  if (a <= 0 || disc < 0 || b >= 0) return null;
  // Smaller root in the cancellation-free form 2c₀/(−b + √D) (c₀ = σ² − s²target > 0).
  const c = (2 * excess) / (-b + Math.sqrt(disc));
  return c <= 1 + 1e-12 ? Math.min(1, c) : null;
}

/** Smallest cut fraction of one strategy's weight that brings normal VaR to `targetVar`, or null when a full cut is not enough. */
export function singleStrategyCut(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  index: number,
  confidence: number,
  horizon: number,
  targetVar: number,
): number | null {
  assertHorizon(horizon);
  return singleStrategyCutSigma(
    w,
    cov,
    index,
    targetVar / (normalVarMultiplier(confidence) * Math.sqrt(horizon)),
  );
}

/** Cut fractions per strategy (of the original weights) and the risk after applying them. */
export interface ContributionCut {
  ratios: Float64Array;
  after: number;
  reached: boolean;
}

/**
 * Greedy cut aimed at the largest contributors, in units of σ_P: repeatedly take the strategy with the
 * largest positive component (wᵢ·(Σw)ᵢ) not yet cut; if cutting it alone can reach the target, cut the
 * exact root of the quadratic and stop; otherwise cut it to the point that minimises σ_P along that
 * weight (capped at a full cut) and move on. `after` is σ_P after the cuts.
 */
export function contributionCutSigma(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  targetSigma: number,
): ContributionCut {
  const n = w.length;
  const current = Float64Array.from(w);
  const ratios = new Float64Array(n);
  const done = new Uint8Array(n);
  const sw = new Float64Array(n);
  let sigma = portfolioSigma(current, cov);
  for (let step = 0; step < n && sigma > targetSigma; step++) {
    covarianceTimes(cov, current, sw);
    let best = -1;
    let bestComponent = 0;
    for (let i = 0; i < n; i++) {
      const c = current[i]! * sw[i]!;
      if (!done[i] && c > bestComponent) {
        best = i;
        bestComponent = c;
      }
    }
    if (best < 0) break;
    done[best] = 1;
    const original = w[best]!;
    const wi = current[best]!;
    const cut = singleStrategyCutSigma(current, cov, best, targetSigma, sw, sigma);
    let fraction: number;
    if (cut !== null) fraction = cut;
    else {
      // d σ²/dc = 0 at c = (Σw)ᵢ / (wᵢΣᵢᵢ): cutting past it would add risk back.
      const sii = cov[best * n + best]!;
      fraction = sii > 0 ? Math.min(1, sw[best]! / (wi * sii)) : 1;
    }
    current[best] = wi * (1 - fraction);
    ratios[best] = original === 0 ? 0 : 1 - current[best]! / original;
    sigma = portfolioSigma(current, cov);
    if (cut !== null) break;
  }
  return { ratios, after: sigma, reached: sigma <= targetSigma * (1 + 1e-9) };
}

/**
 * Greedy multi-strategy cut for normal VaR, largest component contributors first; `after` is the VaR
 * once the cuts are applied, equal to `targetVar` (to ~1e-12) whenever `reached`.
 */
export function contributionCut(
  w: ArrayLike<number>,
  cov: ArrayLike<number>,
  confidence: number,
  horizon: number,
  targetVar: number,
): ContributionCut {
  assertHorizon(horizon);
  const k = normalVarMultiplier(confidence) * Math.sqrt(horizon);
  const r = contributionCutSigma(w, cov, targetVar / k);
  return { ...r, after: r.after * k };
}

/**
 * A strategy's share of portfolio variance, wᵢ(Σw)ᵢ / wᵀΣw: its component (Euler) share of parametric
 * VaR and ES under the zero-mean normal model (z_α and √h cancel, so VaR and ES shares are equal).
 * `cov` is row-major n×n; returns the share and the parts the cut below needs.
 */
export function varianceShare(
  weights: ArrayLike<number>,
  cov: ArrayLike<number>,
  i: number,
): { share: number; own: number; cross: number; rest: number; total: number } {
  const n = weights.length;
  const wi = weights[i]!;
  let cross = 0; // wᵢ Σ_{j≠i} Σᵢⱼ wⱼ
  let rest = 0; // Σ_{j,k≠i} wⱼ Σⱼₖ wₖ
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    const wj = weights[j]!;
    cross += wi * cov[i * n + j]! * wj;
    // Row j without column i, in column order: two loops instead of a test per entry.
    const rj = j * n;
    let row = 0;
    for (let k = 0; k < i; k++) row += cov[rj + k]! * weights[k]!;
    for (let k = i + 1; k < n; k++) row += cov[rj + k]! * weights[k]!;
    rest += wj * row;
  }
  const own = wi * wi * cov[i * n + i]!;
  const total = own + 2 * cross + rest;
  return { share: total > 0 ? (own + cross) / total : Number.NaN, own, cross, rest, total };
}

/**
 * The smallest cut r of strategy i alone (wᵢ → (1 − r)·wᵢ, every other weight unchanged) that brings
 * its variance share down to `target`. With s = 1 − r the share is (s²a + s·b)/(s²a + 2s·b + c)
 * (a = own, b = cross, c = rest), so share(s) = target is the quadratic
 * s²·a(1 − t) + s·b(1 − 2t) − t·c = 0; the smallest cut is its largest root in [0, 1). When the rest
 * of the book carries no variance (c ≤ 0) no partial cut lowers the share, and only an exit (r = 1) does.
 */
export function shareCut(parts: { own: number; cross: number; rest: number }, target: number): number {
  const { own: a, cross: b, rest: c } = parts;
  if (!(c > 0)) return 1;
  const A = a * (1 - target);
  const B = b * (1 - 2 * target);
  const C = -target * c;
  const roots: number[] = [];
  if (Math.abs(A) < 1e-300) {
    if (B !== 0) roots.push(-C / B);
  } else {
    const disc = B * B - 4 * A * C;
    if (disc >= 0) {
      const sq = Math.sqrt(disc);
      // Numerically stable pair of roots.
      const q = -0.5 * (B + (B >= 0 ? sq : -sq));
      if (q !== 0) roots.push(q / A, C / q);
      else roots.push(0);
    }
  }
  const s = Math.max(0, ...roots.filter((x) => x >= 0 && x < 1));
  return 1 - s;
}
