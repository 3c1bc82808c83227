import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  evaluationMeasures,
  loadRuleKinds,
  measureRule,
  needsOnDemandCode,
  RuleKindNotLoadedError,
} from '#lib/rules/kinds/index.js';
import { resolveLevels } from '#lib/rules/relative-levels.js';
import type { Rule, RuleSpec } from '#lib/rules/rule-schema.js';
import { loadRuleSetFile } from '#lib/rules/ruleset-loader.js';
import { input, rule, snapshot } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Every budget a relative level of the example may read. */
const BUDGETS = {
  max_leverage: 2,
  max_concentration_pct: 0.5,
  position_size_limit_pct: 0.5,
  max_drawdown_pct: 0.2,
};

/**
 * The rule kinds the default rule set lacks load on first use (lib/rules/kinds/index.ts). This file
 * imports nothing that loads them, so it starts, as a cold Lambda does, with the built-in kinds only
 * (vitest gives each test file its own module graph).
 */
describe('rule kinds on demand', () => {
  const rich = input(
    snapshot({
      weights: { a: 0.6, b: 0.4 },
      covariance: { 'a,a': 0.0004, 'b,b': 0.0001, 'a,b': 0.00005 },
      returns: {
        a: Array.from({ length: 200 }, (_, t) => 0.01 * Math.sin(t * 1.3)),
        b: Array.from({ length: 200 }, (_, t) => 0.008 * Math.cos(t * 0.7)),
      },
    }),
  );
  const historical = rule({ kind: 'var_limit', method: 'historical', limit: 0.02 });
  const drawdown = rule({ kind: 'drawdown', limit: 0.2, action: { type: 'exit' } });

  it('needs nothing beyond the built-in kinds for the bundled default rule set', () => {
    const { rules } = loadRuleSetFile(join(ROOT, 'rulesets', 'default.yaml'));
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((r) => needsOnDemandCode(r)).map((r) => r.id)).toEqual([]);
  });

  it('refuses to measure an on-demand kind or method before it is loaded, rather than pass the rule over', async () => {
    expect(evaluationMeasures(rich.snapshot)).toBeUndefined();
    expect(() => measureRule(drawdown, rich)).toThrow(RuleKindNotLoadedError);
    expect(() => measureRule(historical, rich)).toThrow(/var_limit' by method 'historical' is not loaded/);
    // The built-in kinds measure without it.
    expect(measureRule(rule({ kind: 'var_limit', limit: 0.02 }), rich)[0]!.value).toBeGreaterThan(0);
    // A rule set of built-in kinds and methods loads nothing.
    await loadRuleKinds([
      rule({ kind: 'var_limit', limit: 0.02 }),
      rule({ kind: 'stress_drawdown', limit: 0.3 }),
    ]);
    expect(() => measureRule(drawdown, rich)).toThrow(RuleKindNotLoadedError);
  });

  it('measures every rule of the all-kinds example once its rule set is loaded', async () => {
    const { rules } = loadRuleSetFile(join(ROOT, 'rulesets', 'example-all-kinds.yaml'));
    expect(rules.some(needsOnDemandCode)).toBe(true);
    await loadRuleKinds(rules);
    expect(evaluationMeasures(rich.snapshot)).toBeDefined();
    for (const spec of rules) {
      const resolved = resolveLevels(spec as RuleSpec, BUDGETS);
      if ('unavailable' in resolved) throw new Error(`${spec.id}: ${resolved.unavailable}`);
      const measured = measureRule(resolved.rule as Rule, rich);
      expect(measured.length, spec.id).toBeGreaterThan(0);
    }
    expect(measureRule(historical, rich)[0]!.value).toBeGreaterThan(0);
  });
});
