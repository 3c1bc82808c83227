import { mulberry32 } from '#lib/prng.js';
import { pivotedCholeskyPsd, symmetricEigenvalues } from '#lib/risk/index.js';
import type { BenchFigure } from './types.js';

// The covariance PSD check (issue 12, psd): pivoted Cholesky against the eigenvalue test it replaces
// in checkCovariance, on the same matrix, alternating round by round so the machine's load hits both.

/** Sample covariance of T one-factor daily returns for N strategies: rank min(N, T − 1). */
function factorCovariance(n: number, t: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const f = Float64Array.from({ length: t }, () => 0.008 * normal());
  const x = new Float64Array(n * t);
  for (let i = 0; i < n; i++) {
    const beta = 0.3 + rand();
    const idio = 0.004 + 0.01 * rand();
    let mean = 0;
    for (let k = 0; k < t; k++) mean += x[i * t + k] = beta * f[k]! + idio * normal();
    mean /= t;
    for (let k = 0; k < t; k++) x[i * t + k]! -= mean;
  }
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < t; k++) s += x[i * t + k]! * x[j * t + k]!;
      cov[i * n + j] = cov[j * n + i] = s / (t - 1);
    }
  return cov;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Number(x.toPrecision(3));

/** Median ms of each test over `rounds` alternating rounds, and the median of the rounds' ratios. */
function race(cov: Float64Array, n: number, rounds: number) {
  const fast: number[] = [];
  const eigen: number[] = [];
  const ratios: number[] = [];
  pivotedCholeskyPsd(cov, n);
  symmetricEigenvalues(cov, n);
  let rank = 0;
  for (let r = 0; r < rounds; r++) {
    let start = performance.now();
    const verdict = pivotedCholeskyPsd(cov, n);
    const f = performance.now() - start;
    if (verdict.verdict !== 'psd')
      throw new Error(`bench matrix not certified PSD: ${JSON.stringify(verdict)}`);
    rank = verdict.rank;
    start = performance.now();
    symmetricEigenvalues(cov, n);
    const e = performance.now() - start;
    fast.push(f);
    eigen.push(e);
    ratios.push(e / f);
  }
  return { fast: median(fast), eigen: median(eigen), ratio: median(ratios), rank };
}

/** The PSD check at N=1,000, full rank (T=2,000) and the engine's common T < N case (T=500). */
export function psdCheck(): BenchFigure[] {
  const n = 1000;
  return ([2000, 500] as const).map((t) => {
    const r = race(factorCovariance(n, t, 1000 + t), n, 5);
    return {
      name: `covariance PSD check N=1,000 T=${t} (rank ${r.rank}): eigen time / pivoted Cholesky time, median of 5 alternating rounds (Cholesky ${round(r.fast)} ms, eigen ${round(r.eigen)} ms)`,
      unit: 'ratio',
      median: round(r.ratio),
      budget: '≥ 3',
      ok: r.ratio >= 3,
    };
  });
}
