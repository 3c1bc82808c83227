import { describe, expect, it } from 'vitest';
import { explainRule } from '#lib/cli/rules/explain-rule.js';
import { type RuleSet, RuleSetSchema } from '#lib/rules/rule-schema.js';

/** `rules explain` states the newer language features in words. */
function explained(rule: Record<string, unknown>, mode?: 'approval'): string {
  const def = RuleSetSchema.parse({ world: 'w1', ...(mode ? { mode } : {}), rules: [rule] });
  const set: RuleSet = { ...def, version: 'sha256:x', source: 'test' };
  return explainRule(set, set.rules[0]!);
}

const stress = { id: 'stress', kind: 'stress_drawdown', limit: 0.2, action: { type: 'exit' } };

describe('rules explain: newer language', () => {
  it('says what lockout and cooldown do, on the as_of timeline', () => {
    const text = explained({ ...stress, lockout: '1h', cooldown: '30m' });
    expect(text).toContain(
      'Lock-out 1h: once fired, the cut stands at least 1h after the snapshot it fired on',
    );
    expect(text).toContain('Cooldown 30m: after the measure clears, the hold waits');
    expect(explained(stress)).not.toContain('Cooldown');
  });

  it('says that approval holds go only to approved cuts', () => {
    expect(explained(stress, 'approval')).toContain(
      'a hold is proposed only to strategies whose cut was approved',
    );
    expect(explained(stress)).not.toContain('whose cut was approved');
  });

  it('says a level is relative to the snapshot budget, and what happens without it', () => {
    const text = explained({
      id: 'lev',
      kind: 'concentration',
      measure: 'gross_leverage',
      limit: { from: 'constraints.max_leverage', factor: 0.9 },
    });
    expect(text).toContain("It breaches above 0.9 × the snapshot's constraints.max_leverage");
    expect(text).toContain(
      "its limit is 0.9 × the snapshot's constraints.max_leverage, read afresh from every snapshot",
    );
    expect(text).toContain('audited as unavailable with the reason, and an open episode stays open');
  });

  it('explains a risk-contribution limit as a share of portfolio VaR, and its sizing', () => {
    const text = explained({ id: 'share', kind: 'risk_contribution', limit: 0.4, target: 0.35 });
    expect(text).toContain("each strategy's share of portfolio VaR: its component (Euler) contribution");
    expect(text).toContain('not its stand-alone risk');
    expect(text).toContain('It breaches above 40%');
    expect(text).toContain(
      'asks to cut the breaching strategy alone (the rest of the book unchanged) by the exact fraction that brings its share back to the target 35%',
    );
  });
});
