/**
 * The special functions behind the distribution functions (distributions.ts): log-gamma, the ratio
 * Γ(a + ½)/Γ(a), and the regularized incomplete gamma and beta functions. Plain double-precision
 * algorithms (Stirling's series after an upward shift, Lentz's continued fractions), checked against
 * scipy in test/unit/risk/distributions.test.ts.
 */

const EPS = 2.220446049250313e-16;
const TINY = 1e-300;
const HALF_LOG_2PI = 0.9189385332046728;

/** Stirling's series for ln Γ(x) − ((x − ½)ln x − x + ½ln 2π), x ≥ 10: error below 1e-17 there. */
function stirlingCorrection(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  // Bernoulli terms B₂ₖ / (2k(2k − 1) x^(2k−1)), k = 1…6.
  return (
    r *
    (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360))))))
  );
}

/** ln Γ(x) for x > 0 (absolute error ~1e-16·|ln Γ(x)|). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return x;
  let shift = 0;
  let y = x;
  // Γ(x) = Γ(x + n) / (x(x + 1)…(x + n − 1)): the product is kept in one number while it stays finite.
  let product = 1;
  while (y < 10) {
    product *= y;
    y += 1;
    if (product > 1e280) {
      shift += Math.log(product);
      product = 1;
    }
  }
  shift += Math.log(product);
  return (y - 0.5) * Math.log(y) - y + HALF_LOG_2PI + stirlingCorrection(y) - shift;
}

/**
 * Γ(a + ½) / (Γ(a)·√a) for a > 0, to a few ulp for every a (no difference of two large log-gammas): the
 * t density's normalizing constant and 1/B(a, ½). Tends to 1 as a grows.
 */
export function gammaHalfRatio(a: number): number {
  let scale = 1;
  let y = a;
  // R(a) = Γ(a + ½)/Γ(a) satisfies R(a) = R(a + 1)·a/(a + ½).
  while (y < 10) {
    scale *= y / (y + 0.5);
    y += 1;
  }
  // ln(Γ(y + ½)/(Γ(y)√y)) = y·ln(1 + 1/(2y)) − ½ + S(y + ½) − S(y), S the Stirling correction.
  const logRatio = y * Math.log1p(0.5 / y) - 0.5 + stirlingCorrection(y + 0.5) - stirlingCorrection(y);
  return (scale * Math.exp(logRatio) * Math.sqrt(y)) / Math.sqrt(a);
}

/** Lentz's evaluation of the continued fraction b₀ + a₁/(b₁ + a₂/(b₂ + …)); `term(n)` is [aₙ, bₙ]. */
function continuedFraction(b0: number, term: (n: number) => [number, number], maxTerms: number): number {
  let f = Math.abs(b0) < TINY ? TINY : b0;
  let c = f;
  let d = 0;
  for (let n = 1; n <= maxTerms; n++) {
    const [an, bn] = term(n);
    d = bn + an * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = bn + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) return f;
  }
  return f;
}

/**
 * The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 − P(a, x), each computed directly
 * where it is the smaller (series for P below x = a + 1, continued fraction for Q above), so the small
 * tail keeps its relative accuracy.
 */
export function regularizedGamma(a: number, x: number): { p: number; q: number } {
  if (!(a > 0) || !(x >= 0)) return { p: Number.NaN, q: Number.NaN };
  if (x === 0) return { p: 0, q: 1 };
  if (x === Number.POSITIVE_INFINITY) return { p: 1, q: 0 };
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // P(a, x) = e^(−x) x^a / Γ(a + 1) · Σ xⁿ / ((a + 1)…(a + n)).
    let term = 1;
    let sum = 1;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * EPS) break;
    }
    const p = (Math.exp(logPrefix) * sum) / a;
    return { p, q: 1 - p };
  }
  // Q(a, x) = e^(−x) x^a / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − …))).
  const b0 = x + 1 - a;
  const q = Math.exp(logPrefix) / continuedFraction(b0, (n) => [-n * (n - a), b0 + 2 * n], 10_000);
  return { p: 1 - q, q };
}

/**
 * I_x(a, b) = x^a (1 − x)^b / (a·B(a, b)) / (1 + d₁/(1 + d₂/(1 + …))): this returns the denominator
 * (converges fast for x < (a + 1)/(a + b + 2)). Lentz's evaluation written out (the arithmetic of
 * `continuedFraction` with bₙ = 1): the t quantile calls this a few hundred terms deep per Newton step,
 * and a term function returning [aₙ, bₙ] pairs allocated per term wherever V8 did not inline it, which
 * made the risk report's time depend on the process's inlining decisions (up to 2×).
 */
function betaFraction(a: number, b: number, x: number): number {
  let f = 1;
  let c = f;
  let d = 0;
  for (let n = 1; n <= 20_000; n++) {
    const m = n >> 1;
    const an =
      n % 2 === 0
        ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + an * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) return f;
  }
  return f;
}

/**
 * ln(x^a y^b / B(a, b)) with y = 1 − x, without subtracting log-gammas of large arguments (their
 * rounding, ~1e-16·a·ln a, would be the result's error): with Stirling's series for the large arguments,
 * the large terms cancel algebraically and what is left is a·ln(1 + d/a) + b·ln(1 − d/b), d = b − y(a + b),
 * small where the mass is (the approach of DiDonato & Morris, and Boost's ibeta_power_terms).
 */
function logBetaPrefix(x: number, y: number, a: number, b: number): number {
  const c = a + b;
  if (a >= 10 && b >= 10) {
    const d = b - y * c;
    return (
      a * Math.log1p(d / a) +
      b * Math.log1p(-d / b) +
      0.5 * Math.log((a * b) / c) -
      HALF_LOG_2PI -
      stirlingCorrection(a) -
      stirlingCorrection(b) +
      stirlingCorrection(c)
    );
  }
  if (a >= 10 || b >= 10) {
    // One large argument (`big`), one small (`small`, its variable `v`); Stirling for
    // Γ(big) and Γ(big + small) only.
    const [big, small, v] = a >= 10 ? [a, b, y] : [b, a, x];
    const d = small - v * c;
    return (
      big * Math.log1p(d / big) +
      small * Math.log(v) +
      (small - 0.5) * Math.log(c) +
      0.5 * Math.log(big) -
      small -
      logGamma(small) -
      stirlingCorrection(big) +
      stirlingCorrection(c)
    );
  }
  return a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
}

/**
 * The regularized incomplete beta function I_x(a, b) and its complement I_y(b, a) = 1 − I_x(a, b), with
 * y = 1 − x given by the caller (it often has it more accurately than 1 − x), each computed directly on
 * its own side of the continued fraction's switch point.
 */
export function regularizedBeta(
  x: number,
  y: number,
  a: number,
  b: number,
): { lower: number; upper: number } {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return { lower: Number.NaN, upper: Number.NaN };
  if (x === 0) return { lower: 0, upper: 1 };
  if (y === 0) return { lower: 1, upper: 0 };
  const prefix = Math.exp(logBetaPrefix(x, y, a, b));
  if (x < (a + 1) / (a + b + 2)) {
    const lower = prefix / (a * betaFraction(a, b, x));
    return { lower, upper: 1 - lower };
  }
  const upper = prefix / (b * betaFraction(b, a, y));
  return { lower: 1 - upper, upper };
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}
