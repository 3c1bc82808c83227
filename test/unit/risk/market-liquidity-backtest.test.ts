import { describe, expect, it } from 'vitest';
import {
  absorptionRatio,
  absorptionShift,
  advUtilization,
  amihud,
  averageCorrelation,
  baselZone,
  correlationZScore,
  countExceptions,
  deterioration,
  kupiecPof,
  marketStructure,
  relativeSpread,
  turbulence,
  windowShift,
} from '#lib/risk/index.js';

describe('turbulence', () => {
  it('is (y − μ)²/s² for one asset, ranked against the window', () => {
    // Window 1…5: μ 3, s² 2.5; latest 8 → 25/2.5 = 10, above every in-sample value.
    expect(turbulence([[1, 2, 3, 4, 5, 8]], 5)).toEqual({ value: expect.closeTo(10, 12), percentile: 1 });
    // Latest 3.5 → 0.1; in-sample values 1.6, 0.4, 0, 0.4, 1.6: only 0 is at or below it.
    expect(turbulence([[1, 2, 3, 4, 5, 3.5]], 5)).toEqual({
      value: expect.closeTo(0.1, 12),
      percentile: 0.2,
    });
  });

  it('is the Mahalanobis distance for two uncorrelated assets', () => {
    // Centred, orthogonal columns with variance 4/3 each.
    const a = [1, -1, 1, -1, 2];
    const b = [1, 1, -1, -1, 0];
    expect(turbulence([a, b], 4).value).toBeCloseTo(4 / (4 / 3), 12);
    const calm = turbulence(
      [
        [1, -1, 1, -1, 0.5],
        [1, 1, -1, -1, 0.5],
      ],
      4,
    );
    expect(calm.value).toBeCloseTo(0.375, 12);
    expect(calm.percentile).toBe(0);
  });

  it('needs more observations than the window', () => {
    expect(() => turbulence([[1, 2, 3]], 3)).toThrow(/needs 4 common observations/);
  });
});

describe('absorptionRatio', () => {
  it('is the top-k share of the eigenvalues', () => {
    const diag = new Float64Array(25);
    [4, 3, 2, 1, 0].forEach((v, i) => {
      diag[i * 5 + i] = v;
    });
    expect(absorptionRatio(diag, 5)).toBeCloseTo(0.4, 14);
  });

  it('is (1 + (n−1)ρ + (k−1)(1−ρ))/n for an equicorrelation matrix', () => {
    const n = 10;
    const m = Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0.5));
    expect(absorptionRatio(m, n)).toBeCloseTo((5.5 + 0.5) / 10, 13);
  });
});

// Blocks of 4 observations: b = a (perfect correlation) or b ⟂ a with the same variance.
const a4 = [1, -1, 1, -1];
const orth = [1, 1, -1, -1];
function blocks(pattern: ('same' | 'orth' | 'anti')[]): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (const p of pattern) {
    a.push(...a4);
    b.push(...(p === 'same' ? a4 : p === 'anti' ? a4.map((x) => -x) : orth));
  }
  return [a, b];
}

describe('averageCorrelation', () => {
  it('averages the pairwise correlations', () => {
    const x = [0.01, -0.02, 0.03, 0.005];
    const y = x.map((v) => -v);
    expect(averageCorrelation([x, x, y])).toBeCloseTo(-1 / 3, 14);
  });

  it('uses only the last window', () => {
    const [a, b] = blocks(['anti', 'same']);
    expect(averageCorrelation([a, b], 4)).toBeCloseTo(1, 14);
    expect(averageCorrelation([a, b], 8)).toBeCloseTo(0, 14);
  });
});

