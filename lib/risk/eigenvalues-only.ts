// Eigenvalues only (no vectors) of a small symmetric matrix, for the engine's hot path: Householder
// tridiagonalisation of the lower triangle (LAPACK dsytd2) and the root-free Pal–Walker–Kahan
// QL/QR iteration on the squared off-diagonal (LAPACK dsterf). Both are backward stable, so the
// eigenvalues agree with `symmetricEigenvalues` (tred2/tqli) to a few units of ε·‖A‖; dsterf
// needs no square root per rotation, which is most of what tqli spends on a matrix this small.
// Neither scales its input: callers keep the entries' magnitude within ~1e±100 (squares of the
// off-diagonal must neither overflow nor underflow to zero where they matter).

/** Scratch reused across calls (grown, never shrunk); every entry is written before it is read. */
let v = new Float64Array(0);
let w = new Float64Array(0);

/** Half the unit roundoff, LAPACK's DLAMCH('E'). */
const EPS = Number.EPSILON / 2;

/** Most QL/QR sweeps per eigenvalue before giving up (dsterf's MAXIT). */
const MAX_SWEEPS = 30;

/**
 * The n eigenvalues, in no particular order, of the symmetric row-major n×n `a` (only its lower
 * triangle is read) into d[0..n); `a` is overwritten and `e` (≥ n) is scratch. False when the
 * iteration did not converge (then `d` holds nothing meaningful).
 */
export function symmetricEigenvaluesInPlace(
  a: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
): boolean {
  if (n === 0) return true;
  if (n === 1) {
    d[0] = a[0]!;
    return true;
  }
  tridiagonalize(a, n, d, e);
  return sterf(d, e, n);
}

/**
 * Householder reduction of the lower triangle to tridiagonal T = QᵀAQ: diagonal into d[0..n),
 * subdiagonal into e[0..n−1). Step i reflects column i below the diagonal onto its first entry and
 * applies the reflector to the trailing block as a rank-2 update A −= vwᵀ + wvᵀ.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  if (v.length < n) {
    v = new Float64Array(n);
    w = new Float64Array(n);
  }
  for (let i = 0; i < n - 2; i++) {
    const first = i + 1;
    const m = n - first;
    const alpha = a[first * n + i]!;
    let tail = 0;
    for (let r = first + 1; r < n; r++) tail += a[r * n + i]! * a[r * n + i]!;
    d[i] = a[i * n + i]!;
    if (tail === 0) {
      // Already tridiagonal in this column: the reflector is the identity.
      e[i] = alpha;
      continue;
    }
    const norm = Math.sqrt(alpha * alpha + tail);
    const beta = alpha >= 0 ? -norm : norm;
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    e[i] = beta;
    v[0] = 1;
    for (let r = 1; r < m; r++) v[r] = a[(first + r) * n + i]! * scale;
    // p = A₂₂·v over the lower triangle (each off-diagonal entry serves its row and its column).
    for (let r = 0; r < m; r++) w[r] = 0;
    for (let r = 0; r < m; r++) {
      const row = (first + r) * n + first;
      const vr = v[r]!;
      let s = 0;
      for (let c = 0; c < r; c++) {
        const x = a[row + c]!;
        s += x * v[c]!;
        w[c] = w[c]! + x * vr;
      }
      w[r] = w[r]! + s + a[row + r]! * vr;
    }
    // w = τp − (τ²/2)(pᵀv)v, so that H A₂₂ H = A₂₂ − vwᵀ − wvᵀ.
    let pv = 0;
    for (let r = 0; r < m; r++) {
      w[r] = tau * w[r]!;
      pv += w[r]! * v[r]!;
    }
    const shift = -0.5 * tau * pv;
    for (let r = 0; r < m; r++) w[r] = w[r]! + shift * v[r]!;
    for (let r = 0; r < m; r++) {
      const row = (first + r) * n + first;
      const vr = v[r]!;
      const wr = w[r]!;
      for (let c = 0; c <= r; c++) a[row + c] = a[row + c]! - (vr * w[c]! + wr * v[c]!);
    }
  }
  d[n - 2] = a[(n - 2) * n + n - 2]!;
  e[n - 2] = a[(n - 1) * n + n - 2]!;
  d[n - 1] = a[(n - 1) * n + n - 1]!;
}

/** √(x² + 1) without overflow (LAPACK dlapy2(x, 1)). */
function hypotOne(x: number): number {
  const ax = Math.abs(x);
  if (ax > 1) {
    const r = 1 / ax;
    return ax * Math.sqrt(1 + r * r);
  }
  return Math.sqrt(1 + ax * ax);
}

