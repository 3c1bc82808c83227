// A fast positive semi-definiteness test: Cholesky with symmetric (diagonal) pivoting, the outer
// loop of LAPACK's dpstrf (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §10.3).
// O(n²·r) for numerical rank r, against the O(n³) (large constant) of a full eigendecomposition; a
// covariance estimated from T < N returns is singular, so r ≤ T and the test stops early.
//
// It answers only what it can certify; everything else is "unsure", and the caller asks the eigen
// solver, so a decision near the tolerance is exactly the eigen test's.
//
// Tolerances (ε = 2⁻⁵², n the order, dmax the largest variance):
// - stop: the largest remaining diagonal ≤ τ_stop = n·ε·dmax, dpstrf's default (Higham §10.3.2:
//   stopping when max sᵢᵢ ≤ n·ε·max aᵢᵢ is "the best" of the criteria compared there);
// - PSD: every pivot > τ_stop and the remaining Schur complement S (rounding noise of a singular
//   matrix) has Gershgorin lower bound minᵢ(sᵢᵢ − Σ_{j≠i}|sᵢⱼ|) ≥ −τ_lo/4, where τ_lo is the eigen
//   test's tolerance max(n,10)·ε·λmax computed with a lower bound of λmax (a Rayleigh quotient after a
//   few power steps). In exact arithmetic A − LLᵀ = 0 ⊕ S with LLᵀ PSD, so λmin(A) ≥ min(0, λmin(S))
//   (Weyl): S's bound is A's. The 4× margin covers the factorization's backward error, which in
//   practice (Higham §10.1, the √k growth of inner-product errors) is far below n·ε·‖A‖;
// - not PSD: a negative remaining diagonal sᵢᵢ < −τ_stop or a 2×2 minor of S with
//   s²ᵢⱼ > (max(sᵢᵢ,0) + τ_stop)·sⱼⱼ gives a direction y with yᵀSy < 0, hence x = (−L₁⁻ᵀL₂ᵀy, y) with
//   xᵀAx = yᵀSy (the Schur complement identity). The Rayleigh quotient ρ = xᵀAx/xᵀx is then computed
//   on the original A, so it bounds λmin(A) from above whatever the factorization's rounding; the
//   verdict is "not PSD" only when ρ < −4·τ_hi, τ_hi = max(n,10)·ε·‖A‖∞ ≥ the eigen test's tolerance.
//   A suspicion weaker than that is "unsure".
// The gray zone is therefore −4·τ_hi ≤ λmin(A) < τ_lo/4-ish: there the answer is the eigen test's.

/** The pivoted Cholesky verdict on a symmetric matrix. */
export type PsdVerdict =
  | { verdict: 'psd'; rank: number }
  | { verdict: 'not-psd'; rayleigh: number }
  | { verdict: 'unsure'; reason: string };

import { symmetricEigenvalues } from './eigen.js';

const EPS = Number.EPSILON;
/** Safety factor between a certificate and the eigen test's tolerance. */
const MARGIN = 4;
/** Power steps for the lower bound of λmax that τ_lo uses. */
const POWER_STEPS = 4;

/**
 * Whether the symmetric row-major n×n `matrix` (finite, both triangles equal) is positive
 * semi-definite to the eigen test's tolerance, by Cholesky with diagonal pivoting; "unsure" in the
 * gray zone around that tolerance, where only the eigenvalues can tell.
 */
export function pivotedCholeskyPsd(matrix: ArrayLike<number>, n: number): PsdVerdict {
  if (n === 0) return { verdict: 'psd', rank: 0 };
  const a = matrix;
  const perm = new Int32Array(n);
  const d = new Float64Array(n);
  let dmax = 0;
  for (let i = 0; i < n; i++) {
    perm[i] = i;
    d[i] = a[i * n + i]!;
    if (d[i]! > dmax) dmax = d[i]!;
  }
  const tauStop = n * EPS * dmax;
  const l = new Float64Array(n * n);
  let k = 0;
  for (; k < n; k++) {
    let p = k;
    let low = k;
    for (let i = k + 1; i < n; i++) {
      if (d[i]! > d[p]!) p = i;
      if (d[i]! < d[low]!) low = i;
    }
    if (d[low]! < -tauStop) return refute(a, n, l, perm, k, [low], [1]);
    if (d[p]! <= tauStop) break;
    swap(perm, d, l, n, k, p);
    const pivot = d[k]!;
    const lkk = Math.sqrt(pivot);
    const rowK = k * n;
    const aRow = perm[k]! * n;
    for (let i = k + 1; i < n; i++) {
      const rowI = i * n;
      const s = a[aRow + perm[i]!]! - dot(l, rowI, rowK, k);
      if (s * s > (Math.max(d[i]!, 0) + tauStop) * pivot)
        return refuteMinor(a, n, l, perm, k, k, i, pivot, d[i]!, s);
      const lik = s / lkk;
      l[rowI + k] = lik;
      d[i] = d[i]! - lik * lik;
    }
    l[rowK + k] = lkk;
  }
  if (k === n) return { verdict: 'psd', rank: n };
  return remainder(a, n, l, perm, k, dmax);
}

