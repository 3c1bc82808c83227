import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildRiskReport,
  prepareRiskInput,
  RiskInputError,
  type RiskSnapshotInput,
  riskReportFromInput,
} from '#lib/risk/index.js';

const fixture = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../fixtures/risk/${name}`, import.meta.url), 'utf8'),
  ) as RiskSnapshotInput;

const value = 15_000_000;
const options = { confidence: 0.99, horizon: 10, withMean: false };

describe('buildRiskReport', () => {
  it('reproduces Hull V1 from the covariance alone and says why the rest is null', () => {
    const report = buildRiskReport(fixture('hull-covariance-only.json'), options);
    expect(report.world_id).toBe('hull-demo');
    expect(report.confidence).toBe(0.99);
    expect(report.horizon).toBe(10);
    expect(Math.abs(report.portfolio.var.normal * value - 1_620_100)).toBeLessThanOrEqual(100);
    expect(Math.abs(report.portfolio.es.normal * value - 1_856_100)).toBeLessThanOrEqual(100);
    expect(Math.abs((report.portfolio.sigma * value) / Math.sqrt(10) - 220_227)).toBeLessThanOrEqual(1);
    expect(report.portfolio.var).toMatchObject({ student_t: null, cornish_fisher: null, historical: null });
    expect(report.portfolio.drawdown).toBeNull();
    expect(report.warnings.join()).toMatch(/no realized returns/);
    const { msft, att } = report.strategies;
    expect(msft!.weight).toBeCloseTo(2 / 3, 15);
    expect(msft!.component_var! + att!.component_var!).toBeCloseTo(report.portfolio.var.normal, 14);
    expect(msft!.component_es! + att!.component_es!).toBeCloseTo(report.portfolio.es.normal, 14);
    // Share wᵢ(Σw)ᵢ/σ²: (2/3)(0.000286667)/0.000215556.
    expect(msft!.var_share).toBeCloseTo(0.000191111111 / 0.000215555556, 8);
    expect(msft!.var_share! + att!.var_share!).toBeCloseTo(1, 14);
  });

  it('fills every model from realized returns, historical on r_t = Σ wᵢ·rᵢ,t', () => {
    const snapshot = fixture('hull-two-stock.json');
    const report = buildRiskReport(snapshot, { confidence: 0.95, horizon: 1, withMean: false });
    const r = snapshot.realized_returns as Record<string, number[]>;
    const series = r.msft!.map((x, t) => (2 / 3) * x + (1 / 3) * r.att![t]!);
    const losses = series.map((x) => -x).sort((a, b) => b - a);
    // k = ⌈30 × 0.05⌉ = 2.
    expect(report.portfolio.var.historical).toBeCloseTo(losses[1]!, 15);
    expect(report.portfolio.es.historical).toBeCloseTo((losses[0]! + losses[1]!) / 2, 15);
    expect(report.portfolio.var.student_t).toBeGreaterThan(0);
    expect(report.portfolio.es.student_t!).toBeGreaterThan(report.portfolio.var.student_t!);
    let equity = 1;
    let peak = 1;
    let max = 0;
    for (const x of series) {
      equity *= 1 + x;
      peak = Math.max(peak, equity);
      max = Math.max(max, 1 - equity / peak);
    }
    expect(report.portfolio.drawdown!.max).toBeCloseTo(max, 14);
    expect(report.portfolio.drawdown!.current).toBeCloseTo(1 - equity / peak, 14);
  });

  it('uses the sample covariance of the returns when the snapshot has none', () => {
    const { covariance: _, ...snapshot } = fixture('hull-two-stock.json');
    const report = buildRiskReport(snapshot, options);
    expect(report.warnings.join()).toMatch(/sample covariance of 30 realized returns/);
    const r = snapshot.realized_returns as Record<string, number[]>;
    const series = r.msft!.map((x, t) => (2 / 3) * x + (1 / 3) * r.att![t]!);
    const mu = series.reduce((a, b) => a + b, 0) / series.length;
    const sd = Math.sqrt(series.reduce((a, x) => a + (x - mu) ** 2, 0) / (series.length - 1));
    expect(report.portfolio.sigma).toBeCloseTo(sd * Math.sqrt(10), 14);
  });

  it('with the mean, normal VaR is zσ√h − μh', () => {
    const snapshot = fixture('hull-two-stock.json');
    const r = snapshot.realized_returns as Record<string, number[]>;
    const series = r.msft!.map((x, t) => (2 / 3) * x + (1 / 3) * r.att![t]!);
    const mu = series.reduce((a, b) => a + b, 0) / series.length;
    const plain = buildRiskReport(snapshot, options);
    const withMean = buildRiskReport(snapshot, { ...options, withMean: true });
    expect(withMean.portfolio.var.normal).toBeCloseTo(plain.portfolio.var.normal - 10 * mu, 15);
    const s = withMean.strategies;
    expect(s.msft!.component_var! + s.att!.component_var!).toBeCloseTo(withMean.portfolio.var.normal, 14);
  });

  it('takes a bare array as the portfolio series', () => {
    const series = [0.01, -0.02, 0.005, -0.01, 0.015, -0.03];
    const report = buildRiskReport(
      { world_id: 'w', as_of: 't', weights: { a: 0.5, b: 0.5 }, realized_returns: series },
      { confidence: 0.99, horizon: 1, withMean: false },
    );
    const mu = series.reduce((a, b) => a + b, 0) / 6;
    const sd = Math.sqrt(series.reduce((a, x) => a + (x - mu) ** 2, 0) / 5);
    expect(report.portfolio.sigma).toBeCloseTo(sd, 15);
    expect(report.portfolio.var.historical).toBe(0.03);
    expect(report.strategies.a).toEqual({
      weight: 0.5,
      marginal_var: null,
      component_var: null,
      component_es: null,
      var_share: null,
    });
    expect(report.warnings.join()).toMatch(/no per-strategy figures/);
  });

  it('fails closed on a covariance map that does not match the weights', () => {
    const snapshot = {
      ...fixture('hull-covariance-only.json'),
      covariance: { 'msft,msft': 0.0004, 'att,att': 0.0001 },
    };
    expect(() => buildRiskReport(snapshot, options)).toThrow(RiskInputError);
    expect(() => buildRiskReport(snapshot, options)).toThrow(/missing "msft,att"/);
  });

  it('warns on a non-PSD covariance and repairs it when asked', () => {
    const snapshot = {
      world_id: 'w',
      as_of: 't',
      weights: { a: 0.5, b: 0.5 },
      covariance: { 'a,a': 0.0001, 'b,b': 0.0001, 'a,b': 0.00015 },
    };
    const plain = buildRiskReport(snapshot, options);
    expect(plain.warnings.join()).toMatch(/not positive semi-definite \(smallest eigenvalue -0\.00005\)/);
    const repaired = buildRiskReport(snapshot, { ...options, repair: true });
    expect(repaired.warnings.join()).toMatch(/repaired/);
    // Clipped matrix is 0.000125·[[1,1],[1,1]]: σ² = 0.000125.
    expect(repaired.portfolio.sigma).toBeCloseTo(Math.sqrt(0.000125 * 10), 14);
  });

  it('rejects a snapshot without weights and a bad confidence', () => {
    expect(() => buildRiskReport({ world_id: 'w', as_of: 't', weights: {} }, options)).toThrow(/no weights/);
    expect(() => buildRiskReport(fixture('hull-two-stock.json'), { ...options, confidence: 1 })).toThrow(
      /confidence/,
    );
  });

  it('has exactly the documented JSON shape', () => {
    const report = JSON.parse(JSON.stringify(buildRiskReport(fixture('hull-two-stock.json'), options)));
    expect(Object.keys(report)).toEqual([
      'world_id',
      'as_of',
      'confidence',
      'horizon',
      'portfolio',
      'strategies',
      'warnings',
    ]);
    expect(Object.keys(report.portfolio)).toEqual(['sigma', 'var', 'es', 'drawdown']);
    expect(Object.keys(report.portfolio.var)).toEqual([
      'normal',
      'student_t',
      'cornish_fisher',
      'historical',
    ]);
    expect(Object.keys(report.strategies.msft)).toEqual([
      'weight',
      'marginal_var',
      'component_var',
      'component_es',
      'var_share',
    ]);
  });

  it('a prepared snapshot gives the same report, for any number of evaluations', () => {
    const snapshot = fixture('hull-two-stock.json');
    const prepared = prepareRiskInput(snapshot);
    expect(riskReportFromInput(prepared, options)).toEqual(buildRiskReport(snapshot, options));
    expect(riskReportFromInput(prepared, { ...options, withMean: true })).toEqual(
      buildRiskReport(snapshot, { ...options, withMean: true }),
    );
  });
});
