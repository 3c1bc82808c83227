import { describe, expect, it } from 'vitest';
import { snapshot } from '../rules/fixtures.js';
import { outcome, Runner, ruleSet, T0_MS, Z99 } from './harness.js';

describe('signal evidence per strategy', () => {
  // 60 independent strategies with equal weight and daily σ 2%: σ_P = 0.02/√60, VaR = z·σ_P ≈ 0.6%.
  const n = 60;
  const ids = Array.from({ length: n }, (_, i) => `s${String(i).padStart(2, '0')}`);
  const weights = Object.fromEntries(ids.map((id) => [id, 1 / n]));
  const covariance = Object.fromEntries(
    ids.flatMap((a, i) => ids.slice(i).map((b) => [`${a},${b}`, a === b ? 0.0004 : 0])),
  );
  const rules = ruleSet([{ id: 'var_cap', kind: 'var_limit', limit: 0.005, target: 0.004 }]);

  it('keeps the full component map in the audit outcome but only its own entry on each signal', () => {
    const res = new Runner(rules).step({ snap: snapshot({ weights, covariance }), nowMs: T0_MS });
    const varValue = (Z99 * 0.02) / Math.sqrt(n);
    expect(outcome(res, 'var_cap').measure).toBeCloseTo(varValue, 12);
    const audit = outcome(res, 'var_cap').evidence.components as Record<string, number>;
    expect(Object.keys(audit)).toHaveLength(n);
    expect(res.signals).toHaveLength(n);
    for (const s of res.signals) {
      const own = s.signal.metrics.components as Record<string, number>;
      expect(Object.keys(own)).toEqual([s.signal.strategy_id]);
      // Equal independent strategies contribute equally: VaR / n each (Euler).
      expect(own[s.signal.strategy_id]).toBeCloseTo(varValue / n, 12);
    }
    // The event stays linear in n: well under EventBridge's 256 KB for 60 strategies.
    expect(JSON.stringify(res.signals.map((s) => s.signal)).length).toBeLessThan(64 * 1024);
  });
});
