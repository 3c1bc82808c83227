import { describe, expect, it } from 'vitest';
import { RuleSetSchema } from '#lib/rules/rule-schema.js';
import { snapshot } from '../rules/fixtures.js';
import { expectNear, outcome, Runner, ruleSet, STEP_MS, summary, T0_MS } from './harness.js';

/**
 * Levels relative to the snapshot's own budget: `limit: {from: constraints.max_leverage, factor: 0.9}`
 * is read afresh from every snapshot; a snapshot without the budget makes the rule unevaluable
 * (audited, episode unmoved: fail closed).
 */

const leverage = {
  id: 'lev',
  kind: 'concentration',
  measure: 'gross_leverage',
  limit: { from: 'constraints.max_leverage', factor: 0.9 },
  target: { from: 'constraints.max_leverage', factor: 0.8 },
};
// Gross leverage Σ|w| = 1.2 + 0.6 + 0.4 = 2.2.
const book = (constraints: Record<string, unknown>) =>
  snapshot({ weights: { a: 1.2, b: -0.6, c: 0.4 }, constraints });

function problems(rule: Record<string, unknown>): string[] {
  const r = RuleSetSchema.safeParse({ world: 'w1', rules: [rule] });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('limits relative to the snapshot budget', () => {
  it('breaches against 0.9 × the snapshot’s max_leverage and sizes the cut to 0.8 × it', () => {
    const run = new Runner(ruleSet([leverage]));
    // Budget 2.5: limit 2.25, leverage 2.2 is within it (a fixed limit of 2 would have breached).
    const within = run.step({ snap: book({ max_leverage: 2.5 }), nowMs: T0_MS });
    expect(outcome(within, 'lev')).toMatchObject({ verdict: 'ok', limit: 2.25, target: 2 });
    // Budget 2: limit 1.8, target 1.6; a uniform cut of 1 − 1.6/2.2 brings Σ|w| to exactly 1.6.
    const breach = run.step({ snap: book({ max_leverage: 2 }), nowMs: T0_MS + STEP_MS });
    expect(outcome(breach, 'lev')).toMatchObject({ verdict: 'fired', limit: 1.8 });
    const ratio = breach.signals[0]!.signal.reduction_ratio;
    expectNear(ratio, 1 - 1.6 / 2.2, 1e-9);
    expectNear((1.2 + 0.6 + 0.4) * (1 - ratio), 1.6, 1e-9);
    expect(summary(breach).map((s) => s.split(':').slice(0, 3).join(':'))).toEqual([
      'enforce:a:reduce',
      'enforce:b:reduce',
      'enforce:c:reduce',
    ]);
  });

  it('fails closed when the snapshot lacks the budget: audited unavailable, the open cut stands', () => {
    const run = new Runner(ruleSet([leverage]));
    run.step({ snap: book({ max_leverage: 2 }), nowMs: T0_MS });
    expect(run.episode('lev')?.status).toBe('active');
    const missing = run.step({ snap: book({}), nowMs: T0_MS + STEP_MS });
    const row = outcome(missing, 'lev');
    expect(row.verdict).toBe('unavailable');
    expect(row.unavailable).toContain('this snapshot has no constraints.max_leverage');
    expect(summary(missing)).toEqual([]);
    expect(run.episode('lev')?.status).toBe('active');
    const bad = run.step({ snap: book({ max_leverage: 'two' }), nowMs: T0_MS + 2 * STEP_MS });
    expect(outcome(bad, 'lev').unavailable).toContain(
      'has constraints.max_leverage = "two", not a positive number',
    );
    // The budget is back and generous: the episode clears with a hold, as usual.
    const back = run.step({ snap: book({ max_leverage: 3 }), nowMs: T0_MS + 3 * STEP_MS });
    expect(outcome(back, 'lev').verdict).toBe('cleared');
    expect(summary(back)).toEqual(['enforce:a:hold:0', 'enforce:b:hold:0', 'enforce:c:hold:0']);
  });

  it('refuses a clear that resolves above the limit on a snapshot (never a silent pass)', () => {
    const run = new Runner(
      ruleSet([{ ...leverage, target: undefined, clear: 2.1 }]), // 2.1 > 0.9 × 2 = 1.8
    );
    const res = run.step({ snap: book({ max_leverage: 2 }), nowMs: T0_MS });
    expect(outcome(res, 'lev').verdict).toBe('unavailable');
    expect(outcome(res, 'lev').unavailable).toContain('clear resolves to 2.1, above the limit 1.8');
  });

  it('validates the path against the snapshot contract for the rule kind, naming rule and field', () => {
    expect(problems(leverage)).toEqual([]);
    expect(problems({ ...leverage, limit: { from: 'constraints.max_levrage', factor: 0.9 } })).toEqual([
      "rules.0.limit.from: rule 'lev': 'constraints.max_levrage' is not a budget the snapshot carries (did you mean 'constraints.max_leverage'?); for this rule use constraints.max_leverage",
    ]);
    expect(
      problems({
        id: 'var',
        kind: 'var_limit',
        limit: { from: 'constraints.max_leverage' },
      }),
    ).toEqual([
      "rules.0.limit.from: rule 'var': constraints.max_leverage is the gross leverage budget (a multiple of capital); it fits only concentration rules with measure gross_leverage, not a var_limit rule",
    ]);
    expect(problems({ ...leverage, clear: { from: 'constraints.max_leverage', factor: 0.95 } })).toEqual([
      "rules.0.clear: must be at or below the limit (0.9 × the snapshot's constraints.max_leverage)",
    ]);
    expect(problems({ ...leverage, limit: { from: 'constraints.max_leverage', factor: -1 } })).toEqual([
      'rules.0.limit.factor: must be greater than 0',
    ]);
    expect(problems({ ...leverage, limit: 'high' })).toEqual([
      'rules.0.limit: must be a number, or {from: <snapshot path>, factor: <number>}',
    ]);
  });
});
