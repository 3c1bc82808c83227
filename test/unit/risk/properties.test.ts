import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ageWeightedHistorical,
  buildRiskReport,
  checkCovariance,
  componentEs,
  componentVar,
  contributionCut,
  cornishFisherFromMoments,
  covarianceFromMap,
  historicalTail,
  normalEs,
  normalVar,
  portfolioSeries,
  portfolioSigma,
  repairCovariance,
  singleStrategyCut,
  studentTEs,
  studentTVar,
} from '#lib/risk/index.js';

const small = fc.double({ min: -1, max: 1, noNaN: true });

/** A random PSD covariance AᵀA/m + δI (n×n) with its weights. */
const portfolio = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    a: fc.array(fc.array(small, { minLength: n, maxLength: n }), { minLength: n, maxLength: n + 3 }),
    w: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
    delta: fc.double({ min: 1e-4, max: 1e-2, noNaN: true }),
  }),
);

function covOf({ n, a, delta }: { n: number; a: number[][]; delta: number }): Float64Array {
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (const row of a) s += row[i]! * row[j]!;
      cov[i * n + j] = s / a.length / 100 + (i === j ? delta : 0);
    }
  return cov;
}

const confidence = fc.double({ min: 0.9, max: 0.999, noNaN: true });

describe('risk properties', () => {
  it('component VaR and ES sum to the total', () => {
    fc.assert(
      fc.property(portfolio, confidence, fc.double({ min: 1, max: 20, noNaN: true }), (p, alpha, h) => {
        const cov = covOf(p);
        const w = Float64Array.from(p.w);
        for (const d of [componentVar(w, cov, alpha, h), componentEs(w, cov, alpha, h)]) {
          const sum = d.component.reduce((x, y) => x + y, 0);
          expect(Math.abs(sum - d.total)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(d.total)));
        }
      }),
    );
  });

  it('VaR scales linearly with the weights and with √h', () => {
    fc.assert(
      fc.property(portfolio, confidence, fc.double({ min: 0.1, max: 10, noNaN: true }), (p, alpha, c) => {
        const cov = covOf(p);
        const w = Float64Array.from(p.w);
        const base = normalVar(portfolioSigma(w, cov), alpha);
        const scaled = normalVar(
          portfolioSigma(
            w.map((x) => x * c),
            cov,
          ),
          alpha,
        );
        expect(scaled).toBeCloseTo(c * base, 10);
        expect(normalVar(portfolioSigma(w, cov), alpha, c * c)).toBeCloseTo(c * base, 10);
        expect(componentVar(w, cov, alpha, c * c).total).toBeCloseTo(c * base, 10);
      }),
    );
  });

  it('historical VaR scales linearly with the weights', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(small, { minLength: 30, maxLength: 30 }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (returns, c) => {
          const w = returns.map((_, i) => 1 / (i + 1));
          const base = historicalTail(portfolioSeries(returns, w), 0.95);
          const scaled = historicalTail(
            portfolioSeries(
              returns,
              w.map((x) => x * c),
            ),
            0.95,
          );
          expect(scaled.var).toBeCloseTo(c * base.var, 10);
          expect(scaled.es).toBeCloseTo(c * base.es, 10);
        },
      ),
    );
  });

  it('ES ≥ VaR under every model', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        confidence,
        fc.double({ min: 2.1, max: 200, noNaN: true }),
        fc.array(small, { minLength: 1, maxLength: 300 }),
        (sigma, alpha, dof, series) => {
          expect(normalEs(sigma, alpha)).toBeGreaterThanOrEqual(normalVar(sigma, alpha));
          expect(studentTEs(sigma, alpha, dof)).toBeGreaterThanOrEqual(studentTVar(sigma, alpha, dof));
          const h = historicalTail(series, alpha);
          expect(h.es).toBeGreaterThanOrEqual(h.var);
          const aw = ageWeightedHistorical(series, alpha, 0.97);
          expect(aw.es).toBeGreaterThanOrEqual(aw.var - 1e-15);
        },
      ),
    );
  });

  it('Cornish–Fisher ES ≥ VaR wherever the expansion is accepted', () => {
    fc.assert(
      fc.property(
        confidence,
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: -1, max: 12, noNaN: true }),
        (alpha, S, K) => {
          const cf = cornishFisherFromMoments({ mean: 0, std: 1, skewness: S, excessKurtosis: K }, alpha);
          if (cf.ok) expect(cf.es).toBeGreaterThanOrEqual(cf.var);
        },
      ),
    );
  });

  it('historical VaR and ES do not depend on the order of the returns, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 200 }),
        confidence,
        fc.integer(),
        (ints, alpha, seed) => {
          const series = ints.map((i) => i / 1000);
          const shuffled = [...series];
          let s = seed >>> 0;
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            const j = s % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          expect(historicalTail(shuffled, alpha)).toEqual(historicalTail(series, alpha));
        },
      ),
    );
  });

  it('the covariance and the report do not depend on the order or form of the covariance keys', () => {
    fc.assert(
      fc.property(portfolio, fc.integer(), (p, seed) => {
        const cov = covOf(p);
        const ids = Array.from({ length: p.n }, (_, i) => `s${i}`);
        const entries: [string, number][] = [];
        let s = seed >>> 0;
        const next = () => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return s;
        };
        for (let i = 0; i < p.n; i++)
          for (let j = i; j < p.n; j++) {
            const [x, y] = next() % 2 ? [i, j] : [j, i];
            entries.push([`${ids[x]}${next() % 2 ? ',' : ':'}${ids[y]}`, cov[i * p.n + j]!]);
          }
        const forward = Object.fromEntries(entries);
        const backward = Object.fromEntries([...entries].reverse());
        const a = covarianceFromMap(forward, ids);
        const b = covarianceFromMap(backward, ids);
        expect(a.ok && b.ok).toBe(true);
        if (a.ok && b.ok) expect(b.matrix).toEqual(a.matrix);
        const weights = Object.fromEntries(ids.map((id, i) => [id, p.w[i]!]));
        const options = { confidence: 0.99, horizon: 1, withMean: false };
        const base = { world_id: 'w', as_of: '2025-01-01T00:00:00Z', weights };
        expect(buildRiskReport({ ...base, covariance: backward }, options)).toEqual(
          buildRiskReport({ ...base, covariance: forward }, options),
        );
      }),
    );
  });

  it('sizing restores the VaR target within 1e-9', () => {
    fc.assert(
      fc.property(
        portfolio,
        fc.double({ min: 0.05, max: 0.99, noNaN: true }),
        confidence,
        (p, fraction, alpha) => {
          const cov = covOf(p);
          // Long-only keeps every correlation-weighted contribution reachable by cutting.
          const w = Float64Array.from(p.w.map((x) => Math.abs(x) + 0.01));
          const varNow = normalVar(portfolioSigma(w, cov), alpha, 5);
          const target = varNow * fraction;
          const cut = contributionCut(w, cov, alpha, 5, target);
          const after = Float64Array.from(w.map((x, i) => x * (1 - cut.ratios[i]!)));
          const realized = normalVar(portfolioSigma(after, cov), alpha, 5);
          if (cov.every((v) => v >= 0)) expect(cut.reached).toBe(true);
          if (cut.reached) {
            expect(Math.abs(realized / target - 1)).toBeLessThanOrEqual(1e-9);
            expect(Math.abs(cut.after / target - 1)).toBeLessThanOrEqual(1e-9);
          }
          for (let i = 0; i < p.n; i++) {
            const c = singleStrategyCut(w, cov, i, alpha, 5, target);
            if (c === null) continue;
            const one = Float64Array.from(w);
            one[i] = w[i]! * (1 - c);
            expect(Math.abs(normalVar(portfolioSigma(one, cov), alpha, 5) / target - 1)).toBeLessThanOrEqual(
              1e-9,
            );
          }
        },
      ),
    );
  });

  it('eigenvalue clipping always yields a PSD matrix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) => fc.array(small, { minLength: n * n, maxLength: n * n })),
        (entries) => {
          const n = Math.round(Math.sqrt(entries.length));
          expect(checkCovariance(repairCovariance(entries, n), n)).toEqual([]);
        },
      ),
    );
  });
});
