import { describe, expect, it } from 'vitest';
import { correlationBreakdown } from '#lib/rules/kinds/correlation-breakdown.js';
import { input, only, rule, snapshot } from './fixtures.js';

// Deterministic "noise": two unrelated oscillations and a third mixing them.
const noise = (t: number, k: number) => Math.sin(t * (1.3 + 0.7 * k) + k) * 0.01;

/** Three strategies over 60 periods: unrelated for 40, then all driven by one factor for the last 20. */
function calmThenCrisis(): Record<string, number[]> {
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let t = 0; t < 60; t++) {
    if (t < 40) {
      a.push(noise(t, 0));
      b.push(noise(t, 1));
      c.push(noise(t, 2));
    } else {
      const f = noise(t, 3);
      a.push(f + 0.1 * noise(t, 0));
      b.push(f + 0.1 * noise(t, 1));
      c.push(f + 0.1 * noise(t, 2));
    }
  }
  return { a, b, c };
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** (last − mean)/sd(n − 1) of block statistics. */
function zOf(blocks: number[]): number {
  const m = blocks.reduce((s, v) => s + v, 0) / blocks.length;
  const sd = Math.sqrt(blocks.reduce((s, v) => s + (v - m) ** 2, 0) / (blocks.length - 1));
  return (blocks.at(-1)! - m) / sd;
}

const returns = calmThenCrisis();
const snap = snapshot({ weights: { a: 0.4, b: 0.3, c: 0.3 }, returns });
const windows = { short_window: 20, long_window: 60 };

describe('correlation_breakdown', () => {
  it('avg_correlation_z standardizes the latest block’s average pairwise correlation against the long window’s blocks', () => {
    // Blocks [0,20), [20,40), [40,60): average of the three pairwise Pearson correlations in each.
    const blocks = [0, 20, 40].map((s) => {
      const cut = (x: number[]) => x.slice(s, s + 20);
      const { a, b, c } = returns;
      return (pearson(cut(a!), cut(b!)) + pearson(cut(a!), cut(c!)) + pearson(cut(b!), cut(c!))) / 3;
    });
    const m = only(
      correlationBreakdown.measure(
        rule({ kind: 'correlation_breakdown', measure: 'avg_correlation_z', limit: 1, ...windows }),
        input(snap),
      ),
    );
    expect(m.value).toBeCloseTo(zOf(blocks), 9);
    expect(m.value!).toBeGreaterThan(1);
    expect(m.evidence).toMatchObject({ blocks: 3, short_window: 20, long_window: 60 });
    expect(m.evidence.short_value).toBeCloseTo(blocks[2]!, 9);
  });

  it('absorption_shift standardizes the top-eigenvector variance share (2 assets: λmax/(λ1 + λ2))', () => {
    const two = { a: returns.a!, b: returns.b! };
    const blocks = [0, 20, 40].map((s) => {
      const x = two.a.slice(s, s + 20);
      const y = two.b.slice(s, s + 20);
      const v = (u: number[], w: number[]) => {
        const mu = u.reduce((p, q) => p + q, 0) / 20;
        const mw = w.reduce((p, q) => p + q, 0) / 20;
        return u.reduce((p, q, i) => p + (q - mu) * (w[i]! - mw), 0) / 19;
      };
      const [sxx, syy, sxy] = [v(x, x), v(y, y), v(x, y)];
      // Eigenvalues of [[sxx, sxy], [sxy, syy]]: mean ± √(((sxx − syy)/2)² + sxy²).
      const half = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy * sxy);
      return ((sxx + syy) / 2 + half) / (sxx + syy);
    });
    const m = only(
      correlationBreakdown.measure(
        rule({ kind: 'correlation_breakdown', measure: 'absorption_shift', limit: 1, ...windows }),
        input(snapshot({ weights: { a: 0.5, b: 0.5 }, returns: two })),
      ),
    );
    expect(m.value).toBeCloseTo(zOf(blocks), 9);
  });

  it('turbulence_percentile: an outlier tops the window (1), a cross-section at the window mean is at 0', () => {
    const base = calmThenCrisis();
    const outlier = Object.fromEntries(
      Object.entries(base).map(([k, v], i) => [k, [...v, i === 0 ? 0.2 : -0.2]]),
    );
    const r = rule({
      kind: 'correlation_breakdown',
      measure: 'turbulence_percentile',
      limit: 0.95,
      ...windows,
    });
    const high = only(
      correlationBreakdown.measure(
        r,
        input(snapshot({ weights: { a: 0.4, b: 0.3, c: 0.3 }, returns: outlier })),
      ),
    );
    expect(high.value).toBe(1);
    expect(high.evidence).toMatchObject({ window: 60 });
    // Append each series' mean over the 60 periods before: distance 0, no window day at or below it.
    const atMean = Object.fromEntries(
      Object.entries(base).map(([k, v]) => [k, [...v, v.reduce((s, x) => s + x, 0) / v.length]]),
    );
    const low = only(
      correlationBreakdown.measure(
        r,
        input(snapshot({ weights: { a: 0.4, b: 0.3, c: 0.3 }, returns: atMean })),
      ),
    );
    expect(low.value).toBe(0);
    expect(low.evidence.turbulence).toBeCloseTo(0, 9);
  });

  it('is unavailable without returns, with one strategy, or when the data cannot fill the windows', () => {
    const r = rule({ kind: 'correlation_breakdown', measure: 'avg_correlation_z', limit: 1, ...windows });
    expect(only(correlationBreakdown.measure(r, input(snapshot({ weights: { a: 1 } })))).unavailable).toMatch(
      /realized returns/,
    );
    const one = snapshot({ weights: { a: 1 }, returns: { a: returns.a! } });
    expect(only(correlationBreakdown.measure(r, input(one))).unavailable).toMatch(/at least 2 strategies/);
    const short = snapshot({
      weights: { a: 0.5, b: 0.5 },
      returns: { a: returns.a!.slice(0, 30), b: returns.b!.slice(0, 30) },
    });
    expect(only(correlationBreakdown.measure(r, input(short))).unavailable).toMatch(
      /avg_correlation_z: need 60 common observations, have 30/,
    );
    // Fewer than three short blocks in the long window.
    const tight = rule({
      kind: 'correlation_breakdown',
      measure: 'absorption_shift',
      limit: 1,
      short_window: 20,
      long_window: 50,
    });
    expect(only(correlationBreakdown.measure(tight, input(snap))).unavailable).toMatch(
      /at least 3 short windows/,
    );
    const turb = rule({
      kind: 'correlation_breakdown',
      measure: 'turbulence_percentile',
      limit: 0.9,
      ...windows,
    });
    expect(only(correlationBreakdown.measure(turb, input(snap))).unavailable).toMatch(
      /needs 61 common observations, have 60/,
    );
  });

  it('repeats the market-wide reading per strategy in strategy scope', () => {
    const r = rule({
      kind: 'correlation_breakdown',
      measure: 'avg_correlation_z',
      limit: 1,
      scope: 'strategy',
      ...windows,
    });
    const m = correlationBreakdown.measure(r, input(snap));
    expect(m.map((x) => x.scopeKey)).toEqual(['a', 'b', 'c']);
    expect(new Set(m.map((x) => x.value)).size).toBe(1);
    expect(correlationBreakdown.homogeneous).toBe(false);
  });
});
