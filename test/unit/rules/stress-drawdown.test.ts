import { describe, expect, it } from 'vitest';
import { normalizeStress } from '#lib/contracts/risk-snapshot.js';
import { stressDrawdown } from '#lib/rules/kinds/stress-drawdown.js';
import { input, only, rule, snapshot } from './fixtures.js';

// The upstream sample's stress block (contracts/qmtl/sample_risk_snapshot_with_stress_ref.json).
const sampleStress = {
  crash: { max_drawdown: 0.25, var_99: 0.12, es_99: 0.15 },
  slowdown: { max_drawdown: 0.12, var_99: 0.05, es_99: 0.07 },
};
const weights = { strategy_a: 0.6, strategy_b: 0.4 };
const world = snapshot({ weights, stress: { world: sampleStress } });

describe('stress_drawdown', () => {
  it('defaults to the worst scenario’s max_drawdown and names it', () => {
    const m = only(stressDrawdown.measure(rule({ kind: 'stress_drawdown', limit: 0.2 }), input(world)));
    expect(m.value).toBe(0.25);
    expect(m.scopeKey).toBe('world');
    expect(m.strategies).toEqual(['strategy_a', 'strategy_b']);
    expect(m.evidence).toMatchObject({
      metric: 'max_drawdown',
      scenario: 'crash',
      scenarios: { crash: 0.25, slowdown: 0.12 },
    });
  });

  it('reads a named scenario and each metric', () => {
    const cases = [
      ['slowdown', 'max_drawdown', 0.12],
      ['crash', 'var_99', 0.12],
      ['slowdown', 'es_99', 0.07],
    ] as const;
    for (const [scenario, metric, expected] of cases) {
      const m = only(
        stressDrawdown.measure(rule({ kind: 'stress_drawdown', scenario, metric, limit: 0.2 }), input(world)),
      );
      expect(m.value).toBe(expected);
      expect(m.evidence.scenario).toBe(scenario);
    }
  });

  it('picks the worst per metric: the worst es_99 scenario decides es_99', () => {
    const mixed = snapshot({
      weights,
      stress: { world: { a: { es_99: 0.1, max_drawdown: 0.3 }, b: { es_99: 0.2, max_drawdown: 0.1 } } },
    });
    const m = only(
      stressDrawdown.measure(rule({ kind: 'stress_drawdown', metric: 'es_99', limit: 0.5 }), input(mixed)),
    );
    expect(m.value).toBe(0.2);
    expect(m.evidence.scenario).toBe('b');
  });

  it('accepts older producers’ dd_max as max_drawdown (via the contract’s normalization)', () => {
    const stress = normalizeStress({ crash: { dd_max: 0.3 } }, new Set(Object.keys(weights)));
    const m = only(
      stressDrawdown.measure(
        rule({ kind: 'stress_drawdown', limit: 0.2 }),
        input(snapshot({ weights, stress })),
      ),
    );
    expect(m.value).toBe(0.3);
  });

  it('treats a drawdown written as a negative fraction as the same loss', () => {
    const neg = snapshot({ weights, stress: { world: { crash: { max_drawdown: -0.25 } } } });
    const m = only(stressDrawdown.measure(rule({ kind: 'stress_drawdown', limit: 0.2 }), input(neg)));
    expect(m.value).toBe(0.25);
  });

  it('measures per strategy from nested stress, unavailable for a strategy without it', () => {
    const stress = normalizeStress(
      { strategy_a: { crash: { max_drawdown: 0.4 }, calm: { max_drawdown: 0.05 } } },
      new Set(Object.keys(weights)),
    );
    const snap = snapshot({ weights, stress });
    const m = stressDrawdown.measure(
      rule({ kind: 'stress_drawdown', scope: 'strategy', limit: 0.2 }),
      input(snap),
    );
    const a = m.find((x) => x.scopeKey === 'strategy_a')!;
    const b = m.find((x) => x.scopeKey === 'strategy_b')!;
    expect(a).toMatchObject({ value: 0.4, strategies: ['strategy_a'] });
    expect(a.evidence.scenario).toBe('crash');
    expect(b.value).toBeNull();
    expect(b.unavailable).toMatch(/no stress scenarios for strategy 'strategy_b'/);
    // The world has no scenario of its own here: say so rather than pass.
    const w = only(stressDrawdown.measure(rule({ kind: 'stress_drawdown', limit: 0.2 }), input(snap)));
    expect(w.value).toBeNull();
    expect(w.unavailable).toMatch(/per strategy only/);
  });

  it('is unavailable for an unknown scenario, a missing metric, or no stress at all', () => {
    const unknown = only(
      stressDrawdown.measure(
        rule({ kind: 'stress_drawdown', scenario: 'rates_up', limit: 0.2 }),
        input(world),
      ),
    );
    expect(unknown.value).toBeNull();
    expect(unknown.unavailable).toMatch(/'rates_up' not found.*crash, slowdown/);
    // `constructor` is on every object's prototype: still not a scenario.
    const proto = only(
      stressDrawdown.measure(
        rule({ kind: 'stress_drawdown', scenario: 'constructor', limit: 0.2 }),
        input(world),
      ),
    );
    expect(proto.value).toBeNull();
    const ddOnly = snapshot({ weights, stress: { world: { crash: { max_drawdown: 0.25 } } } });
    const noMetric = only(
      stressDrawdown.measure(rule({ kind: 'stress_drawdown', metric: 'var_99', limit: 0.2 }), input(ddOnly)),
    );
    expect(noMetric.unavailable).toMatch(/no stress scenario .* reports 'var_99'/);
    const named = only(
      stressDrawdown.measure(
        rule({ kind: 'stress_drawdown', scenario: 'crash', metric: 'var_99', limit: 0.2 }),
        input(ddOnly),
      ),
    );
    expect(named.unavailable).toMatch(/'crash' .* has no 'var_99'/);
    const none = only(
      stressDrawdown.measure(rule({ kind: 'stress_drawdown', limit: 0.2 }), input(snapshot({ weights }))),
    );
    expect(none.value).toBeNull();
    expect(none.unavailable).toMatch(/no stress scenarios/);
  });
});
