// A fast positive semi-definiteness test: Cholesky with symmetric (diagonal) pivoting, the outer
// loop of LAPACK's dpstrf (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §10.3).
// O(n²·r) for numerical rank r, against the O(n³) (large constant) of a full eigendecomposition; a
// covariance estimated from T < N returns is singular, so r ≤ T and the test stops early.
//
// It answers only what it can certify; everything else is "unsure", and the caller asks the eigen
// solver, so a decision near the tolerance is exactly the eigen test's.
//
// Tolerances (ε = 2⁻⁵², n the order, dmax the largest variance, τ the eigen test's tolerance
// max(n,10)·ε·λmax):
// - stop: the largest remaining diagonal ≤ τ_stop = n·ε·dmax, dpstrf's default (Higham §10.3.2
//   compares stopping criteria; this one detects the rank reliably in practice);
// - PSD: every pivot > τ_stop and the remaining Schur complement S (the rounding noise of a singular
//   matrix) has λmin(S) ≥ −τ_lo/4, shown by Gershgorin (minᵢ sᵢᵢ − Σ_{j≠i}|sᵢⱼ|) or, where that is
//   too coarse, by a Cholesky of S + (τ_lo/4)·I, whose own rounding is relative to that small shift.
//   τ_lo is τ with a lower bound of λmax (a Rayleigh quotient after a few power steps), so never
//   above τ. In exact arithmetic A − LLᵀ = 0 ⊕ S with LLᵀ PSD, so λmin(A) ≥ min(0, λmin(S)) (Weyl):
//   S's bound is A's. The 4× margin is for the factorization's backward error, which in practice
//   (Higham §10.1: inner-product errors grow like √k, not k) is far below n·ε·‖A‖;
// - not PSD: a 2×2 minor of the pivot column with s²ᵢₖ > (max(sᵢᵢ,0) + τ_stop)·sₖₖ, or a remainder
//   that fails the PSD test, gives a direction y with yᵀSy < 0, hence x = (−L₁⁻ᵀL₂ᵀy, y) with
//   xᵀAx = yᵀSy (the Schur complement identity). Its Rayleigh quotient ρ is computed on the original
//   A, so it bounds λmin(A) from above whatever the factorization's rounding; "not PSD" only when
//   ρ < −4·τ_hi, τ_hi = max(n,10)·ε·‖A‖∞ ≥ τ. ρ is accurate to ~n·ε·‖A‖ only, and the direction
//   from S is not A's lowest eigenvector, so refutation is sure for λmin ≲ −1e-6·λmax (the property
//   test) and may be "unsure" between that and −4·τ_hi.
// The gray zone ("unsure": the caller asks the eigenvalues) is therefore at most
// −1e-6·λmax ≲ λmin < τ/4 below zero; PSD matrices (full rank or of rank r < n) are certified.

/** The pivoted Cholesky verdict on a symmetric matrix. */
export type PsdVerdict =
  | { verdict: 'psd'; rank: number }
  | { verdict: 'not-psd'; rayleigh: number }
  | { verdict: 'unsure'; reason: string };

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
  // NaN compares false everywhere below and would pass as a zero pivot: not this test's to judge.
  for (let k = 0; k < n * n; k++)
    if (!Number.isFinite(a[k]!)) return { verdict: 'unsure', reason: `entry ${k} is not finite` };
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
    for (let i = k + 1; i < n; i++) if (d[i]! > d[p]!) p = i;
    if (d[p]! <= tauStop) break;
    swap(perm, d, l, n, k, p);
    const pivot = d[k]!;
    const lkk = Math.sqrt(pivot);
    const rowK = k * n;
    const aRow = perm[k]! * n;
    for (let i = k + 1; i < n; i++) {
      const rowI = i * n;
      const s = a[aRow + perm[i]!]! - dot(l, rowI, rowK, k);
      if (s * s > (Math.max(d[i]!, 0) + tauStop) * pivot) {
        // A clear 2×2 refutation ends it; a weak one hands the whole Schur complement over.
        const minor = refuteMinor(a, n, l, perm, k, k, i, pivot, d[i]!, s);
        return minor.verdict === 'not-psd' ? minor : remainder(a, n, l, perm, k, dmax);
      }
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
 * λmin(S) ≥ −τ_lo/4 (Gershgorin, else a shifted Cholesky) certifies; otherwise S's lowest direction is tried as a refutation.
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
  let gershgorin = Number.POSITIVE_INFINITY;
  let upper = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < m; i++) {
    let off = 0;
    for (let j = 0; j < m; j++) if (j !== i) off += Math.abs(s[i * m + j]!);
    gershgorin = Math.min(gershgorin, s[i * m + i]! - off);
    upper = Math.max(upper, s[i * m + i]! + off);
  }
  const tauLo = Math.max(n, 10) * EPS * largestEigenvalueLowerBound(a, n, dmax);
  if (gershgorin >= -tauLo / MARGIN) return { verdict: 'psd', rank: r };
  // Gershgorin is ~√m too coarse for rounding noise without structure. Cholesky of S + σI with
  // σ = τ_lo/4 succeeds exactly when λmin(S) > −σ, up to its own rounding, which is relative to σ
  // (the noise's scale) and not to ‖A‖: a sharp bound at m³/6 multiply-adds.
  if (shiftedCholeskySucceeds(s.slice(), m, tauLo / MARGIN)) return { verdict: 'psd', rank: r };
  // S has a direction below −σ: S's lowest eigenvector (power steps on cI − S) is the best one to
  // carry back to A.
  return refute(
    a,
    n,
    l,
    perm,
    r,
    Array.from({ length: m }, (_, i) => r + i),
    lowestDirection(s, m, upper),
  );
}

/** Power steps on upper·I − S from the most negative diagonal: the direction of S's smallest eigenvalue. */
function lowestDirection(s: Float64Array, m: number, upper: number): Float64Array {
  let y = new Float64Array(m);
  let low = 0;
  for (let i = 1; i < m; i++) if (s[i * m + i]! < s[low * m + low]!) low = i;
  y.fill(1e-3 / Math.sqrt(m));
  y[low] = 1;
  let next = new Float64Array(m);
  for (let step = 0; step < POWER_STEPS * 8; step++) {
    let norm = 0;
    for (let i = 0; i < m; i++) {
      let acc = upper * y[i]!;
      for (let j = 0; j < m; j++) acc -= s[i * m + j]! * y[j]!;
      next[i] = acc;
      norm += acc * acc;
    }
    if (!(norm > 0)) break;
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < m; i++) next[i] = next[i]! * scale;
    [y, next] = [next, y];
  }
  return y;
}

/** Whether the symmetric m×m `s` (row-major) plus σI has a Cholesky factor; overwrites `s`'s lower triangle. */
function shiftedCholeskySucceeds(s: Float64Array, m: number, sigma: number): boolean {
  for (let j = 0; j < m; j++) {
    const rowJ = j * m;
    const pivot = s[rowJ + j]! + sigma - dot(s, rowJ, rowJ, j);
    if (!(pivot > 0)) return false;
    const rjj = Math.sqrt(pivot);
    s[rowJ + j] = rjj;
    for (let i = j + 1; i < m; i++) {
      const rowI = i * m;
      s[rowI + j] = (s[rowI + j]! - dot(s, rowI, rowJ, j)) / rjj;
    }
  }
  return true;
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
  y: ArrayLike<number>,
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
