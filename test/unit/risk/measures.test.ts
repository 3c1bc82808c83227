import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ageWeightedHistorical,
  cornishFisher,
  cornishFisherFromMoments,
  cornishFisherMonotone,
  dofFromKurtosis,
  drawdown,
  ewmaCovariance,
  historicalTail,
  historicalTailCount,
  moments,
  normalEs,
  normalVar,
  studentTEs,
  studentTVar,
  studentTVarEs,
} from '#lib/risk/index.js';

describe('normalVar / normalEs', () => {
  it('97.5% ES is 2.338σ, the FRTB equivalent of 99% VaR', () => {
    expect(normalEs(1, 0.975)).toBeCloseTo(2.3378, 4);
    expect(normalVar(1, 0.99)).toBeCloseTo(2.3263, 4);
  });

  it('95% VaR is 1.645σ and ES 2.063σ', () => {
    expect(normalVar(1, 0.95)).toBeCloseTo(1.6449, 4);
    expect(normalEs(1, 0.95)).toBeCloseTo(2.0627, 4);
  });

  it('subtracts μ·h and scales σ by √h', () => {
    expect(normalVar(0.01, 0.99, 4, 0.001)).toBeCloseTo(2 * 0.01 * 2.326348 - 0.004, 6);
  });

  it('rejects a confidence outside (0, 1) and a non-positive horizon', () => {
    expect(() => normalVar(1, 1)).toThrow(/confidence/);
    expect(() => normalVar(1, 0.99, 0)).toThrow(/horizon/);
  });
});

