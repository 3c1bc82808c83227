import { describe, expect, it } from 'vitest';
import { RuleSchema } from '#lib/rules/rule-schema.js';
import { snapshot } from '../rules/fixtures.js';
import { expectNear, outcome, Runner, ruleSet, signalFor, summary, T0_MS } from './harness.js';

/** The richer rule language: `when` conditions on provenance and per-strategy overrides. */

const problems = (rule: Record<string, unknown>) => {
  const r = RuleSchema.safeParse({ id: 'my_rule', ...rule });
  return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
};

describe('when: {stage, actor}', () => {
  const rules = ruleSet([
    {
      id: 'live_only',
      kind: 'concentration',
      measure: 'max_weight',
      limit: 0.6,
      action: { type: 'exit' },
      when: { stage: ['live'] },
    },
  ]);
  const heavy = (stage: string) => ({ ...snapshot({ weights: { a: 0.8, b: 0.2 } }), stage });

  it('a live-only rule does nothing on a paper snapshot and says why in the audit row', () => {
    const res = new Runner(rules).step({ snap: heavy('paper'), nowMs: T0_MS });
    expect(res.signals).toEqual([]);
    expect(res.episodes).toEqual([]);
    expect(outcome(res, 'live_only')).toMatchObject({
      verdict: 'not_applicable',
      measure: null,
      evidence: { stage: 'paper', when: { stage: ['live'] } },
    });
  });

  it('acts on a live snapshot', () => {
    const res = new Runner(rules).step({ snap: heavy('live'), nowMs: T0_MS });
    expect(summary(res)).toEqual(['enforce:a:exit:1', 'enforce:b:exit:1']);
  });

  it('validates the condition', () => {
    expect(problems({ kind: 'var_limit', limit: 0.05, when: { stage: [] } })).toMatch(/^when\.stage: /);
    expect(problems({ kind: 'var_limit', limit: 0.05, when: { phase: ['live'] } })).toMatch(/^when: /);
  });
});

describe('per-strategy overrides (strategies: {id: {limit, clear, target, action}})', () => {
  const rules = ruleSet([
    {
      id: 'max_w',
      kind: 'concentration',
      measure: 'max_weight',
      scope: 'strategy',
      limit: 0.5,
      strategies: { carry_fx: { limit: 0.2, target: 0.15 }, trend: { action: { type: 'exit' } } },
    },
  ]);

  it('each strategy is held to its own limit, target and action; the rest to the rule’s', () => {
    const res = new Runner(rules).step({
      snap: snapshot({ weights: { carry_fx: 0.3, trend: 0.1, other: 0.6 } }),
      nowMs: T0_MS,
    });
    // carry_fx 0.3 > 0.2: trimmed to 0.15 (cut 0.5); other 0.6 > 0.5: trimmed to 0.5; trend 0.1 < 0.5.
    expectNear(signalFor(res, 'carry_fx')?.signal.reduction_ratio, 0.5);
    expectNear(signalFor(res, 'other')?.signal.reduction_ratio, 1 - 0.5 / 0.6);
    expect(signalFor(res, 'trend')).toBeUndefined();
    expect(outcome(res, 'max_w', 'carry_fx')).toMatchObject({ limit: 0.2, target: 0.15 });
    const exit = new Runner(rules).step({
      snap: snapshot({ weights: { trend: 0.55, other: 0.45 } }),
      nowMs: T0_MS,
    });
    expect(signalFor(exit, 'trend')?.signal.action).toBe('exit');
  });

  it('validates each override as a rule of its own, and refuses them on a world-scope rule', () => {
    expect(
      problems({
        kind: 'var_limit',
        scope: 'strategy',
        limit: 0.05,
        strategies: { fx: { limit: 0.01, clear: 0.02 } },
      }),
    ).toMatch(/^strategies\.fx\.clear: must be at or below the limit \(0\.01\)/);
    expect(
      problems({
        kind: 'volatility_regime',
        measure: 'vix_level',
        scope: 'strategy',
        limit: 30,
        action: { type: 'exit' },
        strategies: { fx: { action: { type: 'reduce', sizing: 'uniform' } } },
      }),
    ).toMatch(/^strategies\.fx\.action: rule 'my_rule': .*no position cut moves/);
    expect(problems({ kind: 'var_limit', limit: 0.05, strategies: { fx: { limit: 0.01 } } })).toMatch(
      /^strategies: rule 'my_rule': per-strategy overrides need scope: strategy/,
    );
  });
});
