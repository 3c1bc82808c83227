import type { Drawdown } from '#lib/risk/drawdown.js';
import type { SeriesMoments } from '#lib/risk/stats.js';

// Per-strategy series kernels that take four strategies per pass. Their running quantities are
// chains of dependent operations (a sum, a compounded equity), so one series per loop waits on each
// operation's latency; four independent chains fill the gaps. Each series' arithmetic is exactly
// the one-series function's, in the same order, so the results are the same bits.

/**
 * `moments(x, scale)` of lib/risk for four equally long series at once (the per-strategy
 * Cornish–Fisher rule reads the moments of every strategy's position series): the means in one pass
 * over all four (four sums), the central sums in a pass over each pair (six sums): twelve running
 * sums in one loop did not fit the registers, and spilling them cost a third of the time.
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
  const [a, b] = centralMomentsOfTwo(x0, x1, w0, w1, m0, m1);
  const [c, d] = centralMomentsOfTwo(x2, x3, w2, w3, m2, m3);
  return [a, b, c, d];
}

/** The moments of two series from their means: Σd², Σd³ and Σd⁴ of d = w·x − mean, as `moments` sums them. */
function centralMomentsOfTwo(
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
  w0: number,
  w1: number,
  m0: number,
  m1: number,
): [SeriesMoments, SeriesMoments] {
  const n = x0.length;
  let a0 = 0;
  let b0 = 0;
  let c0 = 0;
  let a1 = 0;
  let b1 = 0;
  let c1 = 0;
  for (let i = 0; i < n; i++) {
    const d0 = w0 * x0[i]! - m0;
    const d1 = w1 * x1[i]! - m1;
    const q0 = d0 * d0;
    const q1 = d1 * d1;
    a0 += q0;
    b0 += q0 * d0;
    c0 += q0 * q0;
    a1 += q1;
    b1 += q1 * d1;
    c1 += q1 * q1;
  }
  return [finish(n, m0, a0, b0, c0), finish(n, m1, a1, b1, c1)];
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

/** The drawdown state of one series, advanced one return at a time as `troughDrawdown` does. */
function drawdownOf(equity: number, peak: number, trough: number, max: number): Drawdown {
  const dd = 1 - trough / peak;
  let deepest = max;
  if (dd > deepest) deepest = dd;
  return { current: 1 - equity / peak, max: deepest };
}

/**
 * `troughDrawdown(series, from)` (lib/rules/shared-measures.ts) of four equally long series at once:
 * the compounded equity curve's current and largest drawdown from index `from` on.
 */
export function troughDrawdownOfFour(
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
  x2: ArrayLike<number>,
  x3: ArrayLike<number>,
  from: number,
): [Drawdown, Drawdown, Drawdown, Drawdown] {
  const n = x0.length;
  if (x1.length !== n || x2.length !== n || x3.length !== n)
    throw new RangeError(
      `troughDrawdownOfFour: series of ${n}, ${x1.length}, ${x2.length}, ${x3.length} values`,
    );
  let e0 = 1;
  let p0 = 1;
  let t0 = 1;
  let m0 = 0;
  let e1 = 1;
  let p1 = 1;
  let t1 = 1;
  let m1 = 0;
  let e2 = 1;
  let p2 = 1;
  let t2 = 1;
  let m2 = 0;
  let e3 = 1;
  let p3 = 1;
  let t3 = 1;
  let m3 = 0;
  for (let t = from; t < n; t++) {
    e0 *= 1 + x0[t]!;
    e1 *= 1 + x1[t]!;
    e2 *= 1 + x2[t]!;
    e3 *= 1 + x3[t]!;
    if (e0 < 0) e0 = 0;
    if (e1 < 0) e1 = 0;
    if (e2 < 0) e2 = 0;
    if (e3 < 0) e3 = 0;
    if (e0 > p0) {
      const dd = 1 - t0 / p0;
      if (dd > m0) m0 = dd;
      p0 = e0;
      t0 = e0;
    } else if (e0 < t0) t0 = e0;
    if (e1 > p1) {
      const dd = 1 - t1 / p1;
      if (dd > m1) m1 = dd;
      p1 = e1;
      t1 = e1;
    } else if (e1 < t1) t1 = e1;
    if (e2 > p2) {
      const dd = 1 - t2 / p2;
      if (dd > m2) m2 = dd;
      p2 = e2;
      t2 = e2;
    } else if (e2 < t2) t2 = e2;
    if (e3 > p3) {
      const dd = 1 - t3 / p3;
      if (dd > m3) m3 = dd;
      p3 = e3;
      t3 = e3;
    } else if (e3 < t3) t3 = e3;
  }
  return [
    drawdownOf(e0, p0, t0, m0),
    drawdownOf(e1, p1, t1, m1),
    drawdownOf(e2, p2, t2, m2),
    drawdownOf(e3, p3, t3, m3),
  ];
}
