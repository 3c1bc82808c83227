import { describe, expect, it } from 'vitest';
import { RuleSchema } from '#lib/rules/rule-schema.js';
import { marketView, snapshot } from '../rules/fixtures.js';
import { iso, outcome, Runner, ruleSet, STEP_MS, T0_MS, Z99 } from './harness.js';

/**
 * Fresh data only: persistence counts breaches on distinct data (hub snapshots; plus market views for
 * market rules), never re-evaluations of the same snapshot after a market tick; or time in breach.
 */

const clock = (k: number) => T0_MS + k * STEP_MS;
/** Normal VaR₉₉ of w = (½, ½) on Σ = s²·I is z·s/√2: a snapshot whose VaR is `v`, taken at `asOfMs`. */
const varSnapshot = (v: number, asOfMs: number, version = `v${asOfMs}`) => {
  const s2 = ((v * Math.SQRT2) / Z99) ** 2;
  return {
    ...snapshot({ weights: { a: 0.5, b: 0.5 }, covariance: { 'a,a': s2, 'b,b': s2 }, asOf: iso(asOfMs) }),
    version,
  };
};
const tick = (k: number, vix = 20) => [marketView('global', iso(clock(k) - 1000), { vix })];

describe('persistence counts distinct hub snapshots', () => {
  const rules = ruleSet([{ id: 'var3', kind: 'var_limit', limit: 0.05, persistence: 3 }]);

  it('one snapshot re-evaluated on two market ticks does not fire a persistence-3 rule', () => {
    const run = new Runner(rules);
    const snap = varSnapshot(0.06, clock(0));
    const verdicts = [0, 1, 2].map(
      (k) => outcome(run.step({ snap, market: tick(k), nowMs: clock(k) }), 'var3').verdict,
    );
    expect(verdicts).toEqual(['breach_pending', 'breach_pending', 'breach_pending']);
    expect(run.episode('var3')?.breach_count).toBe(1);
    expect(run.results.flatMap((r) => r.signals)).toEqual([]);
  });

  it('three distinct breaching snapshots, with market ticks between them, fire on the third', () => {
    const run = new Runner(rules);
    const verdicts: string[] = [];
    for (let k = 0; k < 3; k++) {
      const snap = varSnapshot(0.06, clock(2 * k));
      verdicts.push(outcome(run.step({ snap, nowMs: clock(2 * k) }), 'var3').verdict);
      verdicts.push(
        outcome(run.step({ snap, market: tick(2 * k + 1), nowMs: clock(2 * k + 1) }), 'var3').verdict,
      );
    }
    expect(verdicts).toEqual([
      'breach_pending',
      'breach_pending',
      'breach_pending',
      'breach_pending',
      'fired',
      'active',
    ]);
  });

  it('a market rule counts each fresh market view (the data it measures)', () => {
    const run = new Runner(
      ruleSet([
        {
          id: 'vix2',
          kind: 'volatility_regime',
          measure: 'vix_level',
          limit: 30,
          persistence: 2,
          action: { type: 'exit' },
        },
      ]),
    );
    const snap = varSnapshot(0.01, clock(0));
    expect(outcome(run.step({ snap, market: tick(0, 40), nowMs: clock(0) }), 'vix2').verdict).toBe(
      'breach_pending',
    );
    // The same market view again (e.g. the hub's next snapshot is late): no count.
    expect(outcome(run.step({ snap, market: tick(0, 40), nowMs: clock(1) }), 'vix2').verdict).toBe(
      'breach_pending',
    );
    expect(outcome(run.step({ snap, market: tick(2, 41), nowMs: clock(2) }), 'vix2').verdict).toBe('fired');
  });
});

describe('persistence: {for: duration} (time in breach)', () => {
  it('fires once the breach has lasted the duration, whatever the number of evaluations', () => {
    const run = new Runner(
      ruleSet([{ id: 'var_t', kind: 'var_limit', limit: 0.05, persistence: { for: '3m' } }]),
    );
    // Evaluations every minute: breach since t0; at t0 + 3 min it has lasted 3 minutes.
    const verdicts = [0, 1, 2, 3].map(
      (k) => outcome(run.step({ snap: varSnapshot(0.06, clock(k)), nowMs: clock(k) }), 'var_t').verdict,
    );
    expect(verdicts).toEqual(['breach_pending', 'breach_pending', 'breach_pending', 'fired']);
  });

  it('a recovery restarts the clock', () => {
    const run = new Runner(
      ruleSet([{ id: 'var_t', kind: 'var_limit', limit: 0.05, persistence: { for: '2m' } }]),
    );
    const values = [0.06, 0.04, 0.06, 0.06, 0.06];
    const verdicts = values.map(
      (v, k) => outcome(run.step({ snap: varSnapshot(v, clock(k)), nowMs: clock(k) }), 'var_t').verdict,
    );
    expect(verdicts).toEqual(['breach_pending', 'ok', 'breach_pending', 'breach_pending', 'fired']);
  });

  it('validates the duration with a message naming the field', () => {
    const r = RuleSchema.safeParse({
      id: 'x',
      kind: 'var_limit',
      limit: 0.05,
      persistence: { for: '15 minutes' },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toMatch(
      /persistence(\.for)?: .*duration such as 90s, 15m/,
    );
    expect(
      RuleSchema.safeParse({ id: 'x', kind: 'var_limit', limit: 0.05, persistence: { for: '15m' } }).success,
    ).toBe(true);
  });
});