describe('studentTVar / studentTEs', () => {
  // t(5): q₀.₉₉ = 3.36493 (printed t-table), density Γ(3)/(√(5π)Γ(5/2))·(1 + x²/5)⁻³.
  const q = 3.36493;
  const density = (2 / (Math.sqrt(5 * Math.PI) * 1.329340388)) * (1 + (q * q) / 5) ** -3;
  const scale = Math.sqrt(3 / 5);

  it('VaR at ν = 5 is σ·√(3/5)·t₅⁻¹(0.99)', () => {
    expect(studentTVar(1, 0.99, 5)).toBeCloseTo(scale * q, 4);
  });

  it('ES at ν = 5 is scale·g(q)/(1−α)·(ν+q²)/(ν−1)', () => {
    expect(studentTEs(1, 0.99, 5)).toBeCloseTo((scale * density * (5 + q * q)) / 0.01 / 4, 3);
  });

  it('approaches the normal as ν grows', () => {
    expect(studentTVar(1, 0.99, 1e6)).toBeCloseTo(2.32635, 4);
    expect(studentTEs(1, 0.99, 1e6)).toBeCloseTo(2.66521, 4);
  });

  it('ν from excess kurtosis is 4 + 6/K, bounded', () => {
    expect(dofFromKurtosis(3)).toEqual({ dof: 6, bounded: false });
    expect(dofFromKurtosis(0.01)).toEqual({ dof: 100, bounded: true });
    expect(dofFromKurtosis(-1)).toEqual({ dof: 100, bounded: true });
  });

  it('refuses ν ≤ 2', () => {
    expect(() => studentTVar(1, 0.99, 2)).toThrow(/degrees of freedom/);
    expect(() => studentTVarEs(1, 0.99, 2)).toThrow(/degrees of freedom/);
  });

  it('studentTVarEs (one quantile for both) gives exactly studentTVar and studentTEs', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        fc.double({ min: 2.01, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 250 }),
        fc.double({ min: -0.01, max: 0.01, noNaN: true }),
        (sigma, confidence, dof, horizon, mean) => {
          expect(studentTVarEs(sigma, confidence, dof, horizon, mean)).toEqual({
            var: studentTVar(sigma, confidence, dof, horizon, mean),
            es: studentTEs(sigma, confidence, dof, horizon, mean),
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('cornishFisher', () => {
  it('reduces to the normal VaR and ES at zero skewness and excess kurtosis', () => {
    const cf = cornishFisherFromMoments({ mean: 0, std: 0.02, skewness: 0, excessKurtosis: 0 }, 0.99, 10);
    expect(cf.ok && cf.var).toBeCloseTo(normalVar(0.02, 0.99, 10), 12);
    expect(cf.ok && cf.es).toBeCloseTo(normalEs(0.02, 0.99, 10), 12);
  });

  it('ES equals the tail mean of the Cornish–Fisher quantile function, by numerical integration', () => {
    const S = -0.7;
    const K = 4.5;
    const z = -2.3263478740408408;
    const zcf = (x: number) =>
      x + ((x * x - 1) * S) / 6 + ((x ** 3 - 3 * x) * K) / 24 - ((2 * x ** 3 - 5 * x) * S * S) / 36;
    // ∫_{−∞}^{z} z_cf(x)·φ(x) dx by Simpson's rule on [−14, z].
    const steps = 20_000;
    const a = -14;
    const h = (z - a) / steps;
    let sum = 0;
    for (let i = 0; i <= steps; i++) {
      const x = a + i * h;
      const f = zcf(x) * (Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
      sum += f * (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2);
    }
    const tailMean = (sum * h) / 3 / 0.01;
    const cf = cornishFisherFromMoments({ mean: 0, std: 1, skewness: S, excessKurtosis: K }, 0.99);
    expect(cf.ok).toBe(true);
    if (cf.ok) {
      expect(cf.es).toBeCloseTo(-tailMean, 8);
      expect(cf.es).toBeGreaterThan(cf.var);
    }
  });

  it('knows the global monotone domain: S = 0 needs 0 ≤ K ≤ 8', () => {
    expect(cornishFisherMonotone(0, 4)).toBe(true);
    expect(cornishFisherMonotone(0, 7.99)).toBe(true);
    expect(cornishFisherMonotone(0, 8.5)).toBe(false);
    expect(cornishFisherMonotone(0, -0.5)).toBe(false);
    expect(cornishFisherMonotone(-0.7, 4.5)).toBe(true);
    expect(cornishFisherMonotone(-2, 1)).toBe(false);
  });

  it('on [−L, L] allows mild negative kurtosis: S = 0 needs 1 + (L² − 1)K/8 > 0', () => {
    // L = 4: K > −8/15.
    expect(cornishFisherMonotone(0, -0.5, 4)).toBe(true);
    expect(cornishFisherMonotone(0, -0.55, 4)).toBe(false);
    expect(cornishFisherMonotone(0, 8.5, 4)).toBe(false);
  });

  it('returns a reason instead of a number outside the domain', () => {
    const cf = cornishFisherFromMoments({ mean: 0, std: 1, skewness: 0, excessKurtosis: 12 }, 0.99);
    expect(cf.ok).toBe(false);
    if (!cf.ok) expect(cf.reason).toMatch(/not monotonic/);
  });

  it('uses the n − 1 standard deviation and moment skewness/kurtosis of the series', () => {
    const series = [
      0.001, -0.001, 0.002, -0.002, 0.0, 0.0005, -0.0005, 0.01, -0.012, 0.001, -0.0015, 0.002, 0.004, -0.004,
    ];
    const n = series.length;
    const mu = series.reduce((a, b) => a + b, 0) / n;
    const d = series.map((x) => x - mu);
    const m2 = d.reduce((a, x) => a + x * x, 0) / n;
    const m3 = d.reduce((a, x) => a + x ** 3, 0) / n;
    const m4 = d.reduce((a, x) => a + x ** 4, 0) / n;
    const s = Math.sqrt((m2 * n) / (n - 1));
    const S = m3 / m2 ** 1.5;
    const K = m4 / m2 ** 2 - 3;
    const m = moments(series);
    expect(m.std).toBeCloseTo(s, 14);
    expect(m.skewness).toBeCloseTo(S, 12);
    expect(m.excessKurtosis).toBeCloseTo(K, 12);
    const z = -2.3263478740408408;
    const zcf = z + ((z * z - 1) * S) / 6 + ((z ** 3 - 3 * z) * K) / 24 - ((2 * z ** 3 - 5 * z) * S * S) / 36;
    const cf = cornishFisher(series, 0.99, 1, true);
    expect(cf.ok, JSON.stringify(cf)).toBe(true);
    expect(cf.ok && cf.var).toBeCloseTo(-(mu + zcf * s), 12);
  });
});

describe('historicalTail', () => {
  const series = [-0.05, 0.01, -0.02, 0.03, -0.04, 0.0, -0.01, 0.02, -0.03, 0.04];

  it('VaR is the k-th largest loss and ES the mean of the k largest, k = ⌈n(1−α)⌉', () => {
    expect(historicalTail(series, 0.8)).toEqual({ var: 0.04, es: 0.045, k: 2 });
    const seven = historicalTail(series, 0.7);
    expect(seven.k).toBe(3);
    expect(seven.var).toBe(0.03);
    expect(seven.es).toBeCloseTo(0.04, 15);
    expect(historicalTail(series, 0.99)).toEqual({ var: 0.05, es: 0.05, k: 1 });
  });

  it('k is exact where n·(1−α) is an integer in decimal but not in binary', () => {
    expect(historicalTailCount(100, 0.99)).toBe(1);
    expect(historicalTailCount(250, 0.99)).toBe(3);
    expect(historicalTailCount(1000, 0.975)).toBe(25);
    expect(historicalTailCount(10, 0.5)).toBe(5);
  });

  it('scales by √h', () => {
    expect(historicalTail(series, 0.8, 4).var).toBeCloseTo(0.08, 15);
  });

  it('handles a long series with many ties', () => {
    const long = Array.from({ length: 1000 }, (_, i) => -((i % 10) / 100));
    // 100 copies each of losses 0.00 … 0.09; the 10 largest are all 0.09.
    expect(historicalTail(long, 0.99)).toEqual({ var: 0.09, es: expect.closeTo(0.09, 15), k: 10 });
    // The 25 largest: 100 × 0.09 → still all 0.09; 150 largest: 100 × 0.09 + 50 × 0.08.
    const wide = historicalTail(long, 0.85);
    expect(wide.k).toBe(150);
    expect(wide.var).toBe(0.08);
    expect(wide.es).toBeCloseTo((100 * 0.09 + 50 * 0.08) / 150, 14);
  });

  it('rejects non-finite returns', () => {
    expect(() => historicalTail([0.01, Number.NaN], 0.99)).toThrow(/not finite/);
  });
});

describe('ageWeightedHistorical', () => {
  // Oldest first: weights by age 0…3 are λᵃ(1−λ)/(1−λ⁴) = 0.5333, 0.2667, 0.1333, 0.0667 for λ = 0.5.
  const series = [-0.1, 0, 0, -0.05];

  it('takes the largest losses until their weight reaches 1 − α', () => {
    expect(ageWeightedHistorical(series, 0.95, 0.5)).toEqual({ var: 0.1, es: 0.1 });
    const r = ageWeightedHistorical(series, 0.9, 0.5);
    expect(r.var).toBe(0.05);
    expect(r.es).toBeCloseTo((0.1 * (0.5 / 15) * 2 + 0.05 * (0.1 - (0.5 / 15) * 2)) / 0.1, 12);
  });

  it('with λ = 1 gives the plain historical VaR', () => {
    const long = Array.from({ length: 250 }, (_, i) => Math.sin(i * 1.7) / 50);
    expect(ageWeightedHistorical(long, 0.99, 1).var).toBe(historicalTail(long, 0.99).var);
    const hundred = long.slice(0, 100);
    expect(ageWeightedHistorical(hundred, 0.99, 1).var).toBe(historicalTail(hundred, 0.99).var);
    expect(ageWeightedHistorical(hundred, 0.95, 1).es).toBeCloseTo(historicalTail(hundred, 0.95).es, 14);
  });
});

describe('ewmaCovariance', () => {
  it('equals the RiskMetrics recursion from zero divided by 1 − λᵀ', () => {
    const a = [0.01, -0.02, 0.005, 0.03, -0.01, 0.002];
    const b = [0.002, -0.01, 0.01, 0.02, -0.015, 0.0];
    const lambda = 0.94;
    let saa = 0;
    let sab = 0;
    let sbb = 0;
    for (let t = 0; t < a.length; t++) {
      saa = lambda * saa + (1 - lambda) * a[t]! * a[t]!;
      sab = lambda * sab + (1 - lambda) * a[t]! * b[t]!;
      sbb = lambda * sbb + (1 - lambda) * b[t]! * b[t]!;
    }
    const norm = 1 - lambda ** a.length;
    const cov = ewmaCovariance([a, b]);
    expect(cov[0]).toBeCloseTo(saa / norm, 16);
    expect(cov[1]).toBeCloseTo(sab / norm, 16);
    expect(cov[2]).toBeCloseTo(sab / norm, 16);
    expect(cov[3]).toBeCloseTo(sbb / norm, 16);
  });

  it('of a constant-magnitude series is that magnitude squared', () => {
    expect(ewmaCovariance([[0.02, -0.02, 0.02, -0.02]])[0]).toBeCloseTo(0.0004, 16);
  });
});

describe('drawdown', () => {
  it('tracks the compounded equity curve against its running peak', () => {
    const dd = drawdown([0.1, -0.2, 0.05, -0.1, 0.3]);
    // Equity 1.1, 0.88, 0.924, 0.8316, 1.08108; peak 1.1.
    expect(dd.max).toBeCloseTo(1 - 0.8316 / 1.1, 12);
    expect(dd.current).toBeCloseTo(1 - 1.08108 / 1.1, 12);
  });

  it('counts a first-period loss against the starting capital', () => {
    expect(drawdown([-0.1])).toEqual({ current: expect.closeTo(0.1, 15), max: expect.closeTo(0.1, 15) });
  });

  it('is zero on a rising curve and for no data', () => {
    expect(drawdown([0.01, 0.02])).toEqual({ current: 0, max: 0 });
    expect(drawdown([])).toEqual({ current: 0, max: 0 });
  });
});
