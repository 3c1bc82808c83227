import type { SeriesMoments } from '#lib/risk/index.js';

/**
 * `moments(x, scale)` of lib/risk for four series at once, bit for bit: each series' sums take the
 * same operations in the same order as the one-series function; only the loops are shared. A
 * running sum is a chain of dependent additions, so one series per loop waits on each addition's
 * latency; four independent chains fill the gaps (the per-strategy Cornish–Fisher rule reads the
 * moments of every strategy's position series). The series must be equally long.
 */
export function momentsOfFour(
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
  x2: ArrayLike<number>,
  x3: ArrayLike<number>,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): [SeriesMoments, SeriesMoments, SeriesMoments, SeriesMoments] {
  const n = x0.length;
  if (x1.length !== n || x2.length !== n || x3.length !== n)
    throw new RangeError(`momentsOfFour: series of ${n}, ${x1.length}, ${x2.length}, ${x3.length} values`);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++) {
    s0 += w0 * x0[i]!;
    s1 += w1 * x1[i]!;
    s2 += w2 * x2[i]!;
    s3 += w3 * x3[i]!;
  }
  const m0 = s0 / n;
  const m1 = s1 / n;
  const m2 = s2 / n;
  const m3 = s3 / n;
  let a0 = 0;
  let b0 = 0;
  let c0 = 0;
  let a1 = 0;
  let b1 = 0;
  let c1 = 0;
  let a2 = 0;
  let b2 = 0;
  let c2 = 0;
  let a3 = 0;
  let b3 = 0;
  let c3 = 0;
  for (let i = 0; i < n; i++) {
    const d0 = w0 * x0[i]! - m0;
    const d1 = w1 * x1[i]! - m1;
    const d2 = w2 * x2[i]! - m2;
    const d3 = w3 * x3[i]! - m3;
    const q0 = d0 * d0;
    const q1 = d1 * d1;
    const q2 = d2 * d2;
    const q3 = d3 * d3;
    a0 += q0;
    b0 += q0 * d0;
    c0 += q0 * q0;
    a1 += q1;
    b1 += q1 * d1;
    c1 += q1 * q1;
    a2 += q2;
    b2 += q2 * d2;
    c2 += q2 * q2;
    a3 += q3;
    b3 += q3 * d3;
    c3 += q3 * q3;
  }
  return [
    finish(n, m0, a0, b0, c0),
    finish(n, m1, a1, b1, c1),
    finish(n, m2, a2, b2, c2),
    finish(n, m3, a3, b3, c3),
  ];
}

/** The moments from the sums, as `moments` finishes them. */
function finish(n: number, mean: number, ss: number, cubes: number, fourths: number): SeriesMoments {
  const m2 = ss / n;
  const m3 = cubes / n;
  const m4 = fourths / n;
  return {
    n,
    mean,
    std: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN,
    skewness: m2 > 0 ? m3 / m2 ** 1.5 : Number.NaN,
    excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : Number.NaN,
  };
}
