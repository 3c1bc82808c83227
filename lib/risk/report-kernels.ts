import { kernelMemoryOf } from './kernel-memory.js';

// The risk report's hot loops: one read of Σ for every parametric figure, one sweep over the return
// matrix for the portfolio series, one fused pass over that series. Scratch space is reused between
// calls, so a report of a size seen before allocates nothing here.

let scratchA = new Float64Array(0);
let scratchB = new Float64Array(0);

/** The scratch buffers' generation: bumped by every `scratch` call, after which their contents may change. */
export const scratchSource = { generation: 0 };

/** Two scratch buffers of at least `n` and `t` elements, valid until the next call. */
export function scratch(n: number, t: number): { a: Float64Array; b: Float64Array } {
  scratchSource.generation++;
  if (scratchA.length < n) scratchA = new Float64Array(Math.max(n, 2 * scratchA.length));
  if (scratchB.length < t) scratchB = new Float64Array(Math.max(t, 2 * scratchB.length));
  return { a: scratchA, b: scratchB };
}

/**
 * Σw as the report computes it: in the covariance's kernel memory (wasm) when it has one, else
 * `symmetricTimes` into `out`. Returns the array holding it (the memory's is valid until its next
 * product).
 */
export function sigmaTimesOf(cov: Float64Array, w: Float64Array, n: number, out: Float64Array): Float64Array {
  const memory = kernelMemoryOf(cov);
  if (memory && memory.n === n) return memory.sigmaTimes(w);
  symmetricTimes(cov, w, n, out);
  return out;
}

/**
 * out = Σw for a symmetric row-major n×n Σ, reading only its upper triangle: each off-diagonal
 * element serves both (Σw)ᵢ and (Σw)ⱼ, so the matrix is read half as much as a full product.
 * Rows go four at a time so each (Σw)ⱼ is loaded and stored once per four rows.
 */
export function symmetricTimes(cov: Float64Array, w: Float64Array, n: number, out: Float64Array): void {
  out.fill(0, 0, n);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const w0 = w[i]!;
    const w1 = w[i + 1]!;
    const w2 = w[i + 2]!;
    const w3 = w[i + 3]!;
    // The 4×4 diagonal block, whole (it is small and symmetric).
    let s0 = cov[r0 + i]! * w0 + cov[r0 + i + 1]! * w1 + cov[r0 + i + 2]! * w2 + cov[r0 + i + 3]! * w3;
    let s1 = cov[r0 + i + 1]! * w0 + cov[r1 + i + 1]! * w1 + cov[r1 + i + 2]! * w2 + cov[r1 + i + 3]! * w3;
    let s2 = cov[r0 + i + 2]! * w0 + cov[r1 + i + 2]! * w1 + cov[r2 + i + 2]! * w2 + cov[r2 + i + 3]! * w3;
    let s3 = cov[r0 + i + 3]! * w0 + cov[r1 + i + 3]! * w1 + cov[r2 + i + 3]! * w2 + cov[r3 + i + 3]! * w3;
    for (let j = i + 4; j < n; j++) {
      const c0 = cov[r0 + j]!;
      const c1 = cov[r1 + j]!;
      const c2 = cov[r2 + j]!;
      const c3 = cov[r3 + j]!;
      const wj = w[j]!;
      s0 += c0 * wj;
      s1 += c1 * wj;
      s2 += c2 * wj;
      s3 += c3 * wj;
      out[j] = out[j]! + (c0 * w0 + c1 * w1 + (c2 * w2 + c3 * w3));
    }
    out[i] = out[i]! + s0;
    out[i + 1] = out[i + 1]! + s1;
    out[i + 2] = out[i + 2]! + s2;
    out[i + 3] = out[i + 3]! + s3;
  }
  for (; i < n; i++) {
    const row = i * n;
    const wi = w[i]!;
    let s = cov[row + i]! * wi;
    for (let j = i + 1; j < n; j++) {
      const c = cov[row + j]!;
      s += c * w[j]!;
      out[j] = out[j]! + c * wi;
    }
    out[i] = out[i]! + s;
  }
}

/** wᵀv over the first n elements. */
export function dot(w: Float64Array, v: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i]! * v[i]!;
  return s;
}

/**
 * out[0..t) = Σᵢ wᵢ·rᵢ over the last t observations of each series, four strategies per sweep so
 * the output is read and written a quarter as often. Zero weights are skipped.
 */