/** Σ_{c<len} l[x+c]·l[y+c], four accumulators (the inner loop of the whole test). */
function dot(l: Float64Array, x: number, y: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let c = 0;
  for (; c + 3 < len; c += 4) {
    s0 += l[x + c]! * l[y + c]!;
    s1 += l[x + c + 1]! * l[y + c + 1]!;
    s2 += l[x + c + 2]! * l[y + c + 2]!;
    s3 += l[x + c + 3]! * l[y + c + 3]!;
  }
  for (; c < len; c++) s0 += l[x + c]! * l[y + c]!;
  return s0 + s1 + (s2 + s3);
}

/** Symmetric interchange of positions k and p: the permutation, the working diagonal, the rows of L so far. */
function swap(perm: Int32Array, d: Float64Array, l: Float64Array, n: number, k: number, p: number): void {
  if (p === k) return;
  const t = perm[k]!;
  perm[k] = perm[p]!;
  perm[p] = t;
  const dt = d[k]!;
  d[k] = d[p]!;
  d[p] = dt;
  for (let j = 0; j < k; j++) {
    const lt = l[k * n + j]!;
    l[k * n + j] = l[p * n + j]!;
    l[p * n + j] = lt;
  }
}

/**
 * The factorization stopped at rank r: the Schur complement S of the remaining n − r positions decides.
 * A negative diagonal or a failing 2×2 minor refutes; a Gershgorin bound within −τ_lo/4 certifies.
 */
function remainder(
  a: ArrayLike<number>,
  n: number,
  l: Float64Array,
  perm: Int32Array,
  r: number,
  dmax: number,
): PsdVerdict {
  const m = n - r;
  const s = new Float64Array(m * m);
  for (let i = r; i < n; i++)
    for (let j = r; j <= i; j++) {
      const v = a[perm[i]! * n + perm[j]!]! - dot(l, i * n, j * n, r);
      s[(i - r) * m + (j - r)] = v;
      s[(j - r) * m + (i - r)] = v;
    }
  const tauStop = n * EPS * dmax;
  let gershgorin = Number.POSITIVE_INFINITY;
  for (let i = 0; i < m; i++) {
    const sii = s[i * m + i]!;
    if (sii < -tauStop) return refute(a, n, l, perm, r, [r + i], [1]);
    let off = 0;
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      const sij = s[i * m + j]!;
      const sjj = s[j * m + j]!;
      if (sij * sij > (Math.max(sii, 0) + tauStop) * Math.max(sjj, tauStop) && j < i)
        return refuteMinor(a, n, l, perm, r, r + j, r + i, sjj, sii, sij);
      off += Math.abs(sij);
    }
    gershgorin = Math.min(gershgorin, sii - off);
  }
  const tauLo = Math.max(n, 10) * EPS * largestEigenvalueLowerBound(a, n, dmax);
  if (gershgorin >= -tauLo / MARGIN) return { verdict: 'psd', rank: r };
  // Gershgorin is ~√m too coarse for rounding noise without structure; the eigenvalues of the m×m
  // remainder cost (m/n)³ of the full test (m ≤ 0.6·n here: a fifth or less; a covariance of T < N
  // returns has m = N − T + 1) and bound λmin(S) sharply.
  if (5 * m <= 3 * n) {
    const smallest = symmetricEigenvalues(s, m)[0]!;
    if (smallest >= -tauLo / MARGIN) return { verdict: 'psd', rank: r };
    return {
      verdict: 'unsure',
      reason: `rank ${r}: the remainder's smallest eigenvalue ${smallest} is below −τ/${MARGIN} (τ = ${tauLo})`,
    };
  }
  return {
    verdict: 'unsure',
    reason: `rank ${r}: the remainder's Gershgorin bound ${gershgorin} is below −τ/${MARGIN} (τ = ${tauLo})`,
  };
}

