import { durationMs, effectiveMode } from '#lib/rules/rule-modes.js';
import type { RuleMode, RuleSet, RuleSpec } from '#lib/rules/rule-schema.js';
import { type SizingSupport, sizingSupport } from '#lib/rules/sizing-support.js';

/**
 * What an evaluation needs of each rule that does not depend on the snapshot: its effective mode,
 * its anti-flapping settings in milliseconds, its sizing support and reason code. Worked out once
 * per rule set object (a loaded version), not once per evaluation.
 */
export interface CompiledRule {
  spec: RuleSpec;
  mode: RuleMode;
  persistence: number | { forMs: number };
  minRatioStep: number;
  repeatAfterMs: number | undefined;
  lockoutMs: number | undefined;
  cooldownMs: number | undefined;
  /** The signal reason of a breach: `<kind>_breach`. */
  reason: string;
  /** Overrides change levels and actions only, never what the measure is, so one support serves them all. */
  support: SizingSupport;
}

const compiled = new WeakMap<RuleSet, CompiledRule[]>();

/** The rule set's rules compiled, in order; cached for as long as the rule set object lives. */
export function compileRuleSet(ruleSet: RuleSet): CompiledRule[] {
  let rules = compiled.get(ruleSet);
  if (!rules) {
    rules = ruleSet.rules.map((spec) => compileRule(ruleSet, spec));
    compiled.set(ruleSet, rules);
  }
  return rules;
}

function compileRule(ruleSet: RuleSet, spec: RuleSpec): CompiledRule {
  return {
    spec,
    mode: effectiveMode(ruleSet, spec),
    persistence:
      typeof spec.persistence === 'number' ? spec.persistence : { forMs: durationMs(spec.persistence.for) },
    minRatioStep: spec.reemit.min_ratio_step,
    repeatAfterMs:
      spec.reemit.repeat_after_sec === undefined ? undefined : spec.reemit.repeat_after_sec * 1000,
    lockoutMs: spec.lockout ? durationMs(spec.lockout) : undefined,
    cooldownMs: spec.cooldown ? durationMs(spec.cooldown) : undefined,
    reason: `${spec.kind}_breach`,
    support: sizingSupport(spec),
  };
}
