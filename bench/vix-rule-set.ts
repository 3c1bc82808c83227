import { readFileSync } from 'node:fs';
import type { RuleSet } from '#lib/rules/rule-schema.js';
import { parseRuleSet } from '#lib/rules/ruleset-loader.js';

/** A VIX regime rule: exit above 40, clear under 30 (a rule a market event can change). */
const VIX_PANIC = `
  - id: vix_panic
    kind: volatility_regime
    measure: vix_level
    limit: 40
    clear: 30
    action: { type: exit }
    priority: 5
`;

/**
 * The shipped default rule set with the VIX rule added, declared for `world`: the rule set of a world
 * that acts on market events (the write-units and market fan-out benches).
 */
export function defaultWithVix(world = 'default'): RuleSet {
  const base = readFileSync('rulesets/default.yaml', 'utf8').replace('world: default', `world: ${world}`);
  return parseRuleSet(`${base.trimEnd()}\n${VIX_PANIC}`, `${world}.yaml`);
}
