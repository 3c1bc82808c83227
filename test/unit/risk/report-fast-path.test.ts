import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  prepareRiskInput,
  type RiskReport,
  type RiskSnapshotInput,
  riskReportFromInput,
} from '#lib/risk/index.js';
import { kernelMemoryOf } from '#lib/risk/kernel-memory.js';
import { portfolioSeriesInto, symmetricTimes } from '#lib/risk/report-kernels.js';
import { referenceRiskReport } from '#test/support/reference-risk-report.js';

/** Every number of two reports agrees to 1e-12 (relative above 1); warnings and nulls exactly. */
function expectSameReport(fast: RiskReport, reference: RiskReport): void {
  const close = (a: number | null, b: number | null, at: string) => {
    if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) {
      expect(a, at).toStrictEqual(b);
      return;
    }
    expect(Math.abs(a - b), `${at}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
  };
  const walk = (a: unknown, b: unknown, at: string): void => {
    if (typeof b === 'number' || b === null) {
      close(a as number | null, b, at);
      return;
    }
    if (typeof b !== 'object') {
      expect(a, at).toStrictEqual(b);
      return;
    }
    expect(Object.keys(a as object).sort(), at).toEqual(Object.keys(b).sort());
    for (const key of Object.keys(b))
      walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
  };
  walk(fast, reference, 'report');
}

const ret = fc.double({ min: -0.2, max: 0.2, noNaN: true });

/** Snapshots with per-strategy returns of uneven length, zero and negative weights, with or without Σ. */
const snapshotArb = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    weights: fc.array(fc.oneof(fc.constant(0), fc.double({ min: -1, max: 2, noNaN: true })), {
      minLength: n,
      maxLength: n,
    }),
    returns: fc.array(fc.array(ret, { minLength: 0, maxLength: 60 }), { minLength: n, maxLength: n }),
    withCovariance: fc.boolean(),
    bare: fc.boolean(),
  }),
);

function snapshotOf(s: {
  weights: number[];
  returns: number[][];
  withCovariance: boolean;
  bare: boolean;
}): RiskSnapshotInput {
  const ids = s.weights.map((_, i) => `s${i}`);
  const weights = Object.fromEntries(ids.map((id, i) => [id, s.weights[i]!]));
  if (s.bare) return { world_id: 'w', as_of: 'now', weights, realized_returns: s.returns[0] ?? [] };
  const realized_returns = Object.fromEntries(ids.map((id, i) => [id, s.returns[i]!]));
  if (!s.withCovariance) return { world_id: 'w', as_of: 'now', weights, realized_returns };
  // A PSD covariance from the strategies' own returns (padded), plus a ridge.
  const t = Math.max(2, ...s.returns.map((r) => r.length));
  const covariance: Record<string, number> = {};
  for (let i = 0; i < ids.length; i++)
    for (let j = i; j < ids.length; j++) {
      let c = i === j ? 1e-4 : 0;
      for (let k = 0; k < t; k++) c += ((s.returns[i]![k] ?? 0) * (s.returns[j]![k] ?? 0)) / t;
      covariance[`${ids[i]},${ids[j]}`] = c;
    }
  return { world_id: 'w', as_of: 'now', weights, covariance, realized_returns };
}

const optionsArb = fc.record({
  confidence: fc.double({ min: 0.9, max: 0.999, noNaN: true }),
  horizon: fc.integer({ min: 1, max: 10 }),
  withMean: fc.boolean(),
});

/** Runs both reports; both must throw the same error or agree. */
function compare(snapshot: RiskSnapshotInput, options: Parameters<typeof riskReportFromInput>[1]): void {
  let prepared: ReturnType<typeof prepareRiskInput>;
  try {
    prepared = prepareRiskInput(snapshot);
  } catch {
    return; // Refused at the parse step: no report to compare.
  }
  const run = (f: typeof riskReportFromInput, input = prepared) => {
    try {
      return { report: f(input, options) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const reference = run(referenceRiskReport);
  // Plain copies of the matrices: the JS loops instead of the SIMD kernels (which read only arrays
  // placed in kernel memory by prepareRiskInput, when the input is large enough).
  const plain = {
    ...prepared,
    covariance: prepared.covariance && Float64Array.from(prepared.covariance),
    returnMatrix: prepared.returnMatrix && Float64Array.from(prepared.returnMatrix),
  };
  // With the contiguous return matrix prepareRiskInput builds, and with per-strategy arrays only.
  for (const fast of [
    run(riskReportFromInput),
    run(riskReportFromInput, { ...prepared, returnMatrix: null }),
    run(riskReportFromInput, plain),
  ]) {
    if ('error' in reference) expect(fast).toEqual(reference);
    else {
      expect(fast).toHaveProperty('report');
      expectSameReport((fast as { report: RiskReport }).report, reference.report);
    }
  }
}

describe('riskReportFromInput (fused fast path)', () => {
  it('agrees with the straightforward reference report to 1e-12', () => {
    fc.assert(
      fc.property(snapshotArb, optionsArb, (s, options) => compare(snapshotOf(s), options)),
      { numRuns: 300 },
    );
  }, 60_000);

  it('agrees on a large book (N=60, T=500), where the SIMD kernels and the unrolled JS loops run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), optionsArb, (seed, options) => {
        let x = seed;
        const rand = () => {
          x = (x * 1103515245 + 12345) % 2147483648;
          return x / 2147483648 - 0.5;
        };
        const n = 60;
        // An odd T, so the kernels' tails run too.
        const returns = Array.from({ length: n }, () => Array.from({ length: 501 }, () => rand() / 20));
        const snapshot = snapshotOf({
          weights: returns.map((_, i) => (i % 7 === 0 ? 0 : rand() + 0.6)),
          returns,
          withCovariance: true,
          bare: false,
        });
        const prepared = prepareRiskInput(snapshot);
        expect(kernelMemoryOf(prepared.covariance), 'Σ in kernel memory').toBeDefined();
        expect(kernelMemoryOf(prepared.returnMatrix), 'returns in kernel memory').toBeDefined();
        compare(snapshot, options);
      }),
      { numRuns: 6 },
    );
  }, 60_000);
});

describe('the per-strategy record (built when first read)', () => {
  /** A large book whose Σ and returns sit in kernel memory, where Σw is overwritten by the next report. */
  function book(seed: number, n = 40) {
    let x = seed;
    const rand = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648 - 0.5;
    };
    const returns = Array.from({ length: n }, () => Array.from({ length: 300 }, () => rand() / 20));
    return prepareRiskInput(
      snapshotOf({ weights: returns.map(() => rand() + 0.6), returns, withCovariance: true, bare: false }),
    );
  }
  const options = { confidence: 0.99, horizon: 1, withMean: false };

  it('keeps its own figures when other reports run before it is read', () => {
    const a = book(1);
    expect(kernelMemoryOf(a.covariance), 'Σ in kernel memory').toBeDefined();
    const first = riskReportFromInput(a, options);
    // The same kernel memory, other weights and options.
    riskReportFromInput({ ...a, weights: a.weights.map((v, i) => (i % 2 ? -v : 2 * v)) }, options);
    riskReportFromInput(a, { ...options, confidence: 0.95 });
    riskReportFromInput(book(2), options);
    expectSameReport(first, referenceRiskReport(a, options));
  });

  it('keeps its own figures in the JS loops too (a book too small for kernel memory: scratch Σw)', () => {
    const a = book(4, 5);
    expect(kernelMemoryOf(a.covariance), 'plain arrays').toBeUndefined();
    const first = riskReportFromInput(a, options);
    riskReportFromInput({ ...a, weights: a.weights.map((v) => 3 * v) }, options);
    riskReportFromInput(book(5, 7), options);
    expectSameReport(first, referenceRiskReport(a, options));
  });

  it('read late, computes Σw again to the same bits as a record read at once', () => {
    for (const n of [5, 40]) {
      const a = book(6, n);
      const early = riskReportFromInput(a, options);
      const eager = structuredClone(early.strategies);
      const late = riskReportFromInput(a, options);
      riskReportFromInput({ ...a, weights: a.weights.map((v, i) => (i % 3 ? v : -v)) }, options);
      expect(late.strategies, `n=${n}`).toStrictEqual(eager);
    }
  });

  it('is one object on every read, can be replaced, and is in the JSON', () => {
    const report = riskReportFromInput(book(3), options);
    const strategies = report.strategies;
    expect(report.strategies).toBe(strategies);
    expect(Object.keys(JSON.parse(JSON.stringify(report)).strategies)).toEqual(Object.keys(strategies));
    report.strategies = {};
    expect(report.strategies).toEqual({});
  });
});

describe('report kernels', () => {
  it('symmetricTimes equals the full product Σw for a symmetric Σ', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(ret, { minLength: n * n, maxLength: n * n }),
              fc.array(ret, { minLength: n, maxLength: n }),
            ),
          ),
        ([n, raw, wArr]) => {
          const cov = new Float64Array(n * n);
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) cov[i * n + j] = raw[Math.min(i, j) * n + Math.max(i, j)]!;
          const w = Float64Array.from(wArr);
          const out = new Float64Array(n).fill(Number.NaN);
          symmetricTimes(cov, w, n, out);
          for (let i = 0; i < n; i++) {
            let s = 0;
            for (let j = 0; j < n; j++) s += cov[i * n + j]! * w[j]!;
            expect(Math.abs(out[i]! - s)).toBeLessThanOrEqual(1e-14);
          }
        },
      ),
    );
  });

  it('portfolioSeriesInto aligns uneven series on their last observation', () => {
    const out = new Float64Array(3).fill(Number.NaN);
    const returns = [1, 2, 3, 4, 5].map((i) => Float64Array.from([9, i, 2 * i, 3 * i].slice(i % 2)));
    portfolioSeriesInto(returns, Float64Array.from([1, 1, 0, 1, 1]), 3, out);
    // Strategies 1, 2, 4, 5 (weight 0 skipped): Σ i·(1, 2, 3) over i ∈ {1, 2, 4, 5} = 12·(1, 2, 3).
    expect(Array.from(out)).toEqual([12, 24, 36]);
  });
});
