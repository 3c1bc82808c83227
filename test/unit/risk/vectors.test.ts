import { describe, expect, it } from 'vitest';
import {
  baselZone,
  componentVar,
  cornishFisherFromMoments,
  cornishFisherZ,
  covarianceFromMap,
  incrementalVar,
  kupiecPof,
  normalEs,
  normalQuantile,
  normalVar,
  portfolioSigma,
  portfolioVariance,
} from '#lib/risk/index.js';

// Published numbers from test/fixtures/reference/risk-test-vectors.md (sources cited there), each within its stated tolerance.

function expectWithin(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected} ± ${tolerance}`).toBeLessThanOrEqual(
    tolerance,
  );
}

describe('V1 Hull two stocks (OFOD §22.3)', () => {
  const value = 15_000_000;
  const ids = ['msft', 'att'];
  const map = { 'msft,msft': 0.0004, 'att,att': 0.0001, 'msft,att': 0.00006 };
  const w = Float64Array.from([2 / 3, 1 / 3]);
  const built = covarianceFromMap(map, ids);
  if (!built.ok) throw new Error(built.issues.join('; '));
  const cov = built.matrix;

  it('portfolio 1-day sigma is $220,227', () => {
    expectWithin(portfolioSigma(w, cov) * value, 220_227, 1);
  });

  it('10-day 99% VaR and ES of the portfolio are $1,620,100 and $1,856,100', () => {
    const sigma = portfolioSigma(w, cov);
    expectWithin(normalVar(sigma, 0.99, 10) * value, 1_620_100, 100);
    expectWithin(normalEs(sigma, 0.99, 10) * value, 1_856_100, 100);
  });

  it('each stock alone: σ $200,000 / $50,000, VaR $1,471,300 / $367,800, ES $1,685,600 / $421,400', () => {
    expectWithin(normalVar(200_000, 0.99, 10), 1_471_300, 100);
    expectWithin(normalEs(200_000, 0.99, 10), 1_685_600, 100);
    expectWithin(normalVar(50_000, 0.99, 10), 367_800, 100);
    expectWithin(normalEs(50_000, 0.99, 10), 421_400, 100);
  });

  it('diversification benefit on 10-day VaR is $219,000', () => {
    const standalone = normalVar(200_000, 0.99, 10) + normalVar(50_000, 0.99, 10);
    expectWithin(standalone - normalVar(portfolioSigma(w, cov), 0.99, 10) * value, 219_000, 100);
  });

  it('incremental VaR of each stock is the portfolio VaR less the other stock alone', () => {
    const inc = incrementalVar(w, cov, 0.99, 10);
    expectWithin(inc[0]! * value, 1_620_100 - 367_800, 200);
    expectWithin(inc[1]! * value, 1_620_100 - 1_471_300, 200);
  });

  it('component VaR adds up to the published portfolio VaR', () => {
    const { component } = componentVar(w, cov, 0.99, 10);
    expectWithin((component[0]! + component[1]!) * value, 1_620_100, 100);
  });
});

describe('V2 Hull four indices (OFOD §22.4)', () => {
  const ids = ['spx', 'ftse', 'cac', 'nikkei'];
  const rows = [
    [0.000275, 0.000094, 0.000177, 0.00008],
    [0.000094, 0.000187, 0.000138, 0.000102],
    [0.000177, 0.000138, 0.000237, 0.000097],
    [0.00008, 0.000102, 0.000097, 0.000173],
  ];
  const exposures = Float64Array.from([4000, 3000, 1000, 2000]);
  const map: Record<string, number> = {};
  rows.forEach((row, i) => {
    row.forEach((v, j) => {
      if (j >= i) map[`${ids[i]}:${ids[j]}`] = v;
    });
  });
  const built = covarianceFromMap(map, ids);
  if (!built.ok) throw new Error(built.issues.join('; '));

  it('aᵀΣa of the printed matrix is 14,404.0', () => {
    expectWithin(portfolioVariance(exposures, built.matrix), 14_404.0, 0.05);
  });

  it('1-day 99% VaR 279.222 and ES 319.894 ($000) within relative 2e-4', () => {
    const sigma = portfolioSigma(exposures, built.matrix);
    expect(Math.abs(normalVar(sigma, 0.99) / 279.222 - 1)).toBeLessThanOrEqual(2e-4);
    expect(Math.abs(normalEs(sigma, 0.99) / 319.894 - 1)).toBeLessThanOrEqual(2e-4);
  });

  it('as weights of a $10m portfolio the same VaR comes out as a fraction', () => {
    const w = exposures.map((a) => a / 10_000);
    expect(
      Math.abs((normalVar(portfolioSigma(w, built.matrix), 0.99) * 10_000) / 279.222 - 1),
    ).toBeLessThanOrEqual(2e-4);
  });
});

describe('V3 Cornish–Fisher adjusted quantile', () => {
  const z = normalQuantile(0.01);

  it('uses the exact z = −2.32635', () => {
    expectWithin(z, -2.32635, 1e-5);
  });

  it('z_cf = −3.70871 for S = −0.7, K = 4.5', () => {
    expectWithin(cornishFisherZ(z, -0.7, 4.5), -3.70871, 1e-4);
  });

  it('modified VaR = −(μ + z_cf·σ) from the published z_cf', () => {
    const cf = cornishFisherFromMoments(
      { mean: 0.0003, std: 0.012, skewness: -0.7, excessKurtosis: 4.5 },
      0.99,
    );
    expect(cf.ok).toBe(true);
    if (cf.ok) expectWithin(cf.var, -(0.0003 + -3.70871 * 0.012), 0.012 * 1e-4);
  });

  it('normal VaR for the same inputs is 2.76%', () => {
    expectWithin(normalVar(0.012, 0.99, 1, 0.0003), 0.0276, 0.00005);
  });
});

describe('V4 Basel traffic light, 250 observations', () => {
  const published: [number, 'green' | 'yellow' | 'red', number | null, number][] = [
    [0, 'green', null, 0],
    [1, 'green', null, 0],
    [2, 'green', null, 0],
    [3, 'green', null, 0],
    [4, 'green', 0.8922, 0],
    [5, 'yellow', 0.9588, 0.4],
    [6, 'yellow', 0.9863, 0.5],
    [7, 'yellow', 0.996, 0.65],
    [8, 'yellow', 0.9989, 0.75],
    [9, 'yellow', 0.9997, 0.85],
    [10, 'red', 0.9999, 1],
    [11, 'red', null, 1],
    [15, 'red', null, 1],
  ];
  it.each(published)('%i exceptions → %s (cumulative %s, plus %s)', (x, zone, cumulative, plus) => {
    const result = baselZone(x);
    expect(result.zone).toBe(zone);
    expect(result.plusFactor).toBe(plus);
    if (cumulative !== null) expectWithin(result.cumulativeProbability, cumulative, 5e-5);
  });
});

describe('V5 Kupiec proportion of failures', () => {
  it('T = 250, p = 0.01, x = 7 → LR ≈ 5.50, rejected at 95%', () => {
    const result = kupiecPof(250, 7, 0.01);
    expectWithin(result.lr, 5.5, 0.005);
    expect(result.lr).toBeGreaterThan(3.841);
    expect(result.reject).toBe(true);
  });

  it('the 95% critical value 3.841 has p-value 0.05', () => {
    // x = 5 in 250 gives LR ≈ 1.96, below 3.841: not rejected.
    const result = kupiecPof(250, 5, 0.01);
    expect(result.lr).toBeLessThan(3.841);
    expect(result.reject).toBe(false);
    expect(result.pValue).toBeGreaterThan(0.05);
  });
});