describe('correlationZScore and absorptionShift', () => {
  // Block values 1, −1, 1, −1, 1: mean 0.2, sd √1.2, z = 0.8/√1.2.
  it('standardizes the latest block correlation against the long window', () => {
    const [a, b] = blocks(['same', 'anti', 'same', 'anti', 'same']);
    const r = correlationZScore([a, b], 4, 20);
    expect(r.short).toBeCloseTo(1, 14);
    expect(r.longMean).toBeCloseTo(0.2, 14);
    expect(r.zScore).toBeCloseTo(0.8 / Math.sqrt(1.2), 12);
  });

  it('standardizes the absorption ratio the same way (1 when together, ½ when orthogonal)', () => {
    const [a, b] = blocks(['orth', 'same', 'orth', 'same', 'same']);
    const r = absorptionShift([a, b], 4, 20);
    expect(Array.from(r.blocks).map((v) => Number(v.toFixed(12)))).toEqual([0.5, 1, 0.5, 1, 1]);
    expect(r.zScore).toBeCloseTo(0.2 / Math.sqrt(0.3 / 4), 12);
  });

  it('reads no shift when the blocks agree but for rounding (top ⌈n/5⌉ eigenvectors spanning a block)', () => {
    // 16 strategies, 5-day blocks: a block's covariance has rank ≤ 4 = ⌈16/5⌉, so every absorption ratio
    // is 1 in exact arithmetic; the z-score of the rounding noise between them once read about 1.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    const returns = Array.from({ length: 16 }, () => Float64Array.from({ length: 50 }, () => next() / 50));
    const r = absorptionShift(returns, 5, 50);
    for (const v of r.blocks) expect(v).toBeCloseTo(1, 12);
    expect(new Set(r.blocks).size).toBeGreaterThan(1); // the noise is there...
    expect(r.zScore).toBeNaN(); // ...and is not read as a shift
    // Genuine variation far below a percent still reads (the threshold is relative 1e-12).
    const varied = windowShift(Float64Array.from([0.5, 0.5 + 1e-9, 0.5 - 1e-9, 0.5 + 2e-9]));
    expect(varied.zScore).toBeCloseTo(
      (2e-9 - 0.5e-9) / Math.sqrt(((0.25 + 0.25 + 2.25 + 2.25) * 1e-18) / 3),
      6,
    );
  });

  it('marketStructure returns the same figures in one call', () => {
    const [a, b] = blocks(['orth', 'same', 'orth', 'same', 'same']);
    const all = marketStructure([a, b], { turbulenceWindow: 8, shortWindow: 4, longWindow: 20 });
    expect(all.absorption.zScore).toBeCloseTo(absorptionShift([a, b], 4, 20).zScore, 14);
    expect(all.correlation.zScore).toBeCloseTo(correlationZScore([a, b], 4, 20).zScore, 14);
    expect(all.turbulence).toEqual(turbulence([a, b], 8));
  });

  it('needs at least three short blocks', () => {
    expect(() => correlationZScore([a4, a4], 4, 8)).toThrow(/at least 3 short windows/);
  });
});

describe('liquidity', () => {
  it('relative spread is (ask − bid)/mid', () => {
    expect(relativeSpread(99, 101)).toBeCloseTo(0.02, 15);
    expect(() => relativeSpread(0, 1)).toThrow(/positive prices/);
  });

  it('Amihud averages |r|/dollar volume over traded periods', () => {
    expect(amihud([0.01, -0.02, 0.03], [1e6, 2e6, 0])).toBeCloseTo(1e-8, 20);
    expect(amihud([0.01], [0])).toBeNaN();
  });

  it('deterioration is short-window mean over long-window mean', () => {
    expect(deterioration([1, 1, 1, 1, 2, 2], 2, 6)).toBeCloseTo(1.5, 15);
    expect(() => deterioration([1, 2], 3, 2)).toThrow(/short ≤ long/);
  });

  it('ADV utilization is |position| / ADV', () => {
    expect(advUtilization(-2e6, 1e7)).toBe(0.2);
  });
});

describe('backtest', () => {
  it('counts losses beyond the VaR forecast', () => {
    expect(countExceptions([-0.03, 0.01, -0.02, -0.021], 0.02)).toBe(2);
    expect(countExceptions([-0.03, -0.03], [0.04, 0.02])).toBe(1);
  });

  it('Kupiec LR is 0 when the exception rate equals p, and the p-value is 1 − χ²₁(LR)', () => {
    const r = kupiecPof(200, 2, 0.01);
    expect(r.lr).toBeCloseTo(0, 12);
    expect(r.pValue).toBeCloseTo(1, 12);
    const zero = kupiecPof(250, 0, 0.01);
    expect(zero.lr).toBeCloseTo(-2 * 250 * Math.log(0.99), 12);
  });

  it('Basel zones by cumulative probability for another sample size', () => {
    expect(baselZone(0, 500).zone).toBe('green');
    expect(baselZone(30, 500).zone).toBe('red');
    expect(() => baselZone(3, 2)).toThrow(/exceptions/);
  });
});