export function portfolioSeriesInto(
  returns: readonly Float64Array[],
  w: Float64Array,
  t: number,
  out: Float64Array,
): void {
  out.fill(0, 0, t);
  const live: number[] = [];
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) live.push(i);
  let b = 0;
  for (; b + 3 < live.length; b += 4) {
    const i0 = live[b]!;
    const i1 = live[b + 1]!;
    const i2 = live[b + 2]!;
    const i3 = live[b + 3]!;
    const r0 = returns[i0]!;
    const r1 = returns[i1]!;
    const r2 = returns[i2]!;
    const r3 = returns[i3]!;
    const o0 = r0.length - t;
    const o1 = r1.length - t;
    const o2 = r2.length - t;
    const o3 = r3.length - t;
    const w0 = w[i0]!;
    const w1 = w[i1]!;
    const w2 = w[i2]!;
    const w3 = w[i3]!;
    for (let k = 0; k < t; k++)
      out[k] = out[k]! + (w0 * r0[o0 + k]! + w1 * r1[o1 + k]! + (w2 * r2[o2 + k]! + w3 * r3[o3 + k]!));
  }
  for (; b < live.length; b++) {
    const i = live[b]!;
    const r = returns[i]!;
    const o = r.length - t;
    const wi = w[i]!;
    for (let k = 0; k < t; k++) out[k] = out[k]! + wi * r[o + k]!;
  }
}

let liveRows = new Int32Array(0);

/**
 * out[0..t) = Σᵢ wᵢ·M[i, ·] for a row-major n×t matrix M, four rows per sweep (so `out` is read and
 * written a quarter as often), zero weights skipped. Plain loops over locals: a closure here made
 * V8 reload its captured arrays on every element.
 */
export function matrixSeriesInto(
  matrix: Float64Array,
  w: Float64Array,
  n: number,
  t: number,
  out: Float64Array,
): void {
  out.fill(0, 0, t);
  if (liveRows.length < n) liveRows = new Int32Array(Math.max(n, 2 * liveRows.length));
  const live = liveRows;
  let count = 0;
  for (let i = 0; i < n; i++) if (w[i] !== 0) live[count++] = i;
  let b = 0;
  for (; b + 3 < count; b += 4) {
    const i0 = live[b]!;
    const i1 = live[b + 1]!;
    const i2 = live[b + 2]!;
    const i3 = live[b + 3]!;
    const a0 = i0 * t;
    const a1 = i1 * t;
    const a2 = i2 * t;
    const a3 = i3 * t;
    const w0 = w[i0]!;
    const w1 = w[i1]!;
    const w2 = w[i2]!;
    const w3 = w[i3]!;
    for (let k = 0; k < t; k++)
      out[k] =
        out[k]! +
        (w0 * matrix[a0 + k]! + w1 * matrix[a1 + k]! + (w2 * matrix[a2 + k]! + w3 * matrix[a3 + k]!));
  }
  for (; b < count; b++) {
    const i = live[b]!;
    const a = i * t;
    const wi = w[i]!;
    for (let k = 0; k < t; k++) out[k] = out[k]! + wi * matrix[a + k]!;
  }
}

/** What one pass over a return series yields. */
export interface SeriesPass {
  sum: number;
  drawdownCurrent: number;
  drawdownMax: number;
}

/**
 * One pass over r[0..t): the sum (for the mean), the drawdown of the compounded equity curve
 * (as `drawdown` computes it), and the losses −r copied into `losses` for the historical tail.
 */
export function seriesPass(r: Float64Array, t: number, losses: Float64Array): SeriesPass {
  let sum = 0;
  let equity = 1;
  let peak = 1;
  let max = 0;
  let current = 0;
  for (let k = 0; k < t; k++) {
    const x = r[k]!;
    sum += x;
    losses[k] = -x;
    equity *= 1 + x;
    if (equity < 0) equity = 0;
    if (equity > peak) peak = equity;
    current = peak > 0 ? 1 - equity / peak : 0;
    if (current > max) max = current;
  }
  return { sum, drawdownCurrent: current, drawdownMax: max };
}

/** Centred moments of r[0..t) about `mean`, as `moments` in stats.ts computes them. */
export function centredMoments(
  r: Float64Array,
  t: number,
  mean: number,
): { std: number; skewness: number; excessKurtosis: number } {
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let k = 0; k < t; k++) {
    const d = r[k]! - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const ss = m2;
  m2 /= t;
  m3 /= t;
  m4 /= t;
  return {
    std: t > 1 ? Math.sqrt(ss / (t - 1)) : Number.NaN,
    skewness: m2 > 0 ? m3 / m2 ** 1.5 : Number.NaN,
    excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : Number.NaN,
  };
}
