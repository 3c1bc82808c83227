import { gammaHalfRatio, regularizedBeta, regularizedGamma } from './special-functions.js';

// The distribution functions the risk measures use, written here instead of imported from @stdlib: the
// seven stdlib packages brought ~120 KB of CommonJS (with `debug` and Node's tty) into every Lambda cold
// start for seven functions. Each is checked against scipy (test/unit/risk/distributions.test.ts, values
// from test/fixtures/reference/distributions.py), relative: the normal quantile and density within 1e-15,
// its distribution function 2e-14; the t quantile and density 1e-12 for ν ≤ 1,000 (scipy's own error
// near the median; ours is ~1e-14 against mpmath there); χ² 1e-13; binomial 1e-12 for n ≤ 10,000.

const INV_SQRT_2PI = 0.3989422804014327;

/** Horner evaluation of c[0] + c[1]·x + … (coefficients lowest first). */
function poly(c: readonly number[], x: number): number {
  let y = 0;
  for (let i = c.length - 1; i >= 0; i--) y = y * x + c[i]!;
  return y;
}

// Wichura (1988), Algorithm AS 241 (PPND16), Applied Statistics 37(3): 477–484; about 1e-16 relative.
const AS241_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const AS241_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const AS241_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const AS241_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const AS241_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const AS241_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** Standard normal quantile Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(AS241_A, r)) / poly(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = poly(AS241_C, r) / poly(AS241_D, r);
  } else {
    r -= 5;
    x = poly(AS241_E, r) / poly(AS241_F, r);
  }
  return q < 0 ? -x : x;
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Standard normal distribution function Φ(x) = ½·Q(½, x²/2) below 0 (each tail computed as a tail). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const { p, q } = regularizedGamma(0.5, 0.5 * x * x);
  return x < 0 ? 0.5 * q : 0.5 + 0.5 * p;
}

/** Student-t density with ν degrees of freedom (unit scale). */
export function tPdf(x: number, dof: number): number {
  if (Number.isNaN(x) || !(dof > 0)) return Number.NaN;
  // Γ((ν + 1)/2) / (Γ(ν/2)·√(νπ)) = R(ν/2)/√(2π), R = Γ(a + ½)/(Γ(a)√a).
  return gammaHalfRatio(dof / 2) * INV_SQRT_2PI * Math.exp(-0.5 * (dof + 1) * Math.log1p((x * x) / dof));
}

/**
 * For t ≥ 0: P(T > t) = ½·I_{ν/(ν + t²)}(ν/2, ½) and P(0 < T ≤ t) = ½·I_{t²/(ν + t²)}(½, ν/2), each
 * computed as itself (the smaller one directly), so the quantile can solve for whichever is small.
 */
function tTails(t: number, dof: number): { upper: number; central: number } {
  const t2 = t * t;
  const { lower, upper } = regularizedBeta(dof / (dof + t2), t2 / (dof + t2), dof / 2, 0.5);
  return { upper: 0.5 * lower, central: 0.5 * upper };
}

/**
 * Student-t quantile with ν degrees of freedom (unit scale): the Cornish–Fisher expansion around the
 * normal quantile as a start, then Newton steps on the log of the smaller of the two probabilities on
 * either side of t (the tail beyond it, or the mass between 0 and it), which keeps the relative accuracy
 * of both far tails and quantiles near the median.
 */
export function tQuantile(p: number, dof: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(dof > 0)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  // The smaller tail, exactly: 1 − p is exact for p ≥ ½.
  const tail = p < 0.5 ? p : 1 - p;
  const z = -normalQuantile(tail);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  let t = z + (g1 + (g2 + g3 / dof) / dof) / dof;
  if (!(t > 0)) t = z;
  // Solve P(T > t) = tail, or P(0 < T ≤ t) = ½ − tail (exact) when that is the smaller.
  const central = tail > 0.25;
  const logTarget = Math.log(central ? 0.5 - tail : tail);
  let previous = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 100; i++) {
    const tails = tTails(t, dof);
    const s = central ? tails.central : tails.upper;
    // d ln s/dt = ∓ f(t)/s: Newton on ln s.
    const step = ((central ? logTarget - Math.log(s) : Math.log(s) - logTarget) * s) / tPdf(t, dof);
    const next = t + step > 0 ? t + step : t / 2;
    const size = Math.abs(next - t);
    // Converged, or at the rounding floor: a step of a few ulps that no longer halves is the noise
    // of tTails, and Newton then hops between neighbouring doubles (at ν = 100, α = 0.99 it did so
    // for all 100 iterations, ~60 µs, most of a risk report at N=200).
    const done = size <= 4e-16 * next || (size <= 1e-13 * next && size > 0.5 * previous);
    previous = size;
    t = next;
    if (done) break;
  }
  return p < 0.5 ? -t : t;
}

/** χ² distribution function with k degrees of freedom: P(k/2, x/2). */
export function chisquareCdf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k >= 0)) return Number.NaN;
  if (x <= 0) return 0;
  if (k === 0) return 1;
  return regularizedGamma(k / 2, x / 2).p;
}

/** Binomial distribution function P(X ≤ x) for X ~ Bin(n, p): I_{1−p}(n − ⌊x⌋, ⌊x⌋ + 1). */
export function binomialCdf(x: number, n: number, p: number): number {
  if (Number.isNaN(x) || !(Number.isInteger(n) && n >= 0) || !(p >= 0 && p <= 1)) return Number.NaN;
  if (x < 0) return 0;
  const k = Math.floor(x);
  if (k >= n || p === 0) return 1;
  if (p === 1) return 0;
  return regularizedBeta(1 - p, p, n - k, k + 1).lower;
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
