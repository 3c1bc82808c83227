import { describe, expect, it } from 'vitest';
import { drawdown } from '#lib/rules/kinds/drawdown.js';
import { input, only, rule, snapshot } from './fixtures.js';

describe('drawdown', () => {
  it('measures the current drawdown of the compounded portfolio equity curve', () => {
    // Equity 1 → 1.1 → 0.88 → 0.924: peak 1.1, current 1 − 0.924/1.1 = 0.16, max 1 − 0.88/1.1 = 0.2.
    const snap = snapshot({ weights: { a: 1 }, returns: { a: [0.1, -0.2, 0.05] } });
    const m = only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap)));
    expect(m.value).toBeCloseTo(0.16, 12);
    expect(m.evidence).toMatchObject({ observations: 3, lookback: null });
    expect(m.evidence.max_drawdown).toBeCloseTo(0.2, 12);
  });

  it('compounds rather than sums: −10% then +10% leaves a 1% drawdown', () => {
    const snap = snapshot({ weights: { a: 1 }, returns: { a: [-0.1, 0.1] } });
    expect(only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap))).value).toBeCloseTo(
      0.01,
      12,
    );
  });

  it('counts only the last `lookback` returns (the window opens at its first peak)', () => {
    // The full curve is 10% under water; the last two returns alone: 1 → 0.95 → 0.9975 → 0.25% drawdown.
    const snap = snapshot({ weights: { a: 1 }, returns: { a: [0.2, -0.2, -0.05, 0.05] } });
    const full = only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap)));
    expect(full.value).toBeCloseTo(1 - (1.2 * 0.8 * 0.95 * 1.05) / 1.2, 12);
    const last2 = only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1, lookback: 2 }), input(snap)));
    expect(last2.value).toBeCloseTo(1 - 0.9975, 12);
    expect(last2.evidence).toMatchObject({ lookback: 2, observations: 2 });
  });

  it('is zero at a new high', () => {
    const snap = snapshot({ weights: { a: 1 }, returns: { a: [-0.05, 0.1] } });
    expect(only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap))).value).toBe(0);
  });

  it('uses the weighted portfolio series for the world and each strategy’s own returns per strategy', () => {
    // Portfolio r = 0.5·(−0.1) + 0.5·0 = −5%; strategy a alone −10%, b flat.
    const snap = snapshot({ weights: { a: 0.5, b: 0.5 }, returns: { a: [-0.1], b: [0] } });
    expect(only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap))).value).toBeCloseTo(
      0.05,
      12,
    );
    const per = drawdown.measure(rule({ kind: 'drawdown', limit: 0.1, scope: 'strategy' }), input(snap));
    expect(per.map((m) => [m.scopeKey, m.value, m.strategies])).toEqual([
      ['a', expect.closeTo(0.1, 12), ['a']],
      ['b', 0, ['b']],
    ]);
  });

  it('uses a bare portfolio series when upstream sent one', () => {
    const snap = snapshot({ weights: { a: 1 }, portfolioReturns: [0.1, -0.1] });
    expect(only(drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snap))).value).toBeCloseTo(
      0.1,
      12,
    );
  });

  it('is unavailable without returns, and not homogeneous (a cut cannot undo a realized loss)', () => {
    const m = only(
      drawdown.measure(rule({ kind: 'drawdown', limit: 0.1 }), input(snapshot({ weights: { a: 1 } }))),
    );
    expect(m.value).toBeNull();
    expect(m.unavailable).toMatch(/no realized returns for the portfolio/);
    expect(drawdown.homogeneous).toBe(false);
  });
});
