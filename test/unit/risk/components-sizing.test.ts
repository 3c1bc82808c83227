import { describe, expect, it } from 'vitest';
import {
  componentEs,
  componentVar,
  contributionCut,
  contributionCutSigma,
  normalVar,
  portfolioSigma,
  singleStrategyCut,
  singleStrategyCutSigma,
  uniformScaleToTarget,
} from '#lib/risk/index.js';

// V1: msft σ 2%, att σ 1%, ρ 0.3, weights 2/3 and 1/3.
const w = Float64Array.from([2 / 3, 1 / 3]);
const cov = Float64Array.from([0.0004, 0.00006, 0.00006, 0.0001]);

describe('componentVar / componentEs', () => {
  it('splits VaR in the shares wᵢ(Σw)ᵢ/σ² worked by hand', () => {
    // (Σw) = (0.000286667, 0.0000733333); σ² = 0.000215556.
    const variance = ((2 / 3) * (0.0004 * 2 + 0.00006)) / 3 + ((1 / 3) * (0.00006 * 2 + 0.0001)) / 3;
    const { total, component, marginal } = componentVar(w, cov, 0.99, 10);
    expect(total).toBeCloseTo(2.3263478740408408 * Math.sqrt(variance * 10), 12);
    expect(component[0]! / total).toBeCloseTo(((2 / 3) * (0.0004 * 2 + 0.00006)) / 3 / variance, 12);
    expect(component[1]! / total).toBeCloseTo(((1 / 3) * (0.00006 * 2 + 0.0001)) / 3 / variance, 12);
    expect(marginal[0]).toBeCloseTo(
      (2.3263478740408408 * Math.sqrt(10) * (0.0004 * 2 + 0.00006)) / 3 / Math.sqrt(variance),
      12,
    );
  });

  it('ES components sum to the ES total and carry φ(z)/(1−α) instead of z', () => {
    const es = componentEs(w, cov, 0.99, 10);
    const v = componentVar(w, cov, 0.99, 10);
    expect(es.component[0]! + es.component[1]!).toBeCloseTo(es.total, 14);
    expect(es.total / v.total).toBeCloseTo(2.665214220345806 / 2.3263478740408408, 12);
  });

  it('with means, components still sum to zσ√h − μ_P·h', () => {
    const r = componentVar(w, cov, 0.99, 4, [0.001, -0.002]);
    const muP = (2 / 3) * 0.001 + (1 / 3) * -0.002;
    expect(r.component[0]! + r.component[1]!).toBeCloseTo(r.total, 15);
    expect(r.total).toBeCloseTo(normalVar(portfolioSigma(w, cov), 0.99, 4) - 4 * muP, 15);
  });
});

describe('uniformScaleToTarget', () => {
  it('is 1 − target/measure above the target, 0 within it', () => {
    expect(uniformScaleToTarget(2, 1.5)).toBe(0.25);
    expect(uniformScaleToTarget(1, 1.5)).toBe(0);
    expect(uniformScaleToTarget(1, 0)).toBe(1);
  });
});

describe('singleStrategyCutSigma', () => {
  // Two uncorrelated unit-variance strategies of weight 1: σ² = 2.
  const w2 = [1, 1];
  const id = [1, 0, 0, 1];

  it('solves (1 − c)² + 1 = s² in closed form', () => {
    expect(singleStrategyCutSigma(w2, id, 0, 1.2)).toBeCloseTo(1 - Math.sqrt(1.44 - 1), 14);
  });

  it('is 0 when already within and null when even a full cut is not enough', () => {
    expect(singleStrategyCutSigma(w2, id, 0, 1.5)).toBe(0);
    expect(singleStrategyCutSigma(w2, id, 0, 0.9)).toBeNull();
  });

  it('is null for a hedge, whose cut only adds risk', () => {
    expect(singleStrategyCutSigma([1, 0.5], [1, -0.8, -0.8, 1], 1, 0.5)).toBeNull();
  });
});

describe('singleStrategyCut', () => {
  it('brings the V1 10-day VaR down to a $1.5m limit by cutting msft, to within 1e-9', () => {
    const target = 1_500_000 / 15_000_000;
    const c = singleStrategyCut(w, cov, 0, 0.99, 10, target)!;
    expect(c).toBeGreaterThan(0);
    expect(c).toBeLessThan(1);
    const after = Float64Array.from([w[0]! * (1 - c), w[1]!]);
    expect(Math.abs(normalVar(portfolioSigma(after, cov), 0.99, 10) / target - 1)).toBeLessThan(1e-9);
  });

  it('cannot go below the other stock alone', () => {
    expect(singleStrategyCut(w, cov, 0, 0.99, 10, 300_000 / 15_000_000)).toBeNull();
  });
});

describe('contributionCut', () => {
  it('cuts only the largest contributor when that suffices', () => {
    const target = 1_500_000 / 15_000_000;
    const r = contributionCut(w, cov, 0.99, 10, target);
    expect(r.ratios[1]).toBe(0);
    expect(r.ratios[0]).toBeCloseTo(singleStrategyCut(w, cov, 0, 0.99, 10, target)!, 14);
    expect(r.reached).toBe(true);
    expect(Math.abs(r.after / target - 1)).toBeLessThan(1e-9);
  });

  it('moves on to the next contributor when the first cannot reach the target', () => {
    const target = 200_000 / 15_000_000;
    const r = contributionCut(w, cov, 0.99, 10, target);
    expect(r.ratios[0]).toBe(1);
    expect(r.ratios[1]).toBeGreaterThan(0);
    const after = Float64Array.from([w[0]! * (1 - r.ratios[0]!), w[1]! * (1 - r.ratios[1]!)]);
    expect(Math.abs(normalVar(portfolioSigma(after, cov), 0.99, 10) / target - 1)).toBeLessThan(1e-9);
    expect(Math.abs(r.after / target - 1)).toBeLessThan(1e-9);
  });

  it('stops at the variance-minimising cut when a strategy is also a partial hedge', () => {
    // Strong negative correlation: cutting strategy 0 fully would leave more risk than the minimum.
    const c = [1, -0.9, -0.9, 1];
    const r = contributionCutSigma([1, 0.5], c, 0.01);
    // σ² along c: (1−c)² − 0.9(1−c) + 0.25 is smallest at 1 − c = 0.45.
    expect(r.ratios[0]).toBeCloseTo(0.55, 12);
  });

  it('is a no-op within the target', () => {
    const r = contributionCut(w, cov, 0.99, 10, 1);
    expect(Array.from(r.ratios)).toEqual([0, 0]);
    expect(r.reached).toBe(true);
  });
});