/**
 * A 2×2 minor [[sₚₚ, s],[s, sᵢᵢ]] of the Schur complement (positions p < i) that looks indefinite:
 * its eigenvector of the smaller eigenvalue is the direction to certify.
 */
function refuteMinor(
  a: ArrayLike<number>,
  n: number,
  l: Float64Array,
  perm: Int32Array,
  k: number,
  p: number,
  i: number,
  spp: number,
  sii: number,
  s: number,
): PsdVerdict {
  // Smaller eigenvalue μ of the 2×2; its eigenvector is (s, μ − sₚₚ) (or (μ − sᵢᵢ, s)).
  const mean = 0.5 * (spp + sii);
  const mu = mean - Math.hypot(0.5 * (spp - sii), s);
  const y0 = Math.abs(mu - spp) > Math.abs(mu - sii) ? s : mu - sii;
  const y1 = Math.abs(mu - spp) > Math.abs(mu - sii) ? mu - spp : s;
  return refute(a, n, l, perm, k, [p, i], [y0, y1]);
}

/**
 * The direction x = (−L₁⁻ᵀ L₂ᵀ y, y) in pivoted order for a y supported on positions ≥ k, mapped back
 * to the original order; "not PSD" when its Rayleigh quotient on the original matrix is clearly
 * negative, otherwise "unsure".
 */
function refute(
  a: ArrayLike<number>,
  n: number,
  l: Float64Array,
  perm: Int32Array,
  k: number,
  at: readonly number[],
  y: readonly number[],
): PsdVerdict {
  const z = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let b = 0;
    for (let q = 0; q < at.length; q++) b += l[at[q]! * n + c]! * y[q]!;
    z[c] = b;
  }
  // Back substitution with L₁ᵀ (upper triangular): z ← L₁⁻ᵀ z.
  for (let c = k - 1; c >= 0; c--) {
    let b = z[c]!;
    for (let q = c + 1; q < k; q++) b -= l[q * n + c]! * z[q]!;
    z[c] = b / l[c * n + c]!;
  }
  const x = new Float64Array(n);
  for (let c = 0; c < k; c++) x[perm[c]!] = -z[c]!;
  for (let q = 0; q < at.length; q++) x[perm[at[q]!]!] = y[q]!;
  let xx = 0;
  let xax = 0;
  let normInf = 0;
  for (let i = 0; i < n; i++) {
    let ax = 0;
    let row = 0;
    for (let j = 0; j < n; j++) {
      const v = a[i * n + j]!;
      ax += v * x[j]!;
      row += Math.abs(v);
    }
    xax += x[i]! * ax;
    xx += x[i]! * x[i]!;
    if (row > normInf) normInf = row;
  }
  const rayleigh = xax / xx;
  const tauHi = Math.max(n, 10) * EPS * normInf;
  if (rayleigh < -MARGIN * tauHi) return { verdict: 'not-psd', rayleigh };
  return {
    verdict: 'unsure',
    reason: `a negative direction with Rayleigh quotient ${rayleigh}, not below −${MARGIN}·τ (τ = ${tauHi})`,
  };
}

/** max(dmax, Rayleigh quotient after a few power steps from the ones vector): never above λmax. */
function largestEigenvalueLowerBound(a: ArrayLike<number>, n: number, dmax: number): number {
  let v = new Float64Array(n).fill(1);
  let w = new Float64Array(n);
  let best = dmax;
  for (let step = 0; step < POWER_STEPS; step++) {
    let vv = 0;
    let vw = 0;
    let ww = 0;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += a[i * n + j]! * v[j]!;
      w[i] = acc;
      vv += v[i]! * v[i]!;
      vw += v[i]! * acc;
      ww += acc * acc;
    }
    if (vv > 0) best = Math.max(best, vw / vv);
    if (ww === 0) break;
    const scale = 1 / Math.sqrt(ww);
    for (let i = 0; i < n; i++) w[i] = w[i]! * scale;
    [v, w] = [w, v];
  }
  return best;
}
