/** Arithmetic mean of a series (NaN when empty). */
export function mean(x: ArrayLike<number>): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  return s / n;
}

/** Sample variance with the n − 1 denominator (NaN below two observations). */
export function sampleVariance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return Number.NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    s += d * d;
  }
  return s / (n - 1);
}

/** Sample standard deviation with the n − 1 denominator. */
export function sampleStd(x: ArrayLike<number>): number {
  return Math.sqrt(sampleVariance(x));
}

/** Moments of a series: mean, n − 1 standard deviation, and the moment estimates of skewness and excess kurtosis. */
export interface SeriesMoments {
  n: number;
  mean: number;
  std: number;
  skewness: number;
  excessKurtosis: number;
}

/**
 * Moments in one pass over the centred data. Skewness g₁ = m₃/m₂^{3/2} and excess kurtosis
 * g₂ = m₄/m₂² − 3 use the biased central moments (the "moment estimates" of BRIEF §6). With `scale`,
 * the moments of scale·x without building it (each scale·xᵢ is the product the series would hold;
 * scale 1 changes nothing).
 */
export function moments(x: ArrayLike<number>, scale = 1): SeriesMoments {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += scale * x[i]!;
  const m = s / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = scale * x[i]! - m;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const ss = m2;
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return {
    n,
    mean: m,
    std: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN,
    skewness: m2 > 0 ? m3 / m2 ** 1.5 : Number.NaN,
    excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : Number.NaN,
  };
}