/** Eigenvalues of the 2×2 symmetric [[a, b], [b, c]] (LAPACK dlae2): the larger into d[i], the other into d[j]. */
function twoByTwo(a: number, b: number, c: number, d: Float64Array, i: number, j: number): void {
  const sm = a + c;
  const adf = Math.abs(a - c);
  const ab = Math.abs(b + b);
  const acmx = Math.abs(a) > Math.abs(c) ? a : c;
  const acmn = Math.abs(a) > Math.abs(c) ? c : a;
  let rt: number;
  if (adf > ab) rt = adf * Math.sqrt(1 + (ab / adf) ** 2);
  else if (adf < ab) rt = ab * Math.sqrt(1 + (adf / ab) ** 2);
  else rt = ab * Math.SQRT2;
  let rt1: number;
  let rt2: number;
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
  }
  d[i] = rt1;
  d[j] = rt2;
}

/** True when the squared off-diagonal e2 is negligible beside the diagonal entries x and y. */
function negligible(e2: number, x: number, y: number): boolean {
  const t = EPS * (Math.abs(x) + Math.abs(y));
  return e2 <= t * t;
}

/**
 * All eigenvalues of the symmetric tridiagonal (d, e) into d, unordered (LAPACK dsterf without its
 * final sort): e is squared once, then each unreduced block is iterated by QL from its top or QR
 * from its bottom, whichever end is smaller, with the Wilkinson-like shift of the 2×2 at that end.
 */
function sterf(d: Float64Array, e: Float64Array, n: number): boolean {
  for (let i = 0; i < n - 1; i++) e[i] = e[i]! * e[i]!;
  const maxSweeps = n * MAX_SWEEPS;
  let sweeps = 0;
  let l1 = 0;
  while (l1 < n) {
    if (l1 > 0) e[l1 - 1] = 0;
    // The block [l1, m]: m is the first index whose subdiagonal below is negligible.
    let m = l1;
    while (m < n - 1 && !negligible(e[m]!, d[m]!, d[m + 1]!)) m++;
    let l = l1;
    let lend = m;
    if (Math.abs(d[lend]!) < Math.abs(d[l]!)) {
      l = lend;
      lend = l1;
    }
    l1 = m + 1;
    if (lend >= l) {
      // QL iteration, deflating eigenvalues from the top of the block.
      while (l <= lend) {
        let mm = l;
        while (mm < lend && !negligible(e[mm]!, d[mm]!, d[mm + 1]!)) mm++;
        if (mm < lend) e[mm] = 0;
        let p = d[l]!;
        if (mm === l) {
          d[l] = p;
          l++;
          continue;
        }
        if (mm === l + 1) {
          twoByTwo(d[l]!, Math.sqrt(e[l]!), d[l + 1]!, d, l, l + 1);
          e[l] = 0;
          l += 2;
          continue;
        }
        if (sweeps === maxSweeps) return false;
        sweeps++;
        const rte = Math.sqrt(e[l]!);
        let sigma = (d[l + 1]! - p) / (2 * rte);
        const r0 = hypotOne(sigma);
        sigma = p - rte / (sigma + (sigma >= 0 ? r0 : -r0));
        let c = 1;
        let s = 0;
        let gamma = d[mm]! - sigma;
        p = gamma * gamma;
        for (let i = mm - 1; i >= l; i--) {
          const bb = e[i]!;
          const r = p + bb;
          if (i !== mm - 1) e[i + 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i]!;
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i + 1] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l] = s * p;
        d[l] = sigma + gamma;
      }
    } else {
      // QR iteration, deflating eigenvalues from the bottom of the block.
      while (l >= lend) {
        let mm = l;
        while (mm > lend && !negligible(e[mm - 1]!, d[mm]!, d[mm - 1]!)) mm--;
        if (mm > lend) e[mm - 1] = 0;
        let p = d[l]!;
        if (mm === l) {
          d[l] = p;
          l--;
          continue;
        }
        if (mm === l - 1) {
          twoByTwo(d[l]!, Math.sqrt(e[l - 1]!), d[l - 1]!, d, l, l - 1);
          e[l - 1] = 0;
          l -= 2;
          continue;
        }
        if (sweeps === maxSweeps) return false;
        sweeps++;
        const rte = Math.sqrt(e[l - 1]!);
        let sigma = (d[l - 1]! - p) / (2 * rte);
        const r0 = hypotOne(sigma);
        sigma = p - rte / (sigma + (sigma >= 0 ? r0 : -r0));
        let c = 1;
        let s = 0;
        let gamma = d[mm]! - sigma;
        p = gamma * gamma;
        for (let i = mm; i < l; i++) {
          const bb = e[i]!;
          const r = p + bb;
          if (i !== mm) e[i - 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i + 1]!;
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l - 1] = s * p;
        d[l] = sigma + gamma;
      }
    }
  }
  return true;
}
