import { measureRule } from './kinds/index.js';
import type { Rule } from './rule-schema.js';
import type { PreparedSnapshot, RuleInput, RuleMeasurement } from './types.js';

/**
 * The rule-set language's per-snapshot and per-strategy refinements: `when` (the snapshot's stage or
 * actor a rule applies to, so one rule set serves paper and live) and `strategies` (per-strategy
 * overrides of a strategy-scoped rule's limit, clear, target or action).
 */

/** Whether a rule applies to this snapshot's provenance (`when` absent: always). */
export function whenApplies(
  rule: Pick<Rule, 'when'>,
  snapshot: Pick<PreparedSnapshot, 'stage' | 'actor'>,
): boolean {
  const when = rule.when;
  if (!when) return true;
  if (when.stage && !(snapshot.stage !== undefined && when.stage.includes(snapshot.stage))) return false;
  if (when.actor && !(snapshot.actor !== undefined && when.actor.includes(snapshot.actor))) return false;
  return true;
}

/** The rule as it applies to one scope unit: the base rule with that strategy's overrides, if any. */
export function ruleFor(rule: Rule, scopeKey: string): Rule {
  const override = rule.strategies?.[scopeKey];
  return override ? ({ ...rule, ...override } as Rule) : rule;
}

/**
 * Every measurement of a rule, each with the rule that applies to it. A strategy with overrides is
 * measured by its own rule, so anything sized against the target (e.g. a max-weight trim) uses its target.
 */
export function measureWithOverrides(rule: Rule, input: RuleInput): [Rule, RuleMeasurement][] {
  return measureRule(rule, input).map((m) => {
    const own = ruleFor(rule, m.scopeKey);
    if (own === rule) return [rule, m];
    const again = measureRule(own, input).find((x) => x.scopeKey === m.scopeKey);
    return [own, again ?? m];
  });
}
