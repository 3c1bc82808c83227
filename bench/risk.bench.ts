import { pathToFileURL } from 'node:url';
import { mulberry32 } from '#lib/prng.js';
import {
  marketStructure,
  portfolioVariance,
  prepareRiskInput,
  riskReportFromInput,
} from '#lib/risk/index.js';
import { kernelMemoryOf, placeInKernelMemory } from '#lib/risk/kernel-memory.js';
import { symmetricTimes } from '#lib/risk/report-kernels.js';
import { covarianceParsing } from './covariance-parsing.js';
import { numpyUnavailable } from './numpy-peer.js';
import { collectGarbage, raceNumpy } from './numpy-race.js';
import { psdCheck } from './psd-check.js';
import { factorReturns, seedOf, snapshotOf } from './risk-inputs.js';
import type { BenchFigure } from './types.js';

// Timed from already-parsed snapshots (issue 3): the report for three portfolio sizes, the
// market-structure indicators, and the wᵀΣw kernel's throughput. Inputs come from a seeded PRNG so
// every run measures the same work.

/** Per-call times in ms: warm-up first, then `samples` timed batches of `batch` calls. */
function time(fn: () => unknown, samples: number, batch = 1, warmup = 20): { median: number; p99: number } {
  for (let i = 0; i < warmup; i++) fn();
  const times = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let b = 0; b < batch; b++) fn();
    times[s] = (performance.now() - start) / batch;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.floor(q * samples))]!;
  return { median: at(0.5), p99: at(0.99) };
}

const round = (x: number) => Number(x.toPrecision(4));
const options = { confidence: 0.99, horizon: 1, withMean: false };

/** A prepared input of the given size, and the time of preparing it from its snapshot. */
function prepareTimed(n: number, t: number, samples: number) {
  const snapshot = snapshotOf(n, t, seedOf(n, t));
  const parse = time(() => prepareRiskInput(snapshot), samples, 1, 2);
  return { prepared: prepareRiskInput(snapshot), parse };
}

/** Runs the risk benchmarks and returns their figures. */
export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const noNumpy = numpyUnavailable();
  if (noNumpy !== undefined)
    figures.push({
      name: `risk report vs numpy: skipped, ${noNumpy}`,
      unit: 'ratio',
      median: 0,
      budget: 'none',
      ok: true,
    });
  for (const [n, t, budget, samples] of [
    [20, 2520, 0.5, 400],
    [200, 1000, 3, 200],
    [1000, 500, 30, 40],
  ] as const) {
    // "Already parsed" = the covariance map turned into a matrix (prepareRiskInput); that step is
    // reported on its own below because enumerating N²/2 object keys is V8's cost, not the math's.
    // The snapshot is dropped before the report is timed, so its half-million keys do not slow the
    // garbage collector under the report (a handler holds only the prepared arrays too).
    const { prepared, parse } = prepareTimed(n, t, Math.max(5, samples / 20));
    collectGarbage();
    const { median, p99 } = time(() => riskReportFromInput(prepared, options), samples, 1, 10);
    figures.push({
      name: `risk report N=${n} T=${t}`,
      unit: 'ms',
      median: round(median),
      p99: round(p99),
      budget: `< ${budget} ms`,
      ok: median < budget,
    });
    if (noNumpy === undefined && n >= 200) {
      const { pairs: _, ...race } = await raceNumpy(n, t, options);
      figures.push(race);
    }
    figures.push({
      name: `  snapshot map → arrays (prepareRiskInput) N=${n} T=${t}, not budgeted`,
      unit: 'ms',
      median: round(parse.median),
      p99: round(parse.p99),
      budget: 'none',
      ok: true,
    });
  }

  figures.push(...(await covarianceParsing(1000, noNumpy === undefined)));
  figures.push(...psdCheck());

  const returns = factorReturns(50, 500, 4242);
  const windows = { turbulenceWindow: 250, shortWindow: 50, longWindow: 500 };
  const ms = time(() => marketStructure(returns, windows), 100, 1, 10);
  figures.push({
    name: 'market structure N=50 T=500 (turbulence 250d + percentile, absorption & correlation 50d vs 500d)',
    unit: 'ms',
    median: round(ms.median),
    p99: round(ms.p99),
    budget: '< 10 ms',
    ok: ms.median < 10,
  });

  const n = 1000;
  const cov = new Float64Array(n * n);
  const w = new Float64Array(n);
  const rand = mulberry32(99);
  for (let i = 0; i < n * n; i++) cov[i] = rand();
  for (let i = 0; i < n; i++) w[i] = rand();
  let sink = 0;
  const kernel = time(
    () => {
      sink += portfolioVariance(w, cov);
    },
    100,
    10,
    50,
  );
  // 2n² flops per wᵀΣw (n² multiplies and n² adds); time per call in ms.
  const gflops = (2 * n * n) / (kernel.median * 1e-3) / 1e9;
  const gflopsP99 = (2 * n * n) / (kernel.p99 * 1e-3) / 1e9;
  figures.push({
    name: `wᵀΣw kernel N=${n} (portfolioVariance, full matrix, scalar JS: the rules' and sizing's)`,
    unit: 'GFLOP/s',
    median: round(gflops),
    p99: round(gflopsP99),
    budget: '≥ 1 GFLOP/s',
    ok: gflops >= 1,
  });
  // The report's own product: Σw from the upper triangle of a symmetric Σ placed in kernel memory
  // (wasm SIMD where available, else the JS loop), counted as the 2n² flops of the full product.
  const sym = Float64Array.from(cov);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) sym[i * n + j] = sym[j * n + i]!;
  const placed = placeInKernelMemory(n, 0, sym, null).covariance as Float64Array;
  const memory = kernelMemoryOf(placed);
  const sw = new Float64Array(n);
  const product = time(
    () => {
      if (memory) sink += memory.sigmaTimes(w)[n - 1]!;
      else {
        symmetricTimes(placed, w, n, sw);
        sink += sw[n - 1]!;
      }
    },
    100,
    10,
    50,
  );
  figures.push({
    name: `Σw kernel N=${n}, the report's (upper triangle, ${memory ? 'wasm SIMD' : 'JS: no wasm SIMD here'})`,
    unit: 'GFLOP/s',
    median: round((2 * n * n) / (product.median * 1e-3) / 1e9),
    p99: round((2 * n * n) / (product.p99 * 1e-3) / 1e9),
    budget: '≥ 1 GFLOP/s',
    ok: (2 * n * n) / (product.median * 1e-3) / 1e9 >= 1,
  });
  if (!Number.isFinite(sink)) throw new Error('kernel result is not finite');
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of await run())
    console.log(
      `${f.ok ? 'ok  ' : 'SLOW'} ${f.name}: median ${f.median} ${f.unit}${f.p99 === undefined ? '' : `, p99 ${f.p99} ${f.unit}`} (budget ${f.budget})`,
    );
}
